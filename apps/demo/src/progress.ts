/** One status line: redrawn in place on a terminal, printed every second otherwise (CI logs). */
export function progressLine(total: number) {
  const tty = process.stdout.isTTY === true;
  let lastPrint = 0;
  return {
    update(label: string, done: number, force = false) {
      const now = Date.now();
      if (!force && now - lastPrint < (tty ? 80 : 1000)) return;
      lastPrint = now;
      const width = 30;
      const filled = Math.round((done / total) * width);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
      const text = `${label.padEnd(9)} [${bar}] ${String(done).padStart(String(total).length)}/${total}`;
      if (tty) process.stdout.write(`\r${text}`);
      else process.stdout.write(`${text}\n`);
    },
    end() {
      if (tty) process.stdout.write('\n');
    },
  };
}
