// Type-level only: checked by `tsc --noEmit` of @queue/test-utils (its `typecheck` script, run
// by `turbo run typecheck`), which fails on any expectation below that does not hold. The
// package's turbo.json lists the adapters' and core's sources as inputs of that task, so a
// change in an adapter re-runs it rather than replaying a cached pass.
import { describe, expectTypeOf, it } from 'vitest';
import type { Queue } from '../../core/src/index.js';
import type { ExpressQueueOptions } from '../../express/src/index.js';
import type { FastifyQueueOptions } from '../../fastify/src/index.js';
import type { QueueModuleOptions } from '../../nest/src/index.js';
import type { CommonAdapterOptions } from './adapter-options.js';

/** Written out rather than `keyof`, so that the mapped types below keep each `| undefined`. */
type Name = 'worker' | 'migrate' | 'queue' | 'handleSignals' | 'startupTimeout';

/** The type of option K in T, across its branches (your own `queue`, or the options to create one). */
type OptionOf<T, K extends PropertyKey> = T extends unknown ? (K extends keyof T ? T[K] : never) : never;

type Common<T> = { [K in Name]: OptionOf<T, K> };
type Expected = { [K in Name]: CommonAdapterOptions[K] };

describe('the options every adapter takes', () => {
  it('names every common option', () => {
    expectTypeOf<Name>().toEqualTypeOf<keyof CommonAdapterOptions>();
  });

  it('has the same names and types in @queue/express, @queue/fastify and @queue/nest', () => {
    expectTypeOf<Common<ExpressQueueOptions>>().toEqualTypeOf<Expected>();
    expectTypeOf<Common<FastifyQueueOptions>>().toEqualTypeOf<Expected>();
    expectTypeOf<Common<QueueModuleOptions>>().toEqualTypeOf<Expected>();
  });

  it('makes every option optional', () => {
    expectTypeOf<{}>().toExtend<ExpressQueueOptions>();
    expectTypeOf<{}>().toExtend<FastifyQueueOptions>();
    expectTypeOf<{}>().toExtend<QueueModuleOptions>();
  });

  it('takes either a queue or the options to create one, not both', () => {
    type Both = { queue: Queue; connectionString: string };
    expectTypeOf<Both>().not.toExtend<ExpressQueueOptions>();
    expectTypeOf<Both>().not.toExtend<FastifyQueueOptions>();
    expectTypeOf<Both>().not.toExtend<QueueModuleOptions>();
    type Own = { queue: Queue; worker: false; migrate: false; handleSignals: false };
    expectTypeOf<Own>().toExtend<ExpressQueueOptions>();
    expectTypeOf<Own>().toExtend<FastifyQueueOptions>();
    expectTypeOf<Own>().toExtend<QueueModuleOptions>();
  });
});
