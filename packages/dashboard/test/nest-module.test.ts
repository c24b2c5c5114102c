/**
 * QueueDashboardModule is built like @queue/nest's QueueModule, on Nest's
 * ConfigurableModuleBuilder: forRoot(options), and forRootAsync with useFactory (inject,
 * imports), useClass or useExisting. Every way serves the dashboard at the `path` its options
 * give, and a bad path fails the app's start.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { type DynamicModule, type INestApplication, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue, silentLogger } from '@queue/core';
import { useTestDatabase } from '@queue/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DashboardConfigError } from '../src/errors.js';
import {
  QueueDashboardModule,
  type QueueDashboardModuleOptions,
  type QueueDashboardOptionsFactory,
} from '../src/mounts/nest.js';

const db = useTestDatabase();
const QUEUE = 'QUEUE';
let queue: Queue;
beforeAll(() => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
});
afterAll(() => queue.close());

const apps: INestApplication[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

// Decorators applied as functions: this package's tests compile without decorator support.
class QueueHolder {}
Module({ providers: [{ provide: QUEUE, useFactory: () => queue }], exports: [QUEUE] })(QueueHolder);

/** Boots an app with `dashboard` imported; resolves with the base URL, or with the boot's error. */
async function serve(dashboard: DynamicModule): Promise<string | Error> {
  class AppModule {}
  Module({ imports: [dashboard] })(AppModule);
  try {
    const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  } catch (error) {
    return error as Error;
  }
}

/** The dashboard answers at `path` (401: closed without credentials), and only there. */
async function expectServedAt(base: string | Error, path: string) {
  if (base instanceof Error) throw base;
  expect((await fetch(`${base}/${path}/`)).status).toBe(401);
  expect((await fetch(`${base}/elsewhere/`)).status).toBe(404);
}

describe('QueueDashboardModule', () => {
  it('forRoot(options)', async () => {
    await expectServedAt(
      await serve(QueueDashboardModule.forRoot({ path: 'admin/queue', queue })),
      'admin/queue',
    );
  });

  it('forRootAsync with useFactory, inject and imports: the path comes from the factory too', async () => {
    const module = QueueDashboardModule.forRootAsync({
      imports: [QueueHolder],
      inject: [QUEUE],
      useFactory: async (q: Queue) => ({ path: 'ops/jobs', queue: q }),
    });
    await expectServedAt(await serve(module), 'ops/jobs');
  });

  it('forRootAsync with useClass', async () => {
    class DashboardConfig implements QueueDashboardOptionsFactory {
      constructor(private readonly q: Queue) {}
      createDashboardOptions(): QueueDashboardModuleOptions {
        return { path: 'admin/queue', queue: this.q };
      }
    }
    Inject(QUEUE)(DashboardConfig, undefined as unknown as string, 0);
    Injectable()(DashboardConfig);
    const module = QueueDashboardModule.forRootAsync({ imports: [QueueHolder], useClass: DashboardConfig });
    await expectServedAt(await serve(module), 'admin/queue');
  });

  it('a bad path fails the start with DashboardConfigError', async () => {
    const error = await serve(QueueDashboardModule.forRoot({ path: 'admin/*', queue }));
    expect(error).toBeInstanceOf(DashboardConfigError);
    expect((error as Error).message).toMatch(/path must be a plain path/);
  });
});
