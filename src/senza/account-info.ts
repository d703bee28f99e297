import { CliError } from '../platform/cli/cli-error.js';
import type { SenzaAws } from './aws/senza-aws.js';

export const ACCOUNT_INFO_KEYS = [
  'Region',
  'AccountAlias',
  'AccountID',
  'TeamID',
  'Domain',
  'VpcID',
] as const;
export type AccountInfoKey = (typeof ACCOUNT_INFO_KEYS)[number];

/**
 * Facts about the AWS account, each looked up once and only when needed: a definition that
 * does not use `{{AccountInfo.Domain}}` never lists hosted zones.
 */
export class AccountInfo {
  private readonly cache = new Map<AccountInfoKey, Promise<string>>();
  constructor(private readonly aws: SenzaAws) {}

  get(key: AccountInfoKey): Promise<string> {
    let value = this.cache.get(key);
    if (!value) {
      value = this.lookup(key);
      this.cache.set(key, value);
    }
    return value;
  }

  private async lookup(key: AccountInfoKey): Promise<string> {
    switch (key) {
      case 'Region':
        return this.aws.region;
      case 'AccountAlias': {
        const aliases = await (await this.aws.iam()).accountAliases();
        if (!aliases[0])
          throw new CliError('the AWS account has no alias (needed for AccountInfo.AccountAlias)');
        return aliases[0];
      }
      case 'AccountID':
        return (await this.aws.sts()).accountId();
      case 'TeamID': {
        // STUPS account aliases are "<organisation>-<team>".
        const alias = await this.get('AccountAlias');
        return alias.includes('-') ? alias.slice(alias.indexOf('-') + 1) : alias;
      }
      case 'Domain': {
        const zones = (await (await this.aws.route53()).hostedZones()).filter((z) => !z.Config?.PrivateZone);
        if (!zones.length)
          throw new CliError('no Route53 hosted zone in this account (needed for the domain)');
        if (zones.length > 1) {
          const names = zones.map((z) => z.Name!.replace(/\.$/, '')).sort();
          throw new CliError(
            `several Route53 hosted zones (${names.join(', ')}): set MainDomain and VersionDomain explicitly`,
          );
        }
        return zones[0]!.Name!.replace(/\.$/, '');
      }
      case 'VpcID': {
        const vpcs = await (await this.aws.ec2()).describeVpcs();
        const chosen = vpcs.find((v) => v.IsDefault) ?? (vpcs.length === 1 ? vpcs[0] : undefined);
        if (!chosen) {
          throw new CliError(
            vpcs.length
              ? `no default VPC among ${vpcs.length} VPCs: set VpcId on the component`
              : 'no VPC in this region',
          );
        }
        return chosen.VpcId!;
      }
    }
  }

  /** The values a template uses, as a plain object for mustache. */
  async values(keys: Iterable<string>): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const key of keys) {
      if ((ACCOUNT_INFO_KEYS as readonly string[]).includes(key))
        out[key] = await this.get(key as AccountInfoKey);
    }
    return out;
  }

  /** Splits `myapp.example.org` into subdomain and hosted zone, preferring a zone of this account. */
  async splitDomain(domain: string): Promise<[string, string]> {
    const zones = (await (await this.aws.route53()).hostedZones()).map((z) => z.Name!.replace(/\.$/, ''));
    const zone = zones.filter((z) => domain.endsWith(`.${z}`)).sort((a, b) => b.length - a.length)[0];
    if (zone) return [domain.slice(0, -(zone.length + 1)), zone];
    const dot = domain.indexOf('.');
    if (dot < 0) throw new CliError(`"${domain}" is not a domain name`);
    return [domain.slice(0, dot), domain.slice(dot + 1)];
  }
}
