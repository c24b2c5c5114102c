/**
 * What the database says happened in the storm. The demo writes its effects itself
 * (`sent_emails`, `crm_syncs` with the attempt); completed jobs are deleted from queue.jobs,
 * so two triggers keep a ledger of every job ever committed (`storm_jobs`) and of every
 * claim (`storm_claims`: the attempt, the claiming session, the database clock). A trigger
 * row commits or rolls back with the job row it describes, so the ledger holds exactly the
 * jobs that were committed. These are the test's own tables; the app's code is untouched.
 */
import pg from 'pg';
import type { CompletedRun } from './fleet.js';

export type Query = <R = any>(text: string, values?: unknown[]) => Promise<R[]>;

/** Runs one statement on a connection of its own (the storm restarts Postgres under any pool). */
export function queryAt(url: string): Query {
  return async (text, values) => {
    const client = new pg.Client({ connectionString: url, application_name: 'storm-test' });
    await client.connect();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  };
}

/** Creates the ledger; run after queue.migrate() and the demo's migration. */
export async function createLedger(query: Query): Promise<void> {
  await query(`
    CREATE TABLE storm_jobs (
      job_id  bigint PRIMARY KEY,
      task    text NOT NULL,
      user_id bigint
    );
    CREATE TABLE storm_claims (
      job_id  bigint NOT NULL,
      attempt int NOT NULL,
      backend int NOT NULL,
      at_ms   float8 NOT NULL
    );
    CREATE FUNCTION storm_job_committed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO storm_jobs VALUES (NEW.id, NEW.task, (NEW.payload->>'userId')::bigint);
      RETURN NULL;
    END $$;
    CREATE FUNCTION storm_job_claimed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO storm_claims
      VALUES (NEW.id, NEW.attempts, pg_backend_pid(), extract(epoch FROM clock_timestamp()) * 1000);
      RETURN NULL;
    END $$;
    CREATE TRIGGER storm_job_committed AFTER INSERT ON queue.jobs
      FOR EACH ROW EXECUTE FUNCTION storm_job_committed();
    -- A claim counts the attempt up; a hand-back of an unstarted job counts it down (not a run).
    CREATE TRIGGER storm_job_claimed AFTER UPDATE OF attempts ON queue.jobs
      FOR EACH ROW WHEN (NEW.attempts > OLD.attempts) EXECUTE FUNCTION storm_job_claimed();
  `);
}

/** Jobs not yet done: available, scheduled or running (failed ones are not coming back). */
export async function pendingJobs(query: Query): Promise<number> {
  return (await query(`SELECT count(*)::int AS n FROM queue.jobs WHERE failed_at IS NULL`))[0].n;
}

export interface Invariants {
  /** Users in the table: the signups that committed. */
  committed: number;
  /** Committed users missing a sendWelcomeEmail or a syncCrm job. */
  withoutJobs: number;
  /** Committed jobs whose user never committed, plus jobs beyond one per task and user. */
  jobsForRolledBack: number;
  /** Committed jobs whose effect is not in the demo's tables, or that are still in queue.jobs. */
  lost: number;
  /** Jobs that ended failed for good (part of `lost` when their effect is missing too). */
  failedForGood: number;
  /** Effects written more than once for a job (at least once: a re-run after a kill or the restart). */
  repeated: number;
  /** Jobs with more effects than claims: a run that was not a claimed attempt. */
  effectsBeyondClaims: number;
  /** crm_syncs rows repeating (user, attempt): one claimed attempt wrote its effect twice. */
  attemptTwice: number;
  /** A claim of a job while a run of it that went on to complete was still running. */
  overlapping: number;
  /** 201 answers whose user id is not in the table: a "created" that did not commit. */
  createdButMissing: number;
  claims: number;
}

export async function checkInvariants(
  query: Query,
  runs: CompletedRun[],
  createdIds: string[],
): Promise<Invariants> {
  const n = async (sql: string, values?: unknown[]) => (await query(sql, values))[0].n as number;
  const committed = await n(`SELECT count(*)::int AS n FROM users`);
  const withoutJobs = await n(`
    SELECT count(*)::int AS n FROM users u
    WHERE NOT EXISTS (SELECT 1 FROM storm_jobs j WHERE j.user_id = u.id AND j.task = 'sendWelcomeEmail')
       OR NOT EXISTS (SELECT 1 FROM storm_jobs j WHERE j.user_id = u.id AND j.task = 'syncCrm')`);
  const orphans = await n(`
    SELECT count(*)::int AS n FROM storm_jobs j
    WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = j.user_id)`);
  const extra = await n(`
    SELECT coalesce(sum(c - 1), 0)::int AS n
    FROM (SELECT count(*) AS c FROM storm_jobs GROUP BY user_id, task) t`);
  // Per job: its effects and its claims.
  const perJob = `
    SELECT j.job_id, j.task,
      CASE j.task
        WHEN 'sendWelcomeEmail' THEN (SELECT count(*) FROM sent_emails e WHERE e.user_id = j.user_id)
        ELSE (SELECT count(*) FROM crm_syncs c WHERE c.user_id = j.user_id)
      END::int AS effects,
      (SELECT count(*) FROM storm_claims c WHERE c.job_id = j.job_id)::int AS claims,
      EXISTS (SELECT 1 FROM queue.jobs q WHERE q.id = j.job_id) AS left_in_queue
    FROM storm_jobs j`;
  const lost = await n(`SELECT count(*)::int AS n FROM (${perJob}) p WHERE effects = 0 OR left_in_queue`);
  const repeated = await n(
    `SELECT coalesce(sum(effects - 1), 0)::int AS n FROM (${perJob}) p WHERE effects > 1`,
  );
  const effectsBeyondClaims = await n(`SELECT count(*)::int AS n FROM (${perJob}) p WHERE effects > claims`);
  const failedForGood = await n(`SELECT count(*)::int AS n FROM queue.jobs WHERE failed_at IS NOT NULL`);
  const attemptTwice = await n(`
    SELECT count(*)::int AS n FROM (
      SELECT 1 FROM crm_syncs GROUP BY user_id, attempt HAVING count(*) > 1) t`);
  const claimRows = await query<{ job_id: string; at_ms: number }>(
    `SELECT job_id::text, at_ms FROM storm_claims`,
  );
  const found = await n(`SELECT count(*)::int AS n FROM users WHERE id = ANY($1::bigint[])`, [createdIds]);
  return {
    committed,
    withoutJobs,
    jobsForRolledBack: orphans + extra,
    lost,
    failedForGood,
    repeated,
    effectsBeyondClaims,
    attemptTwice,
    overlapping: overlappingRuns(runs, claimRows),
    createdButMissing: new Set(createdIds).size - found,
    claims: claimRows.length,
  };
}

/**
 * A completed run starts after its own claim and ends once its completion is committed,
 * which deletes the job's row: no later claim of the job can be legitimate. So any claim
 * of the job after the run's own claim and before the run's end is a second run that began
 * while this one was running; so are two completed runs of one job whose times intersect.
 * The run's start is read on the test's clock, a little after the real start (pipe latency),
 * so its own claim is the last claim before start + 5 ms. Limit: a run whose result was never
 * recorded (its process killed, or its lock lost at the restart) prints no line, so its span
 * is unknown; such runs are covered only by the effect checks (effects beyond claims, one
 * attempt's CRM effect twice).
 */
export function overlappingRuns(runs: CompletedRun[], claims: { job_id: string; at_ms: number }[]): number {
  const claimsOf = new Map<string, number[]>();
  for (const c of claims) {
    const list = claimsOf.get(c.job_id) ?? [];
    list.push(c.at_ms);
    claimsOf.set(c.job_id, list);
  }
  const runsOf = new Map<string, CompletedRun[]>();
  for (const r of runs) runsOf.set(r.jobId, [...(runsOf.get(r.jobId) ?? []), r]);
  let overlaps = 0;
  for (const [jobId, list] of runsOf) {
    const at = (claimsOf.get(jobId) ?? []).sort((a, b) => a - b);
    for (const run of list) {
      const own = at.filter((t) => t <= run.start + 5).at(-1) ?? Number.NEGATIVE_INFINITY;
      overlaps += at.filter((t) => t > own && t < run.end).length;
    }
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        if (list[i]!.start < list[j]!.end && list[j]!.start < list[i]!.end) overlaps++;
      }
    }
  }
  return overlaps;
}

/** Advisory locks held in the database by any session. */
export async function advisoryLocks(query: Query): Promise<number> {
  return (await query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`))[0].n;
}

/** Sessions of the app instances still connected (the pool, the claimer, the listener). */
export async function appSessions(query: Query): Promise<number> {
  return (
    await query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE backend_type = 'client backend' AND application_name <> 'storm-test' AND pid <> pg_backend_pid()`,
    )
  )[0].n;
}

/**
 * Waits (up to `timeoutMs`) until at least `atLeast` sessions of the app are inside a
 * multi-statement transaction (a signup between BEGIN and COMMIT), polling on one
 * connection of its own; returns the count it last saw. The storm restarts Postgres at
 * that moment, so that the restart finds signups mid-transaction, not by luck.
 */
export async function waitForOpenTransactions(
  url: string,
  atLeast: number,
  timeoutMs: number,
): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: 'storm-test' });
  client.on('error', () => {}); // ended below, before the restart; nothing else may fail it
  await client.connect();
  try {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE application_name = 'demo-express' AND xact_start IS NOT NULL
           AND (state = 'idle in transaction' OR xact_start < query_start)`,
      );
      const open = rows[0].n as number;
      if (open >= atLeast || performance.now() > deadline) return open;
    }
  } finally {
    await client.end();
  }
}
