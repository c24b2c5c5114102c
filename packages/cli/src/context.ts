/** What a command may touch: its environment and its streams (tests and embedders pass their own). */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  out(text: string): void;
  err(text: string): void;
  /** All of standard input as text (`queue enqueue <task> -`). Absent: reading stdin is refused. */
  readStdin?(): Promise<string>;
  /** True when stdout is a terminal: `queue list` then prints an aligned table that fits `columns`. */
  isTTY?: boolean;
  /** Width of the terminal, when stdout is one. */
  columns?: number;
}

export function processContext(): CliContext {
  return {
    env: process.env,
    cwd: process.cwd(),
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    readStdin: async () => {
      process.stdin.setEncoding('utf8');
      let text = '';
      for await (const chunk of process.stdin) text += chunk;
      return text;
    },
    isTTY: process.stdout.isTTY === true,
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
  };
}
