import { HOSTNAME_PATTERN, MAX_CONTRACT_LIFETIME_MINUTES, USERNAME_PATTERN } from './contract.js';

/**
 * The command lines even sends to a bastion. Each word is checked again here, whatever checked
 * it before, so no caller can build a line a shell could misread; the bastion's forced command
 * splits on spaces only and checks once more.
 */
export function grantCommand(
  username: string,
  options: { lifetimeMinutes: number; remoteHost?: string | null | undefined },
): string {
  const words = ['grant-ssh-access', `--lifetime-minutes=${checkMinutes(options.lifetimeMinutes)}`];
  if (options.remoteHost) words.push(`--remote-host=${checkHost(options.remoteHost)}`);
  words.push(checkUser(username));
  return words.join(' ');
}

export function revokeCommand(username: string): string {
  return `revoke-ssh-access ${checkUser(username)}`;
}

function checkUser(username: string): string {
  if (!USERNAME_PATTERN.test(username)) throw new TypeError(`refusing user name ${JSON.stringify(username)}`);
  return username;
}

function checkHost(host: string): string {
  if (!HOSTNAME_PATTERN.test(host) || host === '' || host.startsWith('-')) {
    throw new TypeError(`refusing host name ${JSON.stringify(host)}`);
  }
  return host;
}

function checkMinutes(minutes: number): number {
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_CONTRACT_LIFETIME_MINUTES) {
    throw new TypeError(`refusing lifetime ${minutes}`);
  }
  return minutes;
}
