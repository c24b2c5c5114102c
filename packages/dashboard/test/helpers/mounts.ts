import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import express from 'express';
import Fastify from 'fastify';
import { startDashboardServer } from '../../src/index.js';
import { queueDashboard as expressDashboard } from '../../src/mounts/express.js';
import { queueDashboard as fastifyDashboard } from '../../src/mounts/fastify.js';
import { QueueDashboardModule } from '../../src/mounts/nest.js';
import type { DashboardOptions } from '../../src/options.js';

export interface Mounted {
  /** The dashboard's URL, with its trailing slash. */
  url: string;
  close(): Promise<void>;
}

export type Mount = (options: DashboardOptions<any>) => Promise<Mounted>;

const PATH = '/admin/queue';

/** Each way of serving the dashboard, set up as an app would, listening on a free port. */
export const mounts: Record<'express' | 'fastify' | 'nest' | 'standalone', Mount> = {
  async express(options) {
    const app = express();
    // An app-wide JSON parser in front, as many apps have: the router must cope with a parsed body.
    app.use(express.json());
    app.use(PATH, expressDashboard(options));
    app.get('/', (_req, res) => {
      res.send('app home');
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}${PATH}/`,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
  },

  async fastify(options) {
    const app = Fastify();
    await app.register(fastifyDashboard, { prefix: PATH, ...options });
    app.get('/', async () => 'app home');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}${PATH}/`, close: () => app.close() };
  },

  async nest(options) {
    class AppModule {}
    Module({ imports: [QueueDashboardModule.forRoot({ path: 'admin/queue', ...options })] })(AppModule);
    const app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}${PATH}/`, close: () => app.close() };
  },

  async standalone(options) {
    const server = await startDashboardServer({ ...options, port: 0, basePath: PATH });
    return { url: server.url, close: () => server.close() };
  },
};
