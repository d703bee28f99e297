/**
 * Thrown by commands to end with a message and exit code; only `runCli` exits.
 * Exit codes: 1 = the user's request failed (one clear line), 2 = usage.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
