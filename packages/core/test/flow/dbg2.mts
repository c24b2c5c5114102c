import pg from 'pg';
import { Queue } from '../../src/index.js';
import { cycleSql, flowCycleSql } from '../../src/sql/cycle.js';
import { makeNames } from '../../src/sql/names.js';

const url = 'postgres://postgres@127.0.0.1:5432/test';
const queue = new Queue({ connectionString: url, schema: 'flowdbg', tasks: { work: async () => {} } });
await (queue as any).pool.query('DROP SCHEMA IF EXISTS flowdbg CASCADE');
await queue.migrate();
await queue.setLimits('default', { concurrency: 5 });
await queue.enqueueMany(Array.from({ length: 2000 }, () => ({ task: 'work' as const, payload: {} })));
const n = makeNames('flowdbg');
const c = new pg.Client(url);
await c.connect();
await c.query('SET plan_cache_mode = force_custom_plan');
const vals = (flow: boolean) => [
  [],
  [],
  [],
  [],
  [],
  [],
  [],
  'w',
  [],
  [],
  [],
  'default',
  ['work'],
  [],
  64,
  16,
  [],
  [],
  [],
  ...(flow ? [[], [], []] : []),
];
for (const [name, sql, flow] of [
  ['plain', cycleSql(n), false],
  ['flow', flowCycleSql(n), true],
] as const) {
  for (let i = 0; i < 3; i++) {
    const r = await c.query({ text: 'EXPLAIN (ANALYZE, SUMMARY ON) ' + sql, values: vals(flow) });
    const lines = r.rows.map((x: any) => x['QUERY PLAN']);
    if (i === 2)
      console.log(
        name,
        lines
          .filter((l: string) => /actual/.test(l))
          .map((l: string) => l.slice(0, 160))
          .join('\n'),
      );
    await c.query('SELECT pg_advisory_unlock_all()');
    await c.query('UPDATE flowdbg.jobs SET attempts = 0');
  }
}
await c.end();
await queue.close();
