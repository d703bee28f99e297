// berry as its own process from the TypeScript sources (tests run it under tsx; bin/berry.js runs the build).
import { main } from '../cli/main.js';

await main();
