import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { type ConnectionConfig, destroyConnection, SESSION_KEEPALIVE_SQL, timedQuery } from './connection.js';
import { SessionNotPinnedError } from './errors.js';
import type { FlowState } from './flow/state.js';
import { SessionConnection } from './session.js';
import { nextDueSql } from './sql/claim.js';
import { cycleSql, flowCycleSql } from './sql/cycle.js';
import { releaseSql } from './sql/finish.js';
import type { Names } from './sql/names.js';
import type { ClaimedRecord, JobRecord } from './sql/rows.js';

export interface ClaimRequest {
  queue: string;
  tasks: string[];
  /** Ids this process holds or still runs. */
  held: string[];
  want: number;
}

export interface ClaimResult {
  /** Jobs locked and counted: run them. */
  jobs: ClaimedRecord[];
  /** Jobs locked but found used up (their last attempt crashed): now failed; unlock them. */
  exhausted: JobRecord[];
  /** Locked ids whose row had moved on (completed or rescheduled by its previous holder): unlock them. */
  stale: string[];
  /** True when the scan saw every due job, so fewer jobs than asked means the queue is drained. */
  complete: boolean;
}

export interface Failure {
  id: string;
  message: string;
  stack: string | null;
  delayMs: number;
  permanent: boolean;
}

export interface FinishBatch {
  /** Jobs leaving the queue: completed (with the result as JSON text, or null) or cancelled. */
  leaving: { ids: string[]; results: (string | null)[]; cancelled: boolean[] };
  failures: Failure[];
  /** Per queue: completed jobs, failed attempts and completed runs' durations, for the statistics. */
  perQueue: Map<string, { completed: number; failed: number; durations: number[] }>;
}

export interface FailedRow {
  id: string;
  dead: boolean;
  run_at: string;
  delay_ms: number;
}

interface OwnsRow {
  pid: number;
  id: string;
  claims: number | null;
  locked: boolean;
}

const MAX_SCAN = 10_000;

/** What the limited cycle says about its claim (flowCycleSql). */
interface FlowAnswer {
  locked: { id: string; slots: string[] }[];
  limited: boolean;
  wait_ms: number | null;
  cursor: string | null;
}
const EMPTY_FINISH: FinishBatch = {
  leaving: { ids: [], results: [], cancelled: [] },
  failures: [],
  perQueue: new Map(),
};

/**
 * The session that holds this worker's job locks. Every lock is taken, re-checked and
 * released on this one connection; if it drops, Postgres drops every lock with it, which
 * is what frees a dead worker's jobs at once. `generation` changes with each connection,
 * so results from jobs claimed on an older one are never written.
 */
export class Claimer {
  private session: SessionConnection | undefined;
  generation = 0;
  /** Names this worker's statistics rows. */
  readonly workerId = randomBytes(6).toString('hex');
  private readonly sql: {
    cycle: string;
    flowCycle: string;
    unlockSlots: string;
    release: string;
    nextDue: string;
    session: string;
    owns: string;
  };
  private tail: Promise<unknown> = Promise.resolve();
  /** The backend this session must stay on, and the marker lock that proves it is ours alone. */
  private backend: number | undefined;
  readonly marker = 1 + Math.floor(Math.random() * 0x7ffffffe);
  /** Ownership checks waiting for their statement's turn: they share it. */
  private ownsBatch: { client: pg.Client; ids: string[]; rows: Promise<Map<string, OwnsRow>> } | undefined;

  constructor(
    private readonly config: ConnectionConfig,
    private readonly names: Names,
    private readonly queryTimeout: number,
    private readonly onLost: (error: Error) => void,
    /** Runs on each new session once it is checked, before anything is claimed on it. */
    private readonly onConnect?: (
      query: (text: string, values: unknown[]) => Promise<pg.QueryResult>,
    ) => Promise<void>,
    /** Flow control: the limited queues, and the slots each held job took. */
    private readonly flow?: FlowState,
  ) {
    this.sql = {
      cycle: cycleSql(names),
      flowCycle: flowCycleSql(names),
      unlockSlots: 'SELECT count(pg_advisory_unlock(s))::int AS n FROM unnest($1::bigint[]) AS s',
      release: releaseSql(names),
      nextDue: nextDueSql(names),
      session: `SELECT pg_backend_pid() AS pid, coalesce(array_agg(l.objid::int8), '{}') AS markers
        FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted
          AND l.classid = $1::int4::oid AND l.objid <> 0 AND l.pid = pg_backend_pid()`,
      // This backend's job locks from pg_locks (one-bigint form, split across classid and
      // objid as in lockedIdsSql), read once, and each asked job's claim count.
      owns: `WITH mine AS MATERIALIZED (
          SELECT (l.classid::int8 << 32) | l.objid::int8 AS key FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted AND l.pid = pg_backend_pid())
        SELECT pg_backend_pid() AS pid, r.id::text AS id, j.claims,
          EXISTS (SELECT FROM mine WHERE mine.key = ${names.lockKey('r.id')}) AS locked
        FROM unnest($1::bigint[]) AS r(id) LEFT JOIN ${names.q}.jobs j ON j.id = r.id`,
    };
  }

  get connected(): boolean {
    return this.session !== undefined;
  }

  get backendPid(): number | undefined {
    return this.session?.backendPid;
  }

  /** The live session's client, if any. */
  private get client(): pg.Client | undefined {
    return this.session?.client;
  }

  /** Opens the locking session (again, after a loss); a new session is a new generation. */
  async start(): Promise<void> {
    let session: SessionConnection | undefined;
    session = await SessionConnection.open(
      this.config,
      'queue-claimer',
      async (client) => {
        await client.query(SESSION_KEEPALIVE_SQL);
        // The claim is a prepared statement whose best plan depends on how many jobs are due;
        // a generic plan cached while the queue was empty can be ruinous once it fills up.
        await client.query(`SET plan_cache_mode = force_custom_plan`);
        // With the default random_page_cost (4, tuned for spinning disks) the finish's DELETE
        // of a 500-job batch, joined with unnest(), was planned as a hash join over a full
        // scan of jobs once ~50k were queued: 13-24 ms, half the cycle. At 1.1 (SSD-like, as
        // most hosted Postgres sets it) it probes the primary key: 1.3 ms; cycle CPU 22.5 ->
        // 15.5 ms (apps/bench explain:cycle, PostgreSQL 15). Only this session's plans change.
        await client.query(`SET random_page_cost = 1.1`);
        // A marker lock in the two-int4 form (never a job's key), taken in one transaction and
        // checked in the next: behind a transaction-mode pooler the next transaction may run
        // on another backend, or share this one with other clients.
        const { rows } = await client.query('SELECT pg_backend_pid() AS pid, pg_advisory_lock($1, $2)', [
          this.names.lockNamespace,
          this.marker,
        ]);
        this.backend = rows[0].pid;
        await this.checkSession(client);
        await this.onConnect?.((text, values) => timedQuery(client, { text, values }, this.queryTimeout));
      },
      (error) => {
        if (this.session !== session) return;
        this.session = undefined;
        this.onLost(error);
      },
    );
    this.session = session;
    this.generation++;
    this.flow?.clear();
  }

  /** Throws SessionNotPinnedError unless this connection still has its backend to itself. */
  private async checkSession(client: pg.Client): Promise<void> {
    const { rows } = await timedQuery(
      client,
      // Unnamed: behind a pooler, a named statement could already exist on a shared backend.
      { text: this.sql.session, values: [this.names.lockNamespace] },
      this.queryTimeout,
    );
    const { pid, markers } = rows[0] as { pid: number; markers: string[] };
    if (pid !== this.backend) {
      throw new SessionNotPinnedError(
        `its backend changed from pid ${this.backend} to ${pid} between transactions`,
      );
    }
    if (markers.length !== 1 || Number(markers[0]) !== this.marker) {
      throw new SessionNotPinnedError(
        `its backend ${pid} is shared with ${markers.length - 1} other worker session(s)`,
      );
    }
  }

  /**
   * Re-checks, on the live session, that it is still ours alone. On failure the session is
   * dropped like a lost connection (running jobs are aborted), and the error is returned.
   */
  async verifySession(): Promise<SessionNotPinnedError | undefined> {
    const c = this.client;
    if (!c) return undefined;
    try {
      await this.serialize(() => this.checkSession(c));
      return undefined;
    } catch (error) {
      if (!(error instanceof SessionNotPinnedError)) return undefined; // a lost connection is handled already
      destroyConnection(c, error);
      return error;
    }
  }

  /**
   * Re-checks, on the session of `generation`, that it is alive and still ours alone (so
   * every lock it took is still held). Throws if it is gone, replaced, or not ours.
   */
  async confirm(generation: number): Promise<void> {
    const c = this.client;
    if (!c || this.generation !== generation) throw new Error('the session that claimed the jobs has ended');
    await this.serialize(async () => {
      if (this.client !== c) throw new Error('the session that claimed the jobs has ended');
      try {
        await this.checkSession(c);
      } catch (error) {
        if (error instanceof SessionNotPinnedError) destroyConnection(c, error);
        throw error;
      }
    });
  }

  /**
   * Whether the session of `generation` still holds job `id`'s lock and the row still counts
   * `claims` claims: null if so, else why not. Checks asked for while an earlier statement
   * runs share one statement when their turn comes.
   */
  async owns(id: string, claims: number, generation: number): Promise<string | null> {
    const c = this.client;
    if (!c || this.generation !== generation) return 'the session that claimed the job has ended';
    if (this.ownsBatch?.client !== c) {
      const ids: string[] = [];
      const rows = this.serialize(async () => {
        if (this.ownsBatch?.ids === ids) this.ownsBatch = undefined;
        if (this.client !== c) throw new Error('claimer session is gone');
        const query = { name: 'queue_owns', text: this.sql.owns, values: [ids] };
        const result = await timedQuery(c, query, this.queryTimeout);
        return new Map(result.rows.map((r: OwnsRow) => [r.id, r]));
      });
      this.ownsBatch = { client: c, ids, rows };
    }
    const batch = this.ownsBatch;
    batch.ids.push(id);
    const row = (await batch.rows).get(id)!;
    if (row.pid !== this.backend) return `the session moved from backend ${this.backend} to ${row.pid}`;
    if (!row.locked) return `the session no longer holds the lock of job ${id}`;
    if (row.claims === null) return `job ${id} no longer exists`;
    if (row.claims !== claims) return `job ${id} is on claim ${row.claims}, not ${claims}`;
    return null;
  }

  /** One unnamed statement on the session, in turn with the others: start-up checks. */
  ask(text: string): Promise<pg.QueryResult> {
    const c = this.client;
    return this.serialize(() =>
      c && this.client === c
        ? timedQuery(c, { text }, this.queryTimeout)
        : Promise.reject(new Error('claimer session is gone')),
    );
  }

  /** Closes the session; Postgres releases any lock still held. Safe twice, and before start(). */
  async stop(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.close();
  }

  /**
   * One statement at a time on the session: cycles and releases come from different
   * callers, and node-postgres no longer queues overlapping queries itself. Named, so the
   * session parses and plans each statement once.
   */
  private query(name: keyof Claimer['sql'], values: unknown[]): Promise<pg.QueryResult> {
    // Bound to the session current now: a statement queued before a reconnect must never
    // run on the new session, which does not hold the old session's locks.
    const c = this.client;
    return this.serialize(() => {
      if (!c || this.client !== c) return Promise.reject(new Error('claimer session is gone'));
      // A statement that outlives queryTimeout means a dead or half-open connection.
      return timedQuery(c, { name: `queue_${name}`, text: this.sql[name], values }, this.queryTimeout);
    });
  }

  /** Runs one unnamed statement on the current session, in turn with the claimer's own. */
  run(text: string, values: unknown[]): Promise<pg.QueryResult> {
    const c = this.client;
    return this.serialize(() => {
      if (!c || this.client !== c) return Promise.reject(new Error('claimer session is gone'));
      return timedQuery(c, { text, values }, this.queryTimeout);
    });
  }

  private serialize<T>(run: () => Promise<T>): Promise<T> {
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => {});
    return result;
  }

  /**
   * Records finished jobs and claims up to `claim.want` more, in one statement. When every
   * candidate it saw was held by other workers, it looks further down the queue.
   */
  async cycle(
    unlock: string[],
    finish: FinishBatch | null,
    claim: ClaimRequest | null,
  ): Promise<{ failed: FailedRow[]; claim: ClaimResult | null }> {
    let scan = claim ? Math.max(claim.want * 2, 64) : 0;
    let f = finish ?? EMPTY_FINISH;
    let ids = unlock;
    let failed: FailedRow[] | undefined;
    for (;;) {
      // A limited queue's claim, or a finish that frees slots, takes the limited cycle.
      const limited = !!claim && !!this.flow?.isLimited(claim.queue);
      const freed = this.flow?.holding ? this.flow.take(ids) : undefined;
      const flow = limited || (freed !== undefined && freed.slots.length > 0);
      const cursor = limited ? this.flow!.cursor(claim.queue) : null;
      const extra = flow ? [freed?.slots ?? [], this.flow!.heldSlots(), freed?.queues ?? [], cursor] : [];
      const { rows } = await this.query(flow ? 'flowCycle' : 'cycle', [
        ids,
        f.leaving.ids,
        f.failures.map((x) => x.id),
        f.failures.map((x) => x.message),
        f.failures.map((x) => x.stack),
        f.failures.map((x) => x.delayMs),
        f.failures.map((x) => x.permanent),
        this.workerId,
        [...f.perQueue.keys()],
        [...f.perQueue.values()].map((c) => c.completed),
        [...f.perQueue.values()].map((c) => c.failed),
        claim?.queue ?? null,
        claim?.tasks ?? [],
        claim?.held ?? [],
        scan,
        claim?.want ?? 0,
        f.leaving.results,
        f.leaving.cancelled,
        [...f.perQueue.values()].map((c) => `{${c.durations.join(',')}}`),
        ...extra,
      ]);
      if (rows[0] && rows[0].backend_pid !== this.backend && this.client) {
        const error = new SessionNotPinnedError(
          `its statements ran on backend ${rows[0].backend_pid}, not ${this.backend}`,
        );
        destroyConnection(this.client, error);
        throw error;
      }
      failed ??= (rows[0]?.failed_rows ?? []) as FailedRow[];
      if (!claim) return { failed, claim: null };
      const out: ClaimResult = { jobs: [], exhausted: [], stale: [], complete: true };
      const scanned = (rows[0]?.scanned as number | undefined) ?? 0;
      const claimed = new Set<string>();
      for (const r of rows) {
        if (r.id == null) continue;
        claimed.add(r.id);
        if (r.failed_at != null) out.exhausted.push(r as JobRecord);
        else out.jobs.push(r as ClaimedRecord);
      }
      for (const id of (rows[0]?.locked_ids ?? []) as string[]) if (!claimed.has(id)) out.stale.push(id);
      out.complete = scanned < scan;
      const fl = rows[0]?.flow as FlowAnswer | null | undefined;
      if (limited && fl) {
        for (const l of fl.locked) this.flow!.record(l.id, claim.queue, l.slots);
        // Held back by a limit, not by a lack of due jobs: the worker waits for a finish's
        // announcement or the rate limit's time, not for the next cycle.
        if (fl.limited) out.complete = true;
        if (fl.wait_ms != null) this.flow!.wait(fl.wait_ms);
        this.flow!.setCursor(claim.queue, fl.cursor);
      }
      const locked = out.jobs.length + out.exhausted.length + out.stale.length;
      if (locked === 0 && !out.complete && scan < MAX_SCAN) {
        scan = Math.min(scan * 4, MAX_SCAN);
        f = EMPTY_FINISH;
        ids = [];
        continue;
      }
      return { failed, claim: out };
    }
  }

  /** Unlocks jobs; those in `uncount` were never started, so their attempt is given back. */
  async release(unlock: string[], uncount: string[]): Promise<void> {
    if (unlock.length === 0) return;
    await this.query('release', [unlock, uncount]);
    const freed = this.flow?.holding ? this.flow.take(unlock) : undefined;
    if (freed && freed.slots.length > 0) await this.query('unlockSlots', [freed.slots]);
  }

  /** Milliseconds until the earliest scheduled job of these queues is due, by the database clock. */
  async nextDue(queues: string[]): Promise<number | null> {
    const { rows } = await this.query('nextDue', [queues]);
    const ms = rows[0]?.delay_ms as number | null | undefined;
    return ms == null ? null : Math.max(0, ms);
  }
}
