import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { Queue, silentLogger } from '../../src/index.js';
import { recordFigure } from './figures.js';
import { type Host, skipNetns } from './netns-kit.js';
import { concurrentRuns, lineAfter, nthLine, runsOf } from './netns-lines.js';
import { settle, type WorkQueue } from './netns-load.js';
import { skippedNote, useLinkedPostgres } from './netns-postgres.js';
import { ms, type Spawned, spawnFixture, useProcessCleanup } from './process-kit.js';

const NAME = 'worker host link flapping for 10 s';
/** Milliseconds the link stays down, then up, in turn: about 10 s of flapping, then up for good. */
const FLAPS = [1_500, 1_000, 2_000, 1_000, 1_000, 1_500, 1_500];
// About what B alone can run (4 at a time, 300 ms each): A has jobs whenever it can claim.
const BATCH = 20;
const FINAL_BATCH = 30;
const JOB_MS = 300;

const setup = useLinkedPostgres(['a', 'b'], ['-c', 'tcp_user_timeout=5000']);
useProcessCleanup();

describe.skipIf(skipNetns)(`fault 23: a worker host's link flaps${skippedNote(23, NAME)}`, () => {
  it('no job is lost or completed twice, and the host works again soon after the last flap', async () => {
    const { net, pg: server } = setup;
    const [hostA, hostB] = net.hosts as [Host, Host];
    const worker = (host: Host) =>
      spawnFixture('netns-worker.ts', {
        prefix: host.exec,
        env: {
          DATABASE_URL: server.urlFor(host),
          CONCURRENCY: '4',
          POLL_INTERVAL: '200',
          QUERY_TIMEOUT: '2000',
          HEARTBEAT_INTERVAL: '500',
          CONNECT_TIMEOUT: '2000',
        },
      });
    const [a, b] = await Promise.all([worker(hostA), worker(hostB)]);
    const producer: WorkQueue = new Queue({ connectionString: server.url, logger: silentLogger });
    try {
      const ids: string[] = [];
      const downs: number[] = [];
      const enqueue = async (n: number) => {
        const jobs = await producer.enqueueMany(
          Array.from({ length: n }, () => ({ task: 'work' as const, payload: { ms: JOB_MS } })),
        );
        ids.push(...jobs.map((j) => j.id));
      };
      // A batch at every change of the link, so that jobs are running on A each time it drops;
      // the first once A runs some.
      await enqueue(BATCH);
      await nthLine(a, 'event {"event":"started"', 4, 'A to start four jobs');
      for (const [i, holdMs] of FLAPS.entries()) {
        await enqueue(BATCH);
        if (i % 2 === 0) {
          downs.push(performance.now());
          await hostA.linkDown();
        } else await hostA.linkUp();
        await delay(holdMs);
      }
      const linesBefore = a.lines.length;
      await hostA.linkUp();
      const upAt = performance.now();
      await enqueue(FINAL_BATCH);

      // Recovered: A's claimer gets an answer again (its old session, or a new one).
      const answeredAt = await lineAfter(
        a,
        linesBefore,
        'claimed ',
        "A's first answered claim after the last flap",
      );
      await waitFor(
        'every job to be done',
        async () => (await server.query('SELECT count(*)::int AS n FROM queue.jobs'))[0].n === 0,
        {
          timeoutMs: 45_000,
        },
      );
      const drainedMs = performance.now() - upAt;
      const recoverMs = answeredAt - upAt;

      const { left, lost, repeated, completionWrites } = await settle(server.query, ids);
      // Jobs A was running when its link went down.
      const aRuns = runsOf(a);
      const inFlight = downs.map((at) => aRuns.filter((r) => r.start < at && r.end > at).length);
      const completedBy = (w: Spawned) => w.events().filter((e) => e.event === 'completed').length;
      const retries = a.events().filter((e) => e.event === 'retried').length;
      const reconnects = a.lines.filter((l) => l.includes('claimer reconnected')).length;
      const claimerLost = a.events().filter((e) => e.event === 'error').length;
      const caught = inFlight.reduce((x, y) => x + y, 0);
      const overlaps = concurrentRuns([a, b]);
      const pass =
        left === 0 &&
        lost === 0 &&
        completionWrites === ids.length &&
        recoverMs < 10_000 &&
        caught > 0 &&
        overlaps.length === 0;
      recordFigure({
        scenario: 23,
        name: NAME,
        figure:
          `link of A down ${downs.length} times in ${(FLAPS.reduce((x, y) => x + y) / 1000).toFixed(1)} s, with [${inFlight.join(', ')}] of its jobs running; jobs ${ids.length}, lost ${lost}, ` +
          `completion writes ${completionWrites}, runs at once on both hosts ${overlaps.length}, effects repeated ${repeated} (at least once: a run whose result could not be written runs again); ` +
          `A lost its claimer ${claimerLost} times (reconnected ${reconnects}), retried ${retries} jobs whose own queries timed out; completed by A ${completedBy(a)}, by B ${completedBy(b)}; ` +
          `last up -> A's claimer answered ${ms(recoverMs)}, -> all done ${ms(drainedMs)}`,
        pass,
      });
      expect(left).toBe(0);
      expect(lost).toBe(0);
      // One completion write per job, however often A's link went.
      expect(completionWrites).toBe(ids.length);
      // A aborted what it ran before Postgres let B have it.
      expect(overlaps).toEqual([]);
      expect(recoverMs).toBeLessThan(10_000);
      // The flaps caught jobs in flight on A: the scenario tested what it meant to.
      expect(caught).toBeGreaterThan(0);
    } finally {
      await producer.close();
    }
  });
});
