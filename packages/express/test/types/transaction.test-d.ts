// req.tx in the types: only the handler transaction(handler) runs sees it. Compiled by vitest's
// typecheck against Express 5's typings, and by the package's typecheck script against Express
// 4's (tsconfig.express-4.json), so each assertion below holds on both.
import type { QueueError } from '@queue/core';
import express, { type RequestHandler } from 'express';
import type pg from 'pg';
import type { PoolClient } from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import {
  NoTransactionError,
  QueueAfterRoutesError,
  type TxHandler,
  type TxRequest,
  transaction,
} from '../../src/index.js';

declare const pool: pg.Pool;

describe('req.tx is typed only where transaction() applies', () => {
  it('the handler transaction(handler) runs gets req.tx as a PoolClient, with or without a pool', () => {
    const app = express();
    app.post(
      '/signup',
      transaction(async (req, res) => {
        expectTypeOf(req.tx).toEqualTypeOf<PoolClient>();
        await req.tx.query('SELECT 1');
        await req.queue.enqueue('sendEmail', { to: 'ada@example.com' }, { client: req.tx });
        res.status(201).end();
      }),
    );
    app.post(
      '/with-pool',
      transaction(pool, async (req, res, next) => {
        expectTypeOf(req.tx).toEqualTypeOf<PoolClient>();
        expectTypeOf(next).toBeFunction();
        res.end();
      }),
    );
  });

  it('a plain route does not see req.tx', () => {
    const app = express();
    app.post('/plain', async (req, res) => {
      // @ts-expect-error: no transaction() on this route, so no req.tx (at run time it throws NoTransactionError)
      await req.queue.enqueue('sendEmail', { to: 'ada@example.com' }, { client: req.tx });
      res.end();
    });
  });

  it('neither does a handler after the middleware form: Express types cannot carry it there', () => {
    const app = express();
    app.post('/middleware-form', transaction(), (req, res) => {
      // @ts-expect-error: set at run time, but only the handler form types it
      void req.tx;
      res.end();
    });
  });

  it('fits in a chain, on a router, and as a handler declared apart with TxHandler', () => {
    const validate: RequestHandler = (_req, _res, next) => next();
    const signup: TxHandler = async (req, res) => {
      expectTypeOf(req).toEqualTypeOf<TxRequest>();
      await req.tx.query('SELECT 1');
      res.status(201).end();
    };
    const router = express.Router();
    router.post('/signup', validate, transaction(pool, signup));
    express().use('/api', router);
  });

  it('takes the route params type explicitly (a wrapped handler is out of reach of Express route inference)', () => {
    express().get(
      '/users/:id',
      transaction<{ id: string }>(async (req, res) => {
        expectTypeOf(req.params.id).toEqualTypeOf<string>();
        expectTypeOf(req.tx).toEqualTypeOf<PoolClient>();
        res.end();
      }),
    );
  });

  it('takes the pool first, and nothing else than a pool or a handler', () => {
    const handler: TxHandler = (_req, res) => res.end();
    expectTypeOf(transaction(handler)).toMatchTypeOf<RequestHandler>();
    // @ts-expect-error: the pool comes first
    transaction(handler, pool);
    // @ts-expect-error: a connection string is not a pool
    transaction('postgres://localhost/app');
  });

  it('the errors are QueueErrors', () => {
    expectTypeOf(new NoTransactionError()).toMatchTypeOf<QueueError>();
    expectTypeOf(
      new QueueAfterRoutesError('routes registered before it: POST /x'),
    ).toMatchTypeOf<QueueError>();
  });
});
