import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Each adapter ships its own copy of checkout.ts (they use only core's public API, and core
// is not where pool clients of the app's own transactions belong). One copy, three places.
const copy = (pkg: string) => readFileSync(new URL(`../../${pkg}/src/checkout.ts`, import.meta.url), 'utf8');

describe('checkout.ts', () => {
  it('is the same file in @queue/express, @queue/fastify and @queue/nest', () => {
    const express = copy('express');
    expect(
      copy('fastify'),
      'packages/fastify/src/checkout.ts differs: copy packages/express/src/checkout.ts over it',
    ).toBe(express);
    expect(
      copy('nest'),
      'packages/nest/src/checkout.ts differs: copy packages/express/src/checkout.ts over it',
    ).toBe(express);
  });
});
