/**
 * The main demo: why a job queue on Postgres. A burst of signups goes into an app that is
 * SIGKILLed halfway (a deploy or a crash) and replaced; the jobs committed with each signup
 * all run, the fire-and-forget promises of the dead process are gone. Then a burst of
 * no-op jobs for the throughput figures. Embedded Postgres unless DATABASE_URL is set.
 */
import { consoleLogger, type Logger, Queue } from '@queue/core';
import { startPostgres } from '@queue/dev-postgres';
import { serveDashboard } from './dashboard.js';
import { DemoFailedError, DemoOptionError, type DemoOptions, parseOptions } from './options.js';
import { printResults } from './report.js';
import { demoTables, quote } from './schema.js';
import { runStory } from './story.js';
import { runThroughput } from './throughput.js';

async function main(options: DemoOptions, signal: AbortSignal): Promise<number> {
  console.log(process.env.DATABASE_URL ? 'Using DATABASE_URL' : 'Starting an embedded Postgres…');
  const postgres = await startPostgres();
  // Each run has a schema of its own, so reruns on a shared DATABASE_URL stay clean.
  const schema = `queue_demo_${process.pid}`;
  const queue = new Queue({
    connectionString: postgres.url,
    schema,
    tasks: { noop: async (_payload: { n: number }) => {} },
    logger: quietWhen(signal),
  });
  try {
    await queue.migrate();
    await queue.pool.query(demoTables(schema));
    const { rows } = await queue.pool.query(
      `SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS sync`,
    );
    const where = postgres.embedded ? 'embedded' : 'DATABASE_URL';
    const server = `${where}, PostgreSQL ${rows[0].version}, synchronous_commit ${rows[0].sync}`;
    console.log(`Postgres: ${server}; schema ${schema}, dropped at the end`);
    console.log('');
    printIntro(options);

    const story = await runStory({ databaseUrl: postgres.url, schema, db: queue.pool, options, signal });
    console.log('');
    const jobs = options.jobs.toLocaleString('en-US');
    console.log(`2. Throughput, measured apart: ${jobs} jobs that do no work, enqueued in batches of`);
    console.log(`   1,000, then drained by one worker in this process (concurrency ${options.concurrency}).`);
    const burst = await runThroughput(queue, schema, options.jobs, options.concurrency, signal);

    const ok = printResults(story, burst, options);
    if (options.dashboard) await serveDashboard(queue, options.dashboardPort, signal);
    return ok ? 0 : 1;
  } finally {
    if (!(postgres.embedded && signal.aborted)) await dropSchema(queue, schema);
    await queue.close();
    await postgres.stop();
  }
}

/** Drops the run's schema; says so when it cannot, since on a DATABASE_URL it would stay. */
async function dropSchema(queue: Queue<any>, schema: string): Promise<void> {
  const sql = `DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`;
  for (let attempt = 1; ; attempt++) {
    try {
      await queue.pool.query(sql);
      return;
    } catch (error) {
      // A deadlock with a session that is still going away: once more is enough.
      if (attempt < 3) continue;
      console.error(`could not drop schema ${schema}: ${(error as Error).message}; run: ${sql}`);
      return;
    }
  }
}

/**
 * The default logger, muted after Ctrl-C: the terminal's SIGINT also reaches the embedded
 * Postgres (same process group), which then closes our idle connections, as expected.
 */
function quietWhen(signal: AbortSignal): Logger {
  const log = consoleLogger('warn');
  const unless = (level: 'warn' | 'error') => (obj: object, msg?: string) => {
    if (!signal.aborted) log[level](obj, msg);
  };
  return { debug() {}, info() {}, warn: unless('warn'), error: unless('error') };
}

function printIntro(options: DemoOptions): void {
  const n = options.signups.toLocaleString('en-US');
  console.log(`1. The story: ${n} people sign up in a burst. For each, the app commits the user and, in`);
  console.log('   the same transaction, two guaranteed jobs (welcome email, CRM sync). After the commit it');
  console.log('   starts a best-effort geocode the way many apps do: a 100-400 ms call in a promise nobody');
  console.log('   awaits. Halfway through, the app is SIGKILLed and a new one takes over.');
}

// Ctrl-C (or SIGTERM): stop the story, kill the app, drop the schema, stop Postgres. A second one exits at once.
const interrupt = new AbortController();
const onSignal = (name: NodeJS.Signals) => {
  if (interrupt.signal.aborted) process.exit(130);
  console.log(`\n${name}: cleaning up (again to exit at once)`);
  interrupt.abort(new Error(name));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

let options: DemoOptions;
try {
  options = parseOptions(process.argv.slice(2), process.env);
} catch (error) {
  console.error(error instanceof DemoOptionError ? error.message : error);
  process.exit(2);
}
main(options, interrupt.signal).then(
  (code) => process.exit(interrupt.signal.aborted && !options.dashboard ? 130 : code),
  (error) => {
    if (interrupt.signal.aborted) process.exit(130);
    // The demo's own failures are explained by their message; anything else gets its stack.
    console.error(error instanceof DemoFailedError ? `\ndemo failed: ${error.message}` : error);
    process.exit(1);
  },
);
