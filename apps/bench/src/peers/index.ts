import type { Peer } from './types.js';

/**
 * Peers in run order, each loaded only when asked for: the worker process imports just
 * the one it runs, so its memory figure is that library's alone.
 */
export const PEERS: Record<string, () => Promise<Peer>> = {
  queue: async () => (await import('./queue.js')).queuePeer,
  graphile: async () => (await import('./graphile.js')).graphilePeer,
  pgboss: async () => (await import('./pgboss.js')).pgbossPeer,
  bullmq: async () => (await import('./bullmq.js')).bullmqPgPeer,
  'bullmq-redis': async () => (await import('./bullmq.js')).bullmqRedisPeer,
};

export const PEER_NAMES = Object.keys(PEERS);

export function loadPeer(name: string): Promise<Peer> {
  const load = PEERS[name];
  if (!load) throw new Error(`unknown peer ${JSON.stringify(name)}; known: ${PEER_NAMES.join(', ')}`);
  return load();
}
