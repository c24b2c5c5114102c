import type { TaskRegistration } from '../tasks.js';
import type { Names } from './names.js';

/**
 * Records tasks' enqueue options in one statement. Last writer wins; a row whose options did
 * not change is left alone (no new row version, `updated_at` kept), so a worker restarting
 * with the same options costs a lookup per task and no write.
 */
export function registerTasksSql(n: Names): string {
  return `INSERT INTO ${n.q}.tasks AS t (name, queue, priority, max_attempts)
    SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::int[])
    ON CONFLICT (name) DO UPDATE
      SET queue = excluded.queue, priority = excluded.priority, max_attempts = excluded.max_attempts,
          updated_at = now()
      WHERE (t.queue, t.priority, t.max_attempts)
        IS DISTINCT FROM (excluded.queue, excluded.priority, excluded.max_attempts)`;
}

export function registerTasksValues(rows: readonly TaskRegistration[]): unknown[] {
  return [
    rows.map((r) => r.name),
    rows.map((r) => r.queue),
    rows.map((r) => r.priority),
    rows.map((r) => r.maxAttempts),
  ];
}
