#!/usr/bin/env node
// Runs the bundle that scripts/build.mjs makes of src/senza/cli/main.ts.
import { main } from '../dist/bin/senza.js';

await main();
