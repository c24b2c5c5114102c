import type pg from 'pg';
import { recheckCancels } from './cancel.js';
import { Claimer, type ClaimResult } from './claimer.js';
import { type ConnectionConfig, reconnectDelay, sleep } from './connection.js';
import { TypedEmitter } from './emitter.js';
import { JobCancelledError, LockLostError, SessionNotPinnedError, WorkerStoppingError } from './errors.js';
import { FlowState, LIMITS_REFRESH_MS, LIMITS_WAKE } from './flow/state.js';
import { logLost, type OutcomeSink, reportExhausted, reportOutcomes } from './job-log.js';
import { Listener, type Wake } from './listener.js';
import { childLogger, type Logger } from './logger.js';
import { assertOwnership, checkAfterStall } from './ownership.js';
import { WorkerPresence } from './presence.js';
import { ProgressWriter } from './progress.js';
import { type RunOutcome, runJob } from './run-job.js';
import { checkSchema } from './schema-check.js';
import { stopOnSignals } from './signals.js';
import type { Names } from './sql/names.js';
import { type ClaimedRecord, toJob } from './sql/rows.js';
import { SCHEDULES_WAKE } from './sql/schedules.js';
import { untilReachable } from './startup.js';
import type { TaskDefinition } from './types.js';
import { DueTimer, markDirty, pickQueue } from './wake.js';
import { resolveWorkerOptions, type WorkerOptions } from './worker-options.js';
import { WorkerServices } from './worker-services.js';
import {
  cancelledBeforeStart,
  finishBatch,
  missingTask,
  type Outcome,
  type QueueState,
  type Running,
  toOutcome,
  type WorkerEvents,
} from './worker-state.js';

export type { WorkerEvents } from './worker-state.js';

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** How often the worker re-checks that its locking session is still its own. */
const SESSION_CHECK_MS = 5_000;

/**
 * Claims jobs from its queues and runs them, never holding more jobs than it has free
 * slots. One session connection holds the job locks (the claimer), another listens for
 * wake-ups (the listener); polling is the backstop for missed notifications and for jobs
 * freed by a dead worker, which Postgres does not announce.
 */
export class Worker extends TypedEmitter<WorkerEvents> {
  private state: State = 'new';
  private readonly claimer: Claimer;
  private readonly listener: Listener;
  private readonly queues = new Map<string, QueueState>();
  private readonly running = new Map<string, Running>();
  /** Ids this process holds or still runs, excluded from claims (advisory locks are re-entrant). */
  private readonly held = new Set<string>();
  private outcomes: Outcome[] = [];
  /** The cycle loop, while it runs; `kicked` when it should run (again). */
  private driving: Promise<void> | undefined;
  private kicked = false;
  /** Round-robin start, so one busy queue cannot starve the others. */
  private nextQueue = 0;
  private readonly due = new DueTimer(() => {
    this.wakeAll();
    void this.scheduleNextDue();
  });
  private reconnecting: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  /** Aborted by a second SIGTERM/SIGINT: stop waiting for running jobs. */
  private readonly abortWaits = new AbortController();
  /** Aborted when stop() begins: ends reconnect back-offs. */
  private readonly stopSignal = new AbortController();
  private readonly opts: ReturnType<typeof resolveWorkerOptions>;
  private removeSignalHandlers: (() => void) | undefined;
  /** Polls, session checks, stall monitor, scheduler, history maintenance. */
  private readonly services: WorkerServices;
  /** Its row in the workers table, and the periodic check for jobs nobody will run. */
  private readonly presence: WorkerPresence;
  private readonly sink: OutcomeSink;
  /** Writes handlers' ctx.progress() values, throttled, through the pool. */
  private readonly progress: ProgressWriter;
  /** The schema was found migrated (once, on the first claimer session). */
  private schemaChecked = false;
  /** Flow control: which queues have limits, and the slots held jobs took (flow/state.ts). */
  private readonly flow: FlowState;

  constructor(
    private readonly config: ConnectionConfig,
    names: Names,
    private readonly tasks: ReadonlyMap<string, TaskDefinition>,
    options: WorkerOptions,
    private readonly logger: Logger,
    pool?: pg.Pool,
    /** Records this worker's task options in the tasks table (Queue.registerTasks). */
    private readonly recordTasks: () => Promise<void> = async () => {},
  ) {
    super();
    this.opts = resolveWorkerOptions(options, tasks);
    // Any known task may be enqueued to any queue, so each queue claims every task this
    // worker knows, and leaves the others for a worker that knows them.
    const known = [...tasks.keys()];
    for (const [name, concurrency] of this.opts.queues) {
      this.queues.set(name, { name, concurrency, running: 0, dirty: true, wakes: 0, tasks: known });
    }
    this.flow = new FlowState(names, [...this.queues.keys()], {
      wait: (ms) => this.wakeAt(ms),
      changed: () => this.wakeAll(),
    });
    this.claimer = new Claimer(
      config,
      names,
      this.opts.queryTimeout,
      (e) => this.onLockLost(e),
      async (query) => {
        // First, on the first session: a schema without this version's tables fails the start
        // with SchemaNotMigratedError (naming what to run), not with the first missing table.
        if (!this.schemaChecked) {
          const session = { ask: (text: string) => query(text, []) };
          await checkSchema(session, names, logger, this.stopSignal.signal);
          this.schemaChecked = true;
        }
        await this.presence.register(query);
        await this.flow.refresh(query);
      },
      this.flow,
    );
    this.presence = new WorkerPresence({
      claimer: this.claimer,
      names,
      pool,
      logger,
      queues: this.opts.queues,
      tasks: known,
      checkInterval: this.opts.unroutedCheckInterval,
    });
    this.listener = new Listener(
      config,
      names,
      {
        onWake: (w) => this.onWake(w),
        onCancel: (id) => this.onCancel(id),
        onListening: () => {
          this.wakeAll();
          // Cancel requests sent while the listener was away were missed: look them up.
          void recheckCancels(this.listener, names, this.running.keys(), (id) => this.onCancel(id), logger);
        },
      },
      logger,
      { heartbeatInterval: this.opts.heartbeatInterval, queryTimeout: this.opts.queryTimeout },
    );
    const stall = this.opts.stallThreshold;
    this.services = new WorkerServices({
      claimer: this.claimer,
      names,
      logger,
      pool,
      stallThreshold: stall,
      onStall: (ms) => void checkAfterStall(this.claimer, this.running.values(), ms, stall, this.logger),
      intervals: [
        [this.opts.pollInterval, () => this.wakeAll()],
        [SESSION_CHECK_MS, () => void this.verifySession()],
        [LIMITS_REFRESH_MS, () => void this.flow.refresh((t, v) => this.claimer.run(t, v)).catch(() => {})],
      ],
    });
    this.sink = { logger, emit: (e, ...a) => this.emit(e, ...a), wakeAt: (ms) => this.wakeAt(ms) };
    this.progress = new ProgressWriter({
      pool,
      names,
      logger,
      intervalMs: this.opts.progressInterval,
      queryTimeout: this.opts.queryTimeout,
      emit: (e) => this.emit('progress', e),
    });
  }

  /**
   * Connects, listens and starts claiming. While Postgres cannot be reached it retries for
   * `startupTimeout`, then rejects with DatabaseUnavailableError; other errors reject at once,
   * among them SchemaNotMigratedError for a schema that lacks this version's migrations.
   * stop() ends the wait, and start() then resolves with the worker stopped.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    this.starting = untilReachable(
      async () => {
        // A claimer that connected on an earlier attempt is kept: only what failed is retried.
        // Its first session checks the schema (see the constructor's onConnect).
        if (!this.claimer.connected) await this.claimer.start();
        await this.listener.start();
        // After the session connections, whose connect timeout bounds an attempt at an
        // unreachable host (the pool's may have none); idempotent, so a retry may repeat it.
        await this.recordTasks();
      },
      {
        operation: 'worker.start()',
        config: this.config,
        timeoutMs: this.opts.startupTimeout,
        logger: this.logger,
        signal: this.stopSignal.signal,
      },
    );
    try {
      await this.starting;
    } catch (error) {
      // stop() ended the wait: its shutdown closes whatever was opened.
      if (this.stopSignal.signal.aborted) return;
      this.state = 'stopped';
      await this.listener.stop();
      await this.claimer.stop();
      throw error;
    }
    // stop() was called while we connected: it has closed everything; stay stopped.
    if (this.state !== 'starting') return;
    this.state = 'running';
    this.services.start();
    this.presence.start();
    if (this.opts.handleSignals) {
      this.removeSignalHandlers = stopOnSignals({
        stop: () => this.stop(),
        // A second signal: stop waiting for running jobs and abort them now.
        hurry: () => this.abortWaits.abort(),
        logger: this.logger,
      });
    }
    this.wakeAll();
    void this.scheduleNextDue();
  }

  /** This worker's id: its row in the workers table (`queue.workers()`) and its statistics rows. */
  get id(): string {
    return this.claimer.workerId;
  }

  /** Jobs running right now. */
  get activeCount(): number {
    return this.running.size;
  }

  /** The backend pids of the claimer and listener sessions (for diagnostics and fault tests). */
  get backendPids(): { claimer: number | undefined; listener: number | undefined } {
    return { claimer: this.claimer.backendPid, listener: this.listener.backendPid };
  }

  /**
   * Stops claiming, waits up to `shutdownTimeout` for running handlers, then aborts their
   * signals and waits `abortGrace` more. Results are recorded and locks released; a job whose
   * handler never returned is released by closing the session and will run again.
   * Safe to call twice (both calls get the same promise) and before start().
   */
  stop(): Promise<void> {
    this.stopPromise ??= this.shutdown();
    return this.stopPromise;
  }

  private async shutdown(): Promise<void> {
    const wasStarted = this.state !== 'new';
    this.state = 'stopping';
    this.due.stop();
    this.presence.stop();
    this.stopSignal.abort();
    await this.services.stopTimers();
    if (!wasStarted) {
      this.state = 'stopped';
      return;
    }
    // Let a start() in progress finish connecting, so that its connections are closed below.
    await this.starting?.catch(() => {});
    await this.listener.stop();
    await this.driving;
    const settled = () => Promise.all([...this.running.values()].map((r) => r.done));
    if (this.running.size > 0) {
      await Promise.race([settled(), sleep(this.opts.shutdownTimeout, this.abortWaits.signal)]);
    }
    if (this.running.size > 0) {
      this.logger.warn({ jobs: this.running.size }, 'shutdown timeout reached; aborting running jobs');
      for (const r of this.running.values()) {
        r.stopping = true;
        r.controller.abort(new WorkerStoppingError());
      }
      await Promise.race([settled(), sleep(this.opts.abortGrace)]);
    }
    await this.drain();
    await this.reconnecting;
    await this.services.stop();
    await this.presence.unregister();
    await this.claimer.stop();
    this.progress.close();
    this.state = 'stopped';
    // Removed only now, so that a second signal during shutdown can hurry it.
    this.removeSignalHandlers?.();
  }

  // ---- waking -------------------------------------------------------------------------

  private onWake(wake: Wake): void {
    if (wake.queue === LIMITS_WAKE) {
      void this.flow.refresh((t, v) => this.claimer.run(t, v), true).catch(() => {});
      return;
    }
    if (wake.queue === SCHEDULES_WAKE) {
      this.services.scheduler.wake(wake.delayMs);
      return;
    }
    const q = this.queues.get(wake.queue);
    if (!q) return;
    if (wake.delayMs > 0) {
      this.wakeAt(wake.delayMs);
      return;
    }
    markDirty(q);
    this.kick();
  }

  /** cancelJob() asked to stop job `id`: if it runs here, abort its handler (the finish records it). */
  private onCancel(id: string): void {
    const abort = () => this.running.get(id)?.controller.abort(new JobCancelledError(id));
    abort();
    // The request can overtake the answer to the claim that took the job: look again after it.
    if (!this.running.has(id)) void this.driving?.then(abort, () => {});
  }

  private wakeAll(): void {
    for (const q of this.queues.values()) markDirty(q);
    this.kick();
  }

  /** Arms the due timer for a scheduled job, while the worker runs. */
  private wakeAt(delayMs: number): void {
    if (this.state === 'running') this.due.arm(delayMs);
  }

  private async scheduleNextDue(): Promise<void> {
    try {
      const ms = await this.claimer.nextDue([...this.queues.keys()]);
      if (ms !== null) this.wakeAt(ms);
    } catch {
      // The poll covers it; a lost connection is handled by onLockLost.
    }
  }

  // ---- the cycle loop ------------------------------------------------------------------

  /**
   * Asks the cycle loop to run. Deferred to the next turn of the event loop so that jobs
   * finishing together, and wake-ups arriving together, share one statement.
   */
  private kick(): void {
    this.kicked = true;
    if (this.driving) return;
    this.driving = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drive())
      .finally(() => {
        this.driving = undefined;
        if (this.kicked && this.claimer.connected && this.state !== 'stopped') this.kick();
      });
  }

  /**
   * Each turn sends one statement that records every finished job so far and claims for
   * one queue with free slots and possibly due jobs, never more than its free slots.
   */
  private async drive(): Promise<void> {
    for (;;) {
      this.kicked = false;
      if (!this.claimer.connected) return;
      const generation = this.claimer.generation;
      const batch = this.outcomes.filter((o) => o.running.generation === generation);
      this.outcomes = [];
      const q = this.state === 'running' ? this.pickQueue() : undefined;
      if (batch.length === 0 && !q) return;
      const want = q ? q.concurrency - q.running : 0;
      const wakes = q?.wakes ?? 0;
      let result: Awaited<ReturnType<Claimer['cycle']>>;
      try {
        result = await this.claimer.cycle(
          batch.map((o) => o.running.job.id),
          batch.length > 0 ? finishBatch(batch) : null,
          q ? { queue: q.name, tasks: q.tasks, held: [...this.held], want } : null,
        );
      } catch (error) {
        this.logger.warn(
          { err: (error as Error).message },
          'worker cycle failed; unrecorded jobs will run again',
        );
        for (const o of batch) this.held.delete(o.running.job.id);
        return;
      }
      for (const o of batch) this.held.delete(o.running.job.id);
      reportOutcomes(batch, result.failed, this.sink);
      if (q && result.claim) {
        const got = result.claim.jobs.length;
        this.emit('claimed', { queue: q.name, count: got });
        // Fewer than asked from a complete scan, with no wake-up meanwhile: drained for now.
        if (got < want && result.claim.complete && q.wakes === wakes) q.dirty = false;
        await this.accept(q, result.claim);
      }
    }
  }

  private pickQueue(): QueueState | undefined {
    const picked = pickQueue([...this.queues.values()], this.nextQueue);
    if (picked) this.nextQueue = picked.next;
    return picked?.queue;
  }

  /** Resolves when every finished job's result has been written (or could not be). */
  private async drain(): Promise<void> {
    while (this.driving || (this.outcomes.length > 0 && this.claimer.connected)) {
      if (!this.driving) this.kick();
      await this.driving;
    }
  }

  private async accept(q: QueueState, result: ClaimResult): Promise<void> {
    const unlock = [...result.stale, ...result.exhausted.map((r) => r.id)];
    let uncount: string[] = [];
    if (this.state !== 'running') {
      // stop() began while the claim was in flight: hand the jobs straight back.
      uncount = result.jobs.map((r) => r.id);
      unlock.push(...uncount);
    } else {
      for (const r of result.jobs) this.startJob(q, r);
    }
    if (unlock.length > 0) {
      await this.claimer.release(unlock, uncount).catch((error) => {
        this.logger.warn({ err: (error as Error).message }, 'could not release jobs; the session end will');
      });
    }
    reportExhausted(result.exhausted, this.sink);
  }

  // ---- running ------------------------------------------------------------------------

  private startJob(q: QueueState, record: ClaimedRecord): void {
    const job = toJob(record);
    const def = this.tasks.get(job.task);
    q.running++;
    this.held.add(job.id);
    const running: Running = {
      job,
      claims: record.claims,
      queue: q,
      controller: new AbortController(),
      generation: this.claimer.generation,
      startedAt: performance.now(),
      stopping: false,
      lost: false,
      done: Promise.resolve(),
    };
    this.running.set(job.id, running);
    this.progress.track(running);
    this.emit('started', { job });
    const log = () => childLogger(this.logger, { jobId: job.id, task: job.task, attempt: job.attempts });
    const owns = () => assertOwnership(this.claimer, running, () => this.running.get(job.id) === running);
    const run = record.cancel_requested
      ? cancelledBeforeStart(job)
      : def
        ? runJob(def, running, log, owns, this.opts.maxResultBytes)
        : missingTask(job);
    running.done = run.then((outcome) => this.onJobDone(running, outcome));
  }

  private async onJobDone(r: Running, outcome: RunOutcome): Promise<void> {
    // Its last progress value lands before the finish deletes the row (capped at queryTimeout).
    await this.progress.end(r);
    this.running.delete(r.job.id);
    r.queue.running--;
    if (r.generation !== this.claimer.generation || !this.claimer.connected || r.lost) {
      // The lock went with the old session (or an ownership check found it gone): another
      // worker may own the job now. If the session lives on, make sure it holds no lock on it.
      if (r.lost && r.generation === this.claimer.generation)
        void this.claimer.release([r.job.id], []).catch(() => {});
      this.held.delete(r.job.id);
      logLost(this.logger, r, outcome.ok);
    } else {
      this.outcomes.push(toOutcome(r, outcome, this.tasks.get(r.job.task)));
    }
    this.kick();
  }

  /** A pooler may start sharing or swapping the session at any time: look again now and then. */
  private async verifySession(): Promise<void> {
    const error = await this.claimer.verifySession();
    if (error) this.logger.error({ err: error.message, code: error.code }, 'worker session is not its own');
  }

  // ---- connection loss ------------------------------------------------------------------

  private onLockLost(error: Error): void {
    if (this.state === 'stopped') return;
    const [running, unrecorded] = [this.running.size, this.outcomes.length];
    this.logger.error(
      { err: error.message, running, unrecorded },
      'claimer connection lost; aborting running jobs',
    );
    if (this.listenerCount('error') > 0) {
      this.emit('error', error instanceof SessionNotPinnedError ? error : new LockLostError(error));
    }
    for (const r of this.running.values()) r.controller.abort(new LockLostError(error));
    // Results not yet written belong to locks that no longer exist.
    for (const o of this.outcomes) this.held.delete(o.running.job.id);
    this.outcomes = [];
    if (this.state === 'running') this.reconnecting ??= this.reconnect();
  }

  private async reconnect(): Promise<void> {
    for (let failures = 0; this.state === 'running'; failures++) {
      await sleep(reconnectDelay(failures), this.stopSignal.signal);
      if (this.state !== 'running') break;
      try {
        await this.claimer.start();
        this.logger.info({}, 'claimer reconnected');
        this.reconnecting = undefined;
        this.wakeAll();
        return;
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'claimer reconnect failed');
      }
    }
    this.reconnecting = undefined;
  }
}
