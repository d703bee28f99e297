import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accountPattern, ConfigProblems, fillTemplate, loadConfig, selectAccounts } from './config.js';
import { configJsonSchema, configJsonSchemaText } from './json-schema.js';

function problemsOf(text: string): string[] {
  try {
    loadConfig(text);
  } catch (error) {
    if (error instanceof ConfigProblems) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

const MINIMAL = `
version: 10
global:
  regions: [eu-west-1]
  admin_account: state
  environment: production
  domain: '{account_name}.example.org'
  roles:
    Shibboleth-Administrator:
      policy: {Statement: {Effect: Allow, Action: '*', Resource: '*'}}
      assume_role_policy:
        Statement:
          - Effect: Allow
            Principal: {Federated: 'arn:aws:iam::{account_id}:saml-provider/Shibboleth'}
            Action: sts:AssumeRoleWithSAML
    fullstop:
      assume_role_policy:
        Statement: [{Effect: Allow, Principal: {AWS: 'arn:aws:iam::{account_id:state}:root'}, Action: sts:AssumeRole}]
  s3_buckets:
    mint:
      name: 'exampleorg-stups-mint-{account_id}-{region}'
      regions: [eu-west-1, eu-central-1]
      policy:
        Statement:
          - Effect: Allow
            Principal: {AWS: 'arn:aws:iam::{account_id:state}:root'}
            Action: s3:PutObject
            Resource: 'arn:aws:s3:::{bucket_name}/*'
accounts:
  state:
    id: '111111111111'
  team-a:
    id: '222222222222'
    alias: 'myorg-{account_name}'
    environment: non-production
    regions: [eu-central-1, eu-west-1]
`;

describe('the configuration file', () => {
  it('merges shallowly: an account key replaces the whole global value, the rest is inherited', () => {
    const { accounts } = loadConfig(MINIMAL);
    const [state, team] = accounts;
    expect(state!.regions).toEqual(['eu-west-1']);
    expect(team!.regions).toEqual(['eu-central-1', 'eu-west-1']);
    expect(state!.environment).toBe('production');
    expect(team!.environment).toBe('non-production');
    expect(Object.keys(team!.roles!)).toEqual(['Shibboleth-Administrator', 'fullstop']);
    expect(state!.login_role).toBe('OrganizationAccountAccessRole');
  });

  it('an account that sets roles replaces the global roles entirely (no deep merge)', () => {
    const text = MINIMAL.replace(
      '    environment: non-production\n',
      '    environment: non-production\n    roles:\n      Only: {assume_role_policy: {Statement: {Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}}}\n',
    );
    const team = loadConfig(text).accounts[1]!;
    expect(Object.keys(team.roles!)).toEqual(['Only']);
  });

  it('fills {account_name}, {account_id} and {account_id:<name>}, leaving {region} and {bucket_name} for later', () => {
    const team = loadConfig(MINIMAL).accounts[1]!;
    expect(team.alias).toBe('myorg-team-a');
    expect(team.domain).toBe('team-a.example.org');
    expect(JSON.stringify(team.roles!['Shibboleth-Administrator']!.assume_role_policy)).toContain(
      'arn:aws:iam::222222222222:saml-provider/Shibboleth',
    );
    expect(JSON.stringify(team.roles!.fullstop!.assume_role_policy)).toContain(
      'arn:aws:iam::111111111111:root',
    );
    const bucket = team.s3_buckets!.mint!;
    expect(bucket.name).toBe('exampleorg-stups-mint-222222222222-{region}');
    expect(fillTemplate(bucket.name, { region: 'eu-west-1' })).toBe(
      'exampleorg-stups-mint-222222222222-eu-west-1',
    );
    expect(JSON.stringify(bucket.policy)).toContain('arn:aws:s3:::{bucket_name}/*');
    // The alias defaults to the account name.
    expect(loadConfig(MINIMAL).accounts[0]!.alias).toBe('state');
  });

  it('leaves IAM policy variables such as ${aws:username} alone', () => {
    const text = MINIMAL.replace(
      "Resource: 'arn:aws:s3:::{bucket_name}/*'",
      "Resource: 'arn:aws:s3:::{bucket_name}/${aws:username}/*'",
    );
    expect(JSON.stringify(loadConfig(text).accounts[0]!.s3_buckets!.mint!.policy)).toContain(
      '/${aws:username}/*',
    );
  });

  it('appends additional_policies to the role inline policy and merges additional_attached_policies', () => {
    const text = `${MINIMAL.replace(
      'accounts:\n',
      `  additional_policies:
    - role: Shibboleth-Administrator
      statement: {Effect: Deny, Action: 'ec2:DeleteVpc', Resource: '*'}
  additional_attached_policies:
    - role: fullstop
      policies: ['arn:aws:iam::aws:policy/ReadOnlyAccess']
accounts:\n`,
    )}`;
    const state = loadConfig(text).accounts[0]!;
    expect(state.roles!['Shibboleth-Administrator']!.policy!.Statement).toEqual([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: 'ec2:DeleteVpc', Resource: '*' },
    ]);
    expect(state.roles!.fullstop!.attached_policies).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
  });

  it('refuses any version but 10 with the STUPS message, before looking at anything else', () => {
    expect(problemsOf('global: {}\naccounts: {}\n')).toEqual([
      'version: Only configuration version 10 is supported (found none), please update sevenseconds',
    ]);
    expect(problemsOf('version: 9\nglobal: {regions: 5}\n')).toEqual([
      'version: Only configuration version 10 is supported (found 9), please update sevenseconds',
    ]);
  });

  it('reports every problem as path: message', () => {
    const problems = problemsOf(`
version: 10
global:
  regions: [eu-west-1]
  admin_account: nowhere
  enable_nat: 'yes'
  vpc_net:
    eu-west-1: {cidr: 172.31.0.0}
  roles:
    X: {polcy: {}}
accounts:
  a: {id: '1234'}
  b:
    id: '111111111111'
    environment: prod
`);
    expect(problems).toEqual([
      'global.roles.X: Unrecognized key: "polcy"',
      'global.vpc_net.eu-west-1.cidr: must be an IPv4 CIDR like 172.31.0.0/16',
      'global.enable_nat: Invalid input: expected boolean, received string',
      'accounts.a.id: must be a 12-digit AWS account id',
      'accounts.b.environment: Invalid option: expected one of "production"|"non-production"',
    ]);
  });

  it('checks what needs the whole file after the merge', () => {
    const problems = problemsOf(`
version: 10
global:
  admin_account: nowhere
  base_ami: {account_name: a}
accounts:
  a: {id: '111111111111', regions: [eu-west-1], environment: production}
  b:
    id: '111111111111'
    base_ami: {account_name: b}
    additional_policies: [{role: Missing, statement: {Effect: Allow, Action: '*'}}]
    s3_buckets: {x: {name: 'b-{account_id:c}', regions: [eu-west-1]}}
`);
    expect(problems).toEqual([
      'accounts.a.admin_account: "nowhere" is not an account of this file',
      'accounts.b.base_ami: base_ami can only be set in global (the AMI account is shared)',
      'accounts.b.id: same id as account a',
      'accounts.b.regions: required (here or in global)',
      'accounts.b.environment: required: production or non-production (here or in global)',
      'accounts.b.admin_account: "nowhere" is not an account of this file',
      'accounts.b: {account_id:c} names no account with an id',
      'accounts.b.additional_policies.0.role: "Missing" is not a configured role',
    ]);
  });

  it('checks the network keys: the AMI account, the odd host, ACM without a domain', () => {
    const problems = problemsOf(`
version: 10
global:
  admin_account: a
  regions: [eu-west-1]
  environment: production
  base_ami: {account_name: amis}
accounts:
  a:
    id: '111111111111'
    enable_odd: true
    bastion: {version_url: 'https://example.org/tags', re_deploy: true}
    acm: {wildcard: {}}
`);
    expect(problems).toEqual([
      'accounts.a.base_ami.account_name: "amis" is not an account of this file',
      'accounts.a.bastion.version_url: not supported by this sevenseconds',
      'accounts.a.bastion.re_deploy: not supported by this sevenseconds',
      'accounts.a.acm.wildcard: needs domain (or domain_name and validation_domain)',
    ]);
    expect(
      problemsOf(`
version: 10
global: {admin_account: a, regions: [eu-west-1], environment: production}
accounts:
  a: {id: '111111111111', enable_odd: true}
`),
    ).toEqual(['accounts.a.enable_odd: the odd host needs base_ami (its Taupage image)']);
  });

  it('says so when the file is not YAML', () => {
    expect(problemsOf('version: 10\nglobal: [\n')[0]).toMatch(/^\(file\): not YAML: /);
  });
});

describe('account patterns (Unix globs, as STUPS fnmatch)', () => {
  const { accounts } = loadConfig(MINIMAL);
  it('"*" selects all accounts, other globs select by name', () => {
    expect(selectAccounts(accounts, ['*']).map((a) => a.name)).toEqual(['state', 'team-a']);
    expect(selectAccounts(accounts, ['team-?']).map((a) => a.name)).toEqual(['team-a']);
    expect(selectAccounts(accounts, ['t[!x]*', 'sta*']).map((a) => a.name)).toEqual(['state', 'team-a']);
    expect(selectAccounts(accounts, ['{state,nope}']).map((a) => a.name)).toEqual(['state']);
    // Dots and dashes are literal, as in fnmatch.
    expect(accountPattern('a.b').match('aXb')).toBe(false);
    expect(accountPattern('t[!e]*').match('team-a')).toBe(false);
    expect(accountPattern('team-[0-4]?').match('team-42')).toBe(true);
  });
  it('a pattern matching no account is an error', () => {
    expect(() => selectAccounts(accounts, ['nope*'])).toThrow(
      'pattern "nope*": matches no account of the file',
    );
  });
});

describe('the JSON Schema for editors', () => {
  it('docs/sevenseconds.schema.json is the one generated from the Zod schema (regenerate: sevenseconds schema)', async () => {
    const shipped = await readFile(join(import.meta.dirname, '../../docs/sevenseconds.schema.json'), 'utf8');
    // Compared as data: prettier may lay the shipped file out differently.
    expect(JSON.parse(shipped)).toEqual(configJsonSchema());
  });
  it('pins version 10 and refuses unknown keys', () => {
    const schema = JSON.parse(configJsonSchemaText()) as {
      properties: { version: { const: number } };
      additionalProperties: boolean;
    };
    expect(schema.properties.version.const).toBe(10);
    expect(schema.additionalProperties).toBe(false);
  });
});
