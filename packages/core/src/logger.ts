/**
 * The logger shape @queue accepts: pino's (and bunyan's, and most others'): a method per
 * level taking an optional object of fields and a message. `child` is used when present.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child?(bindings: object): Logger;
}

const levels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof levels)[number];

/** A console logger that prints `level` and above; the default prints warnings and errors. */
export function consoleLogger(level: LogLevel = 'warn', bindings: object = {}): Logger {
  const min = levels.indexOf(level);
  const make =
    (l: LogLevel) =>
    (obj: object, msg?: string): void => {
      if (levels.indexOf(l) < min) return;
      const fields = { ...bindings, ...obj };
      const line = `[@queue] ${l}: ${msg ?? ''}`;
      (l === 'error' ? console.error : l === 'warn' ? console.warn : console.log)(line, fields);
    };
  return {
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    child: (more: object) => consoleLogger(level, { ...bindings, ...more }),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

export function childLogger(logger: Logger, bindings: object): Logger {
  return logger.child ? logger.child(bindings) : logger;
}
