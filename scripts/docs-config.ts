// Writes docs/configuration.md from the settings schemas (`npm run docs:config`).
import { writeFileSync } from 'node:fs';
import { CONFIGURATION_DOC, configurationDoc } from '../src/stups/configuration-docs.js';

writeFileSync(CONFIGURATION_DOC, configurationDoc());
console.log(`wrote ${CONFIGURATION_DOC}`);
