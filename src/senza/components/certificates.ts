import { CliError } from '../../platform/cli/cli-error.js';
import type { SenzaAws } from '../aws/senza-aws.js';

const ACM_ARN = /^arn:aws:acm:/;
const IAM_CERT_ARN = /^arn:aws:iam::\d+:server-certificate\//;

function coversDomain(pattern: string, domain: string): boolean {
  if (pattern === domain) return true;
  if (pattern.startsWith('*.')) {
    const rest = domain.slice(domain.indexOf('.') + 1);
    return rest === pattern.slice(2);
  }
  return false;
}

/**
 * The certificate for an HTTPS listener: an ACM or IAM ARN as given (an ACM one must exist), an
 * IAM server certificate by name, or auto-detected for `<subdomain>.<zone>`: a matching issued
 * ACM certificate first, then an IAM certificate named after the zone (`example-org`), then any.
 */
export async function resolveCertificate(
  given: string | undefined,
  subdomain: string,
  zone: string | undefined,
  aws: SenzaAws,
  path: string,
): Promise<string> {
  if (given && ACM_ARN.test(given)) {
    await (await aws.acm()).certificate(given);
    return given;
  }
  if (given && IAM_CERT_ARN.test(given)) return given;
  const iamCerts = await (await aws.iam()).serverCertificates();
  if (given) {
    const cert = iamCerts.find((c) => c.ServerCertificateName === given);
    if (!cert) throw new CliError(`${path}.SSLCertificateId: no IAM server certificate named "${given}"`);
    return cert.Arn!;
  }
  const domain = zone ? `${subdomain}.${zone.replace(/\.$/, '')}` : undefined;
  if (domain) {
    const acm = (await (await aws.acm()).issuedCertificates())
      .filter((c) =>
        [c.DomainName ?? '', ...(c.SubjectAlternativeNames ?? [])].some((d) => coversDomain(d, domain)),
      )
      // The one valid longest first.
      .sort((a, b) => (b.NotAfter?.getTime() ?? 0) - (a.NotAfter?.getTime() ?? 0));
    if (acm[0]) return acm[0].CertificateArn!;
  }
  const pattern = zone ? zone.toLowerCase().replace(/\.$/, '').replace(/\./g, '-') : '';
  const byName = iamCerts
    .filter((c) => (c.ServerCertificateName ?? '').includes(pattern))
    .sort((a, b) => (a.ServerCertificateName ?? '').localeCompare(b.ServerCertificateName ?? ''));
  const any = [...iamCerts].sort((a, b) =>
    (b.ServerCertificateName ?? '').localeCompare(a.ServerCertificateName ?? ''),
  );
  const chosen = byName[0] ?? any[0];
  if (!chosen) {
    throw new CliError(
      domain
        ? `${path}: Could not find any matching SSL certificate for "${domain}"`
        : `${path}: Could not find any SSL certificate`,
    );
  }
  return chosen.Arn!;
}
