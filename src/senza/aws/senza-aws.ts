import type { AcmAdapter } from './acm.js';
import type { AutoScalingAdapter } from './auto-scaling.js';
import type { AwsSettings } from './aws-settings.js';
import type { CloudFormationAdapter } from './cloudformation.js';
import type { Ec2Adapter } from './ec2.js';
import type { ElbAdapter } from './elb.js';
import type { ElbV2Adapter } from './elb-v2.js';
import type { IamAdapter } from './iam.js';
import type { KmsAdapter } from './kms.js';
import type { Route53Adapter } from './route53.js';
import type { StsAdapter } from './sts.js';

/**
 * Every AWS service Senza talks to, each created on first use: the SDK clients are large, and
 * `senza print` of a definition without components should not load EC2's.
 */
export class SenzaAws {
  private readonly cache = new Map<string, Promise<unknown>>();
  constructor(readonly settings: AwsSettings) {}

  get region(): string {
    return this.settings.region;
  }

  private lazy<T>(key: string, load: () => Promise<T>): Promise<T> {
    let value = this.cache.get(key) as Promise<T> | undefined;
    if (!value) {
      value = load();
      this.cache.set(key, value);
    }
    return value;
  }

  cloudFormation = (): Promise<CloudFormationAdapter> =>
    this.lazy(
      'cf',
      async () => new (await import('./cloudformation.js')).CloudFormationAdapter(this.settings),
    );
  ec2 = (): Promise<Ec2Adapter> =>
    this.lazy('ec2', async () => new (await import('./ec2.js')).Ec2Adapter(this.settings));
  autoScaling = (): Promise<AutoScalingAdapter> =>
    this.lazy('asg', async () => new (await import('./auto-scaling.js')).AutoScalingAdapter(this.settings));
  elb = (): Promise<ElbAdapter> =>
    this.lazy('elb', async () => new (await import('./elb.js')).ElbAdapter(this.settings));
  elbV2 = (): Promise<ElbV2Adapter> =>
    this.lazy('elbv2', async () => new (await import('./elb-v2.js')).ElbV2Adapter(this.settings));
  route53 = (): Promise<Route53Adapter> =>
    this.lazy('r53', async () => new (await import('./route53.js')).Route53Adapter(this.settings));
  iam = (): Promise<IamAdapter> =>
    this.lazy('iam', async () => new (await import('./iam.js')).IamAdapter(this.settings));
  acm = (): Promise<AcmAdapter> =>
    this.lazy('acm', async () => new (await import('./acm.js')).AcmAdapter(this.settings));
  kms = (): Promise<KmsAdapter> =>
    this.lazy('kms', async () => new (await import('./kms.js')).KmsAdapter(this.settings));
  sts = (): Promise<StsAdapter> =>
    this.lazy('sts', async () => new (await import('./sts.js')).StsAdapter(this.settings));
}
