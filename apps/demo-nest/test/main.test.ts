import { runDemoMainSuite } from '@queue/demo-kit/main-suite';
import { waitFor } from '@queue/test-utils';
import { expect, it } from 'vitest';

/**
 * main.ts as `pnpm start` really runs it: under tsx, whose esbuild emits no decorator metadata,
 * so this fails if any injection lacks its @Inject() token. After SIGTERM it ends by the
 * signal, re-raised once the app and the queue have stopped.
 */
runDemoMainSuite({
  name: 'nest',
  appDir: new URL('..', import.meta.url),
  main: 'src/main.ts',
  listening: /listening on (\S+)/,
  exit: 'SIGTERM',
  moreTests({ db, withMain }) {
    it('main.ts serves a signup under tsx and exits cleanly on SIGTERM', async () => {
      const output = await withMain({}, async (output, { origin }) => {
        const res = await fetch(`${origin}/signup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'main@example.com', name: 'Main' }),
        });
        expect(res.status, output()).toBe(201);
        const { id } = (await res.json()) as { id: string };
        await waitFor(
          'the welcome email',
          async () => (await db.query('SELECT 1 FROM sent_emails WHERE user_id = $1', [id])).length,
        );
      });
      // QueueModule's handleSignals took the signal: the HTTP server first, then the worker and the queue.
      expect(output).toContain('closing the server on signal {"signal":"SIGTERM"}');
    });
  },
});
