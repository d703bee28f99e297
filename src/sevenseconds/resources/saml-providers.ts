import { CreateSAMLProviderCommand, ListSAMLProvidersCommand } from '@aws-sdk/client-iam';
import { AccountFailure } from '../aws/login.js';
import type { ResourceModule } from './resource.js';

/** Metadata given as a URL is fetched when the provider is created (as STUPS did). */
async function metadata(value: string): Promise<string> {
  if (!/^https?:\/\//.test(value)) return value;
  const response = await fetch(value, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new AccountFailure(`SAML metadata ${value} answered ${response.status}`);
  return response.text();
}

/** IAM SAML providers: created when missing, never updated (STUPS behaviour). */
export const samlProviders: ResourceModule<Set<string>, { name: string }> = {
  kind: 'saml-providers',
  async read(clients) {
    const list = (await clients.iam.send(new ListSAMLProvidersCommand({}))).SAMLProviderList ?? [];
    return new Set(list.map((p) => (p.Arn ?? '').split('/').pop() ?? ''));
  },
  diff(account, current) {
    return Object.keys(account.saml_providers ?? {})
      .filter((name) => !current.has(name))
      .map((name) => ({
        account: account.name,
        resource: `saml-provider/${name}`,
        action: 'create' as const,
        detail: `create SAML provider ${name}`,
        op: { name },
      }));
  },
  async apply(clients, account, { op }) {
    const value = account.saml_providers?.[op.name] ?? '';
    await clients.iam.send(
      new CreateSAMLProviderCommand({ Name: op.name, SAMLMetadataDocument: await metadata(value) }),
    );
  },
};
