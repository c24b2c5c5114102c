/** What a command may touch: its environment and its output streams (tests and embedders pass their own). */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  out(text: string): void;
  err(text: string): void;
}

export function processContext(): CliContext {
  return {
    env: process.env,
    cwd: process.cwd(),
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  };
}
