export { useTestDatabase, useEmptyDatabase, heldAdvisoryLocks, expectNoAdvisoryLocks } from './database.js';
export type { TestDatabase } from './database.js';
export { waitFor, nextEvent } from './wait.js';
export { runAdapterContract } from './adapter-contract.js';
export type { AdapterHarness, AppOptions, RunningApp } from './adapter-contract.js';
