#!/usr/bin/env node
// Runs the bundle that scripts/build.mjs makes of src/pierone/cli/main.ts.
import { main } from '../dist/bin/pierone.js';

await main();
