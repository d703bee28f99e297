import {
  CloudFormationClient,
  CreateStackCommand,
  type CreateStackCommandInput,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStackResourceCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListStacksCommand,
  type Stack,
  type StackEvent,
  type StackResource,
  type StackResourceDetail,
  type StackStatus,
  type StackSummary,
  UpdateStackCommand,
  type UpdateStackCommandInput,
} from '@aws-sdk/client-cloudformation';
import { type AwsSettings, clientConfig } from './aws-settings.js';
import { AwsCallError, awsCall } from './aws-error.js';

/** Every status except DELETE_COMPLETE: what `senza list` shows without `--all`. */
export const ACTIVE_STACK_STATUSES: StackStatus[] = [
  'CREATE_IN_PROGRESS',
  'CREATE_FAILED',
  'CREATE_COMPLETE',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_FAILED',
  'ROLLBACK_COMPLETE',
  'DELETE_IN_PROGRESS',
  'DELETE_FAILED',
  'UPDATE_IN_PROGRESS',
  'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_IN_PROGRESS',
  'UPDATE_ROLLBACK_FAILED',
  'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
  'UPDATE_ROLLBACK_COMPLETE',
];

const S = 'CloudFormation';

/** Thin adapter over the CloudFormation client: only the calls Senza makes, paginated where needed. */
export class CloudFormationAdapter {
  readonly client: CloudFormationClient;
  constructor(settings: AwsSettings) {
    this.client = new CloudFormationClient(clientConfig(settings));
  }

  async listStacks(all: boolean): Promise<StackSummary[]> {
    const stacks: StackSummary[] = [];
    let NextToken: string | undefined;
    do {
      const page = await awsCall(S, 'ListStacks', () =>
        this.client.send(
          new ListStacksCommand({ ...(all ? {} : { StackStatusFilter: ACTIVE_STACK_STATUSES }), NextToken }),
        ),
      );
      stacks.push(...(page.StackSummaries ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return stacks;
  }

  /** The stack, or undefined when it does not exist (CloudFormation answers ValidationError). */
  async describeStack(stackName: string): Promise<Stack | undefined> {
    try {
      const result = await awsCall(S, 'DescribeStacks', () =>
        this.client.send(new DescribeStacksCommand({ StackName: stackName })),
      );
      return result.Stacks?.[0];
    } catch (error) {
      if (error instanceof AwsCallError && /does not exist/.test(error.awsMessage)) return undefined;
      throw error;
    }
  }

  async describeStackResource(stackName: string, logicalId: string): Promise<StackResourceDetail> {
    const result = await awsCall(S, 'DescribeStackResource', () =>
      this.client.send(
        new DescribeStackResourceCommand({ StackName: stackName, LogicalResourceId: logicalId }),
      ),
    );
    return result.StackResourceDetail!;
  }

  async describeStackResources(stackName: string): Promise<StackResource[]> {
    const result = await awsCall(S, 'DescribeStackResources', () =>
      this.client.send(new DescribeStackResourcesCommand({ StackName: stackName })),
    );
    return result.StackResources ?? [];
  }

  async describeStackEvents(stackName: string): Promise<StackEvent[]> {
    const events: StackEvent[] = [];
    let NextToken: string | undefined;
    do {
      const page = await awsCall(S, 'DescribeStackEvents', () =>
        this.client.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken })),
      );
      events.push(...(page.StackEvents ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return events;
  }

  async getTemplate(stackName: string): Promise<Record<string, unknown>> {
    const result = await awsCall(S, 'GetTemplate', () =>
      this.client.send(new GetTemplateCommand({ StackName: stackName })),
    );
    return JSON.parse(result.TemplateBody ?? '{}') as Record<string, unknown>;
  }

  async createStack(input: CreateStackCommandInput): Promise<string | undefined> {
    const result = await awsCall(S, 'CreateStack', () => this.client.send(new CreateStackCommand(input)));
    return result.StackId;
  }

  /** Updates a stack; false when CloudFormation says there is nothing to update. */
  async updateStack(input: UpdateStackCommandInput): Promise<boolean> {
    try {
      await awsCall(S, 'UpdateStack', () => this.client.send(new UpdateStackCommand(input)));
      return true;
    } catch (error) {
      if (error instanceof AwsCallError && /No updates are to be performed/.test(error.awsMessage))
        return false;
      throw error;
    }
  }

  async deleteStack(stackName: string): Promise<void> {
    await awsCall(S, 'DeleteStack', () => this.client.send(new DeleteStackCommand({ StackName: stackName })));
  }
}
