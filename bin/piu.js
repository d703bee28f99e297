#!/usr/bin/env node
// Runs the bundle that scripts/build.mjs makes of src/piu/cli/main.ts.
import { main } from '../dist/bin/piu.js';

await main();
