import type { BastionClient, CommandResult } from './bastion-client.js';
import { BastionError } from './bastion-client.js';
import type { BastionTarget } from './host-policy.js';

/** A bastion that records every command it is sent and answers what the test says. */
export class RecordingBastion implements BastionClient {
  readonly calls: { target: BastionTarget; command: string }[] = [];
  answer: (command: string) => CommandResult | 'unreachable' = () => ({
    exitCode: 0,
    stdout: 'ok\n',
    stderr: '',
  });

  async run(target: BastionTarget, command: string): Promise<CommandResult> {
    this.calls.push({ target, command });
    const answer = this.answer(command);
    if (answer === 'unreachable')
      throw new BastionError(target, Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    return answer;
  }

  async close(): Promise<void> {}
}
