#!/usr/bin/env node
// Runs the bundle that scripts/build.mjs makes of src/kio/cli/main.ts.
import { main } from '../dist/bin/kio.js';

await main();
