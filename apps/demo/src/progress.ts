import cliProgress from 'cli-progress';

export interface Bar {
  update(value: number): void;
}

export interface Bars {
  add(label: string, total: number): Bar;
  /** A line above the bars (on a terminal) or in the log (otherwise). */
  log(line: string): void;
  /** Draws the bars' final values and ends the group. */
  stop(): void;
}

const format = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * A group of progress bars. On a terminal they are redrawn in place (10 times a second at
 * most); when stdout is not a terminal (CI, a pipe) all bars are printed every 2 s and once
 * at the end, so a 20 s run writes a few dozen lines, not one per update.
 */
export function progressBars(labelWidth: number): Bars {
  const tty = process.stdout.isTTY === true;
  const multi = new cliProgress.MultiBar({
    stream: process.stdout,
    noTTYOutput: true,
    notTTYSchedule: 2_000,
    fps: 10,
    barsize: 30,
    hideCursor: tty,
    format: (options, params, payload: { label: string }) => {
      const size = options.barsize ?? 30;
      const filled = Math.min(size, Math.round(params.progress * size));
      const bar = '#'.repeat(filled) + '.'.repeat(size - filled);
      const total = format(params.total);
      return `  ${payload.label.padEnd(labelWidth)} [${bar}] ${format(params.value).padStart(total.length)}/${total}`;
    },
  });
  let stopped = false;
  return {
    add(label, total) {
      const bar = multi.create(total, 0, { label });
      return { update: (value) => bar.update(value) };
    },
    log(line) {
      // Off a terminal the bars print on a timer; a direct line keeps its place in the log.
      // cli-progress clears only the first line of what it flushes: clear each line's tail.
      if (tty) multi.log(`${line}\x1b[K\n`);
      else console.log(line);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (tty) multi.update(); // flushes lines logged since the last redraw
      multi.stop();
    },
  };
}
