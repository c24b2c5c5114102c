import type { Names } from './names.js';

/**
 * Writes a running job's progress: $1 job id, $2 the value as JSON text (NULL clears it),
 * $3 the claim count of the attempt that reports it. Fenced by the claim count, so an
 * attempt that lost its job to a newer claim (another worker runs it now) changes nothing;
 * a job that has left the table (finished meanwhile) matches no row either.
 */
export function progressSql(n: Names): string {
  return `UPDATE ${n.q}.jobs SET progress = $2::jsonb WHERE id = $1::bigint AND claims = $3::int`;
}
