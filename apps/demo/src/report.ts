import type { DemoOptions } from './options.js';
import type { StoryResult } from './story.js';
import type { Throughput } from './throughput.js';

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const row = (label: string, text: string) => console.log(`  ${label.padEnd(43)} ${text}`);

/**
 * Prints the results block: the story side by side with the throughput burst, then what
 * the story's figures mean. Returns false when a guaranteed job or a burst job is missing.
 */
export function printResults(story: StoryResult, burst: Throughput, options: DemoOptions): boolean {
  const f = story.figures;
  const lost = f.guaranteedDue - f.guaranteedDone;
  const geocodesLost = f.users - f.geocodes;
  const drained = burst.enqueued - burst.left;
  console.log('');
  console.log(`Results, counted in Postgres (the story took ${story.seconds.toFixed(1)} s)`);
  row(
    'signups committed',
    `${n(f.users)}/${n(options.signups)} (${n(f.usersV1)} by app v1, ${n(f.usersV2)} by app v2)`,
  );
  row(
    'guaranteed jobs (welcome email + CRM sync)',
    `done ${n(f.guaranteedDone)}/${n(f.guaranteedDue)}, ran again after the crash ${n(f.ranAgain)}, lost ${n(lost)}`,
  );
  row(
    'best-effort geocode promises',
    `done ${n(f.geocodes)}/${n(f.users)}, lost ${n(geocodesLost)}/${n(f.users)}`,
  );
  row(
    'throughput burst: enqueue',
    `${n(burst.enqueued)} jobs in ${burst.enqueueSeconds.toFixed(2)} s = ${n(burst.enqueued / burst.enqueueSeconds)} jobs/s (enqueueMany, ${n(burst.batch)} a batch)`,
  );
  row(
    'throughput burst: drain',
    `${n(drained)} jobs in ${burst.drainSeconds.toFixed(2)} s = ${n(drained / burst.drainSeconds)} jobs/s (1 worker, concurrency ${burst.concurrency})`,
  );
  console.log('');
  for (const line of explain(story)) console.log(`  ${line}`);

  const storyOk = story.finished && lost === 0 && f.jobsLeft === 0 && f.users === options.signups;
  const burstOk = burst.enqueued === burst.jobs && burst.left === 0;
  if (!storyOk) {
    console.log('');
    console.log(
      `  MISSING: ${n(lost)} guaranteed jobs not done, ${n(f.jobsLeft)} jobs left in the queue ` +
        `(${n(f.failedJobs)} failed), ${n(options.signups - f.users)} signups not committed.`,
    );
  }
  if (!burstOk) {
    console.log(
      `  MISSING from the burst: ${n(burst.jobs - burst.enqueued)} jobs not enqueued, ${n(burst.left)} not drained.`,
    );
  }
  return storyOk && burstOk;
}

/** What the story's figures mean, in lines of at most ~100 characters. */
function explain({ figures: f, atKill }: StoryResult): string[] {
  const lines = [
    `The ${n(f.ranAgain)} jobs that ran again were in app v1's hands at the SIGKILL: Postgres freed their`,
    "advisory locks when it dropped v1's sessions, and app v2 ran them.",
  ];
  if (f.twice > 0) {
    const who = f.twice === 1 ? '1 of them had done its work' : `${n(f.twice)} of them had done their work`;
    lines.push(
      `${who} before the kill but not yet recorded it, so did it twice: delivery is`,
      'at least once, so key side effects on the job id (an idempotency key).',
    );
  }
  const lost = f.users - f.geocodes;
  const lostV1 = f.usersV1 - f.geocodesV1;
  const whose = lostV1 === lost ? 'are all' : `include ${n(lostV1)}`;
  lines.push(
    `The ${n(lost)} lost geocodes ${whose} of app v1's signups: promises in its memory when it`,
    `died (${n(atKill.users - atKill.geocodes)} were pending then). Nothing else knew they were due.`,
  );
  return lines;
}
