import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PEER_NAMES } from './peers/index.js';
import { formatTable, toJson } from './report.js';
import { runBench } from './runner.js';
import { WORKLOAD_NAMES } from './workloads/index.js';

const DEFAULT_OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'latest.json');

const HELP = `Usage: pnpm bench [options]

Runs the same workloads on @queue and its peers, each peer on its own fresh database on
the same Postgres, one after another, and prints a table of medians plus a JSON file.

Options:
  --smoke           small sizes, one round: a quick check that everything runs (CI)
  --rounds N        rounds of the repeated workloads (default 3; 1 with --smoke); scale runs once
  --only LIST       workloads, comma-separated: ${WORKLOAD_NAMES.join(', ')}
  --peers LIST      peers, comma-separated: ${PEER_NAMES.join(', ')}
  --out FILE        where to write the JSON (default apps/bench/results/latest.json)
  -h, --help        this text

Environment:
  DATABASE_URL      Postgres server to use; unset: an embedded Postgres is started
  REDIS_URL         Redis for BullMQ-on-Redis (default redis://127.0.0.1:6379); skipped if it does not answer
  BENCH_CPU_PROF    directory: write a V8 CPU profile of every worker process there
`;

function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      only: { type: 'string' },
      peers: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
  if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1))
    throw new Error('--rounds must be a positive integer');
  const result = await runBench({
    smoke: values.smoke,
    rounds,
    only: list(values.only),
    peers: list(values.peers),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const out = resolve(values.out ?? DEFAULT_OUT);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, toJson(result));
  process.stdout.write(
    `\n${formatTable(result)}\n\nJSON: ${out} (${result.meta.durationSeconds.toFixed(0)} s)\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
