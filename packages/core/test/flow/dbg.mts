import { consoleLogger, Queue } from '../../src/index.js';

const url = 'postgres://postgres@127.0.0.1:5432/test';
const queue = new Queue({
  connectionString: url,
  schema: 'flowdbg',
  tasks: {
    work: async () => {
      await new Promise((r) => setTimeout(r, 20));
    },
  },
});
await (queue as any).pool.query('DROP SCHEMA IF EXISTS flowdbg CASCADE');
await queue.migrate();
await queue.setLimits('default', { concurrency: 5 });
await queue.enqueueMany(Array.from({ length: 200 }, () => ({ task: 'work' as const, payload: {} })));
const ws = [1, 2].map(() => queue.worker({ concurrency: 16, logger: consoleLogger() }));
let done = 0;
let claims = 0;
for (const w of ws) {
  w.on('completed', () => done++);
  w.on('claimed', () => claims++);
}
const times: Record<string, number[]> = {};
for (const w of ws) {
  const c = (w as any).claimer;
  const orig = c.query.bind(c);
  c.query = async (name: string, v: unknown[]) => {
    const t = performance.now();
    try {
      return await orig(name, v);
    } finally {
      (times[name] ??= []).push(performance.now() - t);
    }
  };
}
const t0 = Date.now();
await Promise.all(ws.map((w) => w.start()));
while (done < 200) await new Promise((r) => setTimeout(r, 10));
console.log('done', done, 'ms', Date.now() - t0, 'claims', claims);
for (const [k, v] of Object.entries(times))
  console.log(k, v.length, (v.reduce((a, b) => a + b, 0) / v.length).toFixed(2), Math.max(...v).toFixed(1));
await queue.close();
