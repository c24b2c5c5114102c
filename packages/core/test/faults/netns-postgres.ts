/**
 * A dedicated Postgres that the namespaced worker hosts can reach: it listens on this
 * machine's end of every link as well as on 127.0.0.1, and its pg_hba.conf admits the links'
 * subnet. The queue's schema is migrated, and the fixtures' bookkeeping tables are created.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { waitFor } from '@queue/test-utils';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { Queue, silentLogger } from '../../src/index.js';
import { type DedicatedPostgres, startDedicatedPostgres } from './dedicated-postgres.js';
import { recordFigure } from './figures.js';
import { createNetwork, type Host, type Network, SKIP_NETNS_ENV, skipNetns } from './netns-kit.js';
import { createFaultTables } from './process-kit.js';

export interface LinkedPostgres extends DedicatedPostgres {
  /** Connection string for a worker inside `host`, through its link. */
  urlFor(host: Host): string;
  /** Runs a statement on a pool of the test's own (over 127.0.0.1, never a test link). */
  query(text: string, values?: unknown[]): Promise<any[]>;
}

export async function startLinkedPostgres(net: Network, flags: string[] = []): Promise<LinkedPostgres> {
  const gateways = net.hosts.map((h) => h.gateway);
  // A later -c wins: this replaces dedicated-postgres' listen_addresses=127.0.0.1.
  const server = await startDedicatedPostgres([
    '-c',
    `listen_addresses=${['127.0.0.1', ...gateways].join(',')}`,
    ...flags,
  ]);
  const pool = new pg.Pool({ connectionString: server.url, max: 4 });
  pool.on('error', () => {});
  const query = async (text: string, values?: unknown[]) => (await pool.query(text, values)).rows;
  const linked: LinkedPostgres = {
    ...server,
    urlFor(host) {
      const u = new URL(server.url);
      u.hostname = host.gateway;
      return u.toString();
    },
    query,
    async destroy() {
      await pool.end().catch(() => {});
      await server.destroy();
    },
  };
  try {
    // initdb admits only the loopback addresses: admit the links, with the same method.
    const [{ hba_file: hbaFile }] = await query('SHOW hba_file');
    const hba = await readFile(hbaFile, 'utf8');
    const method = /^host\s+all\s+all\s+127\.0\.0\.1\/32\s+(\S+)/m.exec(hba)?.[1] ?? 'scram-sha-256';
    await appendFile(hbaFile, `\nhost all all ${net.subnet} ${method}\n`);
    await query('SELECT pg_reload_conf()');
    // The postmaster reloads on its own time: connect as a link address would (this machine's
    // end of the first link is in the subnet) until the new line is in force.
    const probe = linked.urlFor(net.hosts[0]!);
    await waitFor(
      'pg_hba.conf to admit the test links',
      async () => {
        const c = new pg.Client(probe);
        c.on('error', () => {});
        await c.connect();
        await c.end();
        return true;
      },
      { timeoutMs: 10_000 },
    );
    const queue = new Queue({ connectionString: server.url, logger: silentLogger });
    await queue.migrate();
    await queue.close();
    await createFaultTables({ url: server.url, name: 'postgres', query });
  } catch (error) {
    await linked.destroy();
    throw error;
  }
  return linked;
}

/**
 * Before the file's tests: a namespace for each label, with packet filters ready when
 * `filters` is set; torn down after them, also when a test fails. Fails with the reason
 * (naming the opt-out) where namespaces cannot be made.
 */
export function useNetwork(labels: string[], filters = false): { net: Network } {
  const setup = {} as { net: Network };
  if (skipNetns) return setup;
  beforeAll(async () => {
    setup.net = await createNetwork(labels);
    // Created now, so that the first loss() of a test only changes a rule.
    if (filters) for (const h of setup.net.hosts) await h.loss(0);
  }, 60_000);
  afterAll(async () => {
    await setup.net?.destroy();
  });
  return setup;
}

export interface LinkedSetup {
  net: Network;
  pg: LinkedPostgres;
}

/** useNetwork, and a dedicated Postgres (with `flags`) that the namespaces reach directly. */
export function useLinkedPostgres(labels: string[], flags: string[], filters = false): LinkedSetup {
  const setup = useNetwork(labels, filters) as LinkedSetup;
  if (skipNetns) return setup;
  beforeAll(async () => {
    setup.pg = await startLinkedPostgres(setup.net, flags);
  }, 120_000);
  afterAll(async () => {
    await setup.pg?.destroy();
  });
  return setup;
}

/** The describe title's suffix, and a figure row, when the opt-out is set. */
export function skippedNote(scenario: number, name: string): string {
  if (!skipNetns) return '';
  recordFigure({ scenario, name, figure: `skipped by ${SKIP_NETNS_ENV}=1`, pass: true });
  return ` (skipped by ${SKIP_NETNS_ENV}=1)`;
}
