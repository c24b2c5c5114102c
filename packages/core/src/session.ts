import type pg from 'pg';
import { type ConnectionConfig, sessionClient } from './connection.js';

/**
 * One Postgres session of our own, never from a pool: what the claimer (its advisory locks)
 * and the listener (its LISTEN) live on. Both belong to the session, so both need the same
 * lifecycle: open and set up, report the loss once (an 'error' or 'end' after it was set up,
 * never an unhandled one), and close from our side without reporting a loss. Reconnecting is
 * the owner's call: the claimer's jobs must be aborted first, the listener just listens again.
 */
export class SessionConnection {
  private ended = false;

  private constructor(readonly client: pg.Client) {}

  /**
   * Connects and runs `setup` on the new session. Resolves once it is set up; rejects (with
   * the connection closed) if either step fails. After that, `onLost` is called at most once,
   * when the session ends other than by close().
   */
  static async open(
    config: ConnectionConfig,
    applicationName: string,
    setup: (client: pg.Client) => Promise<void>,
    onLost: (error: Error) => void,
  ): Promise<SessionConnection> {
    const client = sessionClient(config, applicationName);
    const session = new SessionConnection(client);
    let live = false;
    const drop = (error?: Error) => {
      // Before it is live, connect() or setup() rejects instead.
      if (!live || session.ended) return;
      session.ended = true;
      client.end().catch(() => {});
      onLost(error ?? new Error('connection ended'));
    };
    client.on('error', drop);
    client.on('end', () => drop());
    try {
      await client.connect();
      await setup(client);
    } catch (error) {
      session.ended = true;
      await client.end().catch(() => {});
      throw error;
    }
    live = true;
    return session;
  }

  /** False once the session was lost or closed. */
  get live(): boolean {
    return !this.ended;
  }

  get backendPid(): number | undefined {
    return (this.client as unknown as { processID?: number }).processID;
  }

  /** Ends the session from our side (Postgres releases its locks); no loss is reported. Safe twice. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.client.end().catch(() => {});
  }
}
