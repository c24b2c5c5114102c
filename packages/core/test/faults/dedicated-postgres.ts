/**
 * A Postgres of the test's own, which it may stop and start again: never the shared test
 * server or the system's service. The same embedded cluster @queue/dev-postgres runs for
 * the test run, with its data kept across stop() and start().
 */
import { type Cluster, createCluster } from '@queue/dev-postgres';

export type DedicatedPostgres = Cluster;

/** Starts one; `flags` are extra `postgres` flags such as `['-c', 'wal_level=minimal']`. */
export async function startDedicatedPostgres(flags: string[] = []): Promise<DedicatedPostgres> {
  return createCluster({ flags: ['-c', 'max_connections=100', ...flags] });
}
