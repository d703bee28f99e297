import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bastionUnavailableReason,
  type LoopbackBastion,
  startLoopbackBastion,
} from '../odd/test-support/loopback-bastion.js';
import { freePorts } from '../stups/free-ports.js';
import { BastionError, SshBastionClient, type SshBastionClientOptions } from './bastion-client.js';
import { generateEvenKeyPair } from './keys.js';

const unavailable = bastionUnavailableReason();
if (unavailable) console.warn(`SKIPPING the SSH client tests with a real sshd: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('SshBastionClient against a real sshd', () => {
  let bastion: LoopbackBastion;
  let options: SshBastionClientOptions;
  const clients: SshBastionClient[] = [];
  const client = (overrides: Partial<SshBastionClientOptions> = {}) => {
    const created = new SshBastionClient({ ...options, ...overrides });
    clients.push(created);
    return created;
  };

  beforeAll(async () => {
    const keys = generateEvenKeyPair();
    const [closed] = await freePorts(1);
    bastion = await startLoopbackBastion({
      evenUrl: `http://127.0.0.1:${closed}`,
      evenPublicKey: keys.publicKey,
    });
    options = {
      user: bastion.grantingUser,
      privateKey: keys.privateKey,
      knownHostKeys: [bastion.hostKey],
      acceptAnyHostKey: false,
      connectTimeoutMs: 5000,
      commandTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      maxConnectionsPerHost: 1,
    };
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    await bastion?.stop();
  });

  const target = () => ({ hostname: 'localhost', address: '127.0.0.1', port: bastion.port });

  it("runs many commands at once over one connection, never more channels than sshd's MaxSessions", async () => {
    const ssh = client();
    const before = (await bastion.sshdLog()).match(/Accepted publickey/g)?.length ?? 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => ssh.run(target(), 'revoke-ssh-access root')),
    );
    for (const result of results) {
      expect(result).toEqual({
        exitCode: 1,
        stdout: '',
        stderr: 'revoke-ssh-access: user root is not managed by odd\n',
      });
    }
    const after = (await bastion.sshdLog()).match(/Accepted publickey/g)?.length ?? 0;
    expect(after - before).toBe(1);
  });

  it('reconnects after an idle connection was closed', async () => {
    const ssh = client({ idleTimeoutMs: 1 });
    const logins = async () => (await bastion.sshdLog()).match(/Accepted publickey/g)?.length ?? 0;
    const closes = async () => (await bastion.sshdLog()).match(/Disconnected from user/g)?.length ?? 0;
    const [loginsBefore, closesBefore] = [await logins(), await closes()];
    expect((await ssh.run(target(), 'revoke-ssh-access root')).exitCode).toBe(1);
    // sshd logs the disconnect once the client's idle timer closed the connection.
    await bastion.untilSshdLogged(/Disconnected from user/, closesBefore + 1);
    expect(await closes()).toBe(closesBefore + 1);
    expect((await ssh.run(target(), 'revoke-ssh-access root')).exitCode).toBe(1);
    expect(await logins()).toBe(loginsBefore + 2);
  });

  it('refuses a bastion whose host key is not known, and reports unreachable ones', async () => {
    const stranger = client({ knownHostKeys: [generateEvenKeyPair().publicKey] });
    await expect(stranger.run(target(), 'revoke-ssh-access root')).rejects.toThrow(BastionError);
    await expect(stranger.run(target(), 'revoke-ssh-access root')).rejects.toThrow(
      /^bastion localhost \(127\.0\.0\.1:\d+\): bastion 127\.0\.0\.1:\d+ presented a host key that is not in even's ssh\.knownHostKeys$/,
    );
    const none = client({ knownHostKeys: [] });
    await expect(none.run(target(), 'revoke-ssh-access root')).rejects.toThrow(
      /not in even's ssh\.knownHostKeys/,
    );
    const [closed] = await freePorts(1);
    await expect(client().run({ ...target(), port: closed! }, 'x')).rejects.toThrow(
      `bastion localhost (127.0.0.1:${closed}): ECONNREFUSED`,
    );
  });

  it('is refused by sshd with a key the bastion does not know', async () => {
    const wrongKey = client({ privateKey: generateEvenKeyPair().privateKey });
    await expect(wrongKey.run(target(), 'revoke-ssh-access root')).rejects.toThrow(
      /authentication methods failed/,
    );
  });
});
