import { describe, expect, it } from 'vitest';
import { checkTemplate, REQUIRED_PROPERTIES, RESOURCE_SPECS } from './cfn-spec.js';

describe('checkTemplate', () => {
  it('accepts a resource with its required and allowed properties', () => {
    const template = {
      Resources: {
        Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {}, Path: '/' } },
        Profile: { Type: 'AWS::IAM::InstanceProfile', Properties: { Roles: [{ Ref: 'Role' }] } },
      },
    };
    expect(checkTemplate(template)).toEqual([]);
  });

  it('reports unknown types, missing required, unknown and read-only properties', () => {
    const template = {
      Resources: {
        A: { Type: 'AWS::IAM::Role', Properties: { Arn: 'x', PolicyDocument: {} } },
        B: { Type: 'AWS::Foo::Bar', Properties: {} },
      },
    };
    expect(checkTemplate(template)).toEqual([
      'A: AWS::IAM::Role requires AssumeRolePolicyDocument',
      'A: AWS::IAM::Role property Arn is read-only',
      'A: AWS::IAM::Role has no property PolicyDocument',
      'B: resource type AWS::Foo::Bar is not in the spec table',
    ]);
  });

  it('reports groups of which not exactly one property is set', () => {
    const record = (extra: Record<string, unknown>) => ({
      Resources: { R: { Type: 'AWS::Route53::RecordSet', Properties: { Name: 'a.', Type: 'A', ...extra } } },
    });
    expect(checkTemplate(record({ HostedZoneName: 'example.org.' }))).toEqual([]);
    expect(checkTemplate(record({}))).toEqual([
      'R: AWS::Route53::RecordSet needs exactly one of HostedZoneId, HostedZoneName (has 0)',
    ]);
    expect(checkTemplate(record({ HostedZoneName: 'example.org.', HostedZoneId: 'Z1' }))).toEqual([
      'R: AWS::Route53::RecordSet needs exactly one of HostedZoneId, HostedZoneName (has 2)',
    ]);
  });

  it('keeps the table consistent: required, read-only and grouped names are known properties', () => {
    for (const [type, spec] of Object.entries(RESOURCE_SPECS)) {
      const names = [...spec.required, ...spec.readOnly, ...(spec.exactlyOneOf ?? []).flat()];
      expect(
        names.filter((n) => !spec.properties.includes(n)),
        type,
      ).toEqual([]);
      expect(REQUIRED_PROPERTIES[type]).toEqual(spec.required);
    }
  });
});
