export {
  type EnqueuedFilter,
  type ExpectEnqueuedOptions,
  expectEnqueued,
  expectNotEnqueued,
} from './assertions.js';
export {
  type DrainedJob,
  type DrainOptions,
  type DrainOutcome,
  type DrainReport,
  drain,
} from './drain.js';
export { DrainIncompleteError, EnqueueAssertionError } from './errors.js';
export { type QueueTesting, queueTesting } from './harness.js';
export { type InlineMode, type InlineOptions, inline } from './inline.js';
export type { EnqueuedJob, LiveState } from './jobs.js';
export { type AsymmetricMatcher, type Matcher, matches, type Predicate } from './match.js';
export { withRollback } from './rollback.js';
