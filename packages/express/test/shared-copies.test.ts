import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Each adapter ships its own copy of these files (they use only core's public API): checkout.ts
// (the pool clients of the app's own transactions do not belong in core) and adapter-options.ts
// (the options, defaults and errors the three adapters share). One copy, three places.
const copy = (pkg: string, file: string) =>
  readFileSync(new URL(`../../${pkg}/src/${file}`, import.meta.url), 'utf8');

describe.each(['checkout.ts', 'adapter-options.ts'])('%s', (file) => {
  it('is the same file in @queue/express, @queue/fastify and @queue/nest', () => {
    const express = copy('express', file);
    for (const pkg of ['fastify', 'nest']) {
      expect(
        copy(pkg, file),
        `packages/${pkg}/src/${file} differs: copy packages/express/src/${file} over it`,
      ).toBe(express);
    }
  });
});
