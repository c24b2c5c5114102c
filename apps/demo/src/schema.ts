/**
 * The demo's own tables, next to the queue's in the run's schema (dropped at the end). Each
 * handler writes a row with its job id and attempt, so the figures come from SELECTs: what
 * was done, what ran twice, what never happened.
 */
export function demoTables(schema: string): string {
  const s = quote(schema);
  return `
    CREATE TABLE ${s}.users (
      id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email      text NOT NULL UNIQUE,
      app        text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE TABLE ${s}.welcome_emails (
      user_id bigint NOT NULL REFERENCES ${s}.users (id),
      job_id  bigint NOT NULL,
      attempt integer NOT NULL,
      app     text NOT NULL
    );
    CREATE TABLE ${s}.crm_syncs (
      user_id bigint NOT NULL REFERENCES ${s}.users (id),
      job_id  bigint NOT NULL,
      attempt integer NOT NULL,
      app     text NOT NULL
    );
    CREATE TABLE ${s}.geocodes (
      user_id bigint NOT NULL REFERENCES ${s}.users (id),
      place   text NOT NULL
    );
  `;
}

/** A schema name as a quoted SQL identifier. */
export function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The signup number `i` as an email; the second app finds the signups still to do by it. */
export const emailOf = (i: number) => `user-${i}@example.com`;
