// The Nest app of the lost-session tests, in this process (lost-session.test.ts) or in a
// real one (fixtures/lost-session-app.ts). Its route writes a row and a job in
// withTransaction, reports its session's backend pid, and then waits while the test ends that
// session with pg_terminate_backend. Every injection names its token: neither vitest's
// transform here nor tsx emits decorator metadata.
import { once } from 'node:events';
import { Body, Controller, Get, Inject, Module, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type Queue, silentLogger } from '@queue/core';
import pg from 'pg';
import { InjectQueue, QueueModule, withTransaction } from '../src/index.js';

const PG_POOL = 'PG_POOL';
const REPORT = 'REPORT';

/** `ok` commits; the others wait for the test to end the session, between two queries or in one. */
export type Mode = 'ok' | 'answers' | 'queries' | 'sleeps';

export interface Report {
  /** The route for `value` has written and waits on backend `pid`. */
  waiting(value: string, pid: number): void;
  /** A route in `ok` mode had this client, with these 'error' listeners while it was out. */
  checkedOut?(client: pg.PoolClient, listeners: Function[]): void;
}

@Controller('rows')
class RowsController {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @InjectQueue() private readonly queue: Queue,
    @Inject(REPORT) private readonly report: Report,
  ) {}

  @Post(':mode')
  async write(@Param('mode') mode: Mode, @Body() body: { value: string }) {
    await withTransaction(this.pool, async (client) => {
      await client.query('INSERT INTO rows (value) VALUES ($1)', [body.value]);
      await this.queue.enqueue('record', { value: body.value }, { client });
      if (mode === 'ok') this.report.checkedOut?.(client, client.listeners('error'));
      else await this.waitForLoss(client, body.value, mode);
    });
    return { value: body.value };
  }

  private async waitForLoss(client: pg.PoolClient, value: string, mode: Mode) {
    const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
    // The socket's 'close' comes after pg has read (and emitted) the session's end.
    const socket = (client as unknown as { connection: { stream: NodeJS.EventEmitter } }).connection.stream;
    const closed = once(socket, 'close');
    this.report.waiting(value, rows[0].pid);
    if (mode === 'sleeps') {
      await client.query('SELECT pg_sleep(600)');
      return;
    }
    await closed;
    if (mode === 'queries') await client.query('SELECT 1');
  }
}

@Controller('pool')
class PoolController {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool & { removed?: number[] }) {}

  @Get()
  stats() {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, removed: this.pool.removed };
  }
}

/** Boots the app on a free port; `close` ends it and its pool. */
export async function startLostSessionApp(databaseUrl: string, report: Report) {
  const pool = Object.assign(new pg.Pool({ connectionString: databaseUrl, max: 2 }), {
    removed: [] as number[],
  });
  // Backend pids of the clients the pool dropped.
  pool.on('remove', (client) => pool.removed.push((client as unknown as { processID: number }).processID));

  @Module({
    providers: [
      { provide: PG_POOL, useValue: pool },
      { provide: REPORT, useValue: report },
    ],
    exports: [PG_POOL, REPORT],
  })
  class SharedModule {}

  @Module({
    // The queue on the app's pool: core gives the pool an 'error' listener for idle clients.
    imports: [
      { module: SharedModule, global: true },
      QueueModule.forRootAsync({
        inject: [PG_POOL],
        useFactory: (appPool: pg.Pool) => ({ pool: appPool, worker: false, logger: silentLogger }),
      }),
    ],
    controllers: [RowsController, PoolController],
  })
  class LostSessionAppModule {}

  const app = await NestFactory.create(LostSessionAppModule, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return {
    baseUrl: await app.getUrl(),
    pool,
    close: async () => {
      await app.close();
      await pool.end();
    },
  };
}
