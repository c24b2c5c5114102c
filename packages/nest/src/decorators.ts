import { Inject, SetMetadata } from '@nestjs/common';
import type { TaskDefinition, TaskOptions } from '@queue/core';
import { ProcessorDefinitionError } from './errors.js';

// Tokens are strings, not symbols or classes: an app that loads both the ESM and the CJS
// build of this package (the dual-package hazard) still agrees on them.
/** Injection token of the app's `Queue`. */
export const QUEUE = '@queue/nest:Queue';
/** Injection token of the app's `Worker`, or `null` when the module runs with `worker: false`. */
export const QUEUE_WORKER = '@queue/nest:Worker';
export const PROCESSOR_METADATA = '@queue/nest:processor';
export const TASK_METADATA = '@queue/nest:task';

/** What @Task() accepts: core's task options and schema; the handler is the decorated method. */
export type TaskDecoratorOptions = Omit<TaskDefinition, 'handler'>;

export interface TaskMetadata {
  name: string;
  options: TaskDecoratorOptions;
}

/**
 * Marks a provider class whose @Task() methods handle jobs. The argument is the queue its
 * tasks go to (`@Processor('emails')`) or defaults for all its tasks; @Task() options win.
 */
export function Processor(defaults: string | TaskOptions = {}): ClassDecorator {
  return SetMetadata(PROCESSOR_METADATA, typeof defaults === 'string' ? { queue: defaults } : defaults);
}

/**
 * Makes a method the handler of a task: `@Task('sendWelcomeEmail', { maxAttempts: 5 })`.
 * The name defaults to the method's. The method runs on the DI-managed instance with
 * `(payload, { job, attempt, signal, logger })`.
 */
export function Task(name?: string, options?: TaskDecoratorOptions): MethodDecorator;
export function Task(options: TaskDecoratorOptions): MethodDecorator;
export function Task(
  nameOrOptions?: string | TaskDecoratorOptions,
  options: TaskDecoratorOptions = {},
): MethodDecorator {
  const [name, opts] =
    typeof nameOrOptions === 'object' ? [undefined, nameOrOptions] : [nameOrOptions, options];
  return (target, key, descriptor) => {
    // Static methods get the class as target; discovery reads the prototype and would never see them.
    const owner = typeof target === 'function' ? `static ${target.name}` : target.constructor.name;
    if (typeof target === 'function' || typeof descriptor?.value !== 'function') {
      throw new ProcessorDefinitionError(
        'QUEUE_NEST_TASK_NOT_METHOD',
        `@Task() must decorate an instance method, but ${owner}.${String(key)} is not one`,
      );
    }
    const metadata: TaskMetadata = { name: name ?? String(key), options: opts };
    return SetMetadata(TASK_METADATA, metadata)(target, key, descriptor);
  };
}

/** Injects the app's `Queue` (the same as injecting by the `Queue` class). */
export const InjectQueue = (): PropertyDecorator & ParameterDecorator => Inject(QUEUE);

/** Injects the app's `Worker` (for its events), or `null` with `worker: false`. */
export const InjectWorker = (): PropertyDecorator & ParameterDecorator => Inject(QUEUE_WORKER);
