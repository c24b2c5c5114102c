import { waitFor } from '@queue/test-utils';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { Queue, type Worker } from '../../src/index.js';
import { type DedicatedPostgres, startDedicatedPostgres } from './dedicated-postgres.js';
import { recordFigure } from './figures.js';
import { captureLogger, ms } from './process-kit.js';

let server: DedicatedPostgres | undefined;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  await server?.destroy();
  server = undefined;
});

/** What an application can make sense of: the connection was refused, terminated or is not ready. */
const UNDERSTANDABLE =
  /ECONNREFUSED|ECONNRESET|terminating connection due to administrator command|the database system is (shutting down|starting up|not yet accepting connections|in recovery mode)|Connection terminated/;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

describe('fault 8: Postgres restarted under load', () => {
  it('producers get clear errors while it is down; workers reconnect; nothing committed is lost or run twice at once', async () => {
    server = await startDedicatedPostgres();
    const url = server.url;
    const setup = new pg.Client(url);
    await setup.connect();
    await setup.query('CREATE TABLE effects (job_id bigint PRIMARY KEY)');
    await setup.end();

    // Handlers track, in this process, how many runs of each job are under way right now.
    const active = new Map<string, number>();
    let runs = 0;
    let concurrentDoubleRuns = 0;
    let repeatedEffects = 0;
    // The handlers' own writes go through a pool of their own, as an application's would.
    const effectsPool = new pg.Pool({ connectionString: url, max: 8 });
    effectsPool.on('error', () => {});
    closers.push(() => effectsPool.end());
    const makeWorkerQueue = (name: string) => {
      const logger = captureLogger();
      const queue = new Queue({
        connectionString: url,
        logger,
        tasks: {
          work: {
            backoff: { baseDelay: 100, maxDelay: 1_000 },
            handler: async (_: number, { job, signal }) => {
              const now = (active.get(job.id) ?? 0) + 1;
              active.set(job.id, now);
              if (now > 1) concurrentDoubleRuns++;
              runs++;
              try {
                await sleep(20, signal);
                const { rowCount } = await effectsPool.query(
                  'INSERT INTO effects (job_id) VALUES ($1) ON CONFLICT DO NOTHING',
                  [job.id],
                );
                // An effect committed just before the server went away, whose completion was
                // not: the job runs again (at least once), but never at the same time.
                if (rowCount === 0) repeatedEffects++;
              } finally {
                active.set(job.id, active.get(job.id)! - 1);
              }
            },
          },
        },
      });
      closers.push(() => queue.close());
      return { name, queue, logger };
    };
    const a = makeWorkerQueue('a');
    const b = makeWorkerQueue('b');
    await a.queue.migrate();
    const workers: Worker[] = [];
    const workerErrors: Error[] = [];
    for (const w of [a, b]) {
      const worker = w.queue.worker({ concurrency: 4, pollInterval: 200 });
      worker.on('error', (e) => workerErrors.push(e));
      await worker.start();
      workers.push(worker);
    }

    // Two producers enqueue in a loop; a job counts as committed once its enqueue resolved.
    const producer = new Queue<{ work: (n: number) => void }>({
      connectionString: url,
      logger: captureLogger(),
    });
    closers.push(() => producer.close());
    const committed = new Set<string>();
    const producerErrors: { at: number; error: unknown }[] = [];
    const lastOk = { at: 0 };
    const stopProducing = new AbortController();
    let n = 0;
    const produce = async () => {
      while (!stopProducing.signal.aborted) {
        try {
          const job = await producer.enqueue('work', n++);
          committed.add(job.id);
          lastOk.at = performance.now();
          // Paced, so the workers keep up and the backlog stays small.
          await sleep(2);
        } catch (error) {
          producerErrors.push({ at: performance.now(), error });
          await sleep(25);
        }
      }
    };
    const producers = [produce(), produce()];
    const completedOnce = async () =>
      (await producer.pool.query('SELECT count(*)::int AS n FROM effects')).rows[0].n;
    await waitFor(
      'load before the restart',
      async () => committed.size >= 200 && (await completedOnce()) >= 100,
      {
        timeoutMs: 30_000,
      },
    );

    // Down: a fast shutdown terminates every session.
    const downAt = performance.now();
    await server.stop();
    const stoppedMs = performance.now() - downAt;
    const committedBefore = committed.size;
    // Stay down until producers have failed a few times and each worker has tried, and failed,
    // to reconnect three times (its backoff grows: about 0.5 s down in all).
    await waitFor('producers to see errors', () => producerErrors.filter((e) => e.at >= downAt).length >= 5);
    await Promise.all(
      [a, b].map(async (w) => {
        let after = downAt;
        for (let i = 0; i < 3; i++)
          after = (await w.logger.next(/claimer reconnect failed/, after)).at + 0.001;
      }),
    );
    const downMs = performance.now() - downAt;

    const upAt = performance.now();
    await server.start();
    const readyAt = performance.now();
    const reconnected = await Promise.all(
      [a, b].map((w) => w.logger.next(/claimer reconnected/, readyAt, 20_000)),
    );
    const relistened = await Promise.all(
      [a, b].map((w) => w.logger.next(/listener reconnected/, readyAt, 20_000)),
    );
    await waitFor('a successful enqueue after the restart', () => lastOk.at > readyAt);
    const producerRecoveryMs = lastOk.at - readyAt;
    const workerRecoveryMs = Math.max(...reconnected.map((l) => l.at)) - readyAt;
    const listenerRecoveryMs = Math.max(...relistened.map((l) => l.at)) - readyAt;
    await waitFor('load after the restart', () => committed.size >= committedBefore + 200, {
      timeoutMs: 30_000,
    });
    stopProducing.abort();
    await Promise.all(producers);

    const ids = [...committed];
    await waitFor(
      'every committed job to be done',
      async () => {
        const left = (await producer.pool.query('SELECT count(*)::int AS n FROM queue.jobs')).rows[0].n;
        return left === 0;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    const found = (
      await producer.pool.query('SELECT count(*)::int AS n FROM effects WHERE job_id = ANY($1::bigint[])', [
        ids,
      ])
    ).rows[0].n as number;
    const lost = ids.length - found;
    const duringOutage = producerErrors.filter((e) => e.at >= downAt && e.at <= readyAt);
    const messages = [
      ...new Set(producerErrors.map((e) => (e.error instanceof Error ? e.error.message : String(e.error)))),
    ];
    const unclear = producerErrors.filter(
      (e) => !(e.error instanceof Error) || !UNDERSTANDABLE.test((e.error as Error).message),
    );
    const pass =
      lost === 0 &&
      concurrentDoubleRuns === 0 &&
      unclear.length === 0 &&
      duringOutage.length > 0 &&
      workerRecoveryMs < 10_000;
    recordFigure({
      scenario: 8,
      name: 'Postgres restarted under load',
      figure:
        `committed ${ids.length}, run ${found} (handler runs ${runs}, effects repeated after the crash ${repeatedEffects}), ` +
        `lost ${lost}, concurrent double runs ${concurrentDoubleRuns}; down ${ms(downMs)} (stop took ${ms(stoppedMs)}), ` +
        `after restart: workers locking again in ${(workerRecoveryMs / 1000).toFixed(2)} s, listening in ${(listenerRecoveryMs / 1000).toFixed(2)} s, ` +
        `first enqueue ok in ${(producerRecoveryMs / 1000).toFixed(2)} s; producer errors ${producerErrors.length} ` +
        `(${messages.map((m) => JSON.stringify(m)).join(', ')})`,
      pass,
    });
    expect(lost).toBe(0);
    expect(concurrentDoubleRuns).toBe(0);
    expect(duringOutage.length).toBeGreaterThan(0);
    expect(unclear.map((e) => String(e.error))).toEqual([]);
    // The workers noticed and said so (a LockLostError each), then recovered on their own.
    expect(workerErrors.length).toBeGreaterThanOrEqual(2);
    expect(workerRecoveryMs).toBeLessThan(10_000);
    expect(upAt).toBeGreaterThan(downAt);
  });
});
