import type { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { JobContext, TaskDefinition, TaskMap, TaskOptions } from '@queue/core';
import { PROCESSOR_METADATA, TASK_METADATA, type TaskMetadata } from './decorators.js';
import { DuplicateTaskError, ProcessorDefinitionError } from './errors.js';

type Wrapper = ReturnType<DiscoveryService['getProviders']>[number];

/** Every task the app defines, and the providers whose instances handle them. */
export interface TaskRegistry {
  tasks: TaskMap;
  processors: Wrapper[];
}

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

  const processors: Wrapper[] = [];
  for (const wrapper of discovery.getProviders()) {
    // Class providers, and useValue instances of a class; factory providers' classes are unknown until they run.
    const type = wrapper.inject ? undefined : (wrapper.metatype ?? wrapper.instance?.constructor);
    if (typeof type !== 'function' || !type.prototype) continue;
    const defaults = reflector.get<TaskOptions | undefined>(PROCESSOR_METADATA, type);
    const methods = scanner
      .getAllMethodNames(type.prototype)
      .map(
        (method) =>
          [method, reflector.get<TaskMetadata | undefined>(TASK_METADATA, type.prototype[method])] as const,
      )
      .filter((entry): entry is readonly [string, TaskMetadata] => entry[1] !== undefined);
    if (!defaults) {
      if (methods.length === 0) continue;
      throw new ProcessorDefinitionError(
        'QUEUE_NEST_TASK_WITHOUT_PROCESSOR',
        `${type.name} has @Task() methods (${methods.map(([m]) => m).join(', ')}) but no @Processor() on the class`,
      );
    }
    processors.push(wrapper);
    for (const [method, { name, options }] of methods) {
      const definition: TaskDefinition = {
        ...defaults,
        ...options,
        handler: (payload: unknown, ctx: JobContext) => wrapper.instance[method](payload, ctx),
      };
      add(name, definition, `${type.name}.${method} (in ${wrapper.host?.name ?? 'a module'})`);
    }
  }
  return { tasks, processors };
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
