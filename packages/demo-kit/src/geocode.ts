import type pg from 'pg';

/**
 * Best effort, on purpose: a plain promise, not a job. Fits work that is quick, optional
 * and cheap to lose: if the process dies first, the user simply sees no map pin, and the
 * app already handles a missing `geo`. Sending the welcome email is different: it must
 * happen exactly when the signup commits, even across a crash or deploy, so it is a job.
 */
export function geocodeInBackground(pool: pg.Pool, userId: string, email: string, log = console): void {
  void (async () => {
    const domain = email.split('@')[1] ?? 'unknown';
    // Stand-in for a geocoding API call.
    await pool.query('UPDATE users SET geo = $2 WHERE id = $1', [userId, `near ${domain}`]);
  })().catch((error: Error) => log.warn(`geocoding user ${userId} failed (best effort): ${error.message}`));
}
