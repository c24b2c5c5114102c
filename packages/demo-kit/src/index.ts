export { geocodeInBackground } from './geocode.js';
export { DEMO_SCHEMA, migrateDemo } from './schema.js';
export type { Signup, SignupCheck } from './signup.js';
export { answers, insertUser, parseSignup } from './signup.js';
export type { DemoTaskOptions, DemoTasks, UserRef } from './tasks.js';
export { demoTasks } from './tasks.js';
