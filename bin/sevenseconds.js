#!/usr/bin/env node
import { main } from '../dist/sevenseconds/cli/main.js';

await main();
