#!/usr/bin/env node
import { main } from '../dist/berry/cli/main.js';

await main();
