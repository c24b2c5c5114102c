// Tokens are strings, not symbols or classes: an app that loads both the ESM and the CJS
// build of this package (the dual-package hazard) still agrees on them.
/** Injection token of the app's `Queue`. */
export const QUEUE = '@queue/nest:Queue';
/** Injection token of the app's `Worker`, or `null` when the module runs with `worker: false`. */
export const QUEUE_WORKER = '@queue/nest:Worker';
/** The tasks discovered in the app (explorer.ts). */
export const REGISTRY = '@queue/nest:TaskRegistry';
