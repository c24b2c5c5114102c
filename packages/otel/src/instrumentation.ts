import {
  type Attributes,
  context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { AttemptOutcome, EnqueueOperation, Instrumentation, Job } from '@queue/core';
import { ATTR, type Outcome, SYSTEM } from './attributes.js';
import { fromMeta, TRACE_META_KEY, toStored } from './trace-context.js';

export interface QueueInstrumentationOptions {
  /** Default: the global one (`trace.getTracerProvider()`), looked up at each span. */
  tracerProvider?: TracerProvider;
  /**
   * What a job span's parent is. `'enqueue'` (default): the enqueue span, so the job and its
   * retries appear in the request's trace; each also links to it. `'none'`: every attempt
   * starts a trace of its own and only links to the enqueue span (for jobs that run long
   * after, or fan out so widely that one trace would hold too much).
   */
  parent?: 'enqueue' | 'none';
}

const NAME = '@queue/otel';

/**
 * The hooks for `new Queue({ instrumentation })` (or an adapter's options): an enqueue span
 * (PRODUCER) in the caller's trace whose context each job stores in its meta, and a job span
 * (CONSUMER) per attempt in the worker, in whose context the handler runs. See the README.
 */
export function queueInstrumentation(options: QueueInstrumentationOptions = {}): Instrumentation {
  const provider = options.tracerProvider;
  const parented = (options.parent ?? 'enqueue') === 'enqueue';
  if (options.parent !== undefined && options.parent !== 'enqueue' && options.parent !== 'none') {
    throw new TypeError(
      `queueInstrumentation(): parent must be 'enqueue' or 'none', got ${JSON.stringify(options.parent)}`,
    );
  }
  const tracer = (): Tracer => (provider ?? trace.getTracerProvider()).getTracer(NAME);

  return {
    enqueue(op: EnqueueOperation, insert: (meta?: Record<string, unknown>) => Promise<Job[]>) {
      const attributes: Attributes = {
        [ATTR.system]: SYSTEM,
        [ATTR.operationType]: 'send',
        [ATTR.operationName]: op.operation,
        [ATTR.transactional]: op.transactional,
      };
      const task = sameTask(op.tasks);
      if (task !== undefined) attributes[ATTR.task] = task;
      if (op.operation === 'enqueueMany') attributes[ATTR.batchCount] = op.tasks.length;
      const name = task === undefined ? op.operation : `${op.operation} ${task}`;
      return tracer().startActiveSpan(name, { kind: SpanKind.PRODUCER, attributes }, async (span) => {
        // A span that records nothing (no SDK, or not sampled) stores no context either.
        const sc = span.spanContext();
        const meta = span.isRecording() ? { [TRACE_META_KEY]: toStored(sc) } : undefined;
        try {
          const jobs = await insert(meta);
          if (span.isRecording()) describeJobs(span, jobs);
          return jobs;
        } catch (error) {
          recordError(span, error);
          throw error;
        } finally {
          span.end();
        }
      });
    },

    async run(job: Job, attempt: () => Promise<AttemptOutcome>) {
      const created = fromMeta(job.meta);
      const links: Link[] = created ? [{ context: created }] : [];
      const parent = created && parented ? trace.setSpanContext(ROOT_CONTEXT, created) : ROOT_CONTEXT;
      const attributes: Attributes = {
        [ATTR.system]: SYSTEM,
        [ATTR.operationType]: 'process',
        [ATTR.operationName]: 'run',
        [ATTR.destination]: job.queue,
        [ATTR.messageId]: job.id,
        [ATTR.task]: job.task,
        [ATTR.attempt]: job.attempts,
        [ATTR.maxAttempts]: job.maxAttempts,
      };
      const { schedule, scheduledAt, manual } = job.meta ?? {};
      if (typeof schedule === 'string') {
        attributes[ATTR.schedule] = schedule;
        if (typeof scheduledAt === 'string') attributes[ATTR.scheduledAt] = scheduledAt;
        if (manual === true) attributes[ATTR.manual] = true;
      }
      const span = tracer().startSpan(
        `run ${job.task}`,
        { kind: SpanKind.CONSUMER, attributes, links },
        parent,
      );
      try {
        const outcome = await context.with(trace.setSpan(parent, span), attempt);
        if (span.isRecording()) describeOutcome(span, outcome);
        return outcome;
      } finally {
        span.end();
      }
    },
  };
}

/** The task of every job of a call, or undefined when they differ. */
function sameTask(tasks: readonly string[]): string | undefined {
  const first = tasks[0];
  for (const t of tasks) if (t !== first) return undefined;
  return first;
}

function describeJobs(span: Span, jobs: Job[]): void {
  const queue = jobs[0]?.queue;
  if (queue !== undefined && jobs.every((j) => j.queue === queue)) {
    span.setAttribute(ATTR.destination, queue);
  }
  if (jobs.length === 1) {
    const job = jobs[0]!;
    span.setAttribute(ATTR.messageId, job.id);
    if (job.unique) span.setAttribute(ATTR.unique, job.unique.outcome);
  }
}

function describeOutcome(span: Span, outcome: AttemptOutcome): void {
  let name: Outcome;
  if (outcome.ok) name = 'completed';
  else if (outcome.cancelled) name = 'cancelled';
  else name = outcome.final ? 'failed' : 'retrying';
  span.setAttribute(ATTR.outcome, name);
  if (outcome.ok || outcome.cancelled) return;
  if (outcome.timedOut) span.setAttribute(ATTR.timedOut, true);
  recordError(span, outcome.error);
}

/** `error.type`: the error's class name (a QueueError's too), low in cardinality as asked. */
function recordError(span: Span, error: unknown): void {
  const type = error instanceof Error ? error.name : typeof error;
  span.setAttribute(ATTR.errorType, type);
  if (error instanceof Error) span.recordException(error);
  else span.recordException({ name: type, message: String(error) });
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
