import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { type AwsSettings, clientConfig } from './aws-settings.js';
import { awsCall } from './aws-error.js';

/** Thin adapter over the KMS client: decrypts `senza:kms:` values of a definition. */
export class KmsAdapter {
  readonly client: KMSClient;
  constructor(settings: AwsSettings) {
    this.client = new KMSClient(clientConfig(settings));
  }

  async decrypt(ciphertextBase64: string): Promise<string> {
    const r = await awsCall('KMS', 'Decrypt', () =>
      this.client.send(new DecryptCommand({ CiphertextBlob: Buffer.from(ciphertextBase64, 'base64') })),
    );
    return Buffer.from(r.Plaintext ?? new Uint8Array()).toString('utf8');
  }
}
