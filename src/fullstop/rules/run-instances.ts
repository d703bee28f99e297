import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail.js';

const RunInstancesRequest = z.looseObject({
  keyName: z.string().optional(),
  userData: z.string().optional(),
  instancesSet: z
    .looseObject({
      items: z.array(z.looseObject({ imageId: z.string().optional(), keyName: z.string().optional() })),
    })
    .optional(),
});
const RunInstancesResponse = z.looseObject({
  instancesSet: z.looseObject({
    items: z.array(
      z.looseObject({
        instanceId: z.string(),
        imageId: z.string().optional(),
        keyName: z.string().optional(),
      }),
    ),
  }),
});

export interface LaunchedInstance {
  instanceId: string;
  imageId: string | undefined;
  keyName: string | undefined;
}

export interface RunInstances {
  instances: LaunchedInstance[];
  /**
   * Whether user data was given. CloudTrail never records its content: a launch with user data
   * shows `"userData": "<sensitiveDataRemoved>"`, one without shows no key at all.
   */
  hasUserData: boolean;
}

/** The instances a successful `ec2:RunInstances` launched, or undefined for any other record. */
export function runInstances(record: CloudTrailRecord): RunInstances | undefined {
  if (record.eventSource !== 'ec2.amazonaws.com' || record.eventName !== 'RunInstances' || record.errorCode) {
    return undefined;
  }
  const response = RunInstancesResponse.safeParse(record.responseElements);
  if (!response.success) return undefined;
  const request = RunInstancesRequest.safeParse(record.requestParameters);
  const requested = request.success ? request.data.instancesSet?.items[0] : undefined;
  const hasUserData = request.success && request.data.userData !== undefined;
  return {
    hasUserData,
    instances: response.data.instancesSet.items.map((item) => ({
      instanceId: item.instanceId,
      imageId: item.imageId ?? requested?.imageId,
      keyName: item.keyName ?? requested?.keyName ?? (request.success ? request.data.keyName : undefined),
    })),
  };
}
