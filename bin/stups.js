#!/usr/bin/env node
import { main } from '../dist/stups/cli/main.js';

await main();
