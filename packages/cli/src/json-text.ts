import { UsageError } from './errors.js';

/**
 * Parses JSON text given on the command line, or throws a usage error naming `what`, the
 * parser's complaint and where it is (line, column). Node 20's JSON.parse names no position
 * for most errors ("Unexpected token '}', ... is not valid JSON"), so a small scanner finds it.
 * `payloadHint`: a bare word gets a hint on writing a JSON string (payloads, not flag objects).
 */
export function parseJsonText(text: string, what: string, payloadHint = true): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = (error as Error).message
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/\s*\(line \d+ column \d+\)$/, '')
      // Node quotes the start of the text, line breaks and all: one line of error stays one line.
      .replace(/\r?\n/g, '\\n');
    // `queue enqueue greet hello`: a bare word is the likeliest mistake; say how to write a string.
    const word = payloadHint && /^\s*[A-Za-z_]/.test(text) && !/^\s*(true|false|null)\b/.test(text);
    const hint = word ? ` (a string payload is written in JSON quotes: '"${text.trim().slice(0, 20)}"')` : '';
    throw new UsageError(`${what} is not valid JSON${place(text, errorOffset(text))}: ${reason}${hint}`);
  }
}

function place(text: string, offset: number | undefined): string {
  if (offset === undefined) return '';
  if (offset >= text.length) return ' (it ends too soon)';
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return ` at line ${line}, column ${offset - before.lastIndexOf('\n')}`;
}

/**
 * The offset of the first character that makes `text` invalid JSON: text.length when it
 * ended too soon, undefined when the scanner cannot tell (nesting too deep for its recursion).
 */
export function errorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) fail();
      const ch = text[i]!;
      if (ch === '"') return void i++;
      if (ch < ' ') fail();
      if (ch === '\\') {
        i++;
        if (text[i] === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) {
              i += k;
              fail();
            }
          }
          i += 5;
        } else if (i < text.length && '"\\/bfnrt'.includes(text[i]!)) i++;
        else fail();
      } else i++;
    }
  };
  const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const number = () => {
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text)) fail();
    i = NUMBER.lastIndex;
  };
  const value = (): void => {
    space();
    const ch = text[i];
    if (ch === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') fail();
        string();
        space();
        if (text[i] !== ':') fail();
        i++;
        value();
        space();
        if (text[i] === '}') return void i++;
        if (text[i] !== ',') fail();
        i++;
      }
    }
    if (ch === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ']') return void i++;
        if (text[i] !== ',') fail();
        i++;
      }
    }
    if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) number();
    else fail();
  };
  try {
    value();
    space();
    if (i < text.length) fail();
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, text.length) : undefined;
  }
  return undefined;
}
