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

/**
 * One transaction on one client, from @queue/nest: the client listens for 'error' while it is
 * out, so a Postgres restart mid-request fails the request instead of the process.
 */
export { withTransaction } from '@queue/nest';

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
