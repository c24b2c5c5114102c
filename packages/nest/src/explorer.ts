import type { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { JobContext, ScheduleMap, TaskDefinition, TaskMap } from '@queue/core';
import {
  PROCESSOR_METADATA,
  type ProcessorMetadata,
  SCHEDULE_METADATA,
  type ScheduleMetadata,
  TASK_METADATA,
  type TaskMetadata,
} from './decorators.js';
import { DuplicateScheduleError, DuplicateTaskError, ProcessorDefinitionError } from './errors.js';

type Wrapper = ReturnType<DiscoveryService['getProviders']>[number];

/** Every task the app defines, and the providers whose instances handle them. */
export interface TaskRegistry {
  tasks: TaskMap;
  processors: Wrapper[];
  /** Queue name → the concurrency a @Processor() set for it, and which class set it. */
  concurrency: Map<string, { value: number; by: string }>;
  /** The `schedules` option and every @Schedule(), by name; core checks each when the Queue is made. */
  schedules: ScheduleMap;
}

/** Core's name for the queue of a task that names none. */
const DEFAULT_QUEUE = 'default';

/**
 * Finds @Processor() providers and their @Task() methods. It runs before Nest instantiates
 * the providers (the Queue needs the task map when it is built, and the Queue may itself be
 * injected into a processor), so it reads classes only; each handler looks up the DI-managed
 * instance when a job runs, which is after the app has bootstrapped.
 */
export function exploreTasks(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  reflector: Reflector,
  plain: TaskMap = {},
  plainSchedules: ScheduleMap = {},
): TaskRegistry {
  const tasks: TaskMap = {};
  const definedBy = new Map<string, string>();
  const add = (name: string, definition: TaskMap[string], where: string) => {
    const first = definedBy.get(name);
    if (first) throw new DuplicateTaskError(name, first, where);
    definedBy.set(name, where);
    tasks[name] = definition;
  };
  for (const [name, definition] of Object.entries(plain)) add(name, definition, 'the `tasks` option');

  const schedules: ScheduleMap = {};
  const scheduledBy = new Map<string, string>();
  const addSchedule = (name: string, spec: ScheduleMap[string], where: string) => {
    const first = scheduledBy.get(name);
    if (first) throw new DuplicateScheduleError(name, first, where);
    scheduledBy.set(name, where);
    schedules[name] = spec;
  };
  for (const [name, spec] of Object.entries(plainSchedules ?? {})) {
    addSchedule(name, spec, 'the `schedules` option');
  }

  const processors: Wrapper[] = [];
  const concurrency: TaskRegistry['concurrency'] = new Map();
  for (const wrapper of discovery.getProviders()) {
    // Class providers, and useValue instances of a class; factory providers' classes are unknown until they run.
    const type = wrapper.inject ? undefined : (wrapper.metatype ?? wrapper.instance?.constructor);
    if (typeof type !== 'function' || !type.prototype) continue;
    const processor = reflector.get<ProcessorMetadata | undefined>(PROCESSOR_METADATA, type);
    const methods = scanner
      .getAllMethodNames(type.prototype)
      .map(
        (method) =>
          [method, reflector.get<TaskMetadata | undefined>(TASK_METADATA, type.prototype[method])] as const,
      )
      .filter((entry): entry is readonly [string, TaskMetadata] => entry[1] !== undefined);
    // A @Schedule() without @Task() on the same method has no task to enqueue: refuse it
    // rather than let the schedule go unrecorded.
    for (const method of scanner.getAllMethodNames(type.prototype)) {
      const declared = reflector.get<ScheduleMetadata[] | undefined>(
        SCHEDULE_METADATA,
        type.prototype[method],
      );
      if (!declared || methods.some(([m]) => m === method)) continue;
      throw new ProcessorDefinitionError(
        'QUEUE_NEST_SCHEDULE_WITHOUT_TASK',
        `${type.name}.${method} has @Schedule(${declared.map((d) => JSON.stringify(d.name)).join(', ')}) but no @Task(): ` +
          "a schedule enqueues the task of its method, so add @Task() to it, or declare the schedule in the module's `schedules` option",
      );
    }
    if (!processor) {
      if (methods.length === 0) continue;
      throw new ProcessorDefinitionError(
        'QUEUE_NEST_TASK_WITHOUT_PROCESSOR',
        `${type.name} has @Task() methods (${methods.map(([m]) => m).join(', ')}) but no @Processor() on the class`,
      );
    }
    processors.push(wrapper);
    const { defaults } = processor;
    if (processor.concurrency !== undefined) {
      const queue = defaults.queue ?? DEFAULT_QUEUE;
      const first = concurrency.get(queue);
      if (first && first.value !== processor.concurrency) {
        throw new ProcessorDefinitionError(
          'QUEUE_NEST_CONFLICTING_CONCURRENCY',
          `queue ${JSON.stringify(queue)} gets concurrency ${first.value} from ${first.by} and ` +
            `${processor.concurrency} from ${type.name}: give it in one @Processor(), or in the module's worker.queues`,
        );
      }
      concurrency.set(queue, { value: processor.concurrency, by: type.name });
    }
    for (const [method, { name, options, contract }] of methods) {
      const where = `${type.name}.${method}`;
      // A contract's options are what every producer holding it applies, so they are the
      // task's; a processor queue that differs would have its jobs sent where it does not look.
      if (contract && defaults.queue !== undefined && defaults.queue !== (options.queue ?? DEFAULT_QUEUE)) {
        throw new ProcessorDefinitionError(
          'QUEUE_NEST_CONTRACT_QUEUE_MISMATCH',
          `${where} handles task ${JSON.stringify(name)}, whose contract sends its jobs to queue ` +
            `${JSON.stringify(options.queue ?? DEFAULT_QUEUE)}, but @Processor() on ${type.name} says ` +
            `${JSON.stringify(defaults.queue)}: put the queue in the contract (defineTask({ queue: … })), or move the method`,
        );
      }
      const definition: TaskDefinition = {
        ...(contract ? {} : defaults),
        ...options,
        handler: (payload: unknown, ctx: JobContext) => wrapper.instance[method](payload, ctx),
      };
      const located = `${where} (in ${wrapper.host?.name ?? 'a module'})`;
      add(name, definition, located);
      const declared = reflector.get<ScheduleMetadata[] | undefined>(
        SCHEDULE_METADATA,
        type.prototype[method],
      );
      for (const schedule of declared ?? []) {
        addSchedule(schedule.name, { ...schedule.options, task: name }, `@Schedule() on ${located}`);
      }
    }
  }
  return { tasks, processors, concurrency, schedules };
}

/**
 * A job runs outside any request, on the one instance DI made; a request-scoped or transient
 * processor (or one depending on such a provider) has no such instance. Checked once the
 * providers exist, since a scope can come from a dependency.
 */
export function assertSingletons(processors: readonly Wrapper[]): void {
  for (const wrapper of processors) {
    if (wrapper.isTransient || !wrapper.isDependencyTreeStatic()) {
      throw new ProcessorDefinitionError(
        'QUEUE_NEST_SCOPED_PROCESSOR',
        `processor ${wrapper.name} is request-scoped or transient (itself or through a dependency); ` +
          'processors must be singletons because jobs run outside any request',
      );
    }
  }
}
