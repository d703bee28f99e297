import type { Command } from 'commander';
import { lazy } from '../../platform/cli/lazy.js';
import type { ZignDeps } from '../../zign/get-token.js';

// The work is loaded when a command runs: jose, zod and the HTTP client would otherwise be paid
// for by every `stups` start, `stups --help` included.
const actions = lazy(() => import('./ssh-key-actions.js'));

/** `stups ssh-key add|list|remove`: the SSH public keys the bastion (odd) lets in. */
export function registerSshKeyCommands(program: Command, deps: ZignDeps): void {
  const keys = program
    .command('ssh-key')
    .description('your SSH public keys, which odd (the bastion) accepts after piu grants access');

  keys
    .command('list')
    .description('list the SSH public keys of a user (default: you)')
    .option('-U, --user <uid>', 'whose keys (default: the user of your token)')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(async (options: { user?: string; output: string }) => (await actions()).listKeys(deps, options));

  keys
    .command('add')
    .description(
      'register a public key (default: ~/.ssh/id_ed25519.pub, id_ecdsa.pub or id_rsa.pub; "-" reads stdin)',
    )
    .argument('[file]', 'the .pub file to register')
    .option('-U, --user <uid>', 'whose key (default: the user of your token; others need an administrator)')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(async (file: string | undefined, options: { user?: string; output: string }) =>
      (await actions()).addKey(deps, file, options),
    );

  keys
    .command('remove')
    .alias('rm')
    .description('remove a key by its fingerprint (as "stups ssh-key list" shows it)')
    .argument('<fingerprint>', 'e.g. SHA256:…')
    .option('-U, --user <uid>', 'whose key (default: the user of your token)')
    .action(async (fingerprint: string, options: { user?: string }) =>
      (await actions()).removeKey(deps, fingerprint, options),
    );
}
