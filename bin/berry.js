#!/usr/bin/env node
// Runs the bundle that scripts/build.mjs makes of src/berry/cli/main.ts.
import { main } from '../dist/bin/berry.js';

await main();
