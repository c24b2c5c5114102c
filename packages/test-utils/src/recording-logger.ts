import type { Logger } from '../../core/src/logger.js';

export interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/**
 * A logger that keeps every line; `next(pattern, operation?)` resolves on the first line, logged
 * already or to come, whose message matches (and whose `operation` field equals `operation`,
 * when given): tests wait on log lines instead of sleeping.
 */
export function recordingLogger() {
  const lines: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  const log =
    (level: string) =>
    (fields: object, msg = '') => {
      const line = { level, msg, fields: fields as Record<string, unknown> };
      lines.push(line);
      for (const w of waiters.filter((w) => w.match(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    };
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const next = (pattern: RegExp, operation?: string) =>
    new Promise<LogLine>((resolve) => {
      const match = (l: LogLine) =>
        pattern.test(l.msg) && (operation === undefined || l.fields.operation === operation);
      const seen = lines.find(match);
      if (seen) resolve(seen);
      else waiters.push({ match, resolve });
    });
  return { logger, lines, next };
}
