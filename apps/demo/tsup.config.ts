import { defineConfig } from 'tsup';

export default defineConfig({
  // main.js is the demo; app.js is "the app" it starts, kills and starts again as a child process.
  entry: ['src/main.ts', 'src/app.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'node20',
});
