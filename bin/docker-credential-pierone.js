#!/usr/bin/env node
// Runs the bundle that scripts/build.mjs makes of src/pierone/cli/credential-helper.ts.
import { main } from '../dist/bin/docker-credential-pierone.js';

await main();
