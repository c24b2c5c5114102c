import { useTestDatabase } from '@queue/test-utils';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { Queue, silentLogger } from '../../src/index.js';
import { recordFigure } from './figures.js';
import { skipNetns } from './netns-kit.js';
import { burstThenSingles, settle, type WorkQueue } from './netns-load.js';
import { skippedNote, useNetwork } from './netns-postgres.js';
import { createFaultTables, ms, spawnFixture, useProcessCleanup } from './process-kit.js';
import { LatencyRelay } from './relay.js';

const NAME = 'worker host 200 ms RTT from Postgres';
/** Added each way by the relay: the round trip is 200 ms longer. */
const ONE_WAY_MS = 100;
const BURST = 120;
const SINGLES = 8;
const CONCURRENCY = 32;

// The run's test database, reached only through the relay on this machine's end of the link.
const db = useTestDatabase();
const setup = useNetwork(['a']);
useProcessCleanup();
let relay: LatencyRelay | undefined;
afterEach(async () => {
  await relay?.stop();
});

describe.skipIf(skipNetns)(
  `fault 21: latency between a worker host and Postgres${skippedNote(21, NAME)}`,
  () => {
    it('every job runs once, none is lost; figures: throughput and enqueue-to-done latency', async () => {
      const host = setup.net.hosts[0]!;
      await createFaultTables(db);
      // The worker reaches Postgres only through the relay, which listens on this machine's end
      // of the host's link: each direction of every connection is 100 ms late.
      const target = new URL(db.url);
      const to = { host: target.hostname, port: Number(target.port || 5432) };
      relay = new LatencyRelay(host.gateway, to, ONE_WAY_MS);
      await relay.start();
      const url = relay.url(db.url);

      // What the link's round trip is, measured as a query: one SELECT on an open connection.
      const probe = new pg.Client(url);
      probe.on('error', () => {});
      await probe.connect();
      const t0 = performance.now();
      await probe.query('SELECT 1');
      const rttMs = performance.now() - t0;
      await probe.end();

      const worker = await spawnFixture('netns-worker.ts', {
        prefix: host.exec,
        env: {
          DATABASE_URL: url,
          CONCURRENCY: String(CONCURRENCY),
          POLL_INTERVAL: '500',
          QUERY_TIMEOUT: '10000',
        },
        readyTimeoutMs: 60_000,
      });
      const producer: WorkQueue = new Queue({ connectionString: db.url, logger: silentLogger });
      try {
        const load = await burstThenSingles(producer, worker, {
          burst: BURST,
          singles: SINGLES,
          timeoutMs: 60_000,
        });
        const { left, lost, repeated, completionWrites } = await settle(db.query, load.ids);
        const events = worker.events();
        const troubles = events.filter((e) => e.event !== 'started' && e.event !== 'completed').length;
        const reconnects = worker.lines.filter((l) => l.includes('reconnected')).length;
        const pass =
          left === 0 &&
          lost === 0 &&
          repeated === 0 &&
          completionWrites === load.ids.length &&
          troubles === 0 &&
          reconnects === 0 &&
          rttMs >= 2 * ONE_WAY_MS;
        recordFigure({
          scenario: 21,
          name: NAME,
          figure:
            `relay ${ONE_WAY_MS} ms each way (SELECT 1 round trip ${ms(rttMs)}); burst of ${BURST}: ${load.perSecond.toFixed(0)} jobs/s ` +
            `(concurrency ${CONCURRENCY}); one at a time: enqueue -> done p50 ${ms(load.p50)}, p95 ${ms(load.p95)} (${SINGLES} jobs); ` +
            `jobs ${load.ids.length}, lost ${lost}, run twice ${repeated}, completion writes ${completionWrites}, retries/errors ${troubles}, reconnects ${reconnects}`,
          pass,
        });
        expect(rttMs).toBeGreaterThanOrEqual(2 * ONE_WAY_MS);
        expect(left).toBe(0);
        expect(lost).toBe(0);
        expect(repeated).toBe(0);
        expect(completionWrites).toBe(load.ids.length);
        // Latency alone breaks nothing: no retry, no error, no lost connection.
        expect(troubles).toBe(0);
        expect(reconnects).toBe(0);
      } finally {
        await producer.close();
      }
    });
  },
);
