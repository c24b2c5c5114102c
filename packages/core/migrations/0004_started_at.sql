-- When the current (or last) attempt started, set by the claim: lets operators see how long
-- a running job has been running. Nullable: jobs enqueued before this migration have none.
ALTER TABLE {{schema}}.jobs ADD COLUMN started_at timestamptz;
