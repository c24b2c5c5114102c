import type { EnqueueOptions } from '@queue/core';
import { globals, intFlag, jsonObjectFlag, nameFlag, parse, tagFlags, timeFlag } from '../args.js';
import { openQueue } from '../connect.js';
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { parseJsonText } from '../json-text.js';

/** 100 years: far enough for any schedule, and short of what a Postgres timestamp can hold. */
const MAX_DELAY_MS = 100 * 365.25 * 86_400_000;

export async function enqueue(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('enqueue', argv, {
    queue: { type: 'string' },
    priority: { type: 'string' },
    'max-attempts': { type: 'string' },
    delay: { type: 'string' },
    'run-at': { type: 'string' },
    tag: { type: 'string', multiple: true },
    meta: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length < 1 || positionals.length > 2 || !positionals[0]) {
    throw new UsageError(
      `give a task name and, optionally, its payload as JSON: queue enqueue sendEmail '{"to":"a@example.com"}' (see 'queue enqueue --help')`,
    );
  }
  const [task, payloadArg] = positionals as [string, string | undefined];
  // Only the options given go to core, so the task's own defaults (core's, or those the
  // database knows for the task) apply to the rest: the CLI has no task definitions.
  const queue = nameFlag('queue', values.queue);
  const priority = intFlag('priority', values.priority, -32768, 32767);
  const maxAttempts = intFlag('max-attempts', values['max-attempts'], 1, 1_000_000);
  const delay = intFlag('delay', values.delay, 0, MAX_DELAY_MS);
  const runAt = timeFlag('run-at', values['run-at']);
  if (delay !== undefined && runAt !== undefined) throw new UsageError('give --delay or --run-at, not both');
  const tags = tagFlags(values.tag);
  const meta = jsonObjectFlag('meta', values.meta, false);
  const options: EnqueueOptions = {
    ...(queue !== undefined ? { queue } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    ...(delay !== undefined ? { delay } : {}),
    ...(runAt !== undefined ? { runAt } : {}),
    ...(tags !== undefined ? { tags } : {}),
    ...(meta !== undefined ? { meta } : {}),
  };
  const payload = await readPayload(payloadArg, ctx);

  const q = await openQueue(globals(values), ctx.env);
  try {
    const job = await q.enqueue(task, payload, options);
    ctx.out(values.json ? JSON.stringify(job) : job.id);
    return EXIT.OK;
  } finally {
    await q.close();
  }
}

/** The payload argument as JSON: null when absent, standard input for '-'. */
async function readPayload(arg: string | undefined, ctx: CliContext): Promise<unknown> {
  if (arg === undefined) return null;
  if (arg !== '-') return parseJsonText(arg, 'the payload');
  if (!ctx.readStdin)
    throw new UsageError('this caller gives the CLI no standard input to read a payload from');
  const text = await ctx.readStdin();
  if (text.trim() === '')
    throw new UsageError(
      `standard input is empty: pipe the payload as JSON, e.g. echo '{}' | queue enqueue <task> -`,
    );
  return parseJsonText(text, 'the payload on standard input');
}
