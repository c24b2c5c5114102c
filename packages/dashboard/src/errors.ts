/**
 * Every error the dashboard raises on purpose has a stable `code` and the HTTP status it
 * answers with, so a mount can turn it into a response without knowing which one it is.
 */
export class DashboardError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** The dashboard's options are invalid; thrown when it is created, never per request. */
export class DashboardConfigError extends DashboardError {
  constructor(message: string) {
    super('DASHBOARD_CONFIG', 500, message);
  }
}

/** No credentials, wrong ones, or no authentication configured at all. */
export class UnauthorizedError extends DashboardError {
  constructor(message: string) {
    super('DASHBOARD_UNAUTHORIZED', 401, message);
  }
}

/** An action arrived without a valid CSRF token, or from another site. */
export class CsrfError extends DashboardError {
  constructor(message: string) {
    super('DASHBOARD_CSRF', 403, message);
  }
}

/** An action was attempted on a read-only dashboard (or by a read-only user). */
export class ReadOnlyError extends DashboardError {
  constructor() {
    super('DASHBOARD_READ_ONLY', 403, 'this dashboard is read-only: actions are disabled');
  }
}

/** A query parameter, path parameter or body is malformed. */
export class BadRequestError extends DashboardError {
  constructor(message: string) {
    super('DASHBOARD_BAD_REQUEST', 400, message);
  }
}

/** No such page, API route or job. */
export class NotFoundError extends DashboardError {
  constructor(message: string, code = 'DASHBOARD_NOT_FOUND') {
    super(code, 404, message);
  }
}
