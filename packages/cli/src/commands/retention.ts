import { type QueueRetention, RETENTION_DEFAULTS } from '@queue/core';
import { countFlag, durationFlag, globals, parse } from '../args.js';
import { openAdmin } from '../connect.js';
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { table } from '../format.js';

type Retention = QueueRetention;

/**
 * `queue retention [queue]` shows how long finished and failed jobs are kept;
 * `queue retention <queue> --keep 1d ...` sets it (the settings not given stay as they are).
 */
export async function retention(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('retention', argv, {
    keep: { type: 'string' },
    'keep-count': { type: 'string' },
    'failed-keep': { type: 'string' },
    'failed-keep-count': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 1)
    throw new UsageError(
      `give at most one queue name, got ${positionals.length} (see 'queue retention --help')`,
    );
  const queue = positionals[0];
  if (queue !== undefined && (queue.length === 0 || queue.length > 128))
    throw new UsageError(`a queue name is 1 to 128 characters, got ${JSON.stringify(queue)}`);
  const given = {
    ...pick('keepCount', countFlag('keep-count', values['keep-count'])),
    ...pick('failedKeepCount', countFlag('failed-keep-count', values['failed-keep-count'])),
    ...pick('keep', durationFlag('keep', values.keep)),
    ...pick('failedKeep', durationFlag('failed-keep', values['failed-keep'])),
  };
  const setting = Object.keys(given).length > 0;
  if (setting && queue === undefined)
    throw new UsageError(
      `name the queue to set: queue retention emails --keep 7d (settings are per queue; see 'queue retention --help')`,
    );

  const admin = await openAdmin(globals(values), ctx.env);
  try {
    if (setting) {
      const r = await admin.setRetention(queue!, given);
      ctx.out(values.json ? JSON.stringify(r) : `${queue}: retention set\n${describe(r)}`);
    } else if (queue !== undefined) {
      const r = await admin.getRetention(queue);
      ctx.out(values.json ? JSON.stringify(r) : describe(r));
    } else {
      const all = await admin.getRetention();
      ctx.out(values.json ? JSON.stringify(all) : overview(all));
    }
    return EXIT.OK;
  } finally {
    await admin.close();
  }
}

const pick = <K extends string>(key: K, v: number | null | undefined) =>
  (v === undefined ? {} : { [key]: v }) as Partial<Record<K, number | null>>;

/** Milliseconds in the largest unit that divides them evenly: "1d", "90m", "0". */
export function shortDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Each setting in words, with whether the queue set it or takes the default. */
function words(r: Retention): [string, string][] {
  const own = (key: keyof Retention['settings']) => (r.settings[key] === null ? ' (default)' : '');
  return [
    ['keep', `${r.keep === 0 ? '0: finished jobs are not kept' : shortDuration(r.keep)}${own('keep')}`],
    ['keep count', `${r.keepCount === null ? 'no cap' : r.keepCount}${own('keepCount')}`],
    [
      'failed keep',
      `${r.failedKeep === null ? 'until retried or deleted' : shortDuration(r.failedKeep)}${own('failedKeep')}`,
    ],
    [
      'failed keep count',
      `${r.failedKeepCount === null ? 'no cap' : r.failedKeepCount}${own('failedKeepCount')}`,
    ],
  ];
}

function describe(r: Retention): string {
  return [`queue ${r.queue}`, ...words(r).map(([k, v]) => `  ${k.padEnd(19)}${v}`)].join('\n');
}

function overview(all: Retention[]): string {
  const d = RETENTION_DEFAULTS;
  // Today: keep 1d, no count cap, failed jobs until retried or deleted.
  const rest =
    `every other queue: keep ${shortDuration(d.keep)}, ${d.keepCount === null ? 'no count cap' : `at most ${d.keepCount}`}; ` +
    `failed jobs kept ${d.failedKeep === null ? 'until retried or deleted' : shortDuration(d.failedKeep)}`;
  if (all.length === 0) return `no queue sets its own retention; ${rest}`;
  const header = ['QUEUE', 'KEEP', 'KEEP COUNT', 'FAILED KEEP', 'FAILED KEEP COUNT'];
  const rows = all.map((r) => [r.queue, ...words(r).map(([, v]) => v)]);
  return `${table(header, rows)}\n${rest}`;
}
