import { z } from 'zod';
import type { Component } from './component.js';
import { EC2_ASSUME_ROLE_POLICY, mergedPolicies } from './iam-roles.js';
import { anyValue, checkProperties } from './properties.js';

const schema = z.strictObject({
  AssumeRolePolicyDocument: z.record(z.string(), anyValue).optional(),
  Path: z.string().optional(),
  Policies: z.array(z.strictObject({ PolicyName: z.string(), PolicyDocument: anyValue })).optional(),
  /** Copy the inline policies of these existing roles into this one. */
  MergePoliciesFromIamRoles: z.array(z.string()).optional(),
  RoleName: z.string().optional(),
  ManagedPolicyArns: z.array(anyValue).optional(),
});

/** `Senza::IamRole`: an IAM role assumable by EC2, with inline and merged policies. */
export const iamRole: Component = async (properties, context) => {
  const props = checkProperties(schema, properties, context.path, 'Senza::IamRole');
  context.template.Resources[context.name] = {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: props.AssumeRolePolicyDocument ?? EC2_ASSUME_ROLE_POLICY,
      Path: props.Path ?? '/',
      Policies: [
        ...(props.Policies ?? []),
        ...(await mergedPolicies(props.MergePoliciesFromIamRoles ?? [], context.aws)),
      ],
      ...(props.RoleName ? { RoleName: props.RoleName } : {}),
      ...(props.ManagedPolicyArns ? { ManagedPolicyArns: props.ManagedPolicyArns } : {}),
    },
  };
};
