import {
  DescribeLoadBalancersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type LoadBalancer,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type AwsSettings, clientConfig } from './aws-settings.js';
import { awsCall } from './aws-error.js';

const S = 'ELBv2';

/** Thin adapter over the Elastic Load Balancing v2 (ALB) client. */
export class ElbV2Adapter {
  readonly client: ElasticLoadBalancingV2Client;
  constructor(settings: AwsSettings) {
    this.client = new ElasticLoadBalancingV2Client(clientConfig(settings));
  }

  async describeLoadBalancer(arn: string): Promise<LoadBalancer | undefined> {
    const r = await awsCall(S, 'DescribeLoadBalancers', () =>
      this.client.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] })),
    );
    return r.LoadBalancers?.[0];
  }

  async targetHealth(targetGroupArn: string): Promise<TargetHealthDescription[]> {
    const r = await awsCall(S, 'DescribeTargetHealth', () =>
      this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })),
    );
    return r.TargetHealthDescriptions ?? [];
  }
}
