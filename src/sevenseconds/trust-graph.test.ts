import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { structureYaml } from './test-support/structure.js';
import { buildTrustGraph, checkTrustGraph } from './trust-graph.js';

const sound = structureYaml({ teams: 4 });

/** Replaces one piece of the sound structure; fails if the piece is not there (a test that edits nothing proves nothing). */
function swap(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`not in the structure: ${from}`);
  return text.replace(from, to);
}

function check(text: string): string[] {
  return checkTrustGraph(loadConfig(text).accounts).map((f) => f.message);
}

describe('sevenseconds check: the trust graph', () => {
  it('passes the account structure: prod-service reaches every deployer, nonprod-service only non-production ones', () => {
    expect(check(sound)).toEqual([]);
    const graph = buildTrustGraph(loadConfig(sound).accounts);
    const reach = (arn: string) =>
      graph.edges
        .get(arn)!
        .map((r) => r.label)
        .sort();
    expect(reach('arn:aws:iam::200000000000:user/prod-service')).toEqual([
      'state/role/deployer',
      'team-01/role/deployer',
      'team-02/role/deployer',
      'team-03/role/deployer',
      'team-04/role/deployer',
    ]);
    expect(reach('arn:aws:iam::200000000000:user/nonprod-service')).toEqual([
      'team-02/role/deployer',
      'team-04/role/deployer',
    ]);
    // The SAML provider reaches its own account's read-only role only.
    expect(reach('arn:aws:iam::200000000002:saml-provider/Shibboleth')).toEqual([
      'team-02/role/Shibboleth-ReadOnly',
    ]);
  });

  it('fails naming the path when the non-production identity may assume a production role', () => {
    const text = swap(
      sound,
      "Resource: ['arn:aws:iam::{account_id:team-02}:role/*'",
      "Resource: ['arn:aws:iam::*:role/deployer'",
    );
    expect(check(text)).toEqual([
      'non-production state/user/nonprod-service reaches production role state/role/deployer: state/user/nonprod-service → state/role/deployer',
      'non-production state/user/nonprod-service reaches production role team-01/role/deployer: state/user/nonprod-service → team-01/role/deployer',
      'non-production state/user/nonprod-service reaches production role team-03/role/deployer: state/user/nonprod-service → team-03/role/deployer',
    ]);
  });

  it('follows paths transitively through a non-production role that may assume roles elsewhere', () => {
    // team-03 (production) gets an ops role trusting team-02 (non-production); team-02's deployer may assume anything.
    const text = swap(
      swap(
        sound,
        "Action: ['cloudformation:*', 'ec2:*']",
        "Action: ['cloudformation:*', 'ec2:*', 'sts:AssumeRole']",
      ),
      "    alias: 'myorg-{account_name}'\n    environment: production\n  team-04",
      "    alias: 'myorg-{account_name}'\n    environment: production\n    roles:\n      ops:\n        assume_role_policy: {Statement: {Effect: Allow, Principal: {AWS: 'arn:aws:iam::{account_id:team-02}:root'}, Action: sts:AssumeRole}}\n  team-04",
    );
    const findings = check(text);
    expect(findings).toContain(
      'non-production state/user/nonprod-service reaches production role team-03/role/ops: state/user/nonprod-service → team-02/role/deployer → team-03/role/ops',
    );
    expect(findings).toContain(
      'non-production team-02/role/deployer reaches production role team-03/role/ops: team-02/role/deployer → team-03/role/ops',
    );
  });

  it('an unconditional deny in the identity policy cuts the edge', () => {
    const text = swap(
      sound,
      "Resource: ['arn:aws:iam::{account_id:team-02}:role/*'",
      "Resource: '*'}, {Effect: Deny, Action: 'sts:*', Resource: ['arn:aws:iam::{account_id:state}:role/*', 'arn:aws:iam::{account_id:team-01}:role/*', 'arn:aws:iam::{account_id:team-03}:role/*'",
    );
    expect(check(text)).toEqual([]);
  });

  it('a trust policy naming * or an account outside the file counts as non-production', () => {
    const text = swap(
      sound,
      "Principal: {AWS: 'arn:aws:iam::{account_id:state}:root'}\n            Action: sts:AssumeRole\n  s3_buckets",
      "Principal: {AWS: ['arn:aws:iam::{account_id:state}:root', 'arn:aws:iam::999999999999:root']}\n            Action: sts:AssumeRole\n  s3_buckets",
    );
    const findings = check(text);
    expect(findings).toContain(
      'non-production external AWS arn:aws:iam::999999999999:root reaches production role team-01/role/deployer: external AWS arn:aws:iam::999999999999:root → team-01/role/deployer',
    );
  });

  it('fails when an identity may do anything but assume roles', () => {
    const text = swap(
      sound,
      "policy: {Statement: [{Effect: Allow, Action: sts:AssumeRole, Resource: 'arn:aws:iam::*:role/deployer'}]}",
      "policy: {Statement: [{Effect: Allow, Action: [sts:AssumeRole, 's3:GetObject'], Resource: '*'}, {Effect: Allow, NotAction: 'iam:*', Resource: '*'}]}",
    );
    expect(check(text)).toEqual([
      'state/user/prod-service may do s3:GetObject: identities may only assume roles',
      'state/user/prod-service may do everything except iam:*: identities may only assume roles',
    ]);
  });

  it('a wildcard action an identity holds is more than assuming roles', () => {
    const text = swap(
      sound,
      "Action: sts:AssumeRole, Resource: 'arn:aws:iam::*:role/deployer'",
      "Action: 'sts:*', Resource: 'arn:aws:iam::*:role/deployer'",
    );
    expect(check(text)).toEqual(['state/user/prod-service may do sts:*: identities may only assume roles']);
  });

  it('a principal named outright is admitted even when the same statement also names its account', () => {
    const text = swap(
      sound,
      "Principal: {AWS: 'arn:aws:iam::{account_id:state}:root'}\n            Action: sts:AssumeRole\n  s3_buckets",
      "Principal: {AWS: ['arn:aws:iam::{account_id:state}:root', 'arn:aws:iam::{account_id:state}:user/nonprod-service']}\n            Action: sts:AssumeRole\n  s3_buckets",
    );
    expect(check(text)).toEqual([
      'non-production state/user/nonprod-service reaches production role state/role/deployer: state/user/nonprod-service → state/role/deployer',
      'non-production state/user/nonprod-service reaches production role team-01/role/deployer: state/user/nonprod-service → team-01/role/deployer',
      'non-production state/user/nonprod-service reaches production role team-03/role/deployer: state/user/nonprod-service → team-03/role/deployer',
    ]);
  });
});
