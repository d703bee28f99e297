import {
  CreateTrailCommand,
  DescribeTrailsCommand,
  GetTrailStatusCommand,
  StartLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import type { AccountConfig } from '../contract.js';
import type { PlannedChange, ResourceModule } from './resource.js';

/** The trail STUPS creates in every account (config/cloudtrail.py names it `Default`). */
export const TRAIL_NAME = 'Default';

interface WantedTrail {
  homeRegion: string;
  bucket: string;
  prefix: string;
}

interface TrailState {
  bucket: string;
  prefix: string;
  multiRegion: boolean;
  globalEvents: boolean;
  validation: boolean;
  logging: boolean;
}

type TrailOp =
  | { type: 'create'; trail: WantedTrail }
  | { type: 'update'; trail: WantedTrail; startLogging: boolean }
  | { type: 'start-logging'; trail: WantedTrail };

/**
 * What the file asks for: nothing without a `cloudtrail` section or with `enable_cloudtrail:
 * false` (an existing trail is then left alone, never deleted: it is the audit record).
 */
export function wantedTrail(account: AccountConfig): WantedTrail | undefined {
  if (!account.cloudtrail || account.enable_cloudtrail === false) return undefined;
  return {
    homeRegion: account.cloudtrail.home_region,
    bucket: account.cloudtrail.s3_bucket_name,
    prefix: account.cloudtrail.s3_key_prefix ?? '',
  };
}

/** The settings STUPS gives the trail: every region, global services (IAM, STS), signed digests. */
function trailSettings(trail: WantedTrail, update = false) {
  return {
    Name: TRAIL_NAME,
    S3BucketName: trail.bucket,
    // An update sends an empty prefix too: leaving it out would keep the old one.
    ...(trail.prefix || update ? { S3KeyPrefix: trail.prefix } : {}),
    IncludeGlobalServiceEvents: true,
    IsMultiRegionTrail: true,
    EnableLogFileValidation: true,
  };
}

/**
 * One multi-region trail `Default` in the home region writing to the central bucket (fullstop
 * reads it there), logging started. Other trails are not touched.
 */
export const cloudTrail: ResourceModule<TrailState | undefined, TrailOp> = {
  kind: 'cloudtrail',
  async read(clients, account) {
    const wanted = wantedTrail(account);
    if (!wanted) return undefined;
    const ct = clients.cloudtrail(wanted.homeRegion);
    const trail = (
      await ct.send(new DescribeTrailsCommand({ trailNameList: [TRAIL_NAME], includeShadowTrails: false }))
    ).trailList?.find((t) => t.Name === TRAIL_NAME);
    if (!trail) return undefined;
    const status = await ct.send(new GetTrailStatusCommand({ Name: TRAIL_NAME }));
    return {
      bucket: trail.S3BucketName ?? '',
      prefix: trail.S3KeyPrefix ?? '',
      multiRegion: trail.IsMultiRegionTrail === true,
      globalEvents: trail.IncludeGlobalServiceEvents === true,
      validation: trail.LogFileValidationEnabled === true,
      logging: status.IsLogging === true,
    };
  },
  diff(account, current) {
    const wanted = wantedTrail(account);
    if (!wanted) return [];
    const base = { account: account.name, resource: `cloudtrail/${TRAIL_NAME}` };
    if (!current) {
      return [
        {
          ...base,
          action: 'create',
          detail: `multi-region trail in ${wanted.homeRegion} to s3://${wanted.bucket}/${wanted.prefix}`,
          op: { type: 'create', trail: wanted },
        },
      ];
    }
    const differs: string[] = [];
    if (current.bucket !== wanted.bucket) differs.push(`bucket ${current.bucket} → ${wanted.bucket}`);
    if (current.prefix !== wanted.prefix) differs.push(`prefix ${current.prefix} → ${wanted.prefix}`);
    if (!current.multiRegion) differs.push('not multi-region');
    if (!current.globalEvents) differs.push('no global service events');
    if (!current.validation) differs.push('no log file validation');
    const changes: PlannedChange<TrailOp>[] = [];
    if (differs.length) {
      changes.push({
        ...base,
        action: 'update',
        detail: differs.join(', ') + (current.logging ? '' : ', not logging'),
        op: { type: 'update', trail: wanted, startLogging: !current.logging },
      });
    } else if (!current.logging) {
      changes.push({
        ...base,
        action: 'update',
        detail: 'start logging',
        op: { type: 'start-logging', trail: wanted },
      });
    }
    return changes;
  },
  async apply(clients, _account, { op }) {
    const ct = clients.cloudtrail(op.trail.homeRegion);
    if (op.type === 'create') await ct.send(new CreateTrailCommand(trailSettings(op.trail)));
    if (op.type === 'update') await ct.send(new UpdateTrailCommand(trailSettings(op.trail, true)));
    if (op.type !== 'update' || op.startLogging) {
      await ct.send(new StartLoggingCommand({ Name: TRAIL_NAME }));
    }
  },
};
