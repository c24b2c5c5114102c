export type { AdapterHarness, AppOptions, RunningApp } from './adapter-contract.js';
export { runAdapterContract } from './adapter-contract.js';
export type { TestDatabase } from './database.js';
export { expectNoAdvisoryLocks, heldAdvisoryLocks, useEmptyDatabase, useTestDatabase } from './database.js';
export { nextEvent, waitFor } from './wait.js';
