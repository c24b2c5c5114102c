import { Inject } from '@nestjs/common';
import type { JobContext } from '@queue/core';
import { type DemoTasks, demoTasks, type UserRef } from '@queue/demo-kit';
import { Processor, Task } from '@queue/nest';
import type pg from 'pg';
import { DEMO_CONFIG, type DemoConfig } from './config.js';
import { signupTasks } from './contracts.js';
import { PG_POOL } from './database.js';

/**
 * The two guaranteed jobs of a signup, as Nest providers: @Processor() classes whose @Task()
 * methods run on the instances Nest creates, with their dependencies injected. What each job
 * does is demo-kit's, shared by all demo apps; the options are the contracts' (contracts.ts),
 * which also type each method's payload.
 */
function sharedTasks(pool: pg.Pool, config: DemoConfig): DemoTasks {
  return demoTasks(pool, { crmFailureRate: config.crmFailureRate });
}

@Processor('emails')
export class EmailProcessor {
  private readonly tasks: DemoTasks;
  constructor(@Inject(PG_POOL) pool: pg.Pool, @Inject(DEMO_CONFIG) config: DemoConfig) {
    this.tasks = sharedTasks(pool, config);
  }

  @Task('sendWelcomeEmail', signupTasks.sendWelcomeEmail)
  sendWelcomeEmail(payload: UserRef, ctx: JobContext<UserRef>) {
    return this.tasks.sendWelcomeEmail.handler(payload, ctx);
  }
}

@Processor('crm')
export class CrmProcessor {
  private readonly tasks: DemoTasks;
  constructor(@Inject(PG_POOL) pool: pg.Pool, @Inject(DEMO_CONFIG) config: DemoConfig) {
    this.tasks = sharedTasks(pool, config);
  }

  @Task('syncCrm', signupTasks.syncCrm)
  syncCrm(payload: UserRef, ctx: JobContext<UserRef>) {
    return this.tasks.syncCrm.handler(payload, ctx);
  }
}
