import {
  ACMClient,
  type CertificateDetail,
  DescribeCertificateCommand,
  ListCertificatesCommand,
} from '@aws-sdk/client-acm';
import { type AwsSettings, clientConfig } from './aws-settings.js';
import { awsCall } from './aws-error.js';

const S = 'ACM';

/** Thin adapter over the Certificate Manager client. */
export class AcmAdapter {
  readonly client: ACMClient;
  constructor(settings: AwsSettings) {
    this.client = new ACMClient(clientConfig(settings));
  }

  /** Issued certificates with their details (domain, alternative names, dates). */
  async issuedCertificates(): Promise<CertificateDetail[]> {
    const arns: string[] = [];
    let NextToken: string | undefined;
    do {
      const r = await awsCall(S, 'ListCertificates', () =>
        this.client.send(new ListCertificatesCommand({ CertificateStatuses: ['ISSUED'], NextToken })),
      );
      for (const c of r.CertificateSummaryList ?? []) if (c.CertificateArn) arns.push(c.CertificateArn);
      NextToken = r.NextToken;
    } while (NextToken);
    const details: CertificateDetail[] = [];
    for (const arn of arns) details.push(await this.certificate(arn));
    return details;
  }

  async certificate(arn: string): Promise<CertificateDetail> {
    const r = await awsCall(S, 'DescribeCertificate', () =>
      this.client.send(new DescribeCertificateCommand({ CertificateArn: arn })),
    );
    return r.Certificate ?? { CertificateArn: arn };
  }
}
