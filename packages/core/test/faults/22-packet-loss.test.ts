import { useTestDatabase } from '@queue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { Queue, silentLogger } from '../../src/index.js';
import { recordFigure } from './figures.js';
import { skipNetns } from './netns-kit.js';
import { burstThenSingles, settle, type WorkQueue } from './netns-load.js';
import { skippedNote, useNetwork } from './netns-postgres.js';
import { createFaultTables, ms, spawnFixture, useProcessCleanup } from './process-kit.js';
import { LatencyRelay } from './relay.js';

const NAME = 'worker host link losing 5% of packets';
const LOSS = 5;
const BURST = 150;
const SINGLES = 8;
const CONCURRENCY = 32;

// The run's test database, behind a relay (no delay) on this machine's end of the link: the
// lossy TCP connections are the worker's, between its namespace and this machine, as they
// would be to Postgres itself.
const db = useTestDatabase();
const setup = useNetwork(['a'], true);
useProcessCleanup();
let relay: LatencyRelay | undefined;
afterEach(async () => {
  await relay?.stop();
});

describe.skipIf(skipNetns)(
  `fault 22: packet loss between a worker host and Postgres${skippedNote(22, NAME)}`,
  () => {
    it('every job runs once, none is lost; figures: throughput and enqueue-to-done latency', async () => {
      const host = setup.net.hosts[0]!;
      await createFaultTables(db);
      const target = new URL(db.url);
      relay = new LatencyRelay(host.gateway, { host: target.hostname, port: Number(target.port || 5432) }, 0);
      await relay.start();
      // From the worker's first packet on, 5% of the packets each way are dropped on arrival.
      await host.loss(LOSS);
      const worker = await spawnFixture('netns-worker.ts', {
        prefix: host.exec,
        env: {
          DATABASE_URL: relay.url(db.url),
          CONCURRENCY: String(CONCURRENCY),
          POLL_INTERVAL: '500',
          // TCP retransmits what is lost (from 200 ms, doubling): a statement can take a few
          // seconds now and then without its connection being dead.
          QUERY_TIMEOUT: '10000',
          CONNECT_TIMEOUT: '10000',
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
        const { seen, dropped } = await host.lossCounts();
        const { left, lost, repeated, completionWrites } = await settle(db.query, load.ids);
        const troubles = worker
          .events()
          .filter((e) => e.event !== 'started' && e.event !== 'completed').length;
        const reconnects = worker.lines.filter((l) => l.includes('reconnected')).length;
        const droppedPct = (100 * dropped) / Math.max(1, seen);
        const pass =
          left === 0 && lost === 0 && repeated === 0 && completionWrites === load.ids.length && dropped > 0;
        recordFigure({
          scenario: 22,
          name: NAME,
          figure:
            `dropped ${dropped} of ${seen} packets (${droppedPct.toFixed(1)}%); burst of ${BURST}: ${load.perSecond.toFixed(0)} jobs/s ` +
            `(concurrency ${CONCURRENCY}); one at a time: enqueue -> done p50 ${ms(load.p50)}, p95 ${ms(load.p95)} (${SINGLES} jobs); ` +
            `jobs ${load.ids.length}, lost ${lost}, run twice ${repeated}, completion writes ${completionWrites}, retries/errors ${troubles}, reconnects ${reconnects}`,
          pass,
        });
        expect(dropped).toBeGreaterThan(0);
        expect(left).toBe(0);
        expect(lost).toBe(0);
        expect(repeated).toBe(0);
        expect(completionWrites).toBe(load.ids.length);
      } finally {
        await producer.close();
      }
    });
  },
);
