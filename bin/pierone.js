#!/usr/bin/env node
import { main } from '../dist/pierone/cli/main.js';

await main();
