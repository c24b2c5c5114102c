import { JobCancelledError, JobTimeoutError } from './errors.js';
import { type AttemptOutcome, type InstrumentedTask, RUN_HOOK } from './instrumentation.js';
import type { Logger } from './logger.js';
import { validatePayload } from './payload.js';
import { reportProgress } from './progress.js';
import { encodeResult } from './result.js';
import { scheduledAtOf } from './schedules/tick.js';
import type { Job, JobContext, TaskDefinition } from './types.js';

/**
 * The fencing token of claim number `claims` of job `id`: `<id>:<claims>`, padded to 10 digits
 * (an int4 has at most 10) so that tokens sort as text. Claims, unlike attempts, are never
 * reset by a manual retry, so every claim of a job gets a greater token than all before it.
 */
export function fencingToken(id: string, claims: number): string {
  return `${id}:${String(claims).padStart(10, '0')}`;
}

/** `result`: the handler's return value as JSON text, null when it returned nothing. */
export type RunOutcome =
  | { ok: true; result: string | null }
  | { ok: false; error: unknown; timedOut: boolean; permanent: boolean };

/**
 * Runs one handler. On timeout the signal is aborted with a JobTimeoutError, but the job
 * stays claimed until the handler has really returned: releasing it earlier could let a
 * second worker start it while the first is still running it.
 */
export function runJob(
  def: TaskDefinition,
  running: { job: Job; claims: number; controller: AbortController },
  makeLogger: () => Logger,
  assertOwnership: JobContext['assertOwnership'],
  maxResultBytes: number,
): Promise<RunOutcome> {
  const hook = (def as InstrumentedTask)[RUN_HOOK];
  if (hook === undefined) return attempt(def, running, makeLogger, assertOwnership, maxResultBytes);
  // Started once, whatever the hook does: a hook that throws or never calls `attempt` loses
  // its span, not the job's run or outcome.
  let started: Promise<RunOutcome> | undefined;
  const run = () => {
    started ??= attempt(def, running, makeLogger, assertOwnership, maxResultBytes);
    return started;
  };
  const settle = () => run();
  try {
    return hook
      .run(running.job, () => run().then((o) => attemptOutcome(running.job, running.controller, o)))
      .then(settle, settle);
  } catch {
    return run();
  }
}

/** How the worker will record an attempt (worker-state.ts toOutcome), for the hook. */
function attemptOutcome(job: Job, controller: AbortController, o: RunOutcome): AttemptOutcome {
  if (o.ok) return { ok: true, final: true };
  const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
  const cancelled = reason instanceof JobCancelledError || o.error instanceof JobCancelledError;
  const final = cancelled || o.permanent || job.attempts >= job.maxAttempts;
  return { ok: false, error: o.error, timedOut: o.timedOut, cancelled, final };
}

async function attempt(
  def: TaskDefinition,
  { job, claims, controller }: { job: Job; claims: number; controller: AbortController },
  makeLogger: () => Logger,
  assertOwnership: JobContext['assertOwnership'],
  maxResultBytes: number,
): Promise<RunOutcome> {
  let payload: unknown;
  try {
    payload = await validatePayload(job.task, def.schema, job.payload);
  } catch (error) {
    // Retrying cannot fix a payload that fails its schema.
    return { ok: false, error, timedOut: false, permanent: true };
  }
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  if (def.timeout !== undefined) {
    const ms = def.timeout;
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new JobTimeoutError(job.task, ms));
    }, ms);
  }
  try {
    // The per-job child logger is made only if the handler asks for it: most never log.
    let logger: Logger | undefined;
    const ctx: JobContext = {
      job,
      attempt: job.attempts,
      signal: controller.signal,
      get logger() {
        logger ??= makeLogger();
        return logger;
      },
      fencingToken: fencingToken(job.id, claims),
      assertOwnership,
      progress: (value) => reportProgress(controller, job.task, value),
      scheduledAt: scheduledAtOf(job),
    };
    const value = await def.handler(payload, ctx);
    if (timedOut) return { ok: false, error: controller.signal.reason, timedOut, permanent: false };
    // A result that cannot be stored fails the attempt (retried per the task's policy).
    return { ok: true, result: encodeResult(job.task, value, maxResultBytes) };
  } catch (error) {
    return { ok: false, error: timedOut ? controller.signal.reason : error, timedOut, permanent: false };
  } finally {
    clearTimeout(timer);
  }
}

/** Error text as Postgres can store it: no \u0000, no lone surrogates, bounded length. */
function clean(text: string, max: number): string {
  const t = text.replaceAll('\u0000', '\\u0000').toWellFormed();
  return t.length > max ? `${t.slice(0, max)}… (truncated)` : t;
}

export function describeError(error: unknown): { message: string; stack: string | null } {
  const d = describe(error);
  return { message: clean(d.message, 8_000), stack: d.stack === null ? null : clean(d.stack, 32_000) };
}

function describe(error: unknown): { message: string; stack: string | null } {
  if (error instanceof Error) {
    return { message: `${error.name}: ${error.message}`, stack: error.stack ?? null };
  }
  let message: string;
  try {
    message = typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
  } catch {
    message = String(error);
  }
  return { message: `non-Error thrown: ${message}`, stack: null };
}
