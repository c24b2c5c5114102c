#!/usr/bin/env node
/**
 * Runs first in `pnpm test`: makes sure the programs some tests drive are on this machine.
 * As root on Debian/Ubuntu it installs what is missing with apt; elsewhere it stops with one
 * line that names the command that fixes it. A test whose program is missing would fail
 * anyway (never skip); this only says so before a 2-minute build instead of after it.
 *
 * Each prerequisite has an opt-out variable: set to 1, its tests are skipped, and the run's
 * summary names the opt-out.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const prerequisites = [
  {
    what: 'Chromium (dashboard browser tests)',
    found: () => (process.env.CHROMIUM_PATH ? executable(process.env.CHROMIUM_PATH) : onPath('chromium')),
    apt: 'chromium',
    optOut: 'QUEUE_TEST_SKIP_BROWSER',
    elsewhere: 'install Chromium and set CHROMIUM_PATH to its executable',
  },
  {
    what: 'iproute2 and nftables (fault scenarios 20-23: worker hosts in network namespaces)',
    found: () =>
      (onPath('ip') || executable('/usr/sbin/ip')) && (onPath('nft') || executable('/usr/sbin/nft')),
    apt: 'iproute2 nftables',
    optOut: 'QUEUE_TEST_SKIP_NETNS',
    elsewhere: 'run the tests as root on Linux with iproute2 and nftables installed',
    // Network namespaces need root (CAP_NET_ADMIN) whatever is installed.
    needsRoot: true,
  },
  {
    what: 'PgBouncer (fault scenario 18, transaction-mode pooler)',
    found: () => onPath('pgbouncer') || executable('/usr/sbin/pgbouncer'),
    apt: 'pgbouncer',
    optOut: 'QUEUE_TEST_SKIP_PGBOUNCER',
    elsewhere: 'install pgbouncer (brew install pgbouncer, apt-get install pgbouncer)',
  },
];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && executable(`${dir}/${name}`));
}

const root = process.getuid?.() === 0;
const missing = prerequisites.filter((p) => process.env[p.optOut] !== '1' && !p.found());
const canApt = root && onPath('apt-get');

if (missing.length > 0 && canApt) {
  const packages = missing.flatMap((p) => p.apt.split(' '));
  console.log(
    `[test] installing ${packages.join(', ')} with apt-get (needed by: ${missing.map((p) => p.what).join('; ')})`,
  );
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (error) {
    console.error(`[test] apt-get install ${packages.join(' ')} failed: ${error.message.split('\n')[0]}`);
    process.exit(1);
  }
}

const still = prerequisites.filter((p) => process.env[p.optOut] !== '1' && !p.found());
for (const p of still) {
  const fix = onPath('apt-get') ? `sudo apt-get install ${p.apt}` : p.elsewhere;
  console.error(`[test] missing ${p.what}: ${fix}, or set ${p.optOut}=1 to skip those tests.`);
}
const unprivileged = root ? [] : prerequisites.filter((p) => p.needsRoot && process.env[p.optOut] !== '1');
for (const p of unprivileged) {
  console.error(`[test] ${p.what} need root: run the tests as root, or set ${p.optOut}=1 to skip them.`);
}
still.push(...unprivileged);
for (const p of prerequisites.filter((x) => process.env[x.optOut] === '1')) {
  console.log(`[test] opted out: ${p.optOut}=1 skips the tests that need ${p.what}`);
}
if (still.length > 0) process.exit(1);
