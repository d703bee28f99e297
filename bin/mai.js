#!/usr/bin/env node
// Runs the bundle that scripts/build.mjs makes of src/mai/cli/main.ts.
import { main } from '../dist/bin/mai.js';

await main();
