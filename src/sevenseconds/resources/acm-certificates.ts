import { createHash } from 'node:crypto';
import {
  type CertificateDetail,
  type CertificateStatus,
  DescribeCertificateCommand,
  ListCertificatesCommand,
  RequestCertificateCommand,
  type ResourceRecord,
} from '@aws-sdk/client-acm';
import {
  ChangeResourceRecordSetsCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import type { AccountClients } from '../aws/clients.js';
import { AccountFailure } from '../aws/login.js';
import type { AccountConfig } from '../contract.js';
import type { PlannedChange, ResourceModule } from './resource.js';

/** One certificate the file asks for, in one region. */
export interface WantedCertificate {
  key: string;
  region: string;
  domainName: string;
  /** Every name on the certificate: the domain name and the alternative names. */
  names: string[];
  /** The hosted zone (of this account) the validation records go in. */
  zone: string;
}

interface CertificateState {
  arn: string;
  status: string;
  /** The validation records ACM asks for (none until ACM has made them). */
  records: ResourceRecord[];
  /** Those of them not (yet) in the zone. */
  missing: ResourceRecord[];
}

interface AcmState {
  /** Per `<region>/<key>`: the certificate reused for it, if any. */
  found: Map<string, CertificateState>;
}

interface AcmOp {
  wanted: WantedCertificate;
  arn?: string;
}

const fqdn = (d: string) => (d.endsWith('.') ? d : `${d}.`);
/** ACM statuses a certificate is reused in: issued, or waiting for its DNS records. */
const REUSABLE: CertificateStatus[] = ['ISSUED', 'PENDING_VALIDATION'];

/**
 * The certificates of `acm`: each entry is `domain_name` (default `*.<domain>`) plus
 * `subject_alternative_names` (default `<domain>` when domain_name is the default), in every region.
 */
export function wantedCertificates(account: AccountConfig): WantedCertificate[] {
  const out: WantedCertificate[] = [];
  for (const [key, cert] of Object.entries(account.acm ?? {})) {
    const domainName = cert.domain_name ?? `*.${account.domain}`;
    const sans = cert.subject_alternative_names ?? (cert.domain_name ? [] : [account.domain ?? '']);
    const names = [...new Set([domainName, ...sans])].sort();
    const zone = cert.validation_domain ?? account.domain ?? '';
    for (const region of account.regions) out.push({ key, region, domainName, names, zone });
  }
  return out;
}

function namesOf(cert: CertificateDetail): string[] {
  return [...new Set([cert.DomainName ?? '', ...(cert.SubjectAlternativeNames ?? [])])].sort();
}

/** ACM gives the wildcard and the apex the same record: one record per name. */
function validationRecords(cert: CertificateDetail): ResourceRecord[] {
  const byName = new Map<string, ResourceRecord>();
  for (const o of cert.DomainValidationOptions ?? []) {
    if (o.ResourceRecord?.Name) byName.set(fqdn(o.ResourceRecord.Name), o.ResourceRecord);
  }
  return [...byName.values()];
}

async function zoneId(route53: Route53Client, zone: string): Promise<string | undefined> {
  const name = fqdn(zone);
  const found = (
    await route53.send(new ListHostedZonesByNameCommand({ DNSName: name, MaxItems: 1 }))
  ).HostedZones?.find((z) => z.Name === name && !z.Config?.PrivateZone);
  return found?.Id?.replace(/^\/hostedzone\//, '');
}

async function recordPresent(route53: Route53Client, id: string, record: ResourceRecord): Promise<boolean> {
  const name = fqdn(record.Name ?? '');
  const found = (
    await route53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: id,
        StartRecordName: name,
        StartRecordType: 'CNAME',
        MaxItems: 1,
      }),
    )
  ).ResourceRecordSets?.find((r) => r.Name === name && r.Type === 'CNAME');
  return !!found?.ResourceRecords?.some((r) => fqdn(r.Value ?? '') === fqdn(record.Value ?? ''));
}

async function listReusable(clients: AccountClients, region: string) {
  const summaries = [];
  let NextToken: string | undefined;
  do {
    const page = await clients
      .acm(region)
      .send(new ListCertificatesCommand({ CertificateStatuses: REUSABLE, NextToken }));
    summaries.push(...(page.CertificateSummaryList ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return summaries;
}

/** ACM fills in the validation records a moment after the request; wait for them. */
async function recordsOf(clients: AccountClients, region: string, arn: string): Promise<ResourceRecord[]> {
  for (let attempt = 0; ; attempt++) {
    const cert = (await clients.acm(region).send(new DescribeCertificateCommand({ CertificateArn: arn })))
      .Certificate;
    const options = cert?.DomainValidationOptions ?? [];
    if (cert && options.length && options.every((o) => o.ResourceRecord?.Name))
      return validationRecords(cert);
    if (attempt >= 30)
      throw new AccountFailure(`ACM gave no DNS validation records for ${arn} within a minute`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/**
 * ACM certificates validated by DNS (STUPS config/acm.py used e-mail validation; DNS lets the
 * tool finish the job): a certificate with the same names, issued or pending, is reused, else one
 * is requested; its validation CNAMEs are written into the account's hosted zone, and kept there
 * (ACM renews through them).
 */
export const acmCertificates: ResourceModule<AcmState, AcmOp> = {
  kind: 'acm',
  async read(clients, account) {
    const found = new Map<string, CertificateState>();
    const wanted = wantedCertificates(account);
    const zones = new Map<string, string | undefined>();
    const summariesByRegion = new Map<string, Awaited<ReturnType<typeof listReusable>>>();
    for (const w of wanted) {
      let summaries = summariesByRegion.get(w.region);
      if (!summaries) summariesByRegion.set(w.region, (summaries = await listReusable(clients, w.region)));
      let best: CertificateDetail | undefined;
      for (const s of summaries.filter((x) => x.DomainName === w.domainName && x.CertificateArn)) {
        const cert = (
          await clients
            .acm(w.region)
            .send(new DescribeCertificateCommand({ CertificateArn: s.CertificateArn }))
        ).Certificate;
        if (!cert?.Status || !REUSABLE.includes(cert.Status)) continue;
        if (namesOf(cert).join() !== w.names.join()) continue;
        if (!best || (best.Status !== 'ISSUED' && cert.Status === 'ISSUED')) best = cert;
      }
      if (!best?.CertificateArn) continue;
      if (!zones.has(w.zone)) zones.set(w.zone, await zoneId(clients.route53, w.zone));
      const id = zones.get(w.zone);
      const records = validationRecords(best);
      const missing: ResourceRecord[] = [];
      for (const r of records) if (!id || !(await recordPresent(clients.route53, id, r))) missing.push(r);
      found.set(`${w.region}/${w.key}`, {
        arn: best.CertificateArn,
        status: best.Status ?? '',
        records,
        missing,
      });
    }
    return { found };
  },
  diff(account, current) {
    const changes: PlannedChange<AcmOp>[] = [];
    for (const wanted of wantedCertificates(account)) {
      const base = { account: account.name, resource: `acm/${wanted.region}/${wanted.key}` };
      const cert = current.found.get(`${wanted.region}/${wanted.key}`);
      if (!cert) {
        changes.push({
          ...base,
          action: 'create',
          detail: `request certificate for ${wanted.names.join(', ')}, validated by DNS in ${wanted.zone}`,
          op: { wanted },
        });
      } else if (cert.status === 'PENDING_VALIDATION' && !cert.records.length) {
        // ACM has not said yet which records it wants; configure waits for them.
        changes.push({
          ...base,
          action: 'update',
          detail: `validation records of ${cert.arn} into ${wanted.zone}`,
          op: { wanted, arn: cert.arn },
        });
      } else if (cert.missing.length) {
        changes.push({
          ...base,
          action: 'update',
          detail: `validation record ${cert.missing.map((r) => r.Name).join(', ')} into ${wanted.zone}`,
          op: { wanted, arn: cert.arn },
        });
      }
    }
    return changes;
  },
  async apply(clients, account, { op }) {
    const { wanted } = op;
    const id = await zoneId(clients.route53, wanted.zone);
    if (!id)
      throw new AccountFailure(
        `no hosted zone ${wanted.zone} in this account for the ACM validation records`,
      );
    let arn = op.arn;
    if (!arn) {
      const requested = await clients.acm(wanted.region).send(
        new RequestCertificateCommand({
          DomainName: wanted.domainName,
          SubjectAlternativeNames: wanted.names,
          ValidationMethod: 'DNS',
          // The same request retried (an interrupted run) gives the same certificate, not a second one.
          IdempotencyToken: createHash('sha256')
            .update(`${account.id}/${wanted.region}/${wanted.names.join()}`)
            .digest('hex')
            .slice(0, 32),
        }),
      );
      arn = requested.CertificateArn;
      if (!arn) throw new AccountFailure(`requesting the certificate for ${wanted.domainName} gave no ARN`);
    }
    const records = await recordsOf(clients, wanted.region, arn);
    await clients.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: id,
        ChangeBatch: {
          Comment: `ACM DNS validation of ${wanted.domainName}`,
          Changes: records.map((r) => ({
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: fqdn(r.Name ?? ''),
              Type: 'CNAME',
              TTL: 300,
              ResourceRecords: [{ Value: r.Value ?? '' }],
            },
          })),
        },
      }),
    );
  },
};
