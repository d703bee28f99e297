#!/usr/bin/env node
// Runs the bundle that scripts/build.mjs makes of src/zign/cli/main.ts.
import { main } from '../dist/bin/zign.js';

await main();
