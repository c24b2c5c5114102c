/**
 * The story: a burst of signups into an app that is SIGKILLed halfway (a deploy or a crash)
 * and replaced. The demo only starts, kills and stops processes; what happened is read
 * from Postgres.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queryable } from '@queue/core';
import { type AppProcess, startApp } from './app-process.js';
import { type LiveCounts, liveCounts, type StoryFigures, storyFigures } from './figures.js';
import { DemoFailedError, type DemoOptions } from './options.js';
import { progressBars } from './progress.js';

export interface StoryInput {
  databaseUrl: string;
  schema: string;
  db: Queryable;
  options: DemoOptions;
  /** Aborted by Ctrl-C. */
  signal: AbortSignal;
}

export interface StoryResult {
  figures: StoryFigures;
  /** Read once Postgres had dropped app v1's sessions. */
  atKill: LiveCounts;
  /** False when the story timed out before every job was done. */
  finished: boolean;
  seconds: number;
}

const n = (x: number) => x.toLocaleString('en-US');

export async function runStory(input: StoryInput): Promise<StoryResult> {
  const { db, schema, options, signal } = input;
  const total = options.signups;
  const started = performance.now();
  const deadline = Date.now() + options.storyTimeout * 1_000;
  const apps: AppProcess[] = [];
  const start = (name: string) => {
    const app = startApp({
      databaseUrl: input.databaseUrl,
      schema,
      name,
      applicationName: `${schema} app ${name}`,
      signups: total,
      signupConcurrency: options.signupConcurrency,
      concurrency: options.appConcurrency,
    });
    apps.push(app);
    return app;
  };

  const bars = progressBars(20);
  const signups = bars.add('signups committed', total);
  const jobs = bars.add('guaranteed jobs done', 2 * total);
  const geocodes = bars.add('geocodes written', total);
  const show = (c: LiveCounts) => {
    signups.update(c.users);
    jobs.update(c.guaranteedDone);
    geocodes.update(c.geocodes);
  };
  const watch = (app: AppProcess, until: (c: LiveCounts) => boolean, everyMs: number) =>
    watchCounts({ db, schema, app, until, everyMs, signal, deadline, show });

  try {
    const v1 = start('v1');
    bars.log(
      `app v1 (pid ${v1.pid}) starts: takes the signups, ${options.signupConcurrency} at a time, ` +
        `and runs a worker (${options.appConcurrency} jobs at once per queue)`,
    );
    // The "deploy": as soon as half the signups are in, the process is killed without warning.
    const half = await watch(v1, (c) => c.users >= Math.ceil(total / 2), 50);
    if (!half)
      throw new DemoFailedError(`app v1 had not committed half the signups after ${options.storyTimeout} s`);
    const sessions = await sessionCount(db, v1.applicationName);
    const killedAt = performance.now();
    await v1.kill();
    // A COMMIT already on the wire when the process died still lands: count after Postgres
    // has dropped every session of v1, when its transactions and locks are settled.
    await waitForSessionsGone(db, v1.applicationName, signal);
    const goneMs = performance.now() - killedAt;
    const atKill = await liveCounts(db, schema);
    show(atKill);
    bars.log(
      `SIGKILL app v1 at ${n(atKill.users)}/${n(total)} signups: a deploy or a crash, no time to clean up.`,
    );
    bars.log(
      `  Postgres dropped its ${sessions} sessions ${goneMs.toFixed(0)} ms later. Left behind: ` +
        `${n(atKill.jobsLeft)} guaranteed jobs not done yet (in Postgres),`,
    );
    bars.log(`  ${n(atKill.users - atKill.geocodes)} geocode promises not done yet (in v1's memory).`);

    const v2 = start('v2');
    bars.log(
      `app v2 (pid ${v2.pid}) starts: takes the ${n(total - atKill.users)} signups v1 never committed ` +
        '(their clients retry)',
    );
    bars.log('  and works the queue, including the jobs v1 was running.');
    const end = await watch(
      v2,
      (c) => c.users === total && c.guaranteedDone === 2 * total && c.jobsLeft === 0,
      50,
    );
    if (!end) bars.log(`gave up waiting after ${options.storyTimeout} s (STORY_TIMEOUT)`);
    // Graceful: v2 finishes its own geocodes and running jobs, so every loss below is v1's.
    await v2.stop(30_000);
    show(await liveCounts(db, schema));
    bars.stop();
    return {
      figures: await storyFigures(db, schema),
      atKill,
      finished: end !== undefined,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    bars.stop();
    // Whatever happened, no app outlives the demo, nor its sessions: the schema is dropped
    // next, and a dying session still holding its locks would deadlock with the DROP.
    await Promise.all(apps.map((app) => app.kill()));
    const settled = AbortSignal.timeout(10_000);
    for (const app of apps) await waitForSessionsGone(db, app.applicationName, settled).catch(() => {});
  }
}

interface WatchInput {
  db: Queryable;
  schema: string;
  app: AppProcess;
  until: (c: LiveCounts) => boolean;
  everyMs: number;
  signal: AbortSignal;
  deadline: number;
  show: (c: LiveCounts) => void;
}

/** Reads the counts until `until` holds (returns them) or the deadline passes (undefined). */
async function watchCounts(w: WatchInput): Promise<LiveCounts | undefined> {
  for (;;) {
    w.signal.throwIfAborted();
    if (w.app.failure) throw w.app.failure;
    const counts = await liveCounts(w.db, w.schema);
    w.show(counts);
    if (w.until(counts)) return counts;
    if (Date.now() > w.deadline) return undefined;
    await sleep(w.everyMs, undefined, { signal: w.signal });
  }
}

async function sessionCount(db: Queryable, applicationName: string): Promise<number> {
  const { rows } = await db.query(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
    [applicationName],
  );
  return rows[0].n;
}

/** Postgres notices a dead client when it reads EOF from its socket: milliseconds, locally. */
async function waitForSessionsGone(
  db: Queryable,
  applicationName: string,
  signal: AbortSignal,
): Promise<void> {
  const until = Date.now() + 30_000;
  while ((await sessionCount(db, applicationName)) > 0) {
    if (Date.now() > until)
      throw new DemoFailedError(`Postgres still has sessions of ${applicationName} 30 s after the kill`);
    await sleep(2, undefined, { signal });
  }
}
