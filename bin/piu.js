#!/usr/bin/env node
import { main } from '../dist/piu/cli/main.js';

await main();
