import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { type Job, LockLostError, Queue, silentLogger } from '../../src/index.js';
import { gate, queueFactory } from '../helpers.js';
import { recordFigure } from './figures.js';
import { FreezingProxy } from './tcp-proxy.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
let proxy: FreezingProxy | undefined;

afterEach(async () => {
  await proxy?.stop();
});

describe('fault 7: half-open connection', () => {
  it('is detected within the query timeout, the job is not run twice, and work resumes', async () => {
    const target = new URL(db.url);
    proxy = new FreezingProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const firstAborted = gate();
    const runs: number[] = [];
    const tasks = {
      sync: async (_: null, { attempt, signal }: { attempt: number; signal: AbortSignal }) => {
        runs.push(attempt);
        if (attempt > 1) return;
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            if (signal.reason instanceof LockLostError) firstAborted.open();
            resolve();
          }),
        );
      },
    };
    // The worker reaches Postgres only through the proxy.
    const behindProxy = new Queue({ connectionString: proxy.url(db.url), logger: silentLogger, tasks });
    const worker = behindProxy.worker({ pollInterval: 100, queryTimeout: 1_000, heartbeatInterval: 300 });
    await worker.start();
    const producer = makeQueue({ tasks });
    const started = nextEvent<{ job: Job }>(worker, 'started');
    const job = await producer.enqueue('sync', null);
    await started;

    proxy.freeze();
    const frozenAt = performance.now();
    await firstAborted.opened;
    const detectedMs = performance.now() - frozenAt;

    // The frozen session still holds the job's lock at the server, so nobody runs it again yet.
    expect((await producer.getJob(job.id))?.state).toBe('running');
    expect(runs).toEqual([1]);

    // Postgres' own keepalive would now end the dead session; the reconnected worker runs the job.
    const completed = nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === job.id);
    proxy.dropFrozenUpstreams();
    const second = (await completed).job;
    recordFigure({
      scenario: 7,
      name: 'half-open connection',
      figure: `detected in ${detectedMs.toFixed(0)} ms (queryTimeout 1000 ms); runs while frozen 1; job completed on attempt ${second.attempts}`,
      pass: detectedMs < 3_000 && second.attempts === 2,
    });
    expect(detectedMs).toBeLessThan(3_000);
    expect(runs).toEqual([1, 2]);
    await behindProxy.close();
  });
});
