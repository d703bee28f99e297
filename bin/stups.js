#!/usr/bin/env node
// Runs the bundle that scripts/build.mjs makes of src/stups/cli/main.ts.
import { main } from '../dist/bin/stups.js';

await main();
