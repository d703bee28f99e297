import { describe, expect, it } from 'vitest';
import { cfnLint, cfnLintAvailable, cfnLintErrors } from './cfn-lint.js';

const queue = (properties: Record<string, unknown>) => ({
  AWSTemplateFormatVersion: '2010-09-09',
  Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: properties } },
});

describe.runIf(cfnLintAvailable())('cfn-lint helper', () => {
  it('lints several templates in one run and names the template of each finding', async () => {
    const matches = await cfnLint(
      new Map<string, unknown>([
        ['clean', queue({ VisibilityTimeout: 30 })],
        ['typo', queue({ VisibilityTimeOut: 30 })],
        ['bad/label with spaces', queue({ DelaySeconds: 'soon' })],
      ]),
    );
    expect(matches.filter((m) => m.template === 'clean')).toEqual([]);
    expect(matches.find((m) => m.template === 'typo')).toMatchObject({
      level: 'Error',
      rule: 'E3002',
      path: 'Resources.Queue.Properties.VisibilityTimeOut',
    });
    expect(matches.find((m) => m.template === 'bad/label with spaces')).toMatchObject({
      level: 'Error',
      path: 'Resources.Queue.Properties.DelaySeconds',
    });
  });

  it('fails on errors only: a warning alone gives no error line', async () => {
    const unusedParameter = { ...queue({}), Parameters: { Unused: { Type: 'String' } } };
    const errors = await cfnLintErrors(
      new Map([
        ['warn', unusedParameter],
        ['err', queue({ VisibilityTimeOut: 30 })],
      ]),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^err: E3002 Resources\.Queue\.Properties\.VisibilityTimeOut: /);
  });
});
