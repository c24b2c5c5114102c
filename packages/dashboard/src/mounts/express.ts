import express, { type Request, type Router } from 'express';
import { Dashboard } from '../dashboard.js';
import { handleNode, pathnameOf } from '../node.js';
import type { DashboardOptions } from '../options.js';

export type ExpressDashboardOptions = DashboardOptions<Request>;

/**
 * An Express router serving the dashboard wherever you mount it:
 * `app.use('/admin/queue', queueDashboard({ queue, auth: (req) => req.user?.isAdmin === true }))`.
 * It reads action bodies itself, so it works with or without `express.json()` in front.
 */
export function queueDashboard(options: ExpressDashboardOptions): Router {
  const dashboard = new Dashboard(options);
  const router = express.Router();
  router.use((req, res) => {
    // Inside a mount Express strips the mount path from req.url; originalUrl keeps it.
    const relative = pathnameOf(req.url);
    void handleNode(dashboard, req, res, relative, pathnameOf(req.originalUrl), req);
  });
  return router;
}

export type { DashboardOptions };
export { Dashboard };
