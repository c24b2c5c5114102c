-- Per-queue settings shared by every worker. A paused queue keeps its jobs; no worker
-- claims from it until it is resumed. Jobs already running finish normally.
CREATE TABLE {{schema}}.queues (
  name      text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 128),
  paused_at timestamptz
);
