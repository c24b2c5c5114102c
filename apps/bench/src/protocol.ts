import type { TracingMode } from './peers/queue-tracing.js';

/** Messages between the bench process (worker-host.ts) and the worker process (child.ts). */

export type ToChild =
  /** `tracing`: @queue's worker with @queue/otel and an in-memory exporter (workloads/tracing.ts). */
  | { type: 'init'; peer: string; target: unknown; tracing?: TracingMode }
  | { type: 'ping'; id: number }
  /** `offset`: the child's clock minus the bench's, so latencies are in the bench's clock. */
  | { type: 'start'; expect: number; offset: number; recordStarts: boolean }
  | { type: 'count'; id: number }
  | { type: 'stop' };

export interface ChildResult {
  /** Handler calls, duplicates included. */
  count: number;
  /** Handler calls for a job sequence number already seen. */
  duplicates: number;
  /** When recorded: each job's start time by sequence number, on the bench's clock (0: never started). */
  starts: number[];
  /** The kernel's peak RSS of the process (getrusage maxRSS). */
  maxRssKb: number;
  /** Peak of RSS sampled every 20 ms while running. */
  sampledPeakRssKb: number;
  /** User + system CPU of the worker process while running. */
  cpuMs: number;
  wallMs: number;
  /** With tracing: the spans the worker's exporter received. */
  spans?: number;
}

export type ToParent =
  | { type: 'ready'; rssKb: number }
  | { type: 'pong'; id: number; at: number }
  | { type: 'started' }
  /** The handler count reached `expect`, at this bench-clock time. */
  | { type: 'reached'; at: number }
  | { type: 'count'; id: number; count: number }
  | { type: 'result'; result: ChildResult }
  | { type: 'error'; message: string };
