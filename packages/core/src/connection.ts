import pg from 'pg';

export type ConnectionConfig = string | pg.ClientConfig;

/** TCP keepalive on the long-lived connections, so a half-open socket is noticed in seconds, not hours. */
const KEEPALIVE_DELAY_MS = 10_000;
/**
 * How long one connection attempt of a session client may take when the config sets no
 * `connectionTimeoutMillis`. Without it, a host that drops packets keeps an attempt waiting
 * for the OS's TCP connect timeout (over two minutes on Linux), and with it a worker's start
 * or stop. A connection here (TCP, auth, startup) takes milliseconds; ten seconds leaves
 * room for TLS to a distant or busy server.
 */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A dedicated session connection for the claimer or the listener: never from a pool,
 * because advisory locks and LISTEN belong to the session (and break behind a pooler in
 * transaction mode).
 */
export function sessionClient(config: ConnectionConfig, applicationName: string): pg.Client {
  const base: pg.ClientConfig = typeof config === 'string' ? { connectionString: config } : { ...config };
  return new pg.Client({
    ...base,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    connectionTimeoutMillis: base.connectionTimeoutMillis ?? CONNECT_TIMEOUT_MS,
    application_name: base.application_name ?? applicationName,
  });
}

/** Exponential reconnect delay with jitter: 100 ms, 200 ms, … up to 5 s. */
export function reconnectDelay(failures: number): number {
  const ms = Math.min(5000, 100 * 2 ** Math.min(failures, 10));
  return Math.round(ms / 2 + Math.random() * (ms / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Ends a connection from our side at once, as if the network had dropped it. Used when a
 * statement outlives its timeout: on a half-open connection no reply will ever come, and
 * TCP alone would take hours to notice.
 */
export function destroyConnection(client: pg.Client, reason: Error): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(e?: Error): void } } }).connection
    ?.stream;
  stream?.destroy(reason);
}

/** Runs a query; if no answer comes within `ms`, destroys the connection (which rejects the query). */
export function timedQuery(client: pg.Client, query: pg.QueryConfig, ms: number): Promise<pg.QueryResult> {
  let timer: NodeJS.Timeout | undefined;
  const result = client.query(query);
  timer = setTimeout(() => {
    destroyConnection(client, new Error(`no answer from Postgres within ${ms} ms; connection presumed dead`));
  }, ms);
  return result.finally(() => clearTimeout(timer));
}

/**
 * Session settings for the worker's long-lived connections: Postgres probes an idle client
 * after 10 s and gives up after 3 unanswered probes 5 s apart, so a worker that vanished
 * behind a half-open connection loses its locks in about 25 s, not the OS default of hours.
 */
export const SESSION_KEEPALIVE_SQL = `SELECT set_config('tcp_keepalives_idle', '10', false),
  set_config('tcp_keepalives_interval', '5', false), set_config('tcp_keepalives_count', '3', false)`;
