import type { FinalOutcome } from '@queue/core';
import { globals, jobIds, nameFlag, parse } from '../args.js';
import { openAdmin } from '../connect.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { eachJob } from './admin.js';

/**
 * `queue cancel <id...>`: each job is cancelled (queued) or its worker told to abort it
 * (running). `queue cancel --queue q [--task t] --yes`: every queued job of a queue and/or task.
 */
export async function cancel(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('cancel', argv, {
    queue: { type: 'string' },
    task: { type: 'string' },
    yes: { type: 'boolean' },
  });
  const queue = nameFlag('queue', values.queue);
  const task = nameFlag('task', values.task);
  const bulk = queue !== undefined || task !== undefined;
  if (bulk && positionals.length > 0) throw new UsageError('give job ids or --queue/--task, not both');
  const ids = bulk ? [] : jobIds('cancel', positionals);
  if (!bulk && values.yes)
    throw new UsageError('--yes confirms a bulk cancel (--queue, --task); cancelling ids needs none');
  if (bulk && !values.yes) {
    throw new UsageError(
      `this cancels every queued job of ${scope(queue, task)}: add --yes to confirm (running jobs are left alone)`,
    );
  }

  const admin = await openAdmin(globals(values), ctx.env);
  try {
    if (bulk) {
      const n = await admin.cancelJobs({ ...(queue ? { queue } : {}), ...(task ? { task } : {}) });
      ctx.out(`cancelled ${n} queued job${n === 1 ? '' : 's'} of ${scope(queue, task)}`);
      return EXIT.OK;
    }
    return await eachJob(ids, ctx, async (id) => {
      try {
        const r = await admin.cancelJob(id);
        ctx.out(
          r.state === 'cancelled'
            ? `cancelled job ${id}`
            : `cancelling job ${id}: it is running; its worker was told to abort it ('queue wait ${id}' tells the outcome)`,
        );
      } catch (error) {
        throw finished(error) ?? error;
      }
    });
  } finally {
    await admin.close();
  }
}

function scope(queue: string | undefined, task: string | undefined): string {
  const parts = [
    ...(queue !== undefined ? [`queue ${JSON.stringify(queue)}`] : []),
    ...(task !== undefined ? [`task ${JSON.stringify(task)}`] : []),
  ];
  return parts.join(' and ');
}

/** Core's JobFinishedError, reworded with the commands that do apply (exit code 5). */
function finished(error: unknown): CliError | undefined {
  const e = error as { code?: string; jobId?: string; outcome?: FinalOutcome };
  if (e?.code !== 'QUEUE_JOB_FINISHED' || !e.jobId) return undefined;
  const what =
    e.outcome === 'failed'
      ? `it failed for good; delete it with 'queue delete ${e.jobId}' or run it again with 'queue retry ${e.jobId}'`
      : `it was already ${e.outcome}; nothing is left to cancel`;
  return new CliError(e.code, EXIT.CONFLICT, `cannot cancel job ${e.jobId}: ${what}`);
}
