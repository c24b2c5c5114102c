// The scanner that says where JSON text goes wrong (Node 20's JSON.parse mostly does not).
import { describe, expect, it } from 'vitest';
import { errorOffset, parseJsonText } from '../src/json-text.js';

describe('errorOffset', () => {
  it('finds no error in valid JSON', () => {
    for (const text of [
      'null',
      ' {"a": [1, -2.5e3, true, false, null, "x\\"\\u00e9"]} ',
      '[]',
      '{}',
      '"s"',
      '0',
    ])
      expect([text, errorOffset(text)]).toEqual([text, undefined]);
  });

  it('points at the first character that breaks the JSON', () => {
    const cases: [string, number][] = [
      ['{"a": }', 6],
      ['{"a":1,}', 7],
      ["{'a': 1}", 1],
      ['[1 2]', 3],
      ['tru', 3],
      ['nul!', 3],
      ['01', 1],
      ['1.', 1],
      ['-', 0],
      ['"\\x"', 2],
      ['"\\u12g4"', 5],
      ['"a\nb"', 2],
      ['{"a": 1} x', 9],
      ['{"a": 1', 7],
      ['', 0],
    ];
    for (const [text, at] of cases) {
      expect(() => JSON.parse(text)).toThrow();
      expect([text, errorOffset(text)]).toEqual([text, at]);
    }
  });
});

describe('parseJsonText', () => {
  it('names the input, the line and column, and the parser complaint', () => {
    expect(() => parseJsonText('{\n  "a": 1,\n  "b": }', 'the payload')).toThrow(
      /^the payload is not valid JSON at line 3, column 8: Unexpected token/,
    );
    expect(() => parseJsonText('[1, 2', 'the payload')).toThrow(/not valid JSON \(it ends too soon\)/);
    expect(parseJsonText(' {"a": [1]} ', 'x')).toEqual({ a: [1] });
  });
});
