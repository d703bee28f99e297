#!/usr/bin/env node
import { main } from '../dist/senza/cli/main.js';

await main();
