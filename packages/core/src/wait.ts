import { type ConnectionConfig, sleep } from './connection.js';
import {
  InvalidOptionError,
  JobCancelledError,
  JobFailedError,
  JobNotFoundError,
  JobRolledBackError,
  WaitClosedError,
  WaitTimeoutError,
} from './errors.js';
import { parseJobId } from './job-id.js';
import { ChannelListener } from './listener.js';
import type { Logger } from './logger.js';
import { checkInt, MAX_TIMER_MS, show } from './options.js';
import type { Names } from './sql/names.js';
import { toJob } from './sql/rows.js';
import { doneChannel, finishedJobSql, markWaitedSql, XACT_STATUS_SQL } from './sql/wait.js';
import type { Job, Queryable } from './types.js';
import { enqueueXidOf } from './xid.js';

export interface WaitOptions {
  /** Aborting it rejects the wait with the signal's reason; the job carries on. */
  signal?: AbortSignal;
  /** Milliseconds (1 to 2^31-1) after which the wait rejects with WaitTimeoutError; the job carries on. */
  timeout?: number;
}

/** One waitFor() call. `ready` once its job is known to be committed and marked waited. */
interface Waiter {
  id: string;
  ready: boolean;
  settled: boolean;
  settle(ok: boolean, value: unknown): void;
  /** Aborted when the wait settles: ends its polling. */
  done: AbortController;
}

/** How long the LISTEN connection stays open after the last wait ended, like a pool's idle client. */
const IDLE_MS = 10_000;
/** Polling a transaction that has not committed yet: 50 ms, doubling up to 1 s. */
const XACT_POLL_FIRST_MS = 50;
const XACT_POLL_MAX_MS = 1_000;

/**
 * The waits of one Queue: one LISTEN connection on `<schema>:done`, opened by the first
 * waitFor() and shared by all, and the waits pending per job id. A wait marks its job's row
 * (`waited`), and the statement that finishes the job for good notifies the channel; the row
 * is only read again when a notification names the job or the connection comes back after a
 * loss (anything may have finished meanwhile).
 */
export class Waits {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private listener: ChannelListener | undefined;
  private listening: Promise<void> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly db: Queryable,
    private readonly config: ConnectionConfig,
    private readonly names: Names,
    private readonly logger: Logger,
  ) {}

  /** See Queue.waitFor. */
  wait<R>(target: string | bigint | Job, options: WaitOptions = {}): Promise<R> {
    const job = target !== null && typeof target === 'object' ? target : undefined;
    const id = parseJobId(job ? job.id : target, 'job');
    const xid = job ? enqueueXidOf(job) : undefined;
    const { signal, timeout } = checkOptions(options);
    return new Promise<R>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (this.closed) return reject(new WaitClosedError(id));
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => w.settle(false, signal!.reason);
      const w: Waiter = {
        id,
        ready: false,
        settled: false,
        done: new AbortController(),
        settle: (ok, value) => {
          if (w.settled) return;
          w.settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          w.done.abort();
          const set = this.waiters.get(id);
          set?.delete(w);
          if (set?.size === 0) this.waiters.delete(id);
          if (this.waiters.size === 0) this.idle();
          if (ok) resolve(value as R);
          else reject(value);
        },
      };
      if (timeout !== undefined)
        timer = setTimeout(() => w.settle(false, new WaitTimeoutError(id, timeout)), timeout);
      signal?.addEventListener('abort', onAbort, { once: true });
      const set = this.waiters.get(id) ?? new Set<Waiter>();
      this.waiters.set(id, set);
      set.add(w);
      void this.begin(w, xid);
    });
  }

  /** Rejects every pending wait with WaitClosedError and closes the connection. Safe twice. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const set of [...this.waiters.values()])
      for (const w of [...set]) w.settle(false, new WaitClosedError(w.id));
    const listener = this.listener;
    this.listener = undefined;
    this.listening = undefined;
    await listener?.stop();
  }

  /** Listen first, so that no notification sent after the mark can be missed; then mark and look. */
  private async begin(w: Waiter, xid: string | undefined): Promise<void> {
    try {
      await this.listen();
      if (xid !== undefined) await this.untilCommitted(w, xid);
      if (w.settled) return;
      w.ready = true;
      await this.look(w.id);
    } catch (error) {
      w.settle(false, error);
    }
  }

  /**
   * A job enqueued in a transaction is invisible to us until it commits, and forever after a
   * rollback: pg_xact_status() tells the two apart. NULL (a transaction too old to tell, long
   * over) goes on to read the row, which then says whether the job exists.
   */
  private async untilCommitted(w: Waiter, xid: string): Promise<void> {
    for (let delay = XACT_POLL_FIRST_MS; !w.settled; delay = Math.min(delay * 2, XACT_POLL_MAX_MS)) {
      const status = (await this.db.query(XACT_STATUS_SQL, [xid])).rows[0]?.status as string | null;
      if (status === 'aborted') throw new JobRolledBackError(w.id, xid);
      if (status !== 'in progress') return;
      await sleep(delay, w.done.signal);
    }
  }

  /**
   * Marks the job waited and settles its ready waits if it has finished: failed for good (still
   * in jobs), or in the history. `outcome` is what a notification said, for a job that its
   * queue's retention kept no history row of.
   */
  private async look(id: string, outcome?: string): Promise<void> {
    if (outcome === undefined || outcome === 'failed') {
      const { rows } = await this.db.query(markWaitedSql(this.names), [id]);
      if (rows[0]) {
        if (rows[0].failed_at !== null) this.settleAll(id, false, new JobFailedError(toJob(rows[0])));
        // Still live (or retried since it failed): its finish will notify.
        return;
      }
    }
    if (outcome === 'cancelled') return this.settleAll(id, false, new JobCancelledError(id));
    const finished = (await this.db.query(finishedJobSql(this.names), [id])).rows[0];
    if (finished?.outcome === 'cancelled') return this.settleAll(id, false, new JobCancelledError(id));
    if (finished?.outcome === 'completed') return this.settleAll(id, true, finished.result ?? undefined);
    // Completed, but its queue keeps no history ('0'): the result was not stored.
    if (outcome === 'completed') return this.settleAll(id, true, undefined);
    this.settleAll(id, false, new JobNotFoundError(id));
  }

  private settleAll(id: string, ok: boolean, value: unknown): void {
    for (const w of [...(this.waiters.get(id) ?? [])]) if (w.ready) w.settle(ok, value);
  }

  /** A notification `<id>` or `<id>:<outcome>` on the done channel. */
  private onPayload(payload: string): void {
    const [id = '', outcome] = payload.split(':', 2);
    if (!this.waiters.has(id)) return;
    this.lookAndReport(id, outcome);
  }

  /** Back after a lost connection: any waited job may have finished meanwhile. */
  private onListening(): void {
    for (const [id, set] of [...this.waiters]) if ([...set].some((w) => w.ready)) this.lookAndReport(id);
  }

  /** A look whose query failed rejects the waits it was for: they could not tell the outcome. */
  private lookAndReport(id: string, outcome?: string): void {
    this.look(id, outcome).catch((error) => this.settleAll(id, false, error));
  }

  private listen(): Promise<void> {
    clearTimeout(this.idleTimer);
    if (this.listening) return this.listening;
    const listener = new ChannelListener(
      this.config,
      doneChannel(this.names),
      { onPayload: (p) => this.onPayload(p), onListening: () => this.onListening() },
      this.logger,
      { heartbeatInterval: 10_000, queryTimeout: 8_000 },
      'queue-waits',
    );
    this.listener = listener;
    this.listening = listener.start().catch((error) => {
      // Not listening: the next waitFor() tries again.
      if (this.listener === listener) {
        this.listener = undefined;
        this.listening = undefined;
      }
      throw error;
    });
    return this.listening;
  }

  /** No wait left: close the connection unless one comes within IDLE_MS. */
  private idle(): void {
    if (!this.listener || this.closed) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.waiters.size > 0) return;
      const listener = this.listener;
      this.listener = undefined;
      this.listening = undefined;
      void listener?.stop();
    }, IDLE_MS);
    this.idleTimer.unref();
  }
}

function checkOptions(options: WaitOptions): WaitOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', `must be an object { signal?, timeout? }, got ${show(options)}`);
  }
  const { signal, timeout } = options;
  if (
    signal !== undefined &&
    (signal === null ||
      typeof signal !== 'object' ||
      typeof signal.aborted !== 'boolean' ||
      typeof signal.addEventListener !== 'function')
  ) {
    throw new InvalidOptionError('signal', `must be an AbortSignal, got ${show(signal)}`);
  }
  return {
    signal,
    timeout: timeout === undefined ? undefined : checkInt('timeout', timeout, 1, MAX_TIMER_MS),
  };
}
