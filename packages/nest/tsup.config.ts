import { defineConfig } from 'tsup';
import { library } from '../../tsup.base.js';

// esbuild compiles the legacy decorators but emits no decorator metadata (tsup says it would
// need @swc/core for that). None is needed: every injection in src names its token.
export default defineConfig({ ...library, entry: ['src/index.ts'] });
