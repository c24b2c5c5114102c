import { Inject, SetMetadata } from '@nestjs/common';
import type { JobContext, ScheduleSpec, TaskContract, TaskDefinition, TaskOptions } from '@queue/core';
import { ProcessorDefinitionError } from './errors.js';
import { getQueueToken } from './named-queue.js';
import { QUEUE, QUEUE_WORKER } from './tokens.js';

export { QUEUE, QUEUE_WORKER };
export const PROCESSOR_METADATA = '@queue/nest:processor';
export const TASK_METADATA = '@queue/nest:task';
export const SCHEDULE_METADATA = '@queue/nest:schedules';

/** What @Task() accepts: core's task options and schema; the handler is the decorated method. */
export type TaskDecoratorOptions = Omit<TaskDefinition, 'handler'>;

export interface TaskMetadata {
  name: string;
  options: TaskDecoratorOptions;
  /** The options came from a shared contract: they are the task's, whatever the processor says. */
  contract: boolean;
}

/** What @Processor() sets for the worker, besides the defaults of its tasks. */
export interface ProcessorOptions {
  /**
   * Jobs of the processor's queue (`@Processor('audio', …)`, else 'default') that this app's
   * worker runs at once. The module's `worker.queues`, when it gives numbers, wins.
   */
  concurrency?: number;
}

export interface ProcessorMetadata {
  defaults: TaskOptions;
  concurrency: number | undefined;
}

/**
 * Marks a provider class whose @Task() methods handle jobs. The first argument is the queue
 * its tasks go to (`@Processor('emails')`) or defaults for all its tasks, which @Task()
 * options win over; `concurrency` is how many jobs of that queue the worker runs at once.
 */
export function Processor(queue: string, options?: ProcessorOptions): ClassDecorator;
export function Processor(defaults?: TaskOptions & ProcessorOptions): ClassDecorator;
export function Processor(
  queueOrDefaults: string | (TaskOptions & ProcessorOptions) = {},
  options: ProcessorOptions = {},
): ClassDecorator {
  const { concurrency, ...defaults } =
    typeof queueOrDefaults === 'string' ? { ...options, queue: queueOrDefaults } : queueOrDefaults;
  return (target) => {
    if (
      concurrency !== undefined &&
      !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 10_000)
    ) {
      throw new ProcessorDefinitionError(
        'QUEUE_NEST_BAD_CONCURRENCY',
        `@Processor() on ${target.name}: concurrency must be an integer from 1 to 10000, got ${String(concurrency)}`,
      );
    }
    const metadata: ProcessorMetadata = { defaults, concurrency };
    SetMetadata(PROCESSOR_METADATA, metadata)(target);
  };
}

/** A handler method as a contract types it: the payload first, then the job's context. */
export type TaskMethod<Payload> = (payload: Payload, ctx: JobContext<Payload>) => unknown;

/**
 * @Task() with a contract: it constrains the method it decorates to take the contract's
 * payload (`handle(job: Job)` against a `{ file: string }` contract does not compile).
 */
export type ContractTaskDecorator<Payload> = <M extends TaskMethod<Payload>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;

/**
 * Makes a method the handler of a task. The method runs on the DI-managed instance with
 * `(payload, { job, attempt, signal, logger, … })`.
 *
 * - `@Task(contract)` / `@Task('transcode', contract)`: a contract from core's `defineTask()`,
 *   shared with producers. Its options (queue, priority, attempts, timeout, backoff) are the
 *   task's, and the method must take its payload type.
 * - `@Task('sendWelcomeEmail', { maxAttempts: 5 })` / `@Task({ … })`: untyped options.
 *
 * The name defaults to the method's.
 */
export function Task<In, Out>(contract: TaskContract<In, Out>): ContractTaskDecorator<Out>;
export function Task<In, Out>(name: string, contract: TaskContract<In, Out>): ContractTaskDecorator<Out>;
export function Task(name?: string, options?: TaskDecoratorOptions): MethodDecorator;
export function Task(options: TaskDecoratorOptions): MethodDecorator;
export function Task(
  nameOrOptions?: string | TaskDecoratorOptions | TaskContract,
  options: TaskDecoratorOptions | TaskContract = {},
): MethodDecorator {
  const [name, given] =
    typeof nameOrOptions === 'object' ? [undefined, nameOrOptions] : [nameOrOptions, options];
  // A contract is recognised by its handle(); spreading it copies its options, not the method.
  const contract = typeof (given as Partial<TaskContract>).handle === 'function';
  const opts: TaskDecoratorOptions = contract ? { ...given } : given;
  return (target, key, descriptor) => {
    // Static methods get the class as target; discovery reads the prototype and would never see them.
    const owner = typeof target === 'function' ? `static ${target.name}` : target.constructor.name;
    if (typeof target === 'function' || typeof descriptor?.value !== 'function') {
      throw new ProcessorDefinitionError(
        'QUEUE_NEST_TASK_NOT_METHOD',
        `@Task() must decorate an instance method, but ${owner}.${String(key)} is not one`,
      );
    }
    const metadata: TaskMetadata = { name: name ?? String(key), options: opts, contract };
    return SetMetadata(TASK_METADATA, metadata)(target, key, descriptor);
  };
}

/** What @Schedule() accepts: a schedule of core's, less `task` (the method's task is the schedule's). */
export type ScheduleDecoratorOptions<Payload = unknown> = Omit<ScheduleSpec<string, Payload>, 'task'>;

/** One @Schedule() on a method; a method may carry several. */
export interface ScheduleMetadata {
  name: string;
  options: ScheduleDecoratorOptions;
}

/**
 * Declares a recurring schedule of the task of the @Task() method it decorates:
 * `@Schedule('nightly-report', { cron: '0 3 * * *', timeZone: 'Europe/Berlin' })`. The
 * options are core's schedule (`cron` or `every`, `timeZone`, `payload`, `catchUp`, `queue`,
 * `priority`, `maxAttempts`, `tags`, `meta`) less `task`. The schedules join those of the
 * module's `schedules` option, are checked when the app starts (InvalidScheduleError names a
 * bad one), and are recorded in the database when the worker starts.
 */
export function Schedule(name: string, options: ScheduleDecoratorOptions): MethodDecorator {
  return (target, key, descriptor) => {
    const owner = typeof target === 'function' ? `static ${target.name}` : target.constructor.name;
    const where = `@Schedule(${JSON.stringify(name)}) on ${owner}.${String(key)}`;
    if (typeof target === 'function' || typeof descriptor?.value !== 'function') {
      throw new ProcessorDefinitionError(
        'QUEUE_NEST_SCHEDULE_NOT_METHOD',
        `${where}: @Schedule() must decorate an instance method that has @Task(), but this is not an instance method`,
      );
    }
    if (typeof name !== 'string' || name.length === 0 || name.length > 128) {
      throw new ProcessorDefinitionError(
        'QUEUE_NEST_BAD_SCHEDULE',
        `${where}: the schedule name must be a string of 1 to 128 characters`,
      );
    }
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new ProcessorDefinitionError(
        'QUEUE_NEST_BAD_SCHEDULE',
        `${where}: options must be an object such as { cron: '0 3 * * *' } or { every: '30s' }`,
      );
    }
    if ('task' in options) {
      throw new ProcessorDefinitionError(
        'QUEUE_NEST_BAD_SCHEDULE',
        `${where}: \`task\` is not an option here, the schedule runs the method's @Task(); ` +
          "declare a schedule of another task in the module's `schedules` option",
      );
    }
    // Several @Schedule() may sit on one method; decorators run bottom-up, so prepend to keep source order.
    const previous: ScheduleMetadata[] = Reflect.getMetadata(SCHEDULE_METADATA, descriptor.value) ?? [];
    const metadata: ScheduleMetadata[] = [{ name, options: { ...options } }, ...previous];
    return SetMetadata(SCHEDULE_METADATA, metadata)(target, key, descriptor);
  };
}

/**
 * `@InjectQueue()` injects the app's `Queue` (the same as injecting by the `Queue` class);
 * `@InjectQueue('audio')` a `NamedQueue` whose enqueues go to 'audio' unless the task or the
 * enqueue options name a queue.
 */
export const InjectQueue = (name?: string): PropertyDecorator & ParameterDecorator =>
  Inject(name === undefined ? QUEUE : getQueueToken(name));

/** Injects the app's `Worker` (for its events), or `null` with `worker: false`. */
export const InjectWorker = (): PropertyDecorator & ParameterDecorator => Inject(QUEUE_WORKER);
