/** Help texts, one per command; `queue <command> --help` prints its own. */
const GLOBAL = `Global options:
  --database-url <url>   Postgres connection string (default: $DATABASE_URL)
  --schema <name>        Schema holding the queue's tables (default: queue)
  -h, --help             Show help`;

export const EXIT_CODES = `Exit codes:
  0  success
  1  unexpected error (a bug, or an error thrown by your task module)
  2  usage error: unknown command or flag, missing or bad argument, no DATABASE_URL
  3  database unusable: bad connection string, unreachable, login refused, schema missing,
     or the connection was lost mid-command
  4  job not found
  5  job is running on a worker and cannot be changed now`;

export const HELP: Record<string, string> = {
  main: `Usage: queue <command> [options]

Commands:
  migrate              Create or update the queue's tables
  worker <module>      Run a worker for the tasks a module exports
  stats                Count jobs per queue and state
  retry <id...>        Make failed or scheduled jobs run again now
  retry --failed       Retry every failed job (of --queue, of --task)
  delete <id...>       Delete jobs that are not running
  dashboard            Serve the web dashboard

Run 'queue <command> --help' for a command's options.

${GLOBAL}
  -v, --version          Show the version

${EXIT_CODES}`,

  migrate: `Usage: queue migrate [options]

Creates the queue's schema and tables, or applies the migrations it lacks. Safe to run
from many processes at once (it takes a lock) and again when there is nothing to do.

${GLOBAL}`,

  worker: `Usage: queue worker <module> [options]

Runs a worker for the tasks <module> exports: a task map as its default export or as
'tasks', e.g.  export default { sendEmail: async (payload) => { ... } }
The module is imported by Node: compile TypeScript first, or run the CLI with
node --import tsx. Stops gracefully on SIGTERM or SIGINT: it claims nothing more and
waits for running jobs (a second signal aborts them).

Options:
  -c, --concurrency <n>       Jobs run at once per queue (default: 8)
  -q, --queues <a,b,...>      Queues to work, optionally with their own concurrency:
                              'emails,default' or 'emails:2,default:8'
                              (default: every queue the tasks name, and 'default')
  --poll-interval <ms>        Poll for jobs notifications cannot announce (default: 500)
  --shutdown-timeout <ms>     How long a stop waits for running jobs (default: 30000)

${GLOBAL}`,

  stats: `Usage: queue stats [options]

Prints the number of jobs per queue and state (available, scheduled, running, failed)
and whether each queue is paused.

Options:
  --json                 Print JSON instead of a table

${GLOBAL}`,

  retry: `Usage: queue retry <id...> [options]
       queue retry --failed [--queue <name>] [--task <name>] [options]

Makes the given failed or scheduled jobs available now, with their attempts reset; or,
with --failed, every failed job (of one queue and/or task).

Options:
  --failed               Retry all failed jobs instead of the ids given
  --queue <name>         With --failed: only this queue
  --task <name>          With --failed: only this task

${GLOBAL}`,

  delete: `Usage: queue delete <id...> [options]

Deletes the given jobs (cancelling any that have not started). A running job cannot be
deleted: the command exits with code 5.

${GLOBAL}`,

  dashboard: `Usage: queue dashboard [options]

Serves the web dashboard. It needs authentication: set QUEUE_DASHBOARD_USER and
QUEUE_DASHBOARD_PASSWORD for HTTP Basic auth, or pass --no-auth on a machine only you use.

Options:
  -p, --port <n>         Port (default: 3000; 0 picks a free one)
  --host <address>       Address to listen on (default: 127.0.0.1)
  --base-path <path>     Serve under this path (default: /)
  --read-only            Show everything, allow no action
  --no-auth              No authentication (local use only)

${GLOBAL}`,
};
