import { describe, expect, it } from 'vitest';
import { InputError } from '../../platform/errors.js';
import type { Criteria } from './contract.js';
import { CompiledAcceptance, type CoverableViolation, firstCovering } from './matcher.js';

const violation = (o: Partial<CoverableViolation> = {}): CoverableViolation => ({
  account_id: '123456789012',
  region: 'eu-west-1',
  type_id: 'WRONG_AMI',
  team_id: 'team-a',
  application_id: 'order-engine',
  application_version_id: '1.0',
  meta_info: { ami_name: 'ubuntu-hand-made', ami_owner_id: '999999999999', ami_id: 'ami-1' },
  ...o,
});
const accept = (criteria: Criteria, teamScoped = true, id = '1') =>
  new CompiledAcceptance(id, { criteria, team: 'team-a', teamScoped });

describe('risk acceptance criteria', () => {
  it('matches all given criteria, lists by any element', () => {
    expect(accept({ regions: ['eu-central-1', 'eu-west-1'], types: ['WRONG_AMI'] }).covers(violation())).toBe(
      true,
    );
    expect(accept({ regions: ['eu-central-1'], types: ['WRONG_AMI'] }).covers(violation())).toBe(false);
    expect(accept({ application_id: 'order-engine', application_version: '1.0' }).covers(violation())).toBe(
      true,
    );
    expect(accept({ application_version: '2.0' }).covers(violation())).toBe(false);
  });

  it('keeps a member’s acceptance to the team’s violations; an administrator’s with accounts to those', () => {
    expect(accept({ types: ['WRONG_AMI'] }).covers(violation({ team_id: 'team-b' }))).toBe(false);
    expect(accept({ types: ['WRONG_AMI'] }).covers(violation({ team_id: null }))).toBe(false);
    const admin = accept({ accounts: ['555555555555'] }, false);
    expect(admin.covers(violation({ team_id: null, account_id: '555555555555' }))).toBe(true);
    expect(admin.covers(violation())).toBe(false);
  });

  it('reads image names and owners from the keys the rules write', () => {
    expect(accept({ image_name: '^ubuntu-' }).covers(violation())).toBe(true);
    expect(accept({ image_name: '^Taupage' }).covers(violation())).toBe(false);
    expect(accept({ image_owner: '999999999999' }).covers(violation())).toBe(true);
    expect(accept({ image_owner: '111111111111' }).covers(violation())).toBe(false);
    // A Docker reference matches with and without its tag.
    const snapshot = violation({
      type_id: 'EC2_WITH_A_SNAPSHOT_IMAGE',
      meta_info: JSON.stringify({ deployment_artifact: 'pierone.example/team/app:1.0-SNAPSHOT' }),
    });
    expect(accept({ image_name: '^pierone\\.example/team/app$' }).covers(snapshot)).toBe(true);
    expect(accept({ image_name: 'SNAPSHOT$' }).covers(snapshot)).toBe(true);
    expect(accept({ image_name: '^pierone\\.example/other/app$' }).covers(snapshot)).toBe(false);
  });

  it('evaluates JSONPath filters over meta_info and over meta_info itself at the root', () => {
    const sg = violation({
      type_id: 'SECURITY_GROUP_OPEN_TO_THE_WORLD',
      meta_info: { port: 443, rules: [{ from_port: 22, to_port: 22 }] },
    });
    expect(accept({ meta_info: '$[?(@.port == 443)]' }).covers(sg)).toBe(true);
    expect(accept({ meta_info: '$[?(@.port == 80)]' }).covers(sg)).toBe(false);
    expect(accept({ meta_info: '$.rules[?(@.from_port == 22)]' }).covers(sg)).toBe(true);
    expect(accept({ meta_info: '$.rules[?(@.from_port == 3389)]' }).covers(sg)).toBe(false);
    expect(accept({ meta_info: '$.rules' }).covers(violation({ meta_info: null }))).toBe(false);
  });

  it('refuses a bad regular expression or JSONPath naming the field, and never runs JavaScript', () => {
    const fieldOf = (criteria: Criteria) => {
      try {
        accept(criteria);
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        return (error as InputError).details?.field;
      }
      return undefined;
    };
    expect(fieldOf({ image_name: '(unclosed' })).toBe('criteria.image_name');
    expect(fieldOf({ meta_info: '$[?(@.port == 443' })).toBe('criteria.meta_info');
    // The safe evaluator knows no globals: a path that tries to call one is refused at creation.
    expect(fieldOf({ meta_info: '$[?(process.exit(1))]' })).toBe('criteria.meta_info');
  });

  it('gives a violation to the oldest covering acceptance', () => {
    const older = accept({ types: ['WRONG_AMI'] }, true, '1');
    const newer = accept({ regions: ['eu-west-1'] }, true, '2');
    expect(firstCovering([older, newer], violation())?.id).toBe('1');
    expect(firstCovering([older, newer], violation({ type_id: 'WRONG_REGION' }))?.id).toBe('2');
    expect(firstCovering([older], violation({ type_id: 'WRONG_REGION' }))).toBeUndefined();
  });
});
