import { ConfigError } from './errors.js';
import { checkKeyOption } from './flow/enqueue.js';
import { checkTaskOptions, DEFAULT_MAX_ATTEMPTS, DEFAULT_PRIORITY, DEFAULT_QUEUE, show } from './options.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import type { TaskContract, TaskDefinition, TaskHandler, TaskMap, TaskOptions } from './types.js';

/**
 * Marks contracts made by defineTask(). `Symbol.for`, so that a contract made by one copy of
 * the package (ESM and CommonJS builds side by side) is recognised by the other.
 */
const CONTRACT = Symbol.for('@queue/core:task-contract');

/** What a contract may hold: the task options and a schema, never a handler. */
const CONTRACT_KEYS = new Set([
  'schema',
  'queue',
  'priority',
  'maxAttempts',
  'timeout',
  'backoff',
  'concurrencyKey',
]);

/** One task as the queue keeps it: a definition, or a contract whose handler lives elsewhere. */
export type TaskSpec = TaskOptions & { schema?: StandardSchemaV1; handler?: TaskHandler };

class Contract {
  constructor(options: TaskOptions & { schema?: StandardSchemaV1 }) {
    Object.assign(this, options);
    Object.freeze(this);
  }

  handle(handler: TaskHandler): TaskDefinition {
    if (typeof handler !== 'function') {
      throw new ConfigError(`contract.handle(handler) needs a handler function, got ${show(handler)}`);
    }
    // A plain definition: the contract's own options, copied, plus the handler.
    return { ...this, handler };
  }
}
Object.defineProperty(Contract.prototype, CONTRACT, { value: true });

/**
 * Declares a task's options and payload type without its handler, for code that producers
 * and workers share. A producer puts it in its task map as it is; a worker puts
 * `contract.handle(fn)` there, whose handler gets the contract's payload type.
 *
 * ```ts
 * export const syncCrm = defineTask<{ userId: string }>({ queue: 'crm', maxAttempts: 5 });
 * // or typed by a Standard Schema: defineTask({ schema: z.object({ userId: z.string() }), queue: 'crm' })
 * new Queue({ connectionString, tasks: { syncCrm } });                               // producer
 * new Queue({ connectionString, tasks: { syncCrm: syncCrm.handle(async ({ userId }) => …) } }); // worker
 * ```
 */
export function defineTask<In, Out, Result = unknown>(
  contract: TaskOptions & { schema: StandardSchemaV1<In, Out> },
): TaskContract<In, Out, Result>;
export function defineTask<Payload = unknown, Result = unknown>(
  contract?: TaskOptions,
): TaskContract<Payload, Payload, Result>;
export function defineTask(contract: TaskOptions & { schema?: StandardSchemaV1 } = {}): TaskContract {
  if (contract === null || typeof contract !== 'object' || Array.isArray(contract)) {
    throw new ConfigError(`defineTask() takes an object of task options, got ${show(contract)}`);
  }
  for (const key of Object.keys(contract)) {
    if (key === 'handler') {
      throw new ConfigError(
        'defineTask() declares a task without its handler: attach one with contract.handle(handler), ' +
          'or use task({ handler, … }) for a definition with its handler',
      );
    }
    if (!CONTRACT_KEYS.has(key)) {
      throw new ConfigError(
        `defineTask() got an unknown option ${JSON.stringify(key)}: a contract takes ${[...CONTRACT_KEYS].join(', ')}`,
      );
    }
  }
  checkTaskOptions('defineTask()', contract);
  checkKeyOption('defineTask()', contract.concurrencyKey);
  checkSchema('defineTask().schema', contract.schema);
  return new Contract(contract) as unknown as TaskContract;
}

export function isTaskContract(value: unknown): value is TaskContract {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CONTRACT] === true;
}

/** The task map as the queue keeps it, each entry checked once, naming the task in errors. */
export function normalizeTasks(tasks: TaskMap | undefined): Map<string, TaskSpec> {
  const out = new Map<string, TaskSpec>();
  if (tasks === undefined) return out;
  if (tasks === null || typeof tasks !== 'object') {
    throw new ConfigError(
      `tasks must be an object of task names to handlers or definitions, got ${show(tasks)}`,
    );
  }
  for (const [name, value] of Object.entries(tasks)) {
    let spec: TaskSpec;
    if (typeof value === 'function') spec = { handler: value as TaskHandler };
    else if (isTaskContract(value)) spec = { ...(value as TaskSpec) };
    else if (value && typeof (value as TaskDefinition).handler === 'function') spec = value as TaskDefinition;
    else {
      throw new ConfigError(
        `task ${JSON.stringify(name)} needs a handler function: give a handler, { handler, … }, ` +
          'or a contract from defineTask() to enqueue it here and handle it elsewhere',
      );
    }
    checkTaskOptions(`tasks.${name}`, spec);
    checkKeyOption(`tasks.${name}`, spec.concurrencyKey);
    checkSchema(`tasks.${name}.schema`, spec.schema);
    out.set(name, spec);
  }
  return out;
}

/** The definitions a worker runs; a contract without a handler is refused, by name. */
export function workerTasks(tasks: ReadonlyMap<string, TaskSpec>): Map<string, TaskDefinition> {
  const unhandled = [...tasks].filter(([, spec]) => typeof spec.handler !== 'function').map(([n]) => n);
  if (unhandled.length > 0) {
    const names = unhandled.map((n) => JSON.stringify(n)).join(', ');
    const [one] = unhandled;
    throw new ConfigError(
      `worker() cannot run ${unhandled.length > 1 ? `tasks ${names}` : `task ${names}`}: a contract from ` +
        `defineTask() has no handler. Give the worker's Queue the contract with its handler, ` +
        `tasks: { ${JSON.stringify(one)}: contract.handle(async (payload, ctx) => …) }, or create ` +
        'workers from a Queue whose tasks all have handlers',
    );
  }
  return tasks as Map<string, TaskDefinition>;
}

/** One row of the tasks table: the enqueue options a definition resolves to. */
export interface TaskRegistration {
  name: string;
  queue: string;
  priority: number;
  maxAttempts: number;
}

/**
 * The rows that register these tasks, sorted by name: every writer then locks existing rows
 * in the same order, so two workers starting together cannot deadlock on the upsert.
 */
export function taskRegistrations(tasks: ReadonlyMap<string, TaskSpec>): TaskRegistration[] {
  return [...tasks]
    .map(([name, spec]) => ({
      name,
      queue: spec.queue ?? DEFAULT_QUEUE,
      priority: spec.priority ?? DEFAULT_PRIORITY,
      maxAttempts: spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function checkSchema(where: string, schema: unknown): void {
  if (schema === undefined) return;
  const std = (schema as StandardSchemaV1 | null)?.['~standard'];
  if (!std || typeof std.validate !== 'function') {
    throw new ConfigError(
      `${where} must be a Standard Schema (zod, valibot, arktype…: an object with ['~standard'].validate), got ${show(schema)}`,
    );
  }
}
