import type { Job } from '@queue/core';
import { globals, intFlag, jobIds, parse } from '../args.js';
import { openQueue } from '../connect.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { oneLine } from '../format.js';

/** setTimeout's limit, and core's for waitFor's timeout. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** A failed job's last error is cut here: the error stays one line on stderr. */
const ERROR_WIDTH = 500;

/**
 * `queue wait <id>`: waits (woken by core's notification, no polling) until the job finishes
 * for good; prints its result as JSON, or exits with the code that says how it ended.
 */
export async function wait(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('wait', argv, { timeout: { type: 'string' } });
  if (positionals.length !== 1)
    throw new UsageError(`give one job id: queue wait 42 --timeout 60000 (see 'queue wait --help')`);
  const [id] = jobIds('wait', positionals) as [string];
  const timeout = intFlag('timeout', values.timeout, 1, MAX_TIMEOUT_MS);

  const queue = await openQueue(globals(values), ctx.env);
  try {
    const result = await queue.waitFor(id, timeout === undefined ? {} : { timeout });
    // A handler that returned nothing (or a queue that keeps no history) has no result: null.
    ctx.out(JSON.stringify(result ?? null));
    return EXIT.OK;
  } catch (error) {
    throw outcome(error, id) ?? error;
  } finally {
    await queue.close();
  }
}

/** How the job ended (or the wait did), as the command's error and exit code. */
function outcome(error: unknown, id: string): CliError | undefined {
  const e = error as { code?: string; job?: Job; lastError?: string; timeoutMs?: number };
  switch (e?.code) {
    case 'QUEUE_JOB_FAILED': {
      const job = e.job!;
      const tries = `${job.attempts} attempt${job.attempts === 1 ? '' : 's'}`;
      return new CliError(
        e.code,
        EXIT.JOB_FAILED,
        `job ${id} (task ${JSON.stringify(job.task)}) failed for good after ${tries}: ` +
          `${oneLine(e.lastError ?? '', ERROR_WIDTH)} (run it again with 'queue retry ${id}'; 'queue show ${id}' shows every error)`,
      );
    }
    case 'QUEUE_JOB_CANCELLED':
      return new CliError(e.code, EXIT.JOB_CANCELLED, `job ${id} was cancelled`);
    case 'QUEUE_WAIT_TIMEOUT':
      return new CliError(
        e.code,
        EXIT.WAIT_TIMEOUT,
        `job ${id} did not finish within ${e.timeoutMs} ms; it was not cancelled and may still finish: wait again, or give a longer --timeout`,
      );
    case 'QUEUE_JOB_NOT_FOUND':
      return new CliError(
        e.code,
        EXIT.NOT_FOUND,
        `no job with id ${id} (a finished job is found only while its queue's retention keeps it)`,
      );
  }
  return undefined;
}
