import {
  AutoScalingClient,
  type AutoScalingGroup,
  CreateLaunchConfigurationCommand,
  type CreateLaunchConfigurationCommandInput,
  DescribeAutoScalingGroupsCommand,
  DescribeLaunchConfigurationsCommand,
  type LaunchConfiguration,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type UpdateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { type AwsSettings, clientConfig } from './aws-settings.js';
import { awsCall } from './aws-error.js';

const S = 'AutoScaling';

/** Thin adapter over the Auto Scaling client. */
export class AutoScalingAdapter {
  readonly client: AutoScalingClient;
  constructor(settings: AwsSettings) {
    this.client = new AutoScalingClient(clientConfig(settings));
  }

  async describeGroup(name: string): Promise<AutoScalingGroup | undefined> {
    const r = await awsCall(S, 'DescribeAutoScalingGroups', () =>
      this.client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })),
    );
    return r.AutoScalingGroups?.[0];
  }

  async describeLaunchConfiguration(name: string): Promise<LaunchConfiguration | undefined> {
    const r = await awsCall(S, 'DescribeLaunchConfigurations', () =>
      this.client.send(new DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: [name] })),
    );
    return r.LaunchConfigurations?.[0];
  }

  async createLaunchConfiguration(input: CreateLaunchConfigurationCommandInput): Promise<void> {
    await awsCall(S, 'CreateLaunchConfiguration', () =>
      this.client.send(new CreateLaunchConfigurationCommand(input)),
    );
  }

  async updateGroup(input: UpdateAutoScalingGroupCommandInput): Promise<void> {
    await awsCall(S, 'UpdateAutoScalingGroup', () =>
      this.client.send(new UpdateAutoScalingGroupCommand(input)),
    );
  }

  async suspendProcesses(name: string, processes: string[]): Promise<void> {
    await awsCall(S, 'SuspendProcesses', () =>
      this.client.send(
        new SuspendProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: processes }),
      ),
    );
  }

  async resumeProcesses(name: string): Promise<void> {
    await awsCall(S, 'ResumeProcesses', () =>
      this.client.send(new ResumeProcessesCommand({ AutoScalingGroupName: name })),
    );
  }

  async terminateInstance(instanceId: string): Promise<void> {
    await awsCall(S, 'TerminateInstanceInAutoScalingGroup', () =>
      this.client.send(
        new TerminateInstanceInAutoScalingGroupCommand({
          InstanceId: instanceId,
          ShouldDecrementDesiredCapacity: false,
        }),
      ),
    );
  }
}
