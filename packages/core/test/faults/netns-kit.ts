/**
 * Worker "hosts" for the multi-host fault scenarios (20-23): each is a network namespace of
 * its own, joined to this machine by a veth pair. Postgres runs here, in the root namespace;
 * a worker started inside a namespace reaches it over that link, which the test can take
 * down, make lossy or cut. Everything is created by the test and torn down by it.
 *
 * Names carry this process' pid (`qfault-<pid>-<i>`, `qf<pid>h<i>`), so that parallel test
 * files never collide and leftovers of a crashed run can be told apart and removed.
 */
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';

/** Set to 1 to skip the multi-host scenarios on a machine that cannot create namespaces. */
export const SKIP_NETNS_ENV = 'QUEUE_TEST_SKIP_NETNS';
export const skipNetns = process.env[SKIP_NETNS_ENV] === '1';

export interface Host {
  label: string;
  /** The namespace's name. */
  ns: string;
  /** The worker's address, inside its namespace. */
  addr: string;
  /** This machine's end of the link: where Postgres (or a relay) listens for this host. */
  gateway: string;
  hostIf: string;
  nsIf: string;
  /** argv prefix that runs a command inside the namespace. */
  exec: string[];
  /** The host's network interface goes down (its routes with it) or comes back. */
  linkDown(): Promise<void>;
  linkUp(): Promise<void>;
  /**
   * Drops `percent`% of the IPv4 packets on the link, in each direction, as they arrive at
   * the far end (so no sender learns of it): 100 is a silent partition, 0 heals it. ARP is
   * left alone, as a broken router would leave the local segment.
   */
  loss(percent: number): Promise<void>;
  /** IPv4 packets that reached the loss filters since the last loss() call, and how many they dropped. */
  lossCounts(): Promise<{ seen: number; dropped: number }>;
}

export interface Network {
  hosts: Host[];
  /** The /24 all links are carved from, e.g. 10.213.57.0/24 (for pg_hba.conf). */
  subnet: string;
  /** Removes every namespace, link and filter it created. Safe twice. */
  destroy(): Promise<void>;
}

/** Runs a command; rejects with its argv and stderr when it fails. */
export function run(argv: string[], input?: string, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      err += d;
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`\`${argv.join(' ')}\` could not run: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`\`${argv.join(' ')}\` failed (${signal ?? `exit ${code}`}): ${err.trim()}`));
    });
    if (input !== undefined) {
      child.stdin!.on('error', () => {}); // the command's exit status tells what went wrong
      child.stdin!.end(input);
    }
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Why this machine cannot run the scenarios, or undefined when it can. The message names the
 * opt-out, so that a failing run says how to skip them knowingly.
 */
export async function netnsUnavailable(): Promise<string | undefined> {
  const optOut = `set ${SKIP_NETNS_ENV}=1 to skip the multi-host scenarios`;
  if (process.platform !== 'linux')
    return `network namespaces need Linux, this is ${process.platform}; ${optOut}`;
  if (userInfo().uid !== 0)
    return `creating network namespaces needs root (uid is ${userInfo().uid}); ${optOut}`;
  try {
    await run(['ip', '-V']);
  } catch (error) {
    return `the \`ip\` command is missing (apt-get install -y iproute2): ${(error as Error).message}; ${optOut}`;
  }
  return undefined;
}

/**
 * Makes sure `nft` is there (the loss and partition filters need it): installs Debian's
 * nftables package when missing and we are root, or fails with the command that fixes it.
 */
export async function ensureNft(): Promise<void> {
  try {
    await run(['nft', '--version']);
    return;
  } catch {}
  const fix = 'apt-get install -y --no-install-recommends nftables';
  try {
    await run(['sh', '-c', `DEBIAN_FRONTEND=noninteractive ${fix}`], undefined, 180_000);
    await run(['nft', '--version']);
  } catch (error) {
    throw new Error(
      `nft (nftables) is needed to drop packets on the link and could not be installed; run \`${fix}\` ` +
        `as root, or set ${SKIP_NETNS_ENV}=1 to skip the multi-host scenarios. ${(error as Error).message}`,
    );
  }
}

/** Removes namespaces, links and filter tables left by an earlier run whose process is gone. */
async function removeLeftovers(): Promise<void> {
  const namespaces = (await run(['ip', 'netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '');
  for (const ns of namespaces) {
    const m = /^qfault-(\d+)-\d+$/.exec(ns);
    if (m && !alive(Number(m[1]))) await run(['ip', 'netns', 'del', ns]).catch(() => {});
  }
  const links = await run(['ip', '-o', 'link', 'show']);
  for (const m of links.matchAll(/^\d+: (qf(\d+)h\d+)[@:]/gm)) {
    if (!alive(Number(m[2]))) await run(['ip', 'link', 'del', m[1]!]).catch(() => {});
  }
  const tables = await run(['nft', 'list', 'tables', 'netdev']).catch(() => '');
  for (const m of tables.matchAll(/^table netdev (qfault_(\d+)_\d+)$/gm)) {
    if (!alive(Number(m[2]))) await run(['nft', 'delete', 'table', 'netdev', m[1]!]).catch(() => {});
  }
}

/** A 10.213.x.0/24 that no interface or route here uses yet. */
async function freeSubnet(): Promise<number> {
  const used = `${await run(['ip', '-4', '-o', 'addr', 'show'])}\n${await run(['ip', '-4', 'route', 'show', 'table', 'all'])}`;
  for (let tries = 0; tries < 64; tries++) {
    const x = Math.floor(Math.random() * 256);
    if (!used.includes(`10.213.${x}.`)) return x;
  }
  throw new Error('no free 10.213.x.0/24 subnet for the test links after 64 tries');
}

/** Creates one namespace per label, each linked to this machine by its own /30. */
export async function createNetwork(labels: string[]): Promise<Network> {
  const reason = await netnsUnavailable();
  if (reason) throw new Error(reason);
  await removeLeftovers();
  const x = await freeSubnet();
  const pid = process.pid;
  const undo: (() => Promise<unknown>)[] = [];
  let destroyed: Promise<void> | undefined;
  const destroy = () => {
    destroyed ??= (async () => {
      const errors: string[] = [];
      for (const step of undo.splice(0).reverse()) await step().catch((e: Error) => errors.push(e.message));
      if (errors.length > 0) throw new Error(`network teardown: ${errors.join('; ')}`);
    })();
    return destroyed;
  };
  try {
    const hosts: Host[] = [];
    for (const [i, label] of labels.entries()) {
      const ns = `qfault-${pid}-${i}`;
      const hostIf = `qf${pid}h${i}`;
      const nsIf = `qf${pid}n${i}`;
      const gateway = `10.213.${x}.${4 * i + 1}`;
      const addr = `10.213.${x}.${4 * i + 2}`;
      const exec = ['ip', 'netns', 'exec', ns];
      await run(['ip', 'netns', 'add', ns]);
      undo.push(() => run(['ip', 'netns', 'del', ns]));
      await run(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
      // Deleting one end deletes the pair; done before the namespace goes, so that nothing is
      // left to the kernel's deferred namespace cleanup.
      undo.push(() => run(['ip', 'link', 'del', hostIf]));
      await run(['ip', 'link', 'set', nsIf, 'netns', ns]);
      await run(['ip', 'addr', 'add', `${gateway}/30`, 'dev', hostIf]);
      await run(['ip', 'link', 'set', hostIf, 'up']);
      await run(['ip', '-n', ns, 'addr', 'add', `${addr}/30`, 'dev', nsIf]);
      await run(['ip', '-n', ns, 'link', 'set', nsIf, 'up']);
      await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      // The loss filters: at each end's ingress, so that the sender's kernel counts the packet
      // as sent and only TCP's retransmission notices, as with loss on a wire.
      const hostTable = `qfault_${pid}_${i}`;
      let filtered = false;
      const filter = async (percent: number) => {
        if (!filtered) {
          await ensureNft();
          undo.push(() => run(['nft', 'delete', 'table', 'netdev', hostTable]));
          filtered = true;
        }
        const drop =
          percent >= 100
            ? 'meta protocol ip counter drop'
            : percent > 0
              ? `meta protocol ip numgen random mod 100 < ${Math.round(percent)} counter drop`
              : '';
        // The first rule counts every IPv4 packet, the second (if any) the ones it drops.
        const script = (table: string, dev: string) =>
          [
            `add table netdev ${table}`,
            `add chain netdev ${table} in { type filter hook ingress device "${dev}" priority 0; policy accept; }`,
            `flush chain netdev ${table} in`,
            `add rule netdev ${table} in meta protocol ip counter`,
            ...(drop ? [`add rule netdev ${table} in ${drop}`] : []),
          ].join('\n');
        await run(['nft', '-f', '-'], script(hostTable, hostIf));
        await run([...exec, 'nft', '-f', '-'], script('qfault', nsIf));
      };
      hosts.push({
        label,
        ns,
        addr,
        gateway,
        hostIf,
        nsIf,
        exec,
        linkDown: () => run(['ip', '-n', ns, 'link', 'set', nsIf, 'down']).then(() => {}),
        linkUp: () => run(['ip', '-n', ns, 'link', 'set', nsIf, 'up']).then(() => {}),
        loss: filter,
        async lossCounts() {
          let seen = 0;
          let dropped = 0;
          for (const argv of [
            ['nft', 'list', 'chain', 'netdev', hostTable, 'in'],
            [...exec, 'nft', 'list', 'chain', 'netdev', 'qfault', 'in'],
          ]) {
            const counters = [...(await run(argv)).matchAll(/counter packets (\d+) bytes \d+( drop)?/g)];
            for (const c of counters) {
              if (c[2]) dropped += Number(c[1]);
              else seen += Number(c[1]);
            }
          }
          return { seen, dropped };
        },
      });
    }
    return { hosts, subnet: `10.213.${x}.0/24`, destroy };
  } catch (error) {
    await destroy().catch(() => {});
    throw error;
  }
}
