-- One row per running worker, written by its claimer session. Liveness is not stored: a row
-- is live while its claimer session holds the marker lock pg_advisory_lock(lock_namespace,
-- lock_marker), held by backend_pid, so a killed worker's row is dead the moment Postgres
-- ends its session (no heartbeat to wait for). Dead rows are deleted by the next worker that
-- registers or refreshes its own. UNLOGGED: after a crash or a failover every session is
-- gone and every worker registers again, so nothing here needs the WAL.
CREATE UNLOGGED TABLE {{schema}}.workers (
  id             text        PRIMARY KEY,
  -- os.hostname() and process.pid of the Node process.
  host           text        NOT NULL,
  pid            integer     NOT NULL,
  backend_pid    integer     NOT NULL,
  lock_namespace integer     NOT NULL,
  lock_marker    integer     NOT NULL,
  -- The queues it claims from and their concurrency: {"default": 8, "crm": 2}.
  queues         jsonb       NOT NULL,
  -- The tasks it has handlers for: it claims only these.
  tasks          text[]      NOT NULL,
  started_at     timestamptz NOT NULL DEFAULT now()
);

-- When each periodic cluster-wide check (e.g. 'unrouted': jobs no live worker will run)
-- last ran, so that one worker in the cluster runs it per interval, not every worker.
CREATE UNLOGGED TABLE {{schema}}.checks (
  name       text        PRIMARY KEY,
  checked_at timestamptz NOT NULL
);
