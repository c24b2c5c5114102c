import { Inject, Injectable } from '@nestjs/common';
import { geocodeInBackground, insertUser, type Signup } from '@queue/demo-kit';
import { InjectQueue, type RegisteredQueue } from '@queue/nest';
import type pg from 'pg';
import { PG_POOL, withTransaction } from './database.js';

@Injectable()
export class SignupService {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    // Typed by the contracts registered in contracts.ts: the same ones the processors handle.
    @InjectQueue() private readonly queue: RegisteredQueue,
  ) {}

  /** The new user's id, or null when the email is taken (then nothing is written or enqueued). */
  async signup(signup: Signup): Promise<{ id: string } | null> {
    // The user row and both jobs commit together or not at all: `{ client }` writes the jobs
    // in this transaction, and workers only see them after COMMIT.
    const user = await withTransaction(this.pool, async (client) => {
      const created = await insertUser(client, signup);
      if (!created) return null;
      await this.queue.enqueue('sendWelcomeEmail', { userId: created.id }, { client });
      await this.queue.enqueue('syncCrm', { userId: created.id }, { client });
      return created;
    });
    // Best effort, beside the guaranteed jobs: a plain promise, fine to lose in a crash (the
    // user just has no map pin yet). The email and the CRM sync must happen, so they are jobs.
    if (user) geocodeInBackground(this.pool, user.id, signup.email);
    return user;
  }
}
