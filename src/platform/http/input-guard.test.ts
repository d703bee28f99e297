import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { assertSafeInput, UnsafeInputError } from './input-guard.js';

describe('assertSafeInput', () => {
  it('leaves bodies that are not decoded data alone (the console proxy passes the raw request on)', () => {
    // Before: the walker followed the stream's cyclic object graph and refused it as "nests deeper
    // than 64 levels", so every form the console proxied to the token service answered 400.
    const stream = new PassThrough() as PassThrough & { self?: unknown };
    stream.self = stream;
    expect(() => assertSafeInput(stream, 'body')).not.toThrow();
    expect(() => assertSafeInput({ wrapped: stream }, 'body')).not.toThrow();
  });

  it('still walks plain objects, arrays and objects of other prototypes (parsed queries)', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { text: 'a\u0000b' });
    expect(() => assertSafeInput([{ nested: bare }], 'body')).toThrow(UnsafeInputError);
    const ownPrototype = Object.create(Object.create(null) as object) as Record<string, unknown>;
    ownPrototype.client_id = 'a\u0000';
    expect(() => assertSafeInput(ownPrototype, 'query')).toThrow(UnsafeInputError);
    let deep: unknown = 'end';
    for (let i = 0; i < 70; i++) deep = { deep };
    expect(() => assertSafeInput(deep, 'body')).toThrow(/nests deeper than 64 levels/);
  });

  it('refuses flat records of strings (queries, path parameters) naming the field, and accepts good ones', () => {
    const query = Object.assign(Object.create(null) as Record<string, unknown>, { a: 'ok', b: 'x\uD800y' });
    expect(() => assertSafeInput(query, 'query')).toThrow('query.b contains a lone UTF-16 surrogate');
    expect(() => assertSafeInput({ 'na\u0000me': 'v' }, 'query')).toThrow(
      'a field name in query contains a NUL character (U+0000)',
    );
    expect(() => assertSafeInput({ id: '9'.repeat(20) }, 'path')).not.toThrow();
    expect(() => assertSafeInput({ id: 'a\u0000' }, 'path')).toThrow(
      expect.objectContaining({ field: 'path.id' }) as Error,
    );
    expect(() => assertSafeInput({}, 'path')).not.toThrow();
  });
});
