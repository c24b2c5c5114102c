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
     or the connection was lost mid-command (any command; one line on stderr)
  4  job not found
  5  job is running on a worker and cannot be changed now`;

export const HELP: Record<string, string> = {
  main: `Usage: queue <command> [options]

Commands:
  migrate                 Create or update the queue's tables
  worker <module>         Run a worker for the tasks a module exports
  stats                   Count jobs per queue and state, and show paused queues
  list                    List jobs, newest first (--state, --queue, --task, paging)
  show <id>               Show one job in full: payload, errors, the worker running it
  enqueue <task> [json]   Add a job (payload as JSON text, or - for stdin)
  retry <id...>           Make failed or scheduled jobs run again now
  retry --failed          Retry every failed job (of --queue, of --task)
  delete <id...>          Delete jobs that are not running
  pause <queue...>        Stop every worker claiming from these queues
  resume <queue...>       Let workers claim from these queues again
  dashboard               Serve the web dashboard

Examples:
  queue list --state failed --queue emails
  queue show 42 --stack
  queue enqueue sendEmail '{"to":"a@example.com"}' --delay 60000
  queue pause emails && queue resume emails

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

  list: `Usage: queue list [options]

Lists jobs, newest first, 20 at a time. On a terminal it prints a table that fits its width
(id, state, queue, task, attempts, when it runs or failed, last error cut to fit); piped, one
line per job with tab-separated fields in the same order (no header; times in full ISO 8601,
the last error on one line, cut at 200 characters). When there are more jobs, it ends with
the command for the next page: on stdout on a terminal, on stderr otherwise.

Options:
  --state <state>        available, scheduled, running or failed
  --queue <name>         Only this queue
  --task <name>          Only this task
  --limit <n>            Jobs per page, 1 to 1000 (default: 20)
  --order <asc|desc>     desc: newest first (default); asc: oldest first
  --before <id>          Next page newest first: jobs with a smaller id
  --after <id>           Next page oldest first: jobs with a larger id (implies --order asc)
  --json                 One JSON array of jobs (ids as strings, times in ISO 8601)

Examples:
  queue list --state failed --queue emails
  queue list --limit 100 --before 5120
  queue list --task sendEmail --json | jq -r '.[].id'

${GLOBAL}`,

  show: `Usage: queue show <id> [options]

Shows one job in full: task, queue, state, priority, attempts, its times (run at, created,
started, failed), the payload as indented JSON, and every failed attempt's error. For a
running job, also the worker session holding it: its pid, application name, client address,
and how long the job has run. Exits with code 4 if there is no such job.

Options:
  --stack                Include the stack trace of each error
  --json                 The job as one line of JSON (id as a string, times in ISO 8601,
                         errors with stacks, state, and 'worker' for a running job, else null)

Examples:
  queue show 42
  queue show 42 --json | jq .errors

${GLOBAL}`,

  enqueue: `Usage: queue enqueue <task> [json] [options]

Adds a job and prints its id. The payload is JSON text (default: null); '-' reads it
from standard input. The CLI knows no task definitions and passes on only the options
you give: core applies the task's defaults to the rest (today, for a task it has no
definition of: queue 'default', priority 0, 25 attempts).

Options:
  --queue <name>         Queue to put the job in
  --priority <n>         -32768 to 32767, lower runs first (negative: --priority=-5)
  --max-attempts <n>     Attempts before the job fails for good, 1 to 1000000
  --delay <ms>           Run no sooner than this many milliseconds from now
  --run-at <time>        Run no sooner than this ISO 8601 time with a zone,
                         e.g. 2025-06-01T09:00:00Z (not with --delay)
  --json                 Print the new job as one line of JSON instead of its id

Examples:
  queue enqueue sendEmail '{"to":"a@example.com"}'
  queue enqueue report --queue slow --run-at 2025-06-01T09:00:00Z
  cat payload.json | queue enqueue import - --max-attempts 3

Invalid JSON, and a payload the queue cannot store (e.g. one holding \\u0000), exit with code 2.

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

  pause: `Usage: queue pause <queue...> [options]

Pauses queues for every worker of the cluster: they claim no more jobs from them, and
jobs already running finish. Enqueueing goes on. Prints, per queue, whether it was
paused now or already; 'queue stats' shows which queues are paused.

Example:
  queue pause emails reports

${GLOBAL}`,

  resume: `Usage: queue resume <queue...> [options]

Resumes paused queues: workers claim from them again (and are woken at once). Prints,
per queue, whether it was resumed or was not paused.

Example:
  queue resume emails

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
