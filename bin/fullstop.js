#!/usr/bin/env node
// Runs the bundle that scripts/build.mjs makes of src/fullstop/cli/main.ts.
import { main } from '../dist/bin/fullstop.js';

await main();
