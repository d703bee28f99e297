import { stringify } from 'yaml';
import type { CliIo } from '../../platform/cli/run-cli.js';
import { redactSecrets } from '../../platform/settings/redact.js';
import { settingsSections } from '../settings.js';
import { settingsFor, type UpOptions } from './up.js';

/** `stups config print`: the effective settings tree as YAML, secrets redacted. */
export async function configPrint(options: UpOptions, io: CliIo): Promise<void> {
  const settings = await settingsFor(options, io);
  const tree: Record<string, unknown> = {};
  for (const section of settingsSections()) {
    const value = section.name === 'platform' ? settings.platform : settings.modules[section.name];
    tree[section.name] = redactSecrets(section.schema, value);
  }
  io.stdout.write(stringify(tree));
}
