import {
  CreateRoleCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAccountAliasesCommand,
  ListRolePoliciesCommand,
  ListServerCertificatesCommand,
  PutRolePolicyCommand,
  type Role,
  type ServerCertificateMetadata,
} from '@aws-sdk/client-iam';
import { type AwsSettings, clientConfig } from './aws-settings.js';
import { AwsCallError, awsCall } from './aws-error.js';

const S = 'IAM';

/** Thin adapter over the IAM client. */
export class IamAdapter {
  readonly client: IAMClient;
  constructor(settings: AwsSettings) {
    this.client = new IAMClient(clientConfig(settings));
  }

  async accountAliases(): Promise<string[]> {
    const r = await awsCall(S, 'ListAccountAliases', () =>
      this.client.send(new ListAccountAliasesCommand({})),
    );
    return r.AccountAliases ?? [];
  }

  async role(name: string): Promise<Role | undefined> {
    try {
      const r = await awsCall(S, 'GetRole', () => this.client.send(new GetRoleCommand({ RoleName: name })));
      return r.Role;
    } catch (error) {
      if (error instanceof AwsCallError && /^NoSuchEntity/.test(error.code ?? '')) return undefined;
      throw error;
    }
  }

  async createRole(name: string, assumeRolePolicy: unknown): Promise<void> {
    await awsCall(S, 'CreateRole', () =>
      this.client.send(
        new CreateRoleCommand({
          RoleName: name,
          Path: '/',
          AssumeRolePolicyDocument: JSON.stringify(assumeRolePolicy),
        }),
      ),
    );
  }

  async putRolePolicy(role: string, policyName: string, document: unknown): Promise<void> {
    await awsCall(S, 'PutRolePolicy', () =>
      this.client.send(
        new PutRolePolicyCommand({
          RoleName: role,
          PolicyName: policyName,
          PolicyDocument: JSON.stringify(document),
        }),
      ),
    );
  }

  /** The inline policies of a role with their documents (IAM returns them URL-encoded). */
  async rolePolicies(role: string): Promise<{ PolicyName: string; PolicyDocument: unknown }[]> {
    const names = await awsCall(S, 'ListRolePolicies', () =>
      this.client.send(new ListRolePoliciesCommand({ RoleName: role })),
    );
    const policies: { PolicyName: string; PolicyDocument: unknown }[] = [];
    for (const name of names.PolicyNames ?? []) {
      const p = await awsCall(S, 'GetRolePolicy', () =>
        this.client.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: name })),
      );
      const document: unknown = JSON.parse(decodeURIComponent(p.PolicyDocument ?? '{}'));
      policies.push({ PolicyName: name, PolicyDocument: document });
    }
    return policies;
  }

  async serverCertificates(): Promise<ServerCertificateMetadata[]> {
    const certs: ServerCertificateMetadata[] = [];
    let Marker: string | undefined;
    do {
      const r = await awsCall(S, 'ListServerCertificates', () =>
        this.client.send(new ListServerCertificatesCommand({ Marker })),
      );
      certs.push(...(r.ServerCertificateMetadataList ?? []));
      Marker = r.IsTruncated ? r.Marker : undefined;
    } while (Marker);
    return certs;
  }
}
