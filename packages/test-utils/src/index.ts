export type { AdapterHarness, AppOptions, RunningApp } from './adapter-contract.js';
export { runAdapterContract } from './adapter-contract.js';
export type { TestDatabase } from './database.js';
export { expectNoAdvisoryLocks, heldAdvisoryLocks, useEmptyDatabase, useTestDatabase } from './database.js';
export type { Sample } from './exposition.js';
export { parseExposition, sampleValue } from './exposition.js';
export type { LostSessionHarness } from './lost-session-suite.js';
export { runLostSessionSuite } from './lost-session-suite.js';
export type { MetricsHarness } from './metrics-contract.js';
export { runMetricsContract } from './metrics-contract.js';
export type { Prerequisite } from './prerequisites.js';
export {
  CHROMIUM,
  optedOut,
  optOutsInEffect,
  PGBOUNCER,
  requirePrerequisite,
  titleWithOptOut,
} from './prerequisites.js';
export type { LogLine } from './recording-logger.js';
export { recordingLogger } from './recording-logger.js';
export { nextEvent, waitFor } from './wait.js';
