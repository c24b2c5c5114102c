export { run } from './run.js';
export type { CliContext } from './context.js';
export { CliError, UsageError, DatabaseError, EXIT } from './errors.js';
