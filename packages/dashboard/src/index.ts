export { Dashboard, createDashboard } from './dashboard.js';
export type { DashboardOptions, AuthResult } from './options.js';
export type { DashboardRequest, DashboardResponse } from './http.js';
export type { Route, RouteContext } from './router.js';
export { dashboardListener, startDashboardServer } from './standalone.js';
export type { NodeDashboardOptions, StandaloneOptions, StandaloneServer } from './standalone.js';
export { handleNode, pathBelow, normalizeMount } from './node.js';
export * from './errors.js';
export { CSRF_COOKIE, CSRF_HEADER } from './security/csrf.js';
