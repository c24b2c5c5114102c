import {
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { migrateDemo } from '@queue/demo-kit';
import pg from 'pg';
import { DEMO_CONFIG, type DemoConfig } from './config.js';

export const PG_POOL = 'PG_POOL';

/** Runs `work` in one transaction on one client: COMMIT when it resolves, ROLLBACK when it throws. */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

@Injectable()
class DatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** The demo's own tables; every onModuleInit runs before the queue's worker starts. */
  async onModuleInit() {
    await migrateDemo(this.pool);
  }

  /**
   * Not onModuleDestroy: Nest calls that before beforeApplicationShutdown, where the queue's
   * worker waits for running jobs, and those jobs still use this pool.
   */
  async onApplicationShutdown() {
    await this.pool.end();
  }
}

/** The app's own pg pool: users, and the transactions that enqueue jobs. */
@Module({
  providers: [
    {
      provide: PG_POOL,
      inject: [DEMO_CONFIG],
      useFactory: (config: DemoConfig) => {
        const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
        // An idle client that loses its connection emits 'error' on the pool; unhandled, it would crash the app.
        pool.on('error', (error) => new Logger('Database').warn(`idle connection lost: ${error.message}`));
        return pool;
      },
    },
    DatabaseLifecycle,
  ],
  exports: [PG_POOL],
})
export class DatabaseModule {}
