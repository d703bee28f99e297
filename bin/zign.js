#!/usr/bin/env node
import { main } from '../dist/zign/cli/main.js';

await main();
