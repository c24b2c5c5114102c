import { waitFor } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { Queue, silentLogger } from '../../src/index.js';
import { recordFigure } from './figures.js';
import { type Host, skipNetns } from './netns-kit.js';
import { concurrentRuns, lineAfter, nthLine } from './netns-lines.js';
import { settle } from './netns-load.js';
import { skippedNote, useLinkedPostgres } from './netns-postgres.js';
import { ms, spawnFixture, useProcessCleanup } from './process-kit.js';

const NAME = 'worker host partitioned from Postgres';
const QUERY_TIMEOUT = 2_000;
const CONNECT_TIMEOUT = 2_000;
const USER_TIMEOUT = 5_000;
const HELD = 4;
const FINISHED_WHILE_CUT = 2;
const MORE = 20;

// The partitioned worker's claimer session is idle as Postgres sees it, so TCP keepalive decides
// when Postgres drops it: core sets 10 s idle and probes 5 s apart on that session (over the
// server's settings), and with tcp_user_timeout set the first unanswered probe is the last, so
// the session goes about 15 s after A was last heard (measured without it: about 25 s, 3 probes).
const setup = useLinkedPostgres(['a', 'b'], ['-c', `tcp_user_timeout=${USER_TIMEOUT}`], true);
useProcessCleanup();

describe.skipIf(skipNetns)(
  `fault 20: a worker host is partitioned from Postgres${skippedNote(20, NAME)}`,
  () => {
    it('its jobs run on the other host once Postgres drops its session, its handlers are aborted, nothing completes twice', async () => {
      const { net, pg } = setup;
      const [hostA, hostB] = net.hosts as [Host, Host];
      const worker = (host: Host) =>
        spawnFixture('netns-worker.ts', {
          prefix: host.exec,
          stdin: true,
          env: {
            DATABASE_URL: pg.urlFor(host),
            CONCURRENCY: String(HELD),
            POLL_INTERVAL: '200',
            QUERY_TIMEOUT: String(QUERY_TIMEOUT),
            HEARTBEAT_INTERVAL: '500',
            CONNECT_TIMEOUT: String(CONNECT_TIMEOUT),
          },
        });
      const producer = new Queue<{ sticky: (p: null) => void; work: (p: { ms?: number } | null) => void }>({
        connectionString: pg.url,
        logger: silentLogger,
      });
      try {
        // A holds four jobs whose first attempt runs until aborted or told to finish; B starts
        // after A has them all, so that it has nothing to run until A's locks are gone.
        const a = await worker(hostA);
        const held = await producer.enqueueMany(
          Array.from({ length: HELD }, () => ({ task: 'sticky' as const, payload: null })),
        );
        const heldIds = new Set(held.map((j) => j.id));
        await nthLine(a, 'event {"event":"started"', HELD, 'A to run all four held jobs');
        const b = await worker(hostB);

        // Cut: every packet between host A and Postgres is dropped, silently for both ends.
        await hostA.loss(100);
        const cutAt = performance.now();
        // Two of A's handlers finish while cut off: A tries to record them, over a dead link.
        a.send(`finish ${FINISHED_WHILE_CUT}`);
        // Work goes on: B takes new jobs while A is cut off.
        const more = await producer.enqueueMany(
          Array.from({ length: MORE }, () => ({ task: 'work' as const, payload: null })),
        );

        const abortedAt = await nthLine(
          a,
          'aborted ',
          HELD - FINISHED_WHILE_CUT,
          "A's other handlers to be aborted",
        );
        const aborts = a.lines.filter((l) => l.startsWith('aborted ')).map((l) => JSON.parse(l.slice(8)));

        // Postgres drops A's session: its locks go, and B runs the four jobs (attempt 2).
        const rescued = await Promise.all(
          held.map((j) =>
            b.event(
              (e) => e.event === 'completed' && e.id === j.id,
              `B to complete held job ${j.id}`,
              45_000,
            ),
          ),
        );
        const bStarts = b.events().filter((e) => e.event === 'started' && heldIds.has(e.id!));
        const firstRescueMs = Math.min(...bStarts.map((e) => e.at!)) - cutAt;
        const lastRescueMs = Math.max(...bStarts.map((e) => e.at!)) - cutAt;
        await waitFor(
          'every job to be done',
          async () => (await pg.query('SELECT count(*)::int AS n FROM queue.jobs'))[0].n === 0,
          { timeoutMs: 30_000 },
        );

        // Heal: A reconnects on its own.
        const logCount = a.lines.length;
        await hostA.loss(0);
        const healedAt = performance.now();
        const reconnectedAt = await lineAfter(
          a,
          logCount,
          'log ',
          'A to reconnect after the heal',
          'claimer reconnected',
        );
        const recoverMs = reconnectedAt - healedAt;
        const [{ n: aSessions }] = await pg.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE client_addr = $1 AND application_name = 'queue-claimer'`,
          [hostA.addr],
        );

        const all = [...held, ...more].map((j) => j.id);
        const { left, lost, repeated, completionWrites } = await settle(pg.query, all);
        const effects = await pg.query('SELECT job_id::text AS id, pid, attempt FROM effects');
        // A did try to record its two finished jobs: the statement found no answer on the cut link.
        const writeFailed = a.lines.some((l) => l.startsWith('log ') && l.includes('worker cycle failed'));
        const aCompletedHeld = a.events().filter((e) => e.event === 'completed' && heldIds.has(e.id!)).length;
        const heldEffects = effects.filter((e) => heldIds.has(e.id));
        const rescuedRight =
          heldEffects.length === HELD &&
          heldEffects.every((e) => e.pid === b.pid && e.attempt === 2) &&
          rescued.every((e) => e.attempts === 2);
        const interrupted = b
          .events()
          .filter((e) => e.event === 'completed' && heldIds.has(e.id!))
          .every((e) => /interrupted/.test((e as { errors?: string[] }).errors?.[0] ?? ''));
        // A's runs end when it aborts them (or finished them); none may overlap B's.
        const overlaps = concurrentRuns([a, b]);
        const marginMs = cutAt + firstRescueMs - abortedAt;
        const pass =
          left === 0 &&
          lost === 0 &&
          repeated === 0 &&
          completionWrites === all.length &&
          aCompletedHeld === 0 &&
          writeFailed &&
          rescuedRight &&
          interrupted &&
          aborts.every((x) => x.reason === 'LockLostError') &&
          overlaps.length === 0 &&
          aSessions === 1;
        recordFigure({
          scenario: 20,
          name: NAME,
          figure:
            `cut -> A aborts its handlers ${ms(abortedAt - cutAt)} (queryTimeout ${QUERY_TIMEOUT} ms) -> B runs A's ${HELD} jobs ${ms(firstRescueMs)}..${ms(lastRescueMs)} ` +
            `(Postgres drops A's session; tcp_user_timeout ${USER_TIMEOUT} ms), ${ms(marginMs)} after A let go, runs at once ${overlaps.length}; ` +
            `jobs ${all.length}, lost ${lost}, completion writes ${completionWrites} (A recorded ${aCompletedHeld} of the ${FINISHED_WHILE_CUT} it finished while cut off), ` +
            `effects repeated ${repeated}; heal -> A reconnected ${ms(recoverMs)} (connect timeout ${CONNECT_TIMEOUT} ms)`,
          pass,
        });
        expect(aborts.map((x) => x.reason)).toEqual(['LockLostError', 'LockLostError']);
        expect(left).toBe(0);
        expect(lost).toBe(0);
        expect(repeated).toBe(0);
        // One completion write per job: A's two finished handlers were never recorded.
        expect(completionWrites).toBe(all.length);
        expect(writeFailed).toBe(true);
        expect(aCompletedHeld).toBe(0);
        expect(rescuedRight).toBe(true);
        expect(interrupted).toBe(true);
        // A had let go of its jobs before B started them again.
        expect(overlaps).toEqual([]);
        expect(aSessions).toBe(1);
      } finally {
        await producer.close();
      }
    });
  },
);
