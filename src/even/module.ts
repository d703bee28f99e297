import { readFile } from 'node:fs/promises';
import { defineModule } from '../platform/service-module.js';
import { dataDirKeyPair } from '../platform/data-dir-secrets.js';
import type { AccessGrantDirectory } from './contract.js';
import { createEvenService } from './index.js';
import { generateEvenKeyPair } from './keys.js';
import { evenMigrations } from './migrations.js';
import { EvenSettingsSchema } from './settings.js';

declare module '../platform/contracts.js' {
  interface Contracts {
    /** Who was granted SSH access to which host and when, for fullstop. */
    accessGrants: AccessGrantDirectory;
  }
}

/** even, the SSH access granting service; bastions install the public half of its key. */
export const evenModule = defineModule({
  name: 'even',
  migrations: [{ component: 'even', migrations: evenMigrations }],
  settings: EvenSettingsSchema,
  async create(ctx, { settings, contracts }) {
    const { sshKeyFile, ...config } = settings;
    const key = sshKeyFile
      ? { privateKey: await readFile(sshKeyFile, 'utf8'), publicKeyFile: undefined }
      : await dataDirKeyPair(ctx.dataDir, 'even-ssh-key', () => generateEvenKeyPair('even@stups'));
    const even = createEvenService(ctx, {
      teams: contracts.get('teams'),
      users: contracts.get('users'),
      config: { ...config, ssh: { ...config.ssh, privateKey: key.privateKey } },
    });
    return {
      app: () => even.createApp(),
      provides: { accessGrants: even.grants },
      jobs: [even.expiryJob],
      notes: key.publicKeyFile
        ? [`even SSH key   ${key.publicKeyFile} (install on bastions: docs/odd-bastion.md)`]
        : [],
      dispose: () => even.stop(),
    };
  },
});
