import { EventEmitter } from 'node:events';
import { pipeline, type Readable, Transform } from 'node:stream';
import { InputError } from '../errors.js';

/**
 * A request refused at the edge because its text or numbers cannot be stored faithfully.
 * `statusCode` is set too, so the protocol error handlers of the token service (OAuth shape)
 * and Pier One (OCI shape), which map any Fastify-style 4xx, answer it in their own shape.
 */
export class UnsafeInputError extends InputError {
  readonly statusCode = 400;
  /**
   * @param field where the input was refused, e.g. `path.digest`, so that a protocol can name
   *   the problem in its own terms (Pier One: `DIGEST_INVALID`); undefined for whole bodies.
   */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message, { code: 'INPUT_UNSAFE' });
  }
}

/**
 * How deep a JSON body may nest. Far beyond any contract of the platform, low enough that no
 * recursive code after the edge (validation, serialisation, the database driver) runs out of stack.
 */
export const MAX_JSON_DEPTH = 64;

const NUL = '\u0000';
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
// (String.prototype.isWellFormed says the same, but is not in the ES2023 library we compile with.)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be accepted, or undefined when it can. */
function textProblem(text: string): string | undefined {
  // PostgreSQL text cannot hold U+0000, and a lone surrogate has no UTF-8 form: both fail
  // only at the database, after earlier steps of the request may already have run.
  if (text.includes(NUL)) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate';
  return undefined;
}

/** Why a number cannot be accepted, or undefined when it can. */
function numberProblem(value: number): string | undefined {
  if (!Number.isFinite(value)) return 'is not a finite number';
  // Integers beyond 2^53 have already lost digits in JSON.parse, and overflow every integer
  // column the platform has; refusing them is honest, rounding them silently is not.
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) return 'is an integer out of range';
  return undefined;
}

function describe(path: readonly (string | number)[], root: string): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : `${text}.${key}`),
    root,
  );
}

/**
 * Walks decoded request input (query, path parameters, parsed JSON) and throws
 * `UnsafeInputError` for the first NUL character, lone surrogate, out-of-range number or
 * nesting beyond `MAX_JSON_DEPTH`. Iterative, so hostile nesting cannot overflow the stack.
 */
export function assertSafeInput(value: unknown, root: string): void {
  if (isSafeFlatRecord(value)) return;
  const pending: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: current, path } = next;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) throw new UnsafeInputError(`${describe(path, root)} ${problem}`, describe(path, root));
    } else if (typeof current === 'number') {
      const problem = numberProblem(current);
      if (problem) throw new UnsafeInputError(`${describe(path, root)} ${problem}`, describe(path, root));
    } else if (typeof current === 'object' && current !== null) {
      // Only decoded data is walked: a body a plugin left as a stream or request object (the
      // console's proxy passes the raw request through) is not input yet, and its object graph
      // is cyclic.
      // (Query objects have a prototype of their own, so the test is for what is not data.)
      if (current instanceof EventEmitter || ArrayBuffer.isView(current)) continue;
      if (path.length >= MAX_JSON_DEPTH) {
        throw new UnsafeInputError(`${describe(path, root)} nests deeper than ${MAX_JSON_DEPTH} levels`);
      }
      if (Array.isArray(current)) {
        current.forEach((item: unknown, index) => pending.push({ value: item, path: [...path, index] }));
      } else {
        for (const [key, item] of Object.entries(current)) {
          const problem = textProblem(key);
          if (problem) throw new UnsafeInputError(`a field name in ${describe(path, root)} ${problem}`);
          pending.push({ value: item, path: [...path, key] });
        }
      }
    }
  }
}

/**
 * Whether `value` is a record of acceptable strings, as query strings and path parameters almost
 * always are: every request checks two, and walking them costs arrays and path copies (issue 23).
 * False means "not known safe", and the full walk decides (and names the problem).
 */
function isSafeFlatRecord(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) return false;
    const item = record[key];
    if (typeof item !== 'string' || textProblem(key) !== undefined || textProblem(item) !== undefined) {
      return false;
    }
  }
  return true;
}

/**
 * Checks that every `name=value` pair of a raw query string decodes to UTF-8. Fastify's
 * parser keeps undecodable pairs as literal `%xx` text, so a handler would see a value the
 * client did not mean; refusing is clearer.
 */
export function assertDecodableQuery(rawQuery: string): void {
  for (const pair of rawQuery.split('&')) {
    if (!pair.includes('%')) continue;
    try {
      decodeURIComponent(pair.replace(/\+/g, ' '));
    } catch {
      throw new UnsafeInputError(
        `the query string is not valid percent-encoded UTF-8 near "${pair.slice(0, 40)}"`,
      );
    }
  }
}

// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The text with NUL characters and lone surrogates replaced by U+FFFD, for records of refused
 * requests (audit, logs) that must be written even when the request's own text cannot be.
 */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\uFFFD');
}

/** The media type of a Content-Type header, lower case and without parameters. */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase();
}

/**
 * `source` as a stream that fails with `error()` as soon as the bytes stop being UTF-8 (a
 * sequence split across chunks is fine); it keeps no more than one partial character.
 *
 * It starts pulling from `source` only once someone reads it. Routes that read the raw request
 * themselves (Pier One's registry streams `request.raw` to the blob store) never read it, and
 * must not find their body already drained into a stream nobody consumes.
 */
export function utf8Checked(source: Readable, error: () => Error): Readable {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const checked = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        decoder.decode(chunk, { stream: true });
        callback(null, chunk);
      } catch {
        callback(error());
      }
    },
    flush(callback) {
      try {
        decoder.decode();
        callback();
      } catch {
        callback(error());
      }
    },
  });
  let started = false;
  const start = (event: string | symbol) => {
    if (started || (event !== 'data' && event !== 'readable')) return;
    started = true;
    checked.off('newListener', start);
    pipeline(source, checked, () => {
      // A failure reaches the reader through `checked`, which pipeline destroys with it.
    });
  };
  checked.on('newListener', start);
  return checked;
}
