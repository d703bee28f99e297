import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * mint keeps the current client secret of each confidential client sealed (AES-256-GCM, key
 * derived from the installation secret), because it proves every password rotation with a real
 * password grant, which needs the client's secret, and rewrites `client.json` to buckets added
 * later. Password are never kept: every rotation makes a new one.
 */
export class SecretSealer {
  readonly #key: Buffer;

  constructor(installationSecret: string) {
    this.#key = createHmac('sha256', installationSecret).update('mint client secrets').digest();
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v1',
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      body.toString('base64url'),
    ].join('.');
  }

  /** The secret, or undefined when there is none or it was sealed with another key. */
  unseal(sealed: string | null): string | undefined {
    if (sealed === null) return undefined;
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      return undefined;
    }
  }
}
