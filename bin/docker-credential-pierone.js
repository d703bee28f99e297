#!/usr/bin/env node
import { main } from '../dist/pierone/cli/credential-helper.js';

await main();
