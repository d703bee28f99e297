#!/usr/bin/env node
// Runs the bundle that scripts/build.mjs makes of src/sevenseconds/cli/main.ts.
import { main } from '../dist/bin/sevenseconds.js';

await main();
