#!/usr/bin/env node
import { main } from '../dist/kio/cli/main.js';

await main();
