import { globals, parse } from '../args.js';
import { openAdmin } from '../connect.js';
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';

export const pause = (argv: string[], ctx: CliContext) => setPaused('pause', argv, ctx);
export const resume = (argv: string[], ctx: CliContext) => setPaused('resume', argv, ctx);

/**
 * Pauses or resumes queues cluster-wide and says what changed for each. The states before
 * come from countJobs() (one scan of the jobs table), which also tells when a name matches
 * no queue with jobs: likely a typo, though pausing a queue before its first job is allowed.
 */
async function setPaused(command: 'pause' | 'resume', argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(command, argv, {});
  if (positionals.length === 0)
    throw new UsageError(
      `give at least one queue name: queue ${command} emails (see 'queue ${command} --help')`,
    );
  const names = [...new Set(positionals)];
  for (const name of names)
    if (name.length === 0 || name.length > 128)
      throw new UsageError(`a queue name is 1 to 128 characters, got ${JSON.stringify(name)}`);
  const admin = await openAdmin(globals(values), ctx.env);
  try {
    const before = new Map((await admin.countJobs()).map((c) => [c.queue, c]));
    for (const name of names) {
      const was = before.get(name);
      if (command === 'pause') {
        await admin.pauseQueue(name);
        if (was?.paused) ctx.out(`${name}: already paused`);
        else ctx.out(`${name}: paused; workers claim nothing more from it, running jobs finish`);
      } else {
        await admin.resumeQueue(name);
        if (was?.paused) ctx.out(`${name}: resumed; workers claim from it again`);
        else ctx.out(`${name}: was not paused`);
      }
      if (!was || was.available + was.scheduled + was.running + was.failed === 0)
        ctx.err(`queue: note: no job is in a queue named ${JSON.stringify(name)} (is the name right?)`);
    }
    return EXIT.OK;
  } finally {
    await admin.close();
  }
}
