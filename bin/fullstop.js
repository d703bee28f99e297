#!/usr/bin/env node
import { main } from '../dist/fullstop/cli/main.js';

await main();
