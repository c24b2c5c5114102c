import { defineTask } from '@queue/core';
import type { UserRef } from '@queue/demo-kit';

/**
 * The signup's two jobs, declared once: the processors handle them (`@Task(name, contract)`
 * checks each method takes the payload) and the service enqueues them (`Register` below types
 * `@InjectQueue()`). The options are demo-kit's, the same in every demo app.
 */
export const signupTasks = {
  sendWelcomeEmail: defineTask<UserRef>({ queue: 'emails' }),
  /** The CRM is flaky: up to 5 attempts, retried after 200 ms, 400 ms… (at most 2 s). */
  syncCrm: defineTask<UserRef>({ queue: 'crm', maxAttempts: 5, backoff: { baseDelay: 200, maxDelay: 2000 } }),
};

declare module '@queue/nest' {
  interface Register {
    tasks: typeof signupTasks;
  }
}
