import { type JobContext, task } from '@queue/core';
import type pg from 'pg';

export interface DemoTaskOptions {
  /** Chance that a CRM sync attempt fails (0..1). Only the first two attempts can fail, so it recovers. */
  crmFailureRate?: number;
}

export interface UserRef {
  userId: string;
}

/**
 * The two guaranteed jobs of a signup. Each is written in the signup's transaction, so it
 * exists if and only if the user does, and it runs even if the process dies right after.
 */
export function demoTasks(pool: pg.Pool, options: DemoTaskOptions = {}) {
  const failureRate = options.crmFailureRate ?? Number(process.env.CRM_FAILURE_RATE ?? 0.2);
  return {
    sendWelcomeEmail: task<UserRef>({
      queue: 'emails',
      handler: async ({ userId }, { signal }: JobContext) => {
        const { rows } = await pool.query('SELECT email, name FROM users WHERE id = $1', [userId]);
        if (!rows[0]) throw new Error(`user ${userId} not found`);
        signal.throwIfAborted();
        // A real app would call its mail provider here, with the job id as idempotency key.
        await pool.query(`INSERT INTO sent_emails (user_id, email, subject) VALUES ($1, $2, $3)`, [
          userId,
          rows[0].email,
          `Welcome, ${rows[0].name}!`,
        ]);
      },
    }),
    syncCrm: task<UserRef>({
      queue: 'crm',
      maxAttempts: 5,
      backoff: { baseDelay: 200, maxDelay: 2000 },
      handler: async ({ userId }, { attempt }: JobContext) => {
        if (attempt <= 2 && Math.random() < failureRate) {
          throw new Error(`CRM timed out (simulated, attempt ${attempt})`);
        }
        await pool.query(`INSERT INTO crm_syncs (user_id, attempt) VALUES ($1, $2)`, [userId, attempt]);
      },
    }),
  };
}

export type DemoTasks = ReturnType<typeof demoTasks>;
