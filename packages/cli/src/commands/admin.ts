import { globals, jobIds, nameFlag, parse } from '../args.js';
import { openAdmin, toCliError } from '../connect.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';

export async function migrate(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('migrate', argv, {});
  if (positionals.length > 0)
    throw new UsageError(`migrate takes no arguments, got ${JSON.stringify(positionals[0])}`);
  const queue = await openAdmin(globals(values), ctx.env);
  try {
    const applied = await queue.migrate();
    ctx.out(applied.length > 0 ? `applied migrations ${applied.join(', ')}` : 'schema is up to date');
    return EXIT.OK;
  } finally {
    await queue.close();
  }
}

export async function stats(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('stats', argv, { json: { type: 'boolean' } });
  if (positionals.length > 0)
    throw new UsageError(`stats takes no arguments, got ${JSON.stringify(positionals[0])}`);
  const queue = await openAdmin(globals(values), ctx.env);
  try {
    const counts = await queue.countJobs();
    if (values.json) {
      ctx.out(JSON.stringify(counts));
      return EXIT.OK;
    }
    const header = ['QUEUE', 'AVAILABLE', 'SCHEDULED', 'RUNNING', 'FAILED', 'PAUSED'];
    const rows = counts.map((c) =>
      [c.queue, c.available, c.scheduled, c.running, c.failed, c.paused ? 'yes' : 'no'].map(String),
    );
    if (rows.length === 0) {
      ctx.out('no jobs and no queues yet');
      return EXIT.OK;
    }
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    ctx.out([line(header), ...rows.map(line)].join('\n'));
    // Due jobs no live worker would run (no worker serves the queue, or none knows the task).
    const unrouted = await queue.unroutedJobs();
    if (unrouted.length > 0) {
      ctx.out('\njobs nobody will run:');
      for (const u of unrouted) {
        ctx.out(
          `  ${u.count} of task ${JSON.stringify(u.task)} on queue ${JSON.stringify(u.queue)}: ${u.message}`,
        );
      }
    }
    return EXIT.OK;
  } finally {
    await queue.close();
  }
}

export async function retry(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('retry', argv, {
    failed: { type: 'boolean' },
    queue: { type: 'string' },
    task: { type: 'string' },
  });
  if (!values.failed && (values.queue !== undefined || values.task !== undefined))
    throw new UsageError('--queue and --task go with --failed');
  if (values.failed && positionals.length > 0) throw new UsageError('give job ids or --failed, not both');
  const ids = values.failed ? [] : jobIds('retry', positionals);
  const queue = await openAdmin(globals(values), ctx.env);
  try {
    if (values.failed) {
      const q = nameFlag('queue', values.queue);
      const task = nameFlag('task', values.task);
      const filter = { ...(q ? { queue: q } : {}), ...(task ? { task } : {}) };
      const n = await queue.retryFailed(filter);
      ctx.out(`retried ${n} failed job${n === 1 ? '' : 's'}`);
      return EXIT.OK;
    }
    return await eachJob(ids, ctx, async (id) => {
      await queue.retryJob(id);
      ctx.out(`retried job ${id}`);
    });
  } finally {
    await queue.close();
  }
}

export async function remove(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('delete', argv, {});
  const ids = jobIds('delete', positionals);
  const queue = await openAdmin(globals(values), ctx.env);
  try {
    return await eachJob(ids, ctx, async (id) => {
      await queue.deleteJob(id);
      ctx.out(`deleted job ${id}`);
    });
  } finally {
    await queue.close();
  }
}

/**
 * Acts on every id even when one is missing or running, reporting each; exits with the code
 * of the first such failure, so `queue retry 1 2 3` tells a script that something was left
 * undone. Anything else (a lost connection) ends the command at once, with its own code.
 */
export async function eachJob(
  ids: string[],
  ctx: CliContext,
  act: (id: string) => Promise<void>,
): Promise<number> {
  let code: number = EXIT.OK;
  for (const id of ids) {
    try {
      await act(id);
    } catch (error) {
      const e = toCliError(error);
      if (!(e instanceof CliError) || (e.exitCode !== EXIT.NOT_FOUND && e.exitCode !== EXIT.CONFLICT))
        throw e;
      ctx.err(`queue: ${e.message}`);
      if (code === EXIT.OK) code = e.exitCode;
    }
  }
  return code;
}
