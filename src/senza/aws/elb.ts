import {
  DescribeInstanceHealthCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
  type InstanceState,
  type LoadBalancerDescription,
} from '@aws-sdk/client-elastic-load-balancing';
import { type AwsSettings, clientConfig } from './aws-settings.js';
import { AwsCallError, awsCall } from './aws-error.js';

const S = 'ELB';

/** Thin adapter over the classic Elastic Load Balancing client. */
export class ElbAdapter {
  readonly client: ElasticLoadBalancingClient;
  constructor(settings: AwsSettings) {
    this.client = new ElasticLoadBalancingClient(clientConfig(settings));
  }

  async describeLoadBalancer(name: string): Promise<LoadBalancerDescription | undefined> {
    try {
      const r = await awsCall(S, 'DescribeLoadBalancers', () =>
        this.client.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] })),
      );
      return r.LoadBalancerDescriptions?.[0];
    } catch (error) {
      if (error instanceof AwsCallError && /LoadBalancerNotFound|AccessPointNotFound/.test(error.code ?? ''))
        return undefined;
      throw error;
    }
  }

  async instanceHealth(name: string): Promise<InstanceState[]> {
    const r = await awsCall(S, 'DescribeInstanceHealth', () =>
      this.client.send(new DescribeInstanceHealthCommand({ LoadBalancerName: name })),
    );
    return r.InstanceStates ?? [];
  }
}
