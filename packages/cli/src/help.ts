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
  4  job or schedule not found
  5  job cannot be changed in its state: running on a worker (retry, delete),
     or already finished (cancel); schedule create: the name is taken
  6  wait: the job failed for good
  7  wait: the job was cancelled
  8  wait: the job did not finish within --timeout (it goes on)`;

export const HELP: Record<string, string> = {
  main: `Usage: queue <command> [options]

Commands:
  migrate                 Create or update the queue's tables
  worker <module>         Run a worker for the tasks a module exports
  stats                   Jobs per queue and state, paused queues, run times (p50/p95)
  list                    List jobs, newest first (--state, --queue, --task, --tag, --search)
  running                 List running jobs with their progress and worker
  show <id>               Show one job in full: payload, errors, the worker running it
  wait <id>               Wait until a job finishes; print its result as JSON
  enqueue <task> [json]   Add a job (payload as JSON text, or - for stdin)
  cancel <id...>          Cancel queued jobs, or have workers abort running ones
  cancel --queue <name>   Cancel every queued job of a queue (and --task), with --yes
  retry <id...>           Make failed, scheduled or finished jobs run again now
  retry --state <state>   Retry every job in a state (of --queue, --task, --tag)
  delete <id...>          Delete jobs that are not running
  delete --state <state>  Delete every job in a state (of --queue, --task, --tag), with --yes
  retention [queue]       Show how long finished and failed jobs are kept; set it
                          per queue with --keep 7d, --keep-count, --failed-keep ...
  limits [queue]          Show flow limits and their use; set them per queue with
                          --concurrency 5, --key-concurrency 1, --rate 100/1s, --fair true
  pause <queue...>        Stop every worker claiming from these queues
  resume <queue...>       Let workers claim from these queues again
  schedules               List recurring schedules: timing, next and last run, paused
  schedule <action> <name>  Show, create, update, pause, resume, delete or run a schedule
  dashboard               Serve the web dashboard

Examples:
  queue list --state failed --queue emails
  queue show 42 --stack
  queue cancel 42 && queue wait 42
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
and whether each queue is paused; then any due jobs no live worker will run; then, per
minute (wider buckets past 6 hours) and queue, the jobs completed, the attempts failed,
and the median (p50) and 95th percentile (p95) run time of completed jobs, within a factor
of two (read from per-minute histograms). Buckets where nothing finished are left out.

Options:
  --minutes <n>          Run times of the last n minutes, 1 to 10080 (default: 10)
  --json                 Print JSON instead of tables: the per-queue counts as an array;
                         with --minutes, an object { counts, runTimes } (runTimes: one
                         { minute, queue, completed, failed, p50Ms, p95Ms } per bucket)

${GLOBAL}`,

  list: `Usage: queue list [options]

Lists jobs, newest first, 20 at a time: live jobs, or with --state completed or cancelled
the history (while the queue's retention keeps it; newest finished first). On a terminal it
prints a table that fits its width (id, state, queue, task, attempts, when it runs or
failed, last error cut to fit; for the history: id, state, queue, task, attempts, when it
finished, how long its last attempt ran, its result as JSON cut to fit); piped, one line per
job with tab-separated fields in the same order (no header; times in full ISO 8601, the run
time in milliseconds, the last error or result on one line, cut at 200 characters). When
there are more jobs, it ends with the command for the next page, ending in --cursor <cursor>:
on stdout on a terminal, on stderr otherwise.

Options:
  --state <state>        available, scheduled, running, failed, completed or cancelled
  --queue <name>         Only this queue
  --task <name>          Only this task
  --tag <tag>            Only jobs carrying this tag; repeat it for jobs carrying every one
  --search <json>        Only jobs whose payload or meta contains this JSON object, e.g.
                         '{"userId":42}' (jsonb containment; no index covers payloads)
  --meta <json>          Only jobs whose meta contains this JSON object (indexed)
  --limit <n>            Jobs per page, 1 to 1000 (default: 20)
  --order <asc|desc>     desc: newest first (default); asc: oldest first
  --cursor <cursor>      The next page, as the previous page's next page line gives it
                         (give the same filters; the cursor keeps the order)
  --before <id>          Live jobs, newest first: jobs with a smaller id
  --after <id>           Live jobs, oldest first: jobs with a larger id (implies --order asc)
  --json                 One JSON array of jobs (ids as strings, times in ISO 8601; finished
                         jobs with outcome, result, progress, finishedAt and worker)

'queue running' lists running jobs with their progress.

Examples:
  queue list --state failed --queue emails
  queue list --state completed --tag tenant:acme --search '{"userId":42}'
  queue list --task sendEmail --json | jq -r '.[].id'

${GLOBAL}`,

  running: `Usage: queue running [options]

Lists the jobs workers run now, longest-running first: id, queue, task, attempt, how long
it has run, the worker (host:pid) and the last progress its handler reported
(ctx.progress(), as JSON; written at most once a second per job by default). On a
terminal a table; piped, tab-separated lines in the same order (the running time in
milliseconds).

Options:
  --queue <name>         Only this queue
  --task <name>          Only this task
  --limit <n>            At most this many, 1 to 10000 (default: 100)
  --json                 One JSON array of running jobs, each with 'progress', 'runningMs'
                         and 'worker' ({ id, host, pid, applicationName, clientAddr, connectedAt })

${GLOBAL}`,

  show: `Usage: queue show <id> [options]

Shows one job in full: task, queue, state, priority, attempts, its times (run at, created,
started, failed), tags, the payload and meta as indented JSON, and every failed attempt's
error. For a running job, also its progress and the worker holding it: host, pid and id,
its session's backend pid, application name, client address, how long the job has run, and
when a cancel was asked for it, if one was (its handler has not stopped yet).
For a completed or cancelled job (from the history, while its queue's retention keeps it):
when it finished, how long its last attempt ran, the id of the worker that ran it, its last
progress and its result. Exits with code 4 if there is no such job.

Options:
  --stack                Include the stack trace of each error
  --json                 The job as one line of JSON (id as a string, times in ISO 8601,
                         errors with stacks, state, tags, meta, progress, cancelRequestedAt
                         (when a cancel was asked for a running job), and 'worker': the
                         session object for a running job, the worker's id for a finished
                         one (with outcome, result, finishedAt), else null)

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
  --tag <tag>            A tag for filtering (1 to 64 characters); repeat for more, up to 16
  --meta <json>          A JSON object for search (at most 4 KB), e.g. '{"userId":42}'
  --json                 Print the new job as one line of JSON instead of its id

Examples:
  queue enqueue sendEmail '{"to":"a@example.com"}'
  queue enqueue report --queue slow --run-at 2025-06-01T09:00:00Z --tag tenant:acme
  cat payload.json | queue enqueue import - --max-attempts 3

Invalid JSON, and a payload the queue cannot store (e.g. one holding \\u0000), exit with code 2.

${GLOBAL}`,

  retry: `Usage: queue retry <id...> [options]
       queue retry --state <state> [--queue <name>] [--task <name>] [--tag <tag>] [options]

Makes the given jobs available now, with their attempts reset: failed or scheduled
jobs in place, completed or cancelled ones from the history (while their queue's
retention keeps them) under the same id. A running job cannot be retried (exit code 5).
With --state, every job in that state (of one queue, task and/or tag) that is not
running, and prints how many.

Options:
  --state <state>        failed, scheduled, completed or cancelled
  --failed               The same as --state failed
  --queue <name>         With --state: only this queue
  --task <name>          With --state: only this task
  --tag <tag>            With --state: only jobs carrying this tag
  --yes                  Confirm retrying every completed or cancelled job selected
                         (they have run, or been cancelled, once: their work is done again)

Examples:
  queue retry 42 43
  queue retry --failed --queue emails
  queue retry --state completed --task report --yes

${GLOBAL}`,

  delete: `Usage: queue delete <id...> [options]
       queue delete --state <state> [--queue <name>] [--task <name>] [--tag <tag>] --yes

Deletes the given jobs for good, live or from the history, without a trace ('queue cancel'
records a queued job as cancelled instead). A running job cannot be deleted: the
command exits with code 5. With --state and --yes, every job in that state (of one
queue, task and/or tag) that is not running, and prints how many.

Options:
  --state <state>        failed, scheduled, available, completed or cancelled
  --queue <name>         With --state: only this queue
  --task <name>          With --state: only this task
  --tag <tag>            With --state: only jobs carrying this tag
  --yes                  Confirm a delete by --state (required)

Examples:
  queue delete 43
  queue delete --state failed --queue emails --yes

${GLOBAL}`,

  cancel: `Usage: queue cancel <id...> [options]
       queue cancel --queue <name> [--task <name>] --yes [options]

Cancels jobs. A queued job (available, scheduled, or waiting for a retry) leaves the
queue and is recorded as cancelled: 'cancelled job 42'. A running job's worker, on any
host, is told to abort its handler's signal and records it cancelled without retrying
it: 'cancelling job 42: ...'; 'queue wait 42' tells how it ended (a handler that
finishes before it hears, or ignores its signal and returns, ends completed).
Exits with code 4 for an unknown job and 5 for one that has already finished (completed,
cancelled, or failed for good); with several ids it cancels every one it can and exits
with the code of the first it could not.

With --queue and/or --task (and --yes), cancels every queued job of that queue and/or
task, and prints how many; running jobs are left alone (cancel them by id).

Options:
  --queue <name>         Every queued job of this queue
  --task <name>          Every queued job of this task
  --yes                  Confirm a cancel by --queue/--task (required)

Examples:
  queue cancel 42 43
  queue cancel --queue emails --task sendDigest --yes

${GLOBAL}`,

  wait: `Usage: queue wait <id> [options]

Waits until the job finishes for good (woken by a notification from the worker that
finishes it, not by polling) and prints its result as one line of JSON (null when the
handler returned nothing, or its queue keeps no history). A job that finished before is
looked up in the history. Exit codes:
  0  the job completed: its result is on stdout
  4  no such job (or it finished and its queue's retention no longer keeps it)
  6  the job failed for good: its last error is on stderr
  7  the job was cancelled
  8  the job did not finish within --timeout; it was not cancelled and goes on

Options:
  --timeout <ms>         Give up waiting after this many milliseconds, 1 to 2147483647
                         (default: wait for as long as it takes)

Examples:
  queue wait 42 --timeout 60000 | jq .url
  id=$(queue enqueue report '{}') && queue wait "$id"

${GLOBAL}`,

  retention: `Usage: queue retention [queue] [options]
       queue retention <queue> [--keep <d>] [--keep-count <n>] [--failed-keep <d>] [--failed-keep-count <n>]

Shows how long a queue's finished jobs are kept in the history (completed and cancelled)
and how long its failed-for-good jobs are kept, each marked (default) where the queue sets
nothing; without a queue, every queue that sets its own. With settings, sets them for the
queue (the others stay as they are) and prints what now applies. Background maintenance
in the workers prunes what is past it.

Options:
  --keep <d>             How long finished jobs are kept after they finish
                         (default: 1d; 0 keeps none, and the finish writes nothing)
  --keep-count <n>       At most this many finished jobs of the queue, the newest (default: no cap)
  --failed-keep <d>      How long failed-for-good jobs are kept after they fail
                         (default: until retried or deleted)
  --failed-keep-count <n>  At most this many failed-for-good jobs, the newest (default: no cap)
  --json                 The retention as JSON (milliseconds; 'settings' holds the queue's own)

<d> is a whole number with a unit, s, m, h or d (30s, 15m, 1h, 7d), or 0. Any setting
takes the word 'default' to go back to its default.

Examples:
  queue retention emails --keep 7d --failed-keep 30d
  queue retention reports --keep 0
  queue retention emails --keep-count default

${GLOBAL}`,

  limits: `Usage: queue limits [queue] [options]
       queue limits <queue> [--concurrency <n>] [--key-concurrency <n>] [--rate <n>/<period>] [--fair true|false]

Shows the flow limits of every queue that has any; for one queue, also what uses them now:
slots in use, starts in the last rate period, running and waiting jobs, and per concurrency
key (most waiting first). With limits, sets them for the queue (the others stay as they are)
and prints what now applies. Workers apply new limits within moments, across every process.

Options:
  --concurrency <n>      At most n jobs of the queue running at once, across every worker
  --key-concurrency <n>  At most n running jobs per concurrency key (implies --fair)
  --rate <n>/<period>    At most n starts in any window of the period: 100/1s, 600/1m
  --fair true|false      Claim round-robin across concurrency keys
  --keys <n>             How many keys to show (default 20)
  --json                 The limits (and usage) as JSON

Any limit takes the word 'none' to remove it. Limits are 1 to 65535 (rate: 1 to 1000000).

Examples:
  queue limits emails --concurrency 10
  queue limits crm --rate 100/1m --key-concurrency 1
  queue limits crm --rate none

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

  schedules: `Usage: queue schedules [options]

Lists the recurring schedules: name, task, the queue their jobs go to, the cron expression
and its time zone or the interval, the next and last run (database clock, UTC) and whether
each is paused. For each running schedule whose jobs no live worker would run (no worker
serves its queue, or none knows its task), a warning line goes to stderr.

Options:
  --json                 The schedules as a JSON array (with jobQueue and unrouted)

${GLOBAL}`,

  schedule: `Usage: queue schedule show <name> [--json]
       queue schedule create <name> --task <task> (--cron '<expr>' [--tz <zone>] | --every <interval>)
                             [--payload <json>] [--queue <name>] [--catch-up skip|once|<n>]
                             [--tag <tag>]... [--meta <json>]
       queue schedule update <name> [the options of create]
       queue schedule pause|resume|run <name>
       queue schedule delete <name> --yes

Manages one recurring schedule (see core's README, "Recurring jobs"). Workers fire its ticks;
each tick enqueues one job of the task.
  show     The schedule in full
  create   Store a new schedule; exits with code 5 if the name is taken
  update   Change the options given; a new --cron, --tz or --every starts it over from
           the first tick after now, any other change keeps its next tick
  pause    Stop firing ticks, on every worker, until resumed (safe twice)
  resume   Fire ticks again from the first one after now; ticks missed in the pause are not run
  delete   Delete the schedule (needs --yes); jobs it enqueued stay
  run      Enqueue one job now, as a tick would (also when paused); its ticks do not change

Options:
  --task <task>          The task each tick enqueues (required by create)
  --cron '<expr>'        A cron expression: 5 fields, or 6 with seconds first; or @daily, ...
  --tz <zone>            The IANA time zone the cron expression is read in (default: UTC)
  --every <interval>     A fixed interval instead: 500ms, 30s, 5m, 2h, 1d
  --payload <json>       The payload of every job (default: null)
  --queue <name>         The queue of its jobs (default: the task's; 'default' on update clears it)
  --priority <n>         The priority of its jobs (-32768 to 32767; 'default' clears it)
  --max-attempts <n>     Attempts of its jobs (1 to 1000000; 'default' clears it)
  --catch-up <policy>    Ticks missed while no worker ran: skip, once (default), or <n>,
                         the latest n of them
  --tag <tag>            A tag of its jobs (1 to 64 characters); repeat for more, up to 16;
                         on update, the tags given replace the schedule's
  --meta <json>          A JSON object merged into its jobs' meta (which also gets schedule and
                         scheduledAt), e.g. '{"team":"ops"}'; on update, replaces it ('{}' clears)
  --yes                  Confirm a delete (required)
  --json                 The schedule (run: the job) as JSON

A bad cron expression, time zone, interval or payload exits with code 2 before anything is
written; a schedule that does not exist, with code 4.

Examples:
  queue schedule create nightly-report --task report --cron '0 3 * * *' --tz Europe/Berlin
  queue schedule create heartbeat --task ping --every 30s --catch-up skip
  queue schedule update nightly-report --cron '30 2 * * *'
  queue schedule run nightly-report
  queue schedule delete heartbeat --yes

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
