/**
 * An asymmetric matcher as vitest and jest make them (`expect.any(String)`,
 * `expect.stringContaining('@')`, `expect.objectContaining({…})`): any object with an
 * `asymmetricMatch` method. Recognised by that method alone, so neither framework is needed
 * at runtime and both work.
 */
export interface AsymmetricMatcher {
  asymmetricMatch(actual: unknown): boolean;
}

/** A predicate at any place of an expected value: JSON payloads hold no functions, so it cannot be data. */
export type Predicate<T> = (actual: T) => boolean;

/**
 * What an expected value may be for an actual value of type T: the value itself; for an
 * object, any subset of its keys, each matched the same way (a partial match); for an array,
 * one matcher per element (same length); or, anywhere, an asymmetric matcher or a predicate.
 */
export type Matcher<T> =
  | AsymmetricMatcher
  | Predicate<T>
  | (unknown extends T
      ? unknown
      : T extends Date
        ? Date
        : T extends readonly (infer E)[]
          ? readonly Matcher<E>[]
          : T extends object
            ? { [K in keyof T]?: Matcher<T[K]> }
            : T);

export function isAsymmetric(value: unknown): value is AsymmetricMatcher {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { asymmetricMatch?: unknown }).asymmetricMatch === 'function'
  );
}

/**
 * Whether `actual` matches `expected`: objects partially (keys `expected` has), arrays
 * element by element with the same length, Dates by time, other values by Object.is.
 */
export function matches(actual: unknown, expected: unknown): boolean {
  if (isAsymmetric(expected)) return expected.asymmetricMatch(actual);
  if (typeof expected === 'function') return (expected as Predicate<unknown>)(actual) === true;
  if (expected instanceof Date) {
    return actual instanceof Date ? actual.getTime() === expected.getTime() : false;
  }
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => matches(actual[i], e))
    );
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([key, e]) =>
      Object.hasOwn(actual, key) || e === undefined
        ? matches((actual as Record<string, unknown>)[key], e)
        : false,
    );
  }
  return Object.is(actual, expected);
}

/** An expected value as a message shows it: asymmetric matchers by their own description. */
export function describeExpected(expected: unknown): string {
  return JSON.stringify(expected, (_key, value) => {
    if (isAsymmetric(value)) {
      const m = value as { toString?: () => string; toAsymmetricMatcher?: () => string };
      return `<${typeof m.toAsymmetricMatcher === 'function' ? m.toAsymmetricMatcher() : String(m.toString?.())}>`;
    }
    if (typeof value === 'function') return `<predicate ${value.name || 'anonymous'}>`;
    return value;
  });
}
