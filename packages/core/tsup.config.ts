import { defineConfig } from 'tsup';
import { library } from '../../tsup.base.js';

export default defineConfig({
  ...library,
  entry: ['src/index.ts'],
  // Gives the CommonJS build an import.meta.url, which locates the migrations folder.
  shims: true,
});
