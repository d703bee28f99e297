#!/usr/bin/env node
// Runs the bundle that scripts/build.mjs makes of src/senza/cli/main.ts.
import { setFlagsFromString } from 'node:v8';

// A Senza command is over in well under a second: V8's optimising compiler (TurboFan) costs more
// memory and time than it saves there. Set before the bundle loads (hence the dynamic import).
// Measured with bench/senza.ts, 5 runs each, paired (issue 23): the seed's hello-world peak
// 93–94 → 89.5 MiB; 50 components 100–108 → 95–96 MiB and 0.43–0.65 → 0.40–0.46 s.
setFlagsFromString('--no-opt');
const { main } = await import('../dist/bin/senza.js');
await main();
