import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type Job, Queue, silentLogger } from '../../src/index.js';
import { queueFactory, startWorker } from '../helpers.js';
import { recordFigure } from './figures.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Hostile but legal schema names: each must be quoted everywhere (or refused up front). */
const hostile: [string, string][] = [
  ['double quote', 'q"uote'],
  ['single quote', "it's"],
  ['statement injection', 'x"; DROP TABLE canary; --'],
  ['literal injection', "x'); DROP TABLE canary; --"],
  ['dollar quotes', 'dollar$$body'],
  ['a dollar tag', '$q$'],
  ['a replacement pattern', "it$'s"],
  ['backslashes', 'back\\slash\\'],
  ['unicode', 'ünïcødé 名前 😀'],
  ['SQL keyword', 'select'],
  ['colon, like the channel', 'a:jobs'],
  ['mixed case and spaces', 'Mixed Case'],
  ['58 bytes (the limit)', 'n'.repeat(58)],
];

/** Names refused with a ConfigError before anything reaches Postgres. */
const refused: [string, string][] = [
  ['59 bytes', 'n'.repeat(59)],
  ['\\u0000', 'a\u0000b'],
  ['empty', ''],
];

const results: { what: string; ok: boolean; detail: string }[] = [];

beforeAll(async () => {
  await db.query(`CREATE TABLE canary (x int); INSERT INTO canary VALUES (42)`);
});
afterAll(() => {
  const failed = results.filter((r) => !r.ok);
  recordFigure({
    scenario: 16,
    name: 'schema-name injection',
    figure:
      `${results.filter((r) => r.ok).length}/${results.length} cases ok (${hostile.length} hostile names quoted through migrate, enqueue, worker + LISTEN, SQL enqueue(), admin; ${refused.length} refused with ConfigError; canary intact)` +
      (failed.length ? `; FAILED: ${failed.map((f) => `${f.what}: ${f.detail}`).join('; ')}` : ''),
    pass: failed.length === 0 && results.length === hostile.length + refused.length + 1,
  });
});

describe('fault 16: schema-name injection', () => {
  for (const [what, schema] of hostile) {
    it(`${what}: ${JSON.stringify(schema)} works end to end`, async () => {
      const steps: string[] = [];
      const done = (step: string) => steps.push(step);
      try {
        const queue = makeQueue({ schema, tasks: { t: async () => {} } });
        await queue.migrate();
        done('migrate');
        // Polling once a minute: every job below is found through the schema's LISTEN channel.
        const worker = await startWorker(queue, { pollInterval: 60_000 });
        // Every completion is kept: a job may finish before its enqueue call has returned.
        const seen = new Set<string>();
        worker.on('completed', (e) => seen.add(e.job.id));
        const completed = (id: string) =>
          seen.has(id)
            ? Promise.resolve()
            : nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === id, 10_000);
        const viaApi = await queue.enqueue('t', { via: 'enqueue' });
        await completed(viaApi.id);
        done('enqueue + worker + LISTEN');
        // The SQL function, as a trigger would call it: its NOTIFY must reach the same channel.
        const [{ id: viaSql }] = await db.query(
          `SELECT ${ident(schema)}.enqueue('t', '{"via":"sql"}')::text AS id`,
        );
        await completed(viaSql);
        done('SQL enqueue()');
        // Admin calls.
        const later = await queue.enqueue('t', null, { delay: 3_600_000 });
        const doomed = await queue.enqueue('t', null, { delay: 3_600_000 });
        expect((await queue.getJob(later.id))?.state).toBe('scheduled');
        expect((await queue.listJobs({ state: 'scheduled' })).map((j) => j.id)).toEqual([
          later.id,
          doomed.id,
        ]);
        expect((await queue.countJobs()).find((c) => c.queue === 'default')).toMatchObject({ scheduled: 2 });
        await queue.deleteJob(doomed.id);
        await queue.pauseQueue('default');
        expect((await queue.countJobs())[0]).toMatchObject({ paused: true });
        await queue.resumeQueue('default');
        const retried = completed(later.id);
        await queue.retryJob(later.id);
        await retried;
        expect(await queue.retryFailed()).toBe(0);
        const stats = await queue.jobStats();
        expect(stats.reduce((n, s) => n + s.completed, 0)).toBe(3);
        done('admin');
        await worker.stop();
        const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM ${ident(schema)}.jobs`);
        expect(n).toBe(0);
        const canary = await db.query(`SELECT x FROM canary`);
        expect(canary).toEqual([{ x: 42 }]);
        done('canary');
        results.push({ what, ok: true, detail: steps.join(', ') });
      } catch (error) {
        results.push({
          what,
          ok: false,
          detail: `after [${steps.join(', ')}]: ${(error as Error).message.split('\n')[0]}`,
        });
        throw error;
      }
    });
  }

  for (const [what, schema] of refused) {
    it(`${what}: refused with a ConfigError`, () => {
      let error: unknown;
      try {
        new Queue({ connectionString: db.url, schema, logger: silentLogger });
      } catch (e) {
        error = e;
      }
      results.push({ what, ok: error instanceof ConfigError, detail: String(error) });
      expect(error).toBeInstanceOf(ConfigError);
    });
  }

  it('the canary survived every name, and no stray schema appeared', async () => {
    const canary = await db.query(`SELECT x FROM canary`);
    const names = hostile.map(([, s]) => s);
    const schemas = (
      await db.query(
        `SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'public', 'queue')`,
      )
    ).map((r) => r.nspname as string);
    const stray = schemas.filter((s) => !names.includes(s));
    const ok = JSON.stringify(canary) === JSON.stringify([{ x: 42 }]) && stray.length === 0;
    results.push({
      what: 'canary',
      ok,
      detail: `canary ${JSON.stringify(canary)}, stray schemas ${JSON.stringify(stray)}`,
    });
    expect(canary).toEqual([{ x: 42 }]);
    expect(stray).toEqual([]);
  });
});
