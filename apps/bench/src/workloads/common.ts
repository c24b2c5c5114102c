import { now, sleep } from '../clock.js';
import type { Sizes } from '../config.js';
import { backendCpuMs, cpuBetween } from '../db.js';
import type { TracingMode } from '../peers/queue-tracing.js';
import type { JobPayload, Peer, PeerClient, Target } from '../peers/types.js';
import type { ChildResult } from '../protocol.js';
import { percentiles } from '../stats.js';
import { WorkerProcess } from '../worker-host.js';

export interface WorkloadContext {
  peer: Peer;
  target: Target;
  /** Producer side, shared by the workloads of one peer's round; reset before each. */
  client: PeerClient;
  sizes: Sizes;
  log: (line: string) => void;
}

/** One workload's figures for one peer and round. */
export interface WorkloadRun {
  metrics: Record<string, number>;
  /** Jobs the workload put in (or seeded as due) and jobs done or stored: must be equal. */
  expected: number;
  processed: number;
  notes?: string[];
}

export interface Workload {
  name: string;
  title: string;
  /** Runs once per run instead of once per round (too long to repeat within the time budget). */
  once?: boolean;
  /** Skips peers that cannot run it, saying why. */
  unsupported?(peer: Peer): string | undefined;
  run(ctx: WorkloadContext): Promise<WorkloadRun>;
}

export function payloads(from: number, count: number): JobPayload[] {
  const t = now();
  return Array.from({ length: count }, (_, k) => ({ t, i: from + k }));
}

/** Enqueues `jobs` jobs through the bulk API, a few batches at a time (setup, not measured). */
export async function fill(client: PeerClient, jobs: number, batch = 1_000, parallel = 4): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < jobs) {
      const from = next;
      const n = Math.min(batch, jobs - from);
      next += n;
      await client.enqueueBulk(payloads(from, n));
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}

export interface DrainOutcome {
  /** From start() to the moment the peer reported nothing pending (or to the cap). */
  elapsedMs: number;
  /** Jobs started by the handler within elapsedMs. */
  started: number;
  /** Every expected job ran and the peer recorded it done, within the cap. */
  complete: boolean;
  child: ChildResult;
  idleRssKb: number;
  /**
   * CPU of the database's server processes during the drain (Postgres peers, server on this
   * machine): the database's side of the work, which a busy machine does not inflate.
   */
  dbCpuMs?: number;
}

/**
 * Starts a worker process on already queued jobs and waits until `expected` jobs have
 * started and the peer reports none pending, or until `capMs`. The handler count says
 * when to start asking the database, so polling does not load it during the run.
 */
export async function timedDrain(
  ctx: WorkloadContext,
  expected: number,
  capMs: number,
  tracing?: TracingMode,
): Promise<DrainOutcome> {
  const worker = await WorkerProcess.spawn(ctx.peer.name, ctx.target, tracing);
  const postgres = ctx.peer.backend === 'postgres';
  try {
    const cpu0 = postgres ? await backendCpuMs(ctx.target.databaseUrl) : undefined;
    const t0 = await worker.start(expected, false);
    const reachedAt = await worker.reached(capMs);
    let end = now();
    let complete = false;
    let started = expected;
    if (reachedAt === undefined) {
      started = await worker.count();
    } else {
      const deadline = reachedAt + 30_000;
      while (now() < deadline) {
        if ((await ctx.client.pending()) === 0) {
          complete = true;
          break;
        }
        await sleep(5);
      }
      end = now();
    }
    const dbCpuMs = postgres ? cpuBetween(cpu0, await backendCpuMs(ctx.target.databaseUrl)) : undefined;
    const child = await worker.stop();
    return { elapsedMs: end - t0, started, complete, child, idleRssKb: worker.readyRssKb, dbCpuMs };
  } finally {
    await worker.close();
  }
}

/**
 * Each job's latency measured two ways: from the moment its enqueue call began (what a
 * caller waits for the job to start; includes the enqueue's own commit) and from the moment
 * that call returned (the worker's wake-up and claim alone).
 */
export function startLatencies(starts: number[], callAt: Float64Array, ackAt: Float64Array) {
  const fromCall: number[] = [];
  const fromAck: number[] = [];
  for (let i = 0; i < callAt.length; i++) {
    const s = starts[i];
    if (!s) continue;
    fromCall.push(s - (callAt[i] as number));
    fromAck.push(s - (ackAt[i] as number));
  }
  return { fromCall: percentiles(fromCall), fromAck: percentiles(fromAck), started: fromCall.length };
}
