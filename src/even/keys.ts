import type * as Ssh2Package from 'ssh2';
import { lazyPackage } from '../platform/lazy-package.js';

// Loaded when a key pair is made (`stups up`'s first start), not with even (see lazyPackage).
const ssh2 = lazyPackage<typeof Ssh2Package>('ssh2');

/**
 * A fresh ed25519 key pair for even in OpenSSH format, e.g. for an embedded demo bastion:
 * the private key goes into `config.ssh.privateKey`, the public key into odd's installation.
 */
export function generateEvenKeyPair(comment = 'even'): { privateKey: string; publicKey: string } {
  const pair = ssh2().utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey: pair.private, publicKey: pair.public.trim() };
}
