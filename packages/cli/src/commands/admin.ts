import { globals, parse } from '../args.js';
import { openAdmin, toCliError } from '../connect.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { counted, SELECTION_OPTIONS, target } from '../selection.js';

/** What core's retryJobs() and deleteJobs() take as a state; available jobs are due already. */
const RETRY_STATES = ['failed', 'scheduled', 'completed', 'cancelled'] as const;
const DELETE_STATES = ['failed', 'scheduled', 'available', 'completed', 'cancelled'] as const;

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

export async function retry(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('retry', argv, { ...SELECTION_OPTIONS, failed: { type: 'boolean' } });
  // --failed is the older spelling of --state failed.
  if (values.failed) {
    if (values.state !== undefined) throw new UsageError('give --failed or --state, not both');
    values.state = 'failed';
  }
  // Retrying failed or scheduled jobs runs what was meant to run; finished ones would run twice.
  const t = target('retry', values, positionals, RETRY_STATES, ['completed', 'cancelled']);
  const queue = await openAdmin(globals(values), ctx.env);
  try {
    if ('filter' in t) {
      const n = await queue.retryJobs(t.filter);
      ctx.out(`retried ${counted(n, t)}`);
      return EXIT.OK;
    }
    return await eachJob(t.ids, ctx, async (id) => {
      await queue.retryJob(id);
      ctx.out(`retried job ${id}`);
    });
  } finally {
    await queue.close();
  }
}

export async function remove(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('delete', argv, SELECTION_OPTIONS);
  const t = target('delete', values, positionals, DELETE_STATES, DELETE_STATES);
  const queue = await openAdmin(globals(values), ctx.env);
  try {
    if ('filter' in t) {
      const n = await queue.deleteJobs(t.filter);
      ctx.out(`deleted ${counted(n, t)}`);
      return EXIT.OK;
    }
    return await eachJob(t.ids, ctx, async (id) => {
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
