import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as SelfsignedPackage from 'selfsigned';
import { lazyPackage } from '../platform/lazy-package.js';
import { writePrivateFile } from '../platform/cli/cli-config.js';

// Loaded when a certificate is made, not at start-up (see lazyPackage).
const selfsigned = lazyPackage<typeof SelfsignedPackage>('selfsigned');

/**
 * The certificate the platform serves: the given files, or a self-signed one created on
 * first start and kept in the data directory so clients can trust it once.
 */
export async function loadOrCreateCertificate(options: {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  dataDir: string;
  hostNames: string[];
}): Promise<{ cert: string; key: string; certFile: string; generated: boolean }> {
  if (options.certFile && options.keyFile) {
    return {
      cert: await readFile(options.certFile, 'utf8'),
      key: await readFile(options.keyFile, 'utf8'),
      certFile: options.certFile,
      generated: false,
    };
  }
  const certFile = join(options.dataDir, 'tls', 'cert.pem');
  const keyFile = join(options.dataDir, 'tls', 'key.pem');
  try {
    return {
      cert: await readFile(certFile, 'utf8'),
      key: await readFile(keyFile, 'utf8'),
      certFile,
      generated: false,
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const names = [...new Set(['localhost', ...options.hostNames])];
  const pems = await selfsigned().generate([{ name: 'commonName', value: names[0]! }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map((n) => (/^[\d.]+$|:/.test(n) ? { type: 7, ip: n } : { type: 2, value: n })),
      },
    ],
  });
  await writePrivateFile(keyFile, pems.private);
  await writePrivateFile(certFile, pems.cert);
  return { cert: pems.cert, key: pems.private, certFile, generated: true };
}
