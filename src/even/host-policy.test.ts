import { describe, expect, it } from 'vitest';
import { ConfigError } from '../platform/errors.js';
import { loadSettings } from '../stups/settings.js';
import { parseEvenConfig } from './config.js';
import { grantCommand, revokeCommand } from './forced-command.js';
import { compileHostnameTemplate, HostPolicy } from './host-policy.js';
import { hostKeyLineProblem } from './settings.js';

describe('hostname templates', () => {
  const policy = new HostPolicy(
    {
      hostnameTemplates: ['odd-{region}.{team}.example.org', '{team}-bastion.internal'],
      allowedHosts: [
        { hostname: 'localhost', address: '127.0.0.1', port: 2222 },
        { hostname: 'shared-odd', teams: ['b'] },
      ],
    },
    22,
  );

  it('gives a templated host to the team named in it', () => {
    expect(policy.decide('odd-eu-west-1.team-a.example.org', 'jdoe', ['team-a'])).toEqual({
      allowed: true,
      team: 'team-a',
      target: {
        hostname: 'odd-eu-west-1.team-a.example.org',
        address: 'odd-eu-west-1.team-a.example.org',
        port: 22,
      },
    });
    expect(policy.decide('team-a-bastion.internal', 'jdoe', ['x', 'team-a'])).toMatchObject({
      allowed: true,
      team: 'team-a',
    });
    expect(policy.decide('odd-eu-west-1.team-b.example.org', 'jdoe', ['team-a'])).toEqual({
      allowed: false,
      reason: 'jdoe is not a member of team team-b, which owns host odd-eu-west-1.team-b.example.org',
    });
    // The template is anchored and its dots are literal.
    expect(policy.decide('odd-eu.team-a.example.org.evil.com', 'jdoe', ['team-a'])).toMatchObject({
      allowed: false,
    });
    expect(policy.decide('odd-euXteam-aXexample.org', 'jdoe', ['team-a'])).toMatchObject({ allowed: false });
    expect(policy.decide('odd-eu.team-a.example.org', 'jdoe', ['team-a'])).toMatchObject({ allowed: true });
  });

  it('opens allow-listed hosts to team members, or to the listed teams', () => {
    expect(policy.decide('localhost', 'jdoe', ['any'])).toEqual({
      allowed: true,
      team: 'any',
      target: { hostname: 'localhost', address: '127.0.0.1', port: 2222 },
    });
    expect(policy.decide('shared-odd', 'jdoe', ['a'])).toEqual({
      allowed: false,
      reason: 'host shared-odd is open to members of b; jdoe is in none of them',
    });
    expect(policy.decide('unknown.example.org', 'jdoe', ['a'])).toEqual({
      allowed: false,
      reason:
        'host unknown.example.org is not a known bastion (expected odd-{region}.{team}.example.org, {team}-bastion.internal)',
    });
    expect(policy.targetOf('localhost')).toEqual({ hostname: 'localhost', address: '127.0.0.1', port: 2222 });
  });

  it('rejects broken templates', () => {
    expect(() => compileHostnameTemplate('odd.example.org')).toThrow('needs a {team} placeholder');
    expect(() => compileHostnameTemplate('odd-{zone}.{team}')).toThrow('unknown placeholder {zone}');
    expect(() => compileHostnameTemplate('{team}.{team}')).toThrow('uses {team} twice');
    expect(() => compileHostnameTemplate('(.*){team}')).toThrow('may only use');
    expect(() => compileHostnameTemplate('{team}.{region')).toThrow('unclosed brace');
  });
});

describe('even configuration', () => {
  it('fills defaults', () => {
    const config = parseEvenConfig({
      ssh: {
        privateKey: 'k',
        knownHostKeys: [
          'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl host',
        ],
      },
    });
    expect(config).toMatchObject({
      hostnameTemplates: ['odd-{region}.{team}.example.org'],
      allowedHosts: [],
      defaultLifetimeMinutes: 60,
      maxLifetimeMinutes: 1440,
      expiryCheckIntervalMs: 30_000,
      ssh: { user: 'granting-service', port: 22, acceptAnyHostKey: false, maxConnectionsPerHost: 4 },
    });
  });

  it('reports every problem at once', () => {
    expect(() =>
      parseEvenConfig({
        hostnameTemplates: ['odd.example.org', 'odd-{team}'],
        defaultLifetimeMinutes: 120,
        maxLifetimeMinutes: 60,
        ssh: { privateKey: 'k' },
      }),
    ).toThrow(
      'invalid configuration:\n' +
        '  even.hostnameTemplates.0: template "odd.example.org" needs a {team} placeholder\n' +
        '  even.defaultLifetimeMinutes: must not exceed maxLifetimeMinutes',
    );
    // Without known host keys even still starts: grants fail at the bastion, naming the key.
    expect(parseEvenConfig({ ssh: { privateKey: 'k' } }).ssh.knownHostKeys).toEqual([]);
    expect(() => parseEvenConfig({ ssh: { privateKey: '' }, maxLifetimeMinutes: 0 })).toThrow(
      /even\.maxLifetimeMinutes: .*\n {2}even\.ssh\.privateKey: even needs its own SSH private key/,
    );
  });
});

describe('bastion host keys in the settings', () => {
  const real = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl root@odd';

  it('refuses the walkthrough placeholder in one line naming the setting and what a host key looks like', async () => {
    // Exactly as docs/walkthrough.md shows it, before the placeholder is replaced.
    const env = {
      STUPS_EVEN_CONFIG:
        '{"hostnameTemplates":["odd-{region}.{team}.example.org"],"ssh":{"knownHostKeys":["ssh-ed25519 AAAA… bastion"]}}',
    };
    const error = await loadSettings({ env }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      `even.ssh.knownHostKeys.0: "ssh-ed25519 AAAA… bastion" is not an OpenSSH public key: give the bastion's host key line "TYPE BASE64 [COMMENT]", e.g. the contents of /etc/ssh/ssh_host_ed25519_key.pub on the bastion ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA… root@odd")`,
    ]);
    const loaded = await loadSettings({
      env: { STUPS_EVEN_CONFIG: JSON.stringify({ ssh: { knownHostKeys: [real] } }) },
    });
    expect((loaded.modules.even as { ssh: { knownHostKeys: string[] } }).ssh.knownHostKeys).toEqual([real]);
  });

  it('accepts a key line whose blob names its type, and nothing else', () => {
    expect(hostKeyLineProblem(real)).toBeUndefined();
    expect(hostKeyLineProblem(real.split(' ').slice(0, 2).join(' '))).toBeUndefined();
    for (const wrong of [
      'ssh-ed25519 AAAA bastion', // base64, but no key in it
      'ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl', // blob says ed25519
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJ', // cut short
      'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
      '',
    ]) {
      expect(hostKeyLineProblem(wrong), wrong).toMatch(/is not an OpenSSH public key/);
    }
  });
});

describe('forced command lines', () => {
  it('are built from checked words only', () => {
    expect(grantCommand('jdoe', { lifetimeMinutes: 60 })).toBe('grant-ssh-access --lifetime-minutes=60 jdoe');
    expect(grantCommand('jdoe', { lifetimeMinutes: 5, remoteHost: '10.0.0.1' })).toBe(
      'grant-ssh-access --lifetime-minutes=5 --remote-host=10.0.0.1 jdoe',
    );
    expect(revokeCommand('jdoe')).toBe('revoke-ssh-access jdoe');
    expect(() => grantCommand('jdoe;id', { lifetimeMinutes: 60 })).toThrow(TypeError);
    expect(() => grantCommand('jdoe', { lifetimeMinutes: 60, remoteHost: '-oProxyCommand=x' })).toThrow(
      TypeError,
    );
    expect(() => grantCommand('jdoe', { lifetimeMinutes: 60, remoteHost: 'a b' })).toThrow(TypeError);
    expect(() => grantCommand('jdoe', { lifetimeMinutes: 0.5 })).toThrow(TypeError);
    expect(() => revokeCommand('$(id)')).toThrow(TypeError);
  });
});
