import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TaskMap } from '@queue/core';
import { intFlag, parse } from '../args.js';
import { openQueue, toCliError } from '../connect.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { untilSignal } from '../signals.js';

export async function worker(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('worker', argv, {
    concurrency: { type: 'string', short: 'c' },
    queues: { type: 'string', short: 'q' },
    'poll-interval': { type: 'string' },
    'shutdown-timeout': { type: 'string' },
  });
  if (positionals.length !== 1) {
    throw new UsageError(
      "give the module that exports your tasks: queue worker ./dist/tasks.js (see 'queue worker --help')",
    );
  }
  const concurrency = intFlag('concurrency', values.concurrency, 1, 10_000);
  const queues = values.queues === undefined ? undefined : parseQueues(values.queues);
  const pollInterval = intFlag('poll-interval', values['poll-interval'], 10, 3_600_000);
  const shutdownTimeout = intFlag('shutdown-timeout', values['shutdown-timeout'], 0, 3_600_000);
  const tasks = await loadTasks(positionals[0]!, ctx.cwd);

  const queue = await openQueue(
    { databaseUrl: values['database-url'], schema: values.schema },
    ctx.env,
    tasks,
  );
  const w = queue.worker({
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(queues !== undefined ? { queues } : {}),
    ...(pollInterval !== undefined ? { pollInterval } : {}),
    ...(shutdownTimeout !== undefined ? { shutdownTimeout } : {}),
    // Core stops on the first SIGTERM/SIGINT and aborts running jobs on a second.
    handleSignals: true,
  });
  w.on('failed', ({ job, error }) =>
    ctx.err(
      `queue: job ${job.id} (${job.task}) failed for good: ${(error as Error)?.message ?? String(error)}`,
    ),
  );
  w.on('error', (error) => ctx.err(`queue: worker: ${error.message}`));
  const stopped = untilSignal(); // listening before start, so no signal slips between the two
  try {
    await w.start();
  } catch (error) {
    stopped.cancel();
    await queue.close();
    throw toCliError(error);
  }
  ctx.out(`worker started for tasks ${Object.keys(tasks).join(', ')}; stop with SIGTERM or Ctrl-C`);
  const signal = await stopped.promise;
  ctx.err(
    `queue: ${signal}: stopping, waiting for ${w.activeCount} running job${w.activeCount === 1 ? '' : 's'}`,
  );
  await w.stop();
  await queue.close();
  stopped.cancel();
  ctx.err('queue: worker stopped');
  return EXIT.OK;
}

/** 'a,b' or 'a:2,b:8' → ['a','b'] or { a: 2, b: 8 }. */
export function parseQueues(value: string): string[] | Record<string, number> {
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new UsageError('--queues needs at least one queue name');
  if (!parts.some((p) => p.includes(':'))) return parts;
  const out: Record<string, number> = {};
  for (const part of parts) {
    const [name, n] = part.split(':');
    const concurrency = intFlag(`queues (${name})`, n ?? '', 1, 10_000);
    if (!name || concurrency === undefined)
      throw new UsageError(`--queues entries are name or name:concurrency, got ${JSON.stringify(part)}`);
    out[name] = concurrency;
  }
  return out;
}

/** Imports the task module and finds its task map (the `tasks` export, else the default export). */
export async function loadTasks(specifier: string, cwd: string): Promise<TaskMap> {
  const path = isAbsolute(specifier) ? specifier : resolve(cwd, specifier);
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (error) {
    const e = error as { code?: string; message?: string; url?: string };
    if (
      (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'ERR_UNKNOWN_FILE_EXTENSION') &&
      String(e.message).includes(path)
    ) {
      throw new UsageError(
        `cannot load the task module ${path}: ${e.code === 'ERR_MODULE_NOT_FOUND' ? 'no such file' : e.message}`,
      );
    }
    throw new CliError(
      'CLI_TASK_MODULE',
      EXIT.ERROR,
      `the task module ${path} failed to load: ${e.message ?? String(error)}`,
    );
  }
  const candidate = (mod.tasks ??
    (mod.default as { tasks?: unknown } | undefined)?.tasks ??
    mod.default) as unknown;
  if (!candidate || typeof candidate !== 'object' || Object.keys(candidate).length === 0) {
    throw new UsageError(
      `${path} exports no task map: export default { taskName: handler, ... } or export const tasks = { ... }`,
    );
  }
  for (const [name, def] of Object.entries(candidate)) {
    const ok =
      typeof def === 'function' || (def && typeof (def as { handler?: unknown }).handler === 'function');
    if (!ok)
      throw new UsageError(`task ${JSON.stringify(name)} in ${path} is neither a function nor { handler }`);
  }
  return candidate as TaskMap;
}
