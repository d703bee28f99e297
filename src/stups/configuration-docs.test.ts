import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingLeaves } from '../platform/settings/schema-walk.js';
import { CONFIGURATION_DOC, configurationDoc } from './configuration-docs.js';
import { settingsSections } from './settings.js';

const ROOT = join(import.meta.dirname, '../..');

describe('docs/configuration.md', () => {
  it('is what `npm run docs:config` writes for the current schemas', async () => {
    const onDisk = await readFile(join(ROOT, CONFIGURATION_DOC), 'utf8');
    // On failure: run `npm run docs:config` and commit the result.
    expect(onDisk).toBe(configurationDoc());
  });

  it('describes every setting of every section', () => {
    const undescribed = settingsSections().flatMap((section) =>
      settingLeaves(section.schema)
        .filter((leaf) => !leaf.description)
        .map((leaf) => [section.name, ...leaf.path].join('.')),
    );
    expect(undescribed).toEqual([]);
  });

  it('every module section parses from nothing: a service runs unconfigured', () => {
    for (const section of settingsSections()) {
      expect(section.schema.safeParse({}).success, section.name).toBe(true);
    }
  });
});
