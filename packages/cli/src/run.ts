import { createRequire } from 'node:module';
import { migrate, remove, retry } from './commands/admin.js';
import { cancel } from './commands/cancel.js';
import { dashboard } from './commands/dashboard.js';
import { enqueue } from './commands/enqueue.js';
import { limits } from './commands/limits.js';
import { list } from './commands/list.js';
import { pause, resume } from './commands/pause.js';
import { retention } from './commands/retention.js';
import { running } from './commands/running.js';
import { schedule, schedules } from './commands/schedule.js';
import { show } from './commands/show.js';
import { stats } from './commands/stats.js';
import { wait } from './commands/wait.js';
import { worker } from './commands/worker.js';
import { toCliError } from './connect.js';
import { type CliContext, processContext } from './context.js';
import { CliError, EXIT } from './errors.js';
import { HELP } from './help.js';

type Command = (argv: string[], ctx: CliContext) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  migrate,
  worker,
  stats,
  list,
  running,
  show,
  wait,
  enqueue,
  cancel,
  retry,
  delete: remove,
  retention,
  limits,
  pause,
  resume,
  schedules,
  schedule,
  dashboard,
};

/**
 * Runs one `queue` command line and resolves with its exit code; never rejects. Errors are
 * reported on stderr in one line: `queue: <message>`.
 */
export async function run(argv: string[], ctx: CliContext = processContext()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' && rest[0] && HELP[rest[0]] ? rest[0] : 'main';
    ctx.out(HELP[topic]!);
    return first === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (first === '-v' || first === '--version') {
    ctx.out(version());
    return EXIT.OK;
  }
  const command = COMMANDS[first];
  if (!command) {
    ctx.err(
      `queue: unknown command ${JSON.stringify(first)}; commands are ${Object.keys(COMMANDS).join(', ')} (see 'queue --help')`,
    );
    return EXIT.USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.out(HELP[first]!);
    return EXIT.OK;
  }
  try {
    return await command(rest, ctx);
  } catch (thrown) {
    // Every command's database errors get the documented exit codes here, in one place.
    const error = toCliError(thrown);
    if (error instanceof CliError) {
      ctx.err(`queue: ${error.message}`);
      return error.exitCode;
    }
    ctx.err(
      `queue: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return EXIT.ERROR;
  }
}

function version(): string {
  try {
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
