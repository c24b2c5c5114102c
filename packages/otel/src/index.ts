export { ATTR, type Outcome, SYSTEM } from './attributes.js';
export { type QueueInstrumentationOptions, queueInstrumentation } from './instrumentation.js';
export { fromMeta, type StoredTraceContext, TRACE_META_KEY, toStored } from './trace-context.js';
