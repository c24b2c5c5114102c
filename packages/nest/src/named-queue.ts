import type { DynamicModule, Provider } from '@nestjs/common';
import type { EnqueueManyItem, EnqueueOptions, Job, PayloadOf, Queryable, Queue, TaskMap } from '@queue/core';
import { ProcessorDefinitionError } from './errors.js';
import type { TaskRegistry } from './explorer.js';
import { QUEUE, REGISTRY } from './tokens.js';
import type { RegisteredTasks } from './types.js';

/**
 * The app's Queue bound to one queue name, what `@InjectQueue('audio')` injects. An enqueue
 * goes, first match wins, to: the `queue` its options give; the queue the task itself
 * declares (its contract, its `@Task()`/`@Processor()` options, or its definition in the
 * module's `tasks`); this queue's name. So a task whose contract says 'video' still goes to
 * 'video' through the 'audio' producer, as it would through any other producer. A task this
 * app does not define (another process runs it) goes to this queue's name: the tasks table
 * the workers record is not consulted then.
 */
export class NamedQueue<M extends TaskMap = RegisteredTasks> {
  constructor(
    /** The queue name enqueues default to. */
    readonly name: string,
    /** The app's Queue, for everything else (admin, events, other queues). */
    readonly queue: Queue<M>,
    private readonly declared: (task: string) => string | undefined,
  ) {}

  enqueue<K extends keyof M & string>(
    task: K,
    payload: PayloadOf<M[K]>,
    options: EnqueueOptions = {},
  ): Promise<Job<PayloadOf<M[K]>, K>> {
    return this.queue.enqueue(task, payload, this.bind(task, options));
  }

  enqueueMany(items: readonly EnqueueManyItem<M>[], options: { client?: Queryable } = {}): Promise<Job[]> {
    // Bad items are left as they are, for the Queue to refuse with its own message.
    const bound = Array.isArray(items)
      ? items.map((item) =>
          item && typeof item === 'object' ? { ...item, options: this.bind(item.task, item.options) } : item,
        )
      : items;
    return this.queue.enqueueMany(bound, options);
  }

  private bind(task: string, options: EnqueueOptions | undefined): EnqueueOptions {
    if (options?.queue !== undefined || this.declared(task) !== undefined) return options ?? {};
    return { ...options, queue: this.name };
  }
}

const PREFIX = '@queue/nest:Queue:';
/** Every queue name some code injects or asks a token for, so QueueModule can provide it. */
const names = new Set<string>();
/** The dynamic modules forRoot()/forRootAsync() returned, to add names registered after them. */
const modules = new Set<DynamicModule>();

/**
 * The injection token of `@InjectQueue(name)` (with no name, of the app's Queue), e.g. for
 * `app.get(getQueueToken('audio'))` or to override the provider in a testing module.
 */
export function getQueueToken(name?: string): string {
  if (name === undefined) return QUEUE;
  if (typeof name !== 'string' || name.length === 0 || name.length > 128) {
    throw new ProcessorDefinitionError(
      'QUEUE_NEST_BAD_QUEUE_NAME',
      `@InjectQueue(name)/getQueueToken(name) takes a queue name of 1 to 128 characters, got ${JSON.stringify(name)}`,
    );
  }
  if (!names.has(name)) {
    names.add(name);
    for (const module of modules) addNamedQueue(module, name);
  }
  return PREFIX + name;
}

function declaredQueue(registry: TaskRegistry, task: string): string | undefined {
  const spec = Object.hasOwn(registry.tasks, task) ? registry.tasks[task] : undefined;
  return spec && typeof spec === 'object' ? spec.queue : undefined;
}

function addNamedQueue(module: DynamicModule, name: string): void {
  const provider: Provider = {
    provide: PREFIX + name,
    useFactory: (queue: Queue, registry: TaskRegistry) =>
      new NamedQueue(name, queue, (task) => declaredQueue(registry, task)),
    inject: [QUEUE, REGISTRY],
  };
  module.providers = [...(module.providers ?? []), provider];
  module.exports = [...(module.exports ?? []), PREFIX + name];
}

/**
 * Gives QueueModule's dynamic module a provider per queue name injected anywhere. Decorators
 * run when their class is defined, which may be after forRoot() was called (module files
 * import each other in any order), so names registered later are added to the same module;
 * Nest reads its providers only when the app is created, after every import has run.
 */
export function withNamedQueues(module: DynamicModule): DynamicModule {
  modules.add(module);
  for (const name of names) addNamedQueue(module, name);
  return module;
}
