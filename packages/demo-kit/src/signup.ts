import type { Queryable } from '@queue/core';

export interface Signup {
  email: string;
  name: string;
}

export type SignupCheck = { ok: true; value: Signup } | { ok: false; field: string; message: string };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Validates a POST /signup body; the error names the first bad field. */
export function parseSignup(body: unknown): SignupCheck {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, field: 'body', message: 'must be a JSON object with "email" and "name"' };
  }
  const { email, name } = body as Record<string, unknown>;
  if (typeof email !== 'string' || email.length > 254 || !EMAIL.test(email)) {
    return { ok: false, field: 'email', message: 'must be an email address' };
  }
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 100) {
    return { ok: false, field: 'name', message: 'must be a non-empty string of at most 100 characters' };
  }
  return { ok: true, value: { email: email.toLowerCase(), name: name.trim() } };
}

/** Inserts the user in the caller's transaction; null when the email is taken. */
export async function insertUser(db: Queryable, signup: Signup): Promise<{ id: string } | null> {
  const { rows } = await db.query(
    `INSERT INTO users (email, name) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING RETURNING id::text AS id`,
    [signup.email, signup.name],
  );
  return rows[0] ?? null;
}

/** The HTTP answers the demo apps give, so all three say the same thing. */
export const answers = {
  invalid: (check: Extract<SignupCheck, { ok: false }>) => ({
    status: 422,
    body: { error: 'invalid_field', field: check.field, message: `${check.field} ${check.message}` },
  }),
  duplicate: () => ({
    status: 409,
    body: { error: 'email_taken', message: 'a user with this email exists' },
  }),
  created: (userId: string) => ({ status: 201, body: { id: userId } }),
};
