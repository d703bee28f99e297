import type sshpk from 'sshpk';
import { InputError } from '../platform/errors.js';
import { lazyPackage } from '../platform/lazy-package.js';

// Loaded on the first key upload, not with the users service (see lazyPackage).
const sshKeys = lazyPackage<typeof sshpk>('sshpk');

export interface ParsedSshKey {
  /** Normalised one-line OpenSSH form: `<type> <base64> [comment]`. */
  line: string;
  type: string;
  /** `SHA256:…`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  comment: string;
}

/** Key types that are still considered safe; DSA and short RSA keys are refused. */
const MIN_RSA_BITS = 2048;

/** Parses one OpenSSH public key line, refusing anything else (private keys, options, weak keys). */
export function parseSshPublicKey(input: string): ParsedSshKey {
  const text = input.trim();
  // A pasted private key spans lines too: it is named as what it is, the most useful thing to hear.
  if (/PRIVATE KEY/.test(text))
    throw new InputError('this is a private key: upload the public key (.pub) only');
  if (text.includes('\n')) throw new InputError('give exactly one SSH public key per request');
  let key: sshpk.Key;
  try {
    key = sshKeys().parseKey(text, 'ssh');
  } catch {
    throw new InputError('not an OpenSSH public key (expected e.g. "ssh-ed25519 AAAA… comment")', {
      code: 'SSH_KEY_INVALID',
    });
  }
  if (key.type === 'dsa')
    throw new InputError('DSA keys are not accepted; use ed25519 or ECDSA', { code: 'SSH_KEY_WEAK' });
  if (key.type === 'rsa' && key.size < MIN_RSA_BITS) {
    throw new InputError(`RSA keys need at least ${MIN_RSA_BITS} bits (this one has ${key.size})`, {
      code: 'SSH_KEY_WEAK',
    });
  }
  const comment = (key.comment && key.comment !== '(unnamed)' ? key.comment : '').replace(
    /[^\x20-\x7e]/g,
    '',
  );
  const base = key.toString('ssh').split(' ').slice(0, 2).join(' ');
  return {
    line: comment ? `${base} ${comment}` : base,
    type: base.split(' ')[0]!,
    fingerprint: key.fingerprint('sha256').toString(),
    comment,
  };
}
