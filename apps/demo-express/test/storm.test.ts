/**
 * Fault scenario 24, the deploy storm: three instances of the Express demo (its real main.ts)
 * under HTTP signups, killed and replaced every few seconds (SIGKILL and SIGTERM in turn),
 * Postgres restarted once midway; then the queue drains and SQL checks what the database
 * holds. The answers the load got are not trusted: a signup that got a 5xx or lost its
 * connection may or may not have committed, so every invariant is read from the database.
 * The restart comes with a burst of signups and waits until some are mid-transaction, so that
 * it finds checked-out connections (the case that once crashed instances), not by luck.
 * Overlapping runs are judged from what the demo shows: its "job N done in M ms" lines give
 * each completed run's span, the ledger's claims the start of every attempt (storm/ledger.ts).
 */
import { randomBytes } from 'node:crypto';
import { Queue } from '@queue/core';
import { migrateDemo } from '@queue/demo-kit';
import { waitFor } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DedicatedPostgres,
  startDedicatedPostgres,
} from '../../../packages/core/test/faults/dedicated-postgres.js';
import { recordFigure } from '../../../packages/core/test/faults/figures.js';
import { describeExit, Fleet, type Instance } from './storm/fleet.js';
import {
  advisoryLocks,
  appSessions,
  checkInvariants,
  createLedger,
  overlappingRuns,
  pendingJobs,
  type Query,
  queryAt,
  waitForOpenTransactions,
} from './storm/ledger.js';
import { describeCounts, SignupLoad, total } from './storm/load.js';

const INSTANCES = 3;
const LOAD_MS = 36_000;
const PER_SECOND = 70;
/** Signups sent at once just before the Postgres restart. */
const BURST = 45;
/** The kill schedule: the next event 3 to 6 s after the previous one has finished. */
const GAP_MS = [3_000, 6_000] as const;
/** Generous bounds: a shared 2-core machine, tsx compiling each instance at start. */
const DRAIN_TIMEOUT_MS = 40_000;
const STOP_TIMEOUT_MS = 20_000;

describe('deploy storm: 3 Express instances, kills, a Postgres restart', () => {
  let pg: DedicatedPostgres;
  let query: Query;
  let fleet: Fleet;
  const stopLoad = new AbortController();

  beforeAll(async () => {
    pg = await startDedicatedPostgres();
    query = queryAt(pg.url);
    // Migrated once here, so instances starting together do not race on CREATE TABLE.
    const queue = new Queue({ connectionString: pg.url });
    try {
      await queue.migrate();
      await migrateDemo(queue.pool);
    } finally {
      await queue.close();
    }
    await createLedger(query);
    fleet = new Fleet({
      DATABASE_URL: pg.url,
      QUEUE_DASHBOARD_USER: 'storm',
      QUEUE_DASHBOARD_PASSWORD: randomBytes(12).toString('hex'),
    });
  }, 90_000);

  afterAll(async () => {
    stopLoad.abort();
    await fleet?.killAll();
    await pg?.destroy();
  }, 60_000);

  it('keeps every committed signup and its jobs, runs each job at least once and never twice at a time, and leaves no lock', async () => {
    const began = performance.now();
    const rotation: Instance[] = await Promise.all(Array.from({ length: INSTANCES }, () => fleet.start()));
    const startFailures: string[] = [];
    let kills = 0;
    let terms = 0;
    let restartMs = 0;
    let openAtRestart = 0;

    // A supervisor's part: an instance that died on its own leaves the rotation at once.
    const inRotation = () => rotation.filter((i) => i.exit === undefined).map((i) => i.origin);
    const replace = async (old: Instance | undefined) => {
      if (old) rotation.splice(rotation.indexOf(old), 1);
      try {
        rotation.push(await fleet.start());
      } catch (error) {
        startFailures.push((error as Error).message);
      }
    };

    const loadStarted = performance.now();
    const load = new SignupLoad({
      targets: inRotation,
      perSecond: PER_SECOND,
      durationMs: LOAD_MS,
      duplicates: 0.1,
      tag: randomBytes(3).toString('hex'),
      signal: stopLoad.signal,
    });
    const loading = load.run();
    let loadDone = false;
    void loading.finally(() => {
      loadDone = true;
    });

    // The kill schedule, one event at a time: an event is a kill and its replacement
    // (listening again), or the Postgres restart (stopped, then accepting connections).
    let restarted = false;
    for (;;) {
      const gap = GAP_MS[0] + Math.random() * (GAP_MS[1] - GAP_MS[0]);
      await new Promise((resolve) => setTimeout(resolve, gap));
      const elapsed = performance.now() - loadStarted;
      if (loadDone || elapsed > LOAD_MS - 2_000) break;
      // Instances that died on their own are replaced first, as a process manager would.
      for (const dead of rotation.filter((i) => i.exit !== undefined)) await replace(dead);
      if (!restarted && elapsed >= LOAD_MS * 0.45) {
        restarted = true;
        // A burst on top of the load, and the stop once signups are mid-transaction.
        load.burst(BURST);
        openAtRestart = await waitForOpenTransactions(pg.url, 3, 3_000);
        const t = performance.now();
        await pg.stop();
        await pg.start();
        restartMs = performance.now() - t;
        continue;
      }
      const live = rotation.filter((i) => i.exit === undefined);
      const victim = live[Math.floor(Math.random() * live.length)];
      if (!victim) continue;
      const signal = (kills + terms) % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
      rotation.splice(rotation.indexOf(victim), 1);
      fleet.signal(victim, signal);
      if (signal === 'SIGKILL') kills++;
      else terms++;
      await replace(undefined);
    }
    const result = await loading;
    const loadMs = performance.now() - loadStarted;

    // Drain: every committed job done (or failed for good), read from the database.
    const drainStarted = performance.now();
    let drained = true;
    await waitFor('the queue to drain', async () => (await pendingJobs(query)) === 0, {
      timeoutMs: DRAIN_TIMEOUT_MS,
      intervalMs: 100,
    }).catch(() => {
      drained = false;
    });
    const drainMs = performance.now() - drainStarted;
    const pending = await pendingJobs(query);

    await fleet.stopAll(STOP_TIMEOUT_MS);
    // A session's locks go when its backend exits, which follows the client's exit closely.
    await waitFor('the instances’ sessions to end', async () => (await appSessions(query)) === 0, {
      timeoutMs: 10_000,
      intervalMs: 50,
    }).catch(() => {});
    const locksLeft = await advisoryLocks(query);
    const inv = await checkInvariants(query, fleet.runs, result.created);
    const crashed = fleet.crashed();
    const hung = fleet.hung();
    const failures = total(result.serverErrors) + total(result.connectionErrors) + result.timeouts;

    const pass =
      drained &&
      restarted &&
      openAtRestart > 0 &&
      kills > 0 &&
      terms > 0 &&
      inv.committed > 500 &&
      result.conflicts > 0 &&
      result.unexpected.size === 0 &&
      inv.withoutJobs === 0 &&
      inv.jobsForRolledBack === 0 &&
      inv.lost === 0 &&
      inv.overlapping === 0 &&
      inv.effectsBeyondClaims === 0 &&
      inv.attemptTwice === 0 &&
      inv.createdButMissing === 0 &&
      crashed.length === 0 &&
      hung.length === 0 &&
      startFailures.length === 0 &&
      locksLeft === 0;
    const figure =
      `signups committed ${inv.committed} (201 ${result.created.length}, 409 ${result.conflicts}), ` +
      `without jobs ${inv.withoutJobs}, jobs for rolled-back ${inv.jobsForRolledBack}, ` +
      `jobs lost ${inv.lost}, overlapping runs ${inv.overlapping}, crashed ${crashed.length}, ` +
      `locks left ${locksLeft}, kills ${kills + terms} (${kills} SIGKILL, ${terms} SIGTERM), ` +
      `Postgres restart ${Math.round(restartMs)} ms (${openAtRestart} signups mid-transaction), 5xx/conn errors ${failures}, ` +
      `effects repeated ${inv.repeated} (at least once), drained in ${Math.round(drainMs)} ms`;
    recordFigure({
      scenario: 24,
      name: 'deploy storm (3 Express instances, kills, Postgres restart)',
      figure,
      pass,
    });
    const report = [
      figure,
      `load: ${result.sent} sent (${result.bursts} in the burst) in ${Math.round(loadMs)} ms, skipped ticks ${result.skipped}, ` +
        `5xx ${describeCounts(result.serverErrors)}, connection errors ${describeCounts(result.connectionErrors)}, ` +
        `timeouts ${result.timeouts}, unexpected ${describeCounts(result.unexpected)}`,
      `jobs: ${inv.claims} claims, ${fleet.runs.length} completed runs seen, failed for good ${inv.failedForGood}, pending ${pending}`,
      `instances (ready in, signal → exit): ${fleet.instances
        .map((i) => `${i.name} ${Math.round(i.readyMs)} ms, ${i.sent ?? '-'} → ${describeExit(i.exit)}`)
        .join('; ')}`,
      `wall time ${Math.round(performance.now() - began)} ms`,
    ].join('\n');
    process.stdout.write(`[storm] ${report}\n`);

    const why = (i: Instance) =>
      `${i.name} (${describeExit(i.exit)}, sent ${i.sent ?? 'nothing'}):\n${i.stderr()}`;
    expect(crashed.map(why), 'instances that exited on their own').toEqual([]);
    expect(hung.map(why), 'instances still running 20 s after SIGTERM').toEqual([]);
    expect(startFailures, 'replacements that did not start').toEqual([]);
    expect(restarted, 'the Postgres restart happened').toBe(true);
    expect(openAtRestart, 'signups mid-transaction when Postgres stopped').toBeGreaterThan(0);
    // About 4 on this machine; a slow start of the replacements leaves room for fewer.
    expect(kills, 'instances SIGKILLed').toBeGreaterThanOrEqual(1);
    expect(terms, 'instances SIGTERMed').toBeGreaterThanOrEqual(1);
    // Enough load that the invariants below are not vacuous.
    expect(inv.committed, report).toBeGreaterThan(500);
    expect(result.conflicts, 'duplicate signups answered 409').toBeGreaterThan(0);
    expect(result.unexpected.size, 'answers other than 201, 409 and 5xx').toBe(0);
    expect(drained, `the queue drained within ${DRAIN_TIMEOUT_MS} ms (${pending} pending)`).toBe(true);
    expect(inv).toMatchObject({
      withoutJobs: 0,
      jobsForRolledBack: 0,
      lost: 0,
      failedForGood: 0,
      overlapping: 0,
      effectsBeyondClaims: 0,
      attemptTwice: 0,
      createdButMissing: 0,
    });
    expect(locksLeft, 'advisory locks left after every instance stopped').toBe(0);
  }, 180_000);

  it('counts as overlapping a claim during a completed run, and two completed runs that intersect', () => {
    // The check the storm relies on, on runs made up here: it must be able to say no.
    const run = (jobId: string, start: number, end: number) => ({
      jobId,
      task: 't',
      instance: 'i',
      start,
      end,
    });
    const claims = [
      { job_id: '1', at_ms: 99 }, // job 1's own claim, then a second one while it runs
      { job_id: '1', at_ms: 150 },
      { job_id: '2', at_ms: 99 }, // job 2: claimed, run, completed; nothing else
      { job_id: '3', at_ms: 10 }, // job 3: a retried attempt, then the claim of the completed run
      { job_id: '3', at_ms: 99 },
    ];
    expect(overlappingRuns([run('1', 100, 200), run('2', 100, 200), run('3', 100, 200)], claims)).toBe(1);
    expect(overlappingRuns([run('2', 100, 200), run('2', 150, 250)], [{ job_id: '2', at_ms: 99 }])).toBe(1);
    expect(overlappingRuns([run('2', 100, 200), run('3', 100, 200)], claims)).toBe(0);
  });
});
