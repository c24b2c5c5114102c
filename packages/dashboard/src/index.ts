export { createDashboard, Dashboard } from './dashboard.js';
export * from './errors.js';
export type { DashboardRequest, DashboardResponse } from './http.js';
export { handleNode, normalizeMount, pathBelow } from './node.js';
export type { AuthResult, DashboardOptions, MetricsSource } from './options.js';
export type { Route, RouteContext } from './router.js';
export { CSRF_COOKIE, CSRF_HEADER } from './security/csrf.js';
export type { NodeDashboardOptions, StandaloneOptions, StandaloneServer } from './standalone.js';
export { dashboardListener, startDashboardServer } from './standalone.js';
