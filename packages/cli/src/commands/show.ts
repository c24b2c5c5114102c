import type { FinishedJob, ListedJob, QueueAdmin, RunningJob } from '@queue/core';
import { globals, jobIds, parse } from '../args.js';
import { openAdmin } from '../connect.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { duration, when } from '../format.js';
import { progressText } from './running.js';

/** The worker session holding a running job, as `show` prints it and `show --json` returns it. */
export interface WorkerSession {
  /** The backend pid of the session holding the job's lock. */
  pid: number;
  /** The worker's id, host and Node pid (null for a worker that registers none, of an older core). */
  id: string | null;
  host: string | null;
  nodePid: number | null;
  applicationName: string | null;
  clientAddr: string | null;
  connectedAt: Date | null;
  runningMs: number | null;
}

/** runningJobs() lists at most this many, longest-running first; a job past them has no session shown. */
const RUNNING_LIMIT = 10_000;

export async function show(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('show', argv, {
    json: { type: 'boolean' },
    stack: { type: 'boolean' },
  });
  if (positionals.length !== 1)
    throw new UsageError(`give one job id: queue show 42 (see 'queue show --help')`);
  const [id] = jobIds('show', positionals);
  const admin = await openAdmin(globals(values), ctx.env);
  try {
    const job = await admin.getJob(id!);
    if (!job)
      throw new CliError(
        'QUEUE_JOB_NOT_FOUND',
        EXIT.NOT_FOUND,
        `no job with id ${id} (a finished job is found only while its queue's retention keeps it)`,
      );
    if (isFinished(job)) {
      // From the history: the job as core returns it ('worker' is the id of the worker that ran it).
      ctx.out(values.json ? JSON.stringify(job) : describe(job, null, values.stack === true));
      return EXIT.OK;
    }
    const held = job.state === 'running' ? await session(admin, job.id) : null;
    if (values.json) {
      // The last progress its handler reported, and a cancel asked for: only a running job has them.
      ctx.out(
        JSON.stringify({
          ...job,
          progress: held?.progress ?? null,
          cancelRequestedAt: held?.cancelRequestedAt ?? null,
          worker: held?.worker ?? null,
        }),
      );
    } else {
      ctx.out(describe(job, held, values.stack === true));
    }
    return EXIT.OK;
  } finally {
    await admin.close();
  }
}

/** What runningJobs() tells of a running job besides the job itself. */
interface Held {
  worker: WorkerSession;
  progress: unknown;
  cancelRequestedAt: Date | null;
}

/** The session holding the job's lock, its progress and cancel request; null if it let go meanwhile or is past the list. */
async function session(admin: QueueAdmin, id: string): Promise<Held | null> {
  const running: RunningJob[] = await admin.runningJobs({ limit: RUNNING_LIMIT });
  const r = running.find((j) => j.id === id);
  if (!r) return null;
  return {
    worker: {
      pid: r.backendPid,
      id: r.worker.id,
      host: r.worker.host,
      nodePid: r.worker.pid,
      applicationName: r.worker.applicationName,
      clientAddr: r.worker.clientAddr,
      connectedAt: r.worker.connectedAt,
      runningMs: r.runningMs,
    },
    progress: r.progress,
    cancelRequestedAt: r.cancelRequestedAt,
  };
}

const isFinished = (job: ListedJob): job is FinishedJob & { state: 'completed' | 'cancelled' } =>
  'outcome' in job;

function describe(job: ListedJob, held: Held | null, stacks: boolean): string {
  const now = Date.now();
  const rows: [string, string][] = [
    ['task', job.task],
    ['queue', job.queue],
    ['state', job.state],
    ['priority', String(job.priority)],
    ['attempts', `${job.attempts} of ${job.maxAttempts}`],
    ['run at', when(job.runAt, now)],
    ['created at', when(job.createdAt, now)],
    ['started at', when(job.startedAt, now)],
    ['failed at', when(job.failedAt, now)],
    ['tags', job.tags.length > 0 ? job.tags.join(', ') : '-'],
  ];
  if (isFinished(job)) {
    const ran = job.startedAt === null ? null : job.finishedAt.getTime() - job.startedAt.getTime();
    rows.splice(
      rows.findIndex(([k]) => k === 'failed at'),
      1,
      ['finished at', when(job.finishedAt, now)],
      ['ran for', ran === null ? '- (cancelled before it started)' : duration(Math.max(0, ran))],
      ['worker', job.worker ?? '- (no worker ran it)'],
      ['progress', progressText(job.progress) || '-'],
    );
  }
  const worker = held?.worker;
  if (held && worker) {
    rows.push(
      ['progress', progressText(held.progress) || '-'],
      ...(held.cancelRequestedAt
        ? ([['cancelling', `asked at ${when(held.cancelRequestedAt, now)}; its worker aborts it`]] as [
            string,
            string,
          ][])
        : []),
      [
        'worker',
        worker.host === null
          ? '- (a worker that registers no host)'
          : `${worker.host}, pid ${worker.nodePid} (${worker.id})`,
      ],
      ['backend pid', String(worker.pid)],
      ['worker app', worker.applicationName ?? '-'],
      ['worker addr', worker.clientAddr ?? '- (a local socket, or hidden from this database role)'],
      ['running for', worker.runningMs === null ? '-' : duration(worker.runningMs)],
    );
  } else if (job.state === 'running') {
    rows.push(['worker', '- (it let go of the job while we looked, or is past the first 10,000 running)']);
  }
  const out = [`job ${job.id}`, ...rows.map(([k, v]) => `  ${k.padEnd(12)}${v}`)];
  out.push('  payload', indent(JSON.stringify(job.payload, null, 2), 4));
  if (Object.keys(job.meta).length > 0) out.push('  meta', indent(JSON.stringify(job.meta, null, 2), 4));
  else out.push('  meta        {}');
  if (isFinished(job)) {
    if (job.result === null) out.push('  result      none');
    else out.push('  result', indent(JSON.stringify(job.result, null, 2), 4));
  }
  if (job.errors.length === 0) {
    out.push('  errors      none');
  } else {
    out.push(`  errors (${job.errors.length})`);
    for (const e of job.errors) {
      out.push(`    attempt ${e.attempt} at ${e.at}: ${indent(e.message, 6).trimStart()}`);
      if (stacks && e.stack) out.push(indent(e.stack, 6));
    }
    if (!stacks && job.errors.some((e) => e.stack)) out.push('  (--stack shows the stack traces)');
  }
  return out.join('\n');
}

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}
