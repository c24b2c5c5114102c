-- Completed jobs and failed attempts per minute, for throughput charts (completed jobs
-- are deleted, so they cannot be counted afterwards). Each worker writes its own rows, so
-- workers never wait on each other's row locks. UNLOGGED: losing a few minutes of
-- statistics in a database crash is acceptable, and it spares the WAL on the hot path.
CREATE UNLOGGED TABLE {{schema}}.job_stats (
  minute    timestamptz NOT NULL,
  queue     text        NOT NULL,
  worker    text        NOT NULL,
  completed integer     NOT NULL DEFAULT 0,
  failed    integer     NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, queue, worker)
);
