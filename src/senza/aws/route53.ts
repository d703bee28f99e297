import {
  type Change,
  ChangeResourceRecordSetsCommand,
  type HostedZone,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { type AwsSettings, clientConfig } from './aws-settings.js';
import { awsCall } from './aws-error.js';

const S = 'Route53';

/** Thin adapter over the Route 53 client. */
export class Route53Adapter {
  readonly client: Route53Client;
  constructor(settings: AwsSettings) {
    this.client = new Route53Client(clientConfig(settings));
  }

  async hostedZones(): Promise<HostedZone[]> {
    const zones: HostedZone[] = [];
    let Marker: string | undefined;
    do {
      const r = await awsCall(S, 'ListHostedZones', () =>
        this.client.send(new ListHostedZonesCommand({ Marker })),
      );
      zones.push(...(r.HostedZones ?? []));
      Marker = r.IsTruncated ? r.NextMarker : undefined;
    } while (Marker);
    return zones;
  }

  async recordSets(zoneId: string): Promise<ResourceRecordSet[]> {
    const records: ResourceRecordSet[] = [];
    let start: {
      StartRecordName?: string;
      StartRecordType?: ResourceRecordSet['Type'];
      StartRecordIdentifier?: string;
    } = {};
    for (;;) {
      const r = await awsCall(S, 'ListResourceRecordSets', () =>
        this.client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, ...start })),
      );
      records.push(...(r.ResourceRecordSets ?? []));
      if (!r.IsTruncated) return records;
      start = {
        StartRecordName: r.NextRecordName,
        StartRecordType: r.NextRecordType,
        ...(r.NextRecordIdentifier ? { StartRecordIdentifier: r.NextRecordIdentifier } : {}),
      };
    }
  }

  async change(zoneId: string, changes: Change[], comment: string): Promise<void> {
    await awsCall(S, 'ChangeResourceRecordSets', () =>
      this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: { Comment: comment, Changes: changes },
        }),
      ),
    );
  }
}
