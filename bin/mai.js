#!/usr/bin/env node
import { main } from '../dist/mai/cli/main.js';

await main();
