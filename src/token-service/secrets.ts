import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

// Secrets and passwords are hashed with the platform's one scrypt scheme (platform/passwords.ts).
export { hashPassword as hashSecret, verifyPassword as verifySecret } from '../platform/passwords.js';

/** An unguessable opaque token (256 bits). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Opaque tokens are stored only as this digest, so a database leak does not leak usable tokens. */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

// RFC 8628 §6.1: consonants only (no vowels → no words), no easily confused letters.
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

/** `WDJB-MJHT`: 8 characters from a 20-letter alphabet (~34 bits), typed by a person. */
export function randomUserCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** Users type codes in any case, with or without the dash. */
export function normalizeUserCode(input: string): string {
  const letters = input.toUpperCase().replace(/[^A-Z]/g, '');
  return letters.length === 8 ? `${letters.slice(0, 4)}-${letters.slice(4)}` : letters;
}

/** Constant-time string equality for short values such as CSRF tokens. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The previous generation's hash while it is valid: without an end, or until a time still ahead. */
export function validPrevious(hash: string | null, validUntil: Date | null, now: number): string | undefined {
  if (hash === null) return undefined;
  return validUntil === null || validUntil.getTime() > now ? hash : undefined;
}
