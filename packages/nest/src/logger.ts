import { Logger as NestLogger } from '@nestjs/common';
import type { Logger } from '@queue/core';

/**
 * The queue's logger shape (pino's: fields, then message) on top of Nest's Logger, so the
 * queue's lines follow `app.useLogger()`, log levels and `logger: false` like the app's own.
 */
export function nestLogger(context = 'Queue'): Logger {
  const nest = new NestLogger(context);
  const line = (fields: object, message = '') => {
    if (Object.keys(fields).length === 0) return message;
    try {
      return `${message} ${JSON.stringify(fields, (_key, v) => (typeof v === 'bigint' ? String(v) : v))}`;
    } catch {
      return `${message} ${String(fields)}`;
    }
  };
  return {
    debug: (fields, message) => nest.debug(line(fields, message)),
    info: (fields, message) => nest.log(line(fields, message)),
    warn: (fields, message) => nest.warn(line(fields, message)),
    error: (fields, message) => nest.error(line(fields, message)),
  };
}
