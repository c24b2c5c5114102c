import { type DynamicModule, Module } from '@nestjs/common';
import type { Queue } from '@queue/core';
import { QueueDashboardModule } from '@queue/dashboard/nest';
import { QUEUE, QueueModule } from '@queue/nest';
import { DEMO_CONFIG, type DemoConfig, DemoConfigModule } from './config.js';
import { DatabaseModule } from './database.js';
import { SignupController } from './signup.controller.js';
import { CrmProcessor, EmailProcessor } from './signup.processors.js';
import { SignupService } from './signup.service.js';

/** Where the queue dashboard is served (below a global prefix, if the app had one). */
export const DASHBOARD_PATH = 'admin/queue';

@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest dynamic module is a class with a static factory
export class AppModule {
  static register(config: DemoConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        DemoConfigModule.forRoot(config),
        DatabaseModule,
        QueueModule.forRootAsync({
          inject: [DEMO_CONFIG],
          // migrate and handleSignals are on by default: the tables are created when the app
          // starts, and SIGTERM lets running jobs finish.
          useFactory: (demo: DemoConfig) => ({
            connectionString: demo.databaseUrl,
            worker: { concurrency: 4 },
          }),
        }),
        // The queue dashboard, with the queue QueueModule provides: middleware at /admin/queue,
        // closed unless credentials are given; every action needs the page's CSRF token.
        QueueDashboardModule.forRootAsync({
          inject: [QUEUE, DEMO_CONFIG],
          useFactory: (queue: Queue, demo: DemoConfig) => ({
            path: DASHBOARD_PATH,
            queue,
            ...(demo.dashboard ? { basicAuth: demo.dashboard } : {}),
            title: 'demo-nest',
          }),
        }),
      ],
      controllers: [SignupController],
      providers: [SignupService, EmailProcessor, CrmProcessor],
    };
  }
}
