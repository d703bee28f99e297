import { describe, expect, it } from 'vitest';
import { parseEvenConfig } from './config.js';
import { grantCommand, revokeCommand } from './forced-command.js';
import { compileHostnameTemplate, HostPolicy } from './host-policy.js';

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
    const config = parseEvenConfig({ ssh: { privateKey: 'k', knownHostKeys: ['ssh-ed25519 AAAA host'] } });
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
