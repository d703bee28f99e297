import fastQuerystring from 'fast-querystring';
import { describe, expect, it } from 'vitest';
import { parseQueryString } from './query-string.js';

/** find-my-way's default parser, which `parseQueryString` replaces: the reference. */
function reference(query: string): unknown {
  if (query.length === 0) return {};
  return (fastQuerystring as unknown as { parse(input: string): unknown }).parse(query);
}

const PIECES = [
  'a',
  'b',
  'é',
  '=',
  '&',
  '&&',
  '+',
  '%',
  '%2',
  '%20',
  '%E2%82%AC',
  '%e2%82',
  '%C0%AF',
  '%ED%A0%80',
  '%zz',
  '%3D',
  '%26',
  '%2B',
  '__proto__',
  'constructor',
  'access_token',
  'eyJ.x-_',
  '%00',
];

/** A deterministic pseudo-random generator, so that a failure can be reproduced. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('parseQueryString', () => {
  it('gives what fast-querystring gives, for 20,000 generated queries', () => {
    const random = generator(23);
    for (let i = 0; i < 20_000; i++) {
      const length = Math.floor(random() * 8);
      const query = Array.from({ length }, () => PIECES[Math.floor(random() * PIECES.length)]).join('');
      const ours = parseQueryString(query);
      const theirs = reference(query) as object;
      expect(Object.entries(ours), query).toEqual(Object.entries(theirs));
      expect(Object.getPrototypeOf(Object.getPrototypeOf(ours)) === null, query).toBe(
        Object.getPrototypeOf(Object.getPrototypeOf(theirs)) === null,
      );
    }
  });

  it('parses the usual shapes', () => {
    expect({ ...parseQueryString('access_token=eyJ.a-b_c&x=1&x=2&x=3&flag&q=a+b%20c') }).toEqual({
      access_token: 'eyJ.a-b_c',
      x: ['1', '2', '3'],
      flag: '',
      q: 'a b c',
    });
    const record = parseQueryString('__proto__=x&constructor=y');
    expect(Object.keys(record)).toEqual(['__proto__', 'constructor']);
    expect(record.__proto__).toBe('x');
    expect(parseQueryString('')).toEqual({});
  });
});
