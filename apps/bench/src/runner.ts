import { loadavg } from 'node:os';
import { startPostgres } from '@queue/dev-postgres';
import { now } from './clock.js';
import { FULL, type Sizes, SMOKE } from './config.js';
import { createDatabase, dropDatabase, redisInfo, type ServerInfo, serverInfo } from './db.js';
import { loadPeer, PEER_NAMES } from './peers/index.js';
import type { Peer, Target } from './peers/types.js';
import { median } from './stats.js';
import type { Workload, WorkloadRun } from './workloads/common.js';
import { selectWorkloads } from './workloads/index.js';

export interface BenchOptions {
  /** Postgres server URL. Default: DATABASE_URL, else an embedded Postgres is started. */
  databaseUrl?: string;
  /** Default: REDIS_URL, else redis://127.0.0.1:6379. BullMQ-on-Redis is skipped when it does not answer. */
  redisUrl?: string;
  smoke?: boolean;
  /** Rounds of the repeated workloads (scale runs once). Default 3, or 1 with smoke. */
  rounds?: number;
  only?: string[];
  peers?: string[];
  log?: (line: string) => void;
}

export interface PeerWorkloadResult {
  rounds: WorkloadRun[];
  /** Median of each metric over the rounds. */
  median: Record<string, number>;
  /** Every round processed every job it put in. */
  allProcessed: boolean;
  notes: string[];
  error?: string;
}

export interface BenchResult {
  meta: {
    mode: 'full' | 'smoke';
    startedAt: string;
    durationSeconds: number;
    rounds: number;
    node: string;
    postgres: ServerInfo & { embedded: boolean };
    redis: Record<string, string> | null;
    sizes: Sizes;
    peers: {
      name: string;
      label: string;
      backend: string;
      durable: boolean;
      settings: string;
      /** What the peer keeps of a finished job. */
      keeps: string;
    }[];
    skipped: { peer: string; reason: string }[];
  };
  workloads: Record<string, { title: string; peers: Record<string, PeerWorkloadResult> }>;
}

export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  const log = options.log ?? (() => {});
  const smoke = options.smoke ?? false;
  const sizes = smoke ? SMOKE : FULL;
  const rounds = options.rounds ?? (smoke ? 1 : 3);
  const workloads = selectWorkloads(options.only);
  const names = options.peers?.length ? options.peers : PEER_NAMES;
  const peers = await Promise.all(names.map(loadPeer));
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const started = now();
  const startedAt = new Date().toISOString();

  const server = await startPostgres({ databaseUrl: options.databaseUrl });
  // Interrupted runs must not leave databases behind on a shared server.
  const created = new Set<string>();
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: dropping the benchmark's databases`);
    void Promise.allSettled([...created].map((name) => dropDatabase(server.url, name)))
      .then(() => server.stop())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const pgInfo = await serverInfo(server.url);
    if (pgInfo.settings.synchronous_commit !== 'on') {
      throw new Error(
        `synchronous_commit is ${pgInfo.settings.synchronous_commit}; the benchmark needs it on`,
      );
    }
    log(
      `Postgres ${pgInfo.version}${server.embedded ? ' (embedded)' : ''}; ${smoke ? 'smoke' : 'full'} run, ${rounds} round(s)`,
    );
    const redis = peers.some((p) => p.backend === 'redis') ? await redisInfo(redisUrl) : undefined;
    const skipped: { peer: string; reason: string }[] = [];
    const active = peers.filter((p) => {
      if (p.backend === 'redis' && !redis) {
        skipped.push({ peer: p.name, reason: `no Redis answered at ${redisUrl}` });
        return false;
      }
      return true;
    });
    for (const s of skipped) log(`skipping ${s.peer}: ${s.reason}`);

    const results: BenchResult['workloads'] = {};
    for (const w of workloads) results[w.name] = { title: w.title, peers: {} };
    const record = (w: Workload, peer: Peer, run: WorkloadRun | Error) => {
      const peers = results[w.name]!.peers;
      const slot = peers[peer.name] ?? { rounds: [], median: {}, allProcessed: true, notes: [] };
      peers[peer.name] = slot;
      if (run instanceof Error) {
        slot.error = run.message;
        slot.allProcessed = false;
        return;
      }
      slot.rounds.push(run);
      slot.notes.push(...(run.notes ?? []));
      if (run.processed !== run.expected) slot.allProcessed = false;
    };

    const repeated = workloads.filter((w) => !w.once);
    const once = workloads.filter((w) => w.once);
    for (let round = 1; round <= rounds && repeated.length > 0; round++) {
      for (const peer of active) await runPeer(peer, repeated, `r${round}`);
    }
    for (const peer of active) await runPeer(peer, once, 'once');

    async function runPeer(peer: Peer, list: Workload[], tag: string): Promise<void> {
      const todo = list.filter((w) => {
        const why = w.unsupported?.(peer);
        if (why && !results[w.name]!.peers[peer.name]) results[w.name]!.peers[peer.name] = skippedSlot(why);
        return !why;
      });
      if (todo.length === 0) return;
      // A fresh database per peer and round; workloads within it start from an emptied table.
      const db = await createDatabase(server.url, `${peer.name}_${tag}`);
      created.add(db.name);
      const target: Target = {
        databaseUrl: db.url,
        redisUrl,
        prefix: `bench:${process.pid}:${peer.name}:${tag}`,
      };
      try {
        await peer.setup(target);
        const client = await peer.client(target);
        try {
          for (const w of todo) {
            log(`[${tag}] ${peer.name}: ${w.name}`);
            const t0 = now();
            // The machine may be shared: each figure carries the load it was measured under.
            const load = loadavg()[0]!;
            const run = await w.run({ peer, target, client, sizes, log }).catch((e: unknown) => toError(e));
            if (!(run instanceof Error)) run.metrics.loadAvg1 = load;
            record(w, peer, run);
            log(
              `    ${run instanceof Error ? `failed: ${run.message.split('\n')[0]}` : summarize(run)} (${((now() - t0) / 1000).toFixed(1)} s, load ${load.toFixed(2)})`,
            );
          }
        } finally {
          await client.reset().catch(() => {});
          await client.close().catch(() => {});
        }
      } catch (error) {
        for (const w of todo) if (!results[w.name]!.peers[peer.name]) record(w, peer, toError(error));
        log(`    ${peer.name} failed: ${toError(error).message.split('\n')[0]}`);
      } finally {
        await dropDatabase(server.url, db.name).catch(() => {});
        created.delete(db.name);
      }
    }

    for (const w of Object.values(results)) {
      for (const slot of Object.values(w.peers)) slot.median = medians(slot.rounds);
    }
    return {
      meta: {
        mode: smoke ? 'smoke' : 'full',
        startedAt,
        durationSeconds: (now() - started) / 1000,
        rounds,
        node: process.version,
        postgres: { ...pgInfo, embedded: server.embedded },
        redis: redis ?? null,
        sizes,
        peers: active.map(({ name, label, backend, durable, settings, keeps }) => ({
          name,
          label,
          backend,
          durable,
          settings,
          keeps,
        })),
        skipped,
      },
      workloads: results,
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await server.stop();
  }
}

function skippedSlot(reason: string): PeerWorkloadResult {
  return { rounds: [], median: {}, allProcessed: true, notes: [`skipped: ${reason}`] };
}

function medians(runs: WorkloadRun[]): Record<string, number> {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.metrics)));
  return Object.fromEntries([...keys].map((k) => [k, median(runs.map((r) => r.metrics[k] ?? Number.NaN))]));
}

function summarize(run: WorkloadRun): string {
  const m = Object.entries(run.metrics)
    .slice(0, 6)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(1)}`);
  return `${m.join(', ')}; ${run.processed}/${run.expected} jobs`;
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
