/**
 * The worker process: runs one peer's worker with a no-op handler, counts the jobs it
 * starts, optionally records each job's enqueue-to-start latency, and reports its own CPU
 * and peak RSS. Kept to this file and the one peer module so that the process holds
 * nothing else. Driven over IPC by worker-host.ts.
 */
import { now } from './clock.js';
import { loadPeer } from './peers/index.js';
import type { JobPayload, PreparedWorker, Target } from './peers/types.js';
import type { ChildResult, ToChild, ToParent } from './protocol.js';

let worker: PreparedWorker | undefined;
let count = 0;
let expect = Number.POSITIVE_INFINITY;
let offset = 0;
let recordStarts = false;
/** Start time of each job by sequence number, on the bench's clock; 0 = not started. */
let starts = new Float64Array(1024);
/** One byte per job sequence number: a job seen twice is a duplicate delivery. */
let seen = new Uint8Array(1024);
let duplicates = 0;
let startedAt = 0;
let cpuAtStart: NodeJS.CpuUsage | undefined;
let rssPeak = 0;
let sampler: NodeJS.Timeout | undefined;

function send(message: ToParent): void {
  process.send?.(message);
}

function grow<T extends Float64Array | Uint8Array>(a: T, need: number): T {
  if (need < a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need + 1, a.length * 2));
  b.set(a);
  return b;
}

function onJob(payload: JobPayload): void {
  const t = now();
  count++;
  const i = payload.i;
  if (recordStarts) {
    starts = grow(starts, i);
    if (starts[i] === 0) starts[i] = t - offset;
  }
  seen = grow(seen, i);
  if (seen[i]) duplicates++;
  else seen[i] = 1;
  if (count === expect) send({ type: 'reached', at: t - offset });
}

function lastStarted(a: Float64Array): number {
  let k = a.length - 1;
  while (k >= 0 && a[k] === 0) k--;
  return k;
}

async function handle(message: ToChild): Promise<void> {
  switch (message.type) {
    case 'init': {
      const peer = await loadPeer(message.peer);
      worker = await peer.prepareWorker(message.target as Target, onJob, { tracing: message.tracing });
      send({ type: 'ready', rssKb: Math.round(process.memoryUsage.rss() / 1024) });
      return;
    }
    case 'ping':
      send({ type: 'pong', id: message.id, at: now() });
      return;
    case 'start': {
      expect = message.expect;
      offset = message.offset;
      recordStarts = message.recordStarts;
      cpuAtStart = process.cpuUsage();
      startedAt = now();
      // Sampling shows the RSS during the run; maxRSS below is the kernel's exact high-water mark.
      sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
      }, 20);
      await worker?.start();
      send({ type: 'started' });
      return;
    }
    case 'count':
      send({ type: 'count', id: message.id, count });
      return;
    case 'stop': {
      const cpu = process.cpuUsage(cpuAtStart);
      const wallMs = now() - startedAt;
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
      clearInterval(sampler);
      await worker?.stop();
      const result: ChildResult = {
        count,
        duplicates,
        starts: recordStarts ? Array.from(starts.subarray(0, lastStarted(starts) + 1)) : [],
        maxRssKb: process.resourceUsage().maxRSS,
        sampledPeakRssKb: Math.round(rssPeak / 1024),
        cpuMs: (cpu.user + cpu.system) / 1000,
        wallMs,
        spans: await worker?.spans?.(),
      };
      // Some libraries keep timers alive after stop(); once the result is out, we are done.
      process.send?.({ type: 'result', result } satisfies ToParent, () => process.exit(0));
      return;
    }
  }
}

process.on('message', (message: ToChild) => {
  handle(message).catch((error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});
process.on('disconnect', () => process.exit(0));
