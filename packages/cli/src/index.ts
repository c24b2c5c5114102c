export type { CliContext } from './context.js';
export { CliError, DatabaseError, EXIT, UsageError } from './errors.js';
export { run } from './run.js';
