import type pg from 'pg';
import type { Names } from '../sql/names.js';

/** A wake-up on the jobs channel that means "limits changed": never a queue name (they have no \u0000). */
export const LIMITS_WAKE = '\u0000limits';

/** How often a worker re-reads which of its queues have limits, should a LIMITS_WAKE be missed. */
export const LIMITS_REFRESH_MS = 5_000;

type Query = (text: string, values: unknown[]) => Promise<pg.QueryResult>;

/**
 * A worker's view of flow control: which of its queues have limits (they are claimed by the
 * limited claim, see flow/claim-sql.ts; the others by the plain one, unchanged), and which
 * concurrency slots each job it holds took. Slots are session advisory locks on the claimer's
 * session, like job locks: released with the job's finish, or by Postgres with the session.
 */
export class FlowState {
  private limited = new Set<string>();
  /** Job id -> its queue and slot keys (bigint as text), for every job a limited claim locked. */
  private readonly jobs = new Map<string, { queue: string; slots: string[] }>();
  private readonly sql: string;
  /** Per queue, the last key its previous limited claim walked: the next one starts after it. */
  private readonly cursors = new Map<string, string>();

  constructor(
    names: Names,
    private readonly queues: string[],
    private readonly on: {
      /** The rate limit lets more jobs start in `ms`. */
      wait(ms: number): void;
      /** The set of limited queues changed: claim again. */
      changed(): void;
    },
  ) {
    this.sql = `SELECT name FROM ${names.q}.queues WHERE flow_limited AND name = ANY($1::text[])`;
  }

  isLimited(queue: string): boolean {
    return this.limited.has(queue);
  }

  /** Whether any limited queue's job is held: then the finish must use the limited cycle. */
  get holding(): boolean {
    return this.jobs.size > 0;
  }

  /** Re-reads which of the worker's queues have limits. */
  async refresh(query: Query, force = false): Promise<void> {
    const { rows } = await query(this.sql, [this.queues]);
    const next = new Set(rows.map((r: { name: string }) => r.name));
    const changed = next.size !== this.limited.size || [...next].some((q) => !this.limited.has(q));
    this.limited = next;
    if (changed || force) this.on.changed();
  }

  /** The slot keys held by jobs of this session: the limited claim must not take them again. */
  heldSlots(): string[] {
    const out: string[] = [];
    for (const j of this.jobs.values()) out.push(...j.slots);
    return out;
  }

  /** A limited claim locked job `id` with these slots. */
  record(id: string, queue: string, slots: string[]): void {
    this.jobs.set(id, { queue, slots });
  }

  /**
   * Forgets the jobs being unlocked and returns their slots (to unlock with them) and the
   * queues whose slots they free (to announce).
   */
  take(ids: readonly string[]): { slots: string[]; queues: string[] } {
    const slots: string[] = [];
    const queues = new Set<string>();
    for (const id of ids) {
      const j = this.jobs.get(id);
      if (!j) continue;
      this.jobs.delete(id);
      if (j.slots.length === 0) continue;
      slots.push(...j.slots);
      queues.add(j.queue);
    }
    return { slots, queues: [...queues] };
  }

  /** A new session holds no slot. */
  clear(): void {
    this.jobs.clear();
  }

  cursor(queue: string): string | null {
    return this.cursors.get(queue) ?? null;
  }

  setCursor(queue: string, key: string | null): void {
    if (key === null) this.cursors.delete(queue);
    else this.cursors.set(queue, key);
  }

  wait(ms: number): void {
    this.on.wait(ms);
  }
}
