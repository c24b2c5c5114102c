import type { LimitsOptions, LimitUsage, QueueLimits } from '@queue/core';
import { globals, parse } from '../args.js';
import { openAdmin } from '../connect.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { table } from '../format.js';

/**
 * `queue limits [queue]` shows flow limits (every queue with any, or one queue with what uses
 * them now: slots in use, recent starts, waiting and running by key); `queue limits <queue>
 * --concurrency 5 ...` sets them (the limits not given stay; `none` removes one).
 */
export async function limits(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('limits', argv, {
    concurrency: { type: 'string' },
    'key-concurrency': { type: 'string' },
    rate: { type: 'string' },
    fair: { type: 'string' },
    keys: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 1)
    throw new UsageError(
      `give at most one queue name, got ${positionals.length} (see 'queue limits --help')`,
    );
  const queue = positionals[0];
  if (queue !== undefined && (queue.length === 0 || queue.length > 128))
    throw new UsageError(`a queue name is 1 to 128 characters, got ${JSON.stringify(queue)}`);
  const given: LimitsOptions = {};
  const c = slotsFlag('concurrency', values.concurrency);
  if (c !== undefined) given.concurrency = c;
  const k = slotsFlag('key-concurrency', values['key-concurrency']);
  if (k !== undefined) given.keyConcurrency = k;
  if (values.rate !== undefined) given.rate = rateFlag(values.rate);
  if (values.fair !== undefined) {
    if (values.fair !== 'true' && values.fair !== 'false')
      throw new UsageError(`--fair takes true or false, got ${JSON.stringify(values.fair)}`);
    given.fair = values.fair === 'true';
  }
  const maxKeys = values.keys === undefined ? 20 : countOf('keys', values.keys);
  const setting = Object.keys(given).length > 0;
  if (setting && queue === undefined)
    throw new UsageError(
      `name the queue to limit: queue limits emails --concurrency 10 (see 'queue limits --help')`,
    );

  const admin = await openAdmin(globals(values), ctx.env);
  try {
    if (setting) await admin.setLimits(queue!, given);
    if (queue !== undefined) {
      const u = await admin.limitUsage(queue, { maxKeys });
      ctx.out(values.json ? JSON.stringify(u) : `${setting ? `${queue}: limits set\n` : ''}${describe(u)}`);
    } else {
      const all = await admin.getLimits();
      ctx.out(values.json ? JSON.stringify(all) : overview(all));
    }
    return EXIT.OK;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'QUEUE_INVALID_LIMIT') throw new UsageError((error as Error).message);
    if (code === 'QUEUE_UNKNOWN_QUEUE') throw new CliError(code, EXIT.NOT_FOUND, (error as Error).message);
    throw error;
  } finally {
    await admin.close();
  }
}

function countOf(flag: string, v: string): number {
  if (!/^[1-9]\d{0,5}$/.test(v))
    throw new UsageError(`--${flag} takes a whole number from 1, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** A slot count from 1 to 65535, or `none` (null) to remove the limit. */
function slotsFlag(flag: string, v: string | undefined): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === 'none') return null;
  const n = countOf(flag, v);
  if (n > 65_535) throw new UsageError(`--${flag} takes at most 65535, got ${v}`);
  return n;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `100/1s`, `600/1m`: starts per period; `none` removes the rate limit. */
function rateFlag(v: string): { limit: number; periodMs: number } | null {
  if (v === 'none') return null;
  const m = /^([1-9]\d*)\/([1-9]\d*)(ms|s|m|h|d)$/.exec(v);
  if (!m)
    throw new UsageError(
      `--rate takes <starts>/<period> with a unit, ms, s, m, h or d (100/1s, 600/1m), or none; got ${JSON.stringify(v)}`,
    );
  return { limit: Number(m[1]), periodMs: Number(m[2]) * UNITS[m[3]!]! };
}

function period(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const rate = (l: QueueLimits) => (l.rate ? `${l.rate.limit}/${period(l.rate.periodMs)}` : 'none');

function describe(u: LimitUsage): string {
  const lines = [
    `queue ${u.queue}`,
    `  concurrency      ${u.concurrency === null ? 'none' : `${u.concurrency} (in use ${u.inUse})`}`,
    `  key concurrency  ${u.keyConcurrency ?? 'none'}`,
    `  rate             ${u.rate === null ? 'none' : `${rate(u)} (${u.recentStarts} started in the last ${period(u.rate.periodMs)})`}`,
    `  fair             ${u.fair || u.keyConcurrency !== null ? 'yes (round-robin across keys)' : 'no'}`,
    `  jobs             ${u.running} running, ${u.waiting} waiting`,
  ];
  if (u.keys.length > 0)
    lines.push(
      table(
        ['  KEY', 'RUNNING', 'WAITING'],
        u.keys.map((k) => [`  ${k.key}`, String(k.running), String(k.waiting)]),
      ),
    );
  return lines.join('\n');
}

function overview(all: QueueLimits[]): string {
  if (all.length === 0) return 'no queue has flow limits';
  return table(
    ['QUEUE', 'CONCURRENCY', 'KEY CONCURRENCY', 'RATE', 'FAIR'],
    all.map((l) => [
      l.queue,
      l.concurrency === null ? 'none' : String(l.concurrency),
      l.keyConcurrency === null ? 'none' : String(l.keyConcurrency),
      rate(l),
      l.fair || l.keyConcurrency !== null ? 'yes' : 'no',
    ]),
  );
}
