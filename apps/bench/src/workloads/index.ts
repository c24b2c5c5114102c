import { bulkWorkload } from './bulk.js';
import type { Workload } from './common.js';
import { drainWorkload } from './drain.js';
import { enqueueWorkload } from './enqueue.js';
import { flowGlobalWorkload, flowKeysWorkload } from './flow.js';
import { historyWorkload } from './history.js';
import { latencyWorkload } from './latency.js';
import { loadWorkload } from './load.js';
import { scaleWorkload } from './scale.js';
import { tracingWorkload } from './tracing.js';
import { uniqueWorkload } from './unique.js';

/** In run order. `memory` is not a workload of its own: it is read from the drain's worker process. */
export const WORKLOADS: Workload[] = [
  enqueueWorkload,
  bulkWorkload,
  uniqueWorkload,
  drainWorkload,
  historyWorkload,
  flowGlobalWorkload,
  flowKeysWorkload,
  tracingWorkload,
  latencyWorkload,
  loadWorkload,
  scaleWorkload,
];

export const WORKLOAD_NAMES = [...WORKLOADS.map((w) => w.name), 'memory'];

/** The workloads to run for `--only` names; `memory` selects the drain that measures it. */
export function selectWorkloads(only: readonly string[] | undefined): Workload[] {
  if (!only || only.length === 0) return WORKLOADS;
  for (const name of only) {
    if (!WORKLOAD_NAMES.includes(name)) {
      throw new Error(`unknown workload ${JSON.stringify(name)}; known: ${WORKLOAD_NAMES.join(', ')}`);
    }
  }
  const wanted = new Set(only.map((n) => (n === 'memory' ? 'drain' : n)));
  return WORKLOADS.filter((w) => wanted.has(w.name));
}
