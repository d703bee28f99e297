import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type AwsSettings, clientConfig } from './aws-settings.js';
import { awsCall } from './aws-error.js';

/** Thin adapter over the STS client: who the caller is (the account id). */
export class StsAdapter {
  readonly client: STSClient;
  constructor(settings: AwsSettings) {
    this.client = new STSClient(clientConfig(settings));
  }

  async accountId(): Promise<string> {
    const r = await awsCall('STS', 'GetCallerIdentity', () =>
      this.client.send(new GetCallerIdentityCommand({})),
    );
    return r.Account!;
  }
}
