/**
 * `mai` as a process without a build (`tsx src/mai/test-support/mai-entry.ts …`): the tests point
 * `credential_process` in a temporary ~/.aws/config at it, as a user points it at `mai`.
 */
import { main } from '../cli/main.js';

await main();
