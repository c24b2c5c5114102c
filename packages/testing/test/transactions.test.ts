import { useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { queueTesting, withRollback } from '../src/index.js';
import { queueFactory, signupTasks } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

describe('transactional tests', () => {
  it('a job enqueued in a rolled-back test transaction is seen inside it and leaves nothing behind', async () => {
    const ran: string[] = [];
    const queue = makeQueue(signupTasks(ran));
    const t = queueTesting(queue);
    const seen = await t.withRollback(async (client) => {
      await client.query('CREATE TABLE users (id text PRIMARY KEY)');
      await client.query(`INSERT INTO users VALUES ('u1')`);
      await queue.enqueue('sendWelcomeEmail', { userId: 'u1' }, { client });
      // Inside the transaction, with its client: the uncommitted job is there.
      await t.expectEnqueued('sendWelcomeEmail', { userId: 'u1' }, { client, count: 1 });
      // Outside it, on the pool: not yet.
      await t.expectNotEnqueued('sendWelcomeEmail');
      return (await client.query('SELECT count(*)::int AS n FROM users')).rows[0].n as number;
    });
    expect(seen).toBe(1);
    await t.expectNotEnqueued();
    expect(await db.query(`SELECT to_regclass('public.users') AS t`)).toEqual([{ t: null }]);
    // And no worker will ever run it: a drain finds nothing.
    expect(await t.drain()).toMatchObject({ jobs: [] });
    expect(ran).toEqual([]);
  });

  it('rolls back when the function throws, and rethrows its error', async () => {
    const queue = makeQueue(signupTasks([]));
    const error = await withRollback(queue.pool, async (client) => {
      await queue.enqueue('syncCrm', { userId: 'u1' }, { client });
      throw new Error('the test failed half-way');
    }).catch((e) => e);
    expect(error.message).toBe('the test failed half-way');
    await queueTesting(queue).expectNotEnqueued();
    // The client went back to the pool usable, outside any transaction.
    expect((await queue.pool.query('SELECT now() = statement_timestamp() AS fresh')).rows[0].fresh).toBe(
      true,
    );
  });
});

describe('inline mode', () => {
  it('an enqueue on the pool resolves after the job ran; one in a transaction runs at its commit, never on rollback', async () => {
    const ran: string[] = [];
    const queue = makeQueue(signupTasks(ran));
    const t = queueTesting(queue);
    const mode = await t.inline();
    try {
      await queue.enqueue('sendWelcomeEmail', { userId: 'now' });
      expect(ran).toEqual(['email:now']);
      expect(mode.jobs).toMatchObject([
        { task: 'sendWelcomeEmail', outcome: 'completed', result: { sent: true } },
      ]);

      await queue.enqueueMany([
        { task: 'syncCrm', payload: { userId: 'flaky-a' } },
        { task: 'sendWelcomeEmail', payload: { userId: 'b' } },
      ]);
      expect(ran.sort()).toEqual(['crm:flaky-a:1', 'email:b', 'email:now']);
      // The failed attempt waits for its backoff, as in production.
      await t.expectEnqueued('syncCrm', { userId: 'flaky-a' }, { state: 'scheduled' });

      await t.withRollback(async (client) => {
        await queue.enqueue('sendWelcomeEmail', { userId: 'rolled-back' }, { client });
      });
      const client = await queue.pool.connect();
      try {
        await client.query('BEGIN');
        await queue.enqueue('sendWelcomeEmail', { userId: 'committed' }, { client });
        expect(ran).not.toContain('email:committed');
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      await mode.settled();
      expect(ran).toContain('email:committed');
      expect(ran).not.toContain('email:rolled-back');
    } finally {
      await mode.stop();
    }
    // stop() gave the queue its own enqueue back: manual mode again.
    await queue.enqueue('sendWelcomeEmail', { userId: 'after' });
    await t.expectEnqueued('sendWelcomeEmail', { userId: 'after' });
    expect(ran).not.toContain('email:after');
  });
});
