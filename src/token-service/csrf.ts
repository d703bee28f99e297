import { createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from './secrets.js';

export const CSRF_COOKIE = 'stups_oauth_csrf';

/**
 * CSRF protection of the HTML forms: a random value in a SameSite cookie, and in the form an
 * HMAC of it. A cross-site form post carries neither the cookie nor a token that matches one.
 */
export class Csrf {
  readonly #secret: Buffer;

  constructor(secret: string | undefined) {
    this.#secret = secret ? Buffer.from(secret) : randomBytes(32);
  }

  /** Keeps a well-formed existing cookie value (several tabs), else makes a new one. */
  issue(existing: string | undefined): { cookie: string; token: string } {
    const cookie =
      existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomBytes(32).toString('base64url');
    return { cookie, token: this.#mac(cookie) };
  }

  verify(cookie: string | undefined, token: string | undefined): boolean {
    if (!cookie || !token) return false;
    return safeEqual(this.#mac(cookie), token);
  }

  #mac(value: string): string {
    return createHmac('sha256', this.#secret).update(value).digest('base64url');
  }
}

/** One cookie's value from a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
