import { startDashboardServer } from '@queue/dashboard';
import { globals, intFlag, parse } from '../args.js';
import { openAdmin, toCliError } from '../connect.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { untilSignal } from '../signals.js';

export async function dashboard(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('dashboard', argv, {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    'base-path': { type: 'string' },
    'read-only': { type: 'boolean' },
    'no-auth': { type: 'boolean' },
  });
  if (positionals.length > 0)
    throw new UsageError(`dashboard takes no arguments, got ${JSON.stringify(positionals[0])}`);
  const port = intFlag('port', values.port, 0, 65535) ?? 3000;
  const username = ctx.env.QUEUE_DASHBOARD_USER;
  const password = ctx.env.QUEUE_DASHBOARD_PASSWORD;
  if (values['no-auth'] && (username || password)) {
    throw new UsageError('--no-auth and QUEUE_DASHBOARD_USER/QUEUE_DASHBOARD_PASSWORD contradict each other');
  }
  if (!values['no-auth'] && !(username && password)) {
    throw new UsageError(
      'the dashboard needs authentication: set QUEUE_DASHBOARD_USER and QUEUE_DASHBOARD_PASSWORD, or pass --no-auth for local use only',
    );
  }
  const queue = await openAdmin(globals(values), ctx.env);
  const stopped = untilSignal();
  let server: Awaited<ReturnType<typeof startDashboardServer>>;
  try {
    server = await startDashboardServer({
      queue,
      port,
      ...(values.host ? { host: values.host } : {}),
      ...(values['base-path'] ? { basePath: values['base-path'] } : {}),
      readOnly: values['read-only'] === true,
      ...(values['no-auth']
        ? { unsafeNoAuth: true }
        : { basicAuth: { username: username!, password: password! } }),
    });
  } catch (error) {
    stopped.cancel();
    await queue.close();
    const e = error as { code?: string; message?: string };
    if (e.code === 'EADDRINUSE')
      throw new CliError('CLI_PORT_IN_USE', EXIT.ERROR, `port ${port} is already in use`);
    throw toCliError(error);
  }
  ctx.out(`dashboard on ${server.url}${values['no-auth'] ? ' (no authentication: local use only)' : ''}`);
  await stopped.promise;
  await server.close();
  await queue.close();
  stopped.cancel();
  return EXIT.OK;
}
