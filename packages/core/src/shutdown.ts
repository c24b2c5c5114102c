/**
 * One process-level SIGTERM/SIGINT handler for everything of ours that must stop gracefully
 * (HTTP servers, workers, queues, an embedded Postgres), instead of one handler each that
 * guesses from the others' listener counts what to do.
 *
 * On the first signal every participant's `stop()` runs, phase by phase: servers stop
 * taking requests, then workers finish their running jobs, then queues close their pools,
 * then the database stops; a participant that fails does not hold up the next phase. A
 * second signal calls every `hurry()` (workers abort running jobs). When all have stopped,
 * the signal is raised again with our handler removed, so that the process ends as it would
 * have without us, unless the app listens to the signal itself.
 *
 * The registry lives on `globalThis`, so two copies of this module in one process (an app
 * that bundles core twice) still share one handler.
 */

export type ShutdownPhase = 'server' | 'worker' | 'queue' | 'database';

export interface ShutdownParticipant {
  /** For the log line. */
  name: string;
  phase: ShutdownPhase;
  stop(signal: NodeJS.Signals): Promise<void>;
  /** On a second signal: stop waiting (abort running jobs). */
  hurry?(): void;
}

const PHASES: readonly ShutdownPhase[] = ['server', 'worker', 'queue', 'database'];
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

interface Registry {
  participants: Set<ShutdownParticipant>;
  signal: NodeJS.Signals | undefined;
  handler: ((signal: NodeJS.Signals) => void) | undefined;
}

const KEY = Symbol.for('@queue/shutdown');

function registry(): Registry {
  const g = globalThis as { [KEY]?: Registry };
  g[KEY] ??= { participants: new Set(), signal: undefined, handler: undefined };
  return g[KEY];
}

/**
 * Adds a participant to the graceful shutdown on SIGTERM/SIGINT. Returns a function that
 * removes it (call it when the participant stopped for another reason). The process-level
 * handler exists while at least one participant is registered or a shutdown runs.
 */
export function onShutdownSignal(participant: ShutdownParticipant): () => void {
  const r = registry();
  r.participants.add(participant);
  install(r);
  return () => {
    r.participants.delete(participant);
    if (r.participants.size === 0 && r.signal === undefined) uninstall(r);
  };
}

/** True once a shutdown signal arrived and the registered participants are stopping. */
export function shutdownInProgress(): boolean {
  return registry().signal !== undefined;
}

function install(r: Registry): void {
  if (r.handler) return;
  const handler = (signal: NodeJS.Signals) => {
    if (r.signal !== undefined) {
      for (const p of r.participants) p.hurry?.();
      return;
    }
    r.signal = signal;
    void run(r, signal);
  };
  r.handler = handler;
  for (const s of SIGNALS) process.on(s, handler);
}

function uninstall(r: Registry): void {
  if (!r.handler) return;
  for (const s of SIGNALS) process.off(s, r.handler);
  r.handler = undefined;
}

async function run(r: Registry, signal: NodeJS.Signals): Promise<void> {
  for (const phase of PHASES) {
    const now = [...r.participants].filter((p) => p.phase === phase);
    await Promise.all(
      now.map((p) =>
        p.stop(signal).catch((error: unknown) => {
          process.emitWarning(
            `${p.name} did not stop cleanly on ${signal}: ${(error as Error)?.message ?? error}`,
          );
        }),
      ),
    );
    for (const p of now) r.participants.delete(p);
  }
  uninstall(r);
  r.signal = undefined;
  // Nobody else handles it: end the process the way the signal would have.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
