import {
  type AliasListEntry,
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  type KeyMetadata,
  type KeyUsageType,
  ListAliasesCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  UpdateKeyDescriptionCommand,
} from '@aws-sdk/client-kms';
import type { AccountConfig } from '../contract.js';
import { fillTemplate } from '../config.js';
import { parsePolicyText, samePolicy } from './policy.js';
import type { PlannedChange, ResourceModule } from './resource.js';

interface CurrentKey {
  keyId: string;
  metadata?: KeyMetadata;
  policy?: unknown;
}

type KmsOp =
  | { type: 'create'; region: string; alias: string }
  | { type: 'policy'; region: string; alias: string; keyId: string }
  | { type: 'description'; region: string; alias: string; keyId: string }
  | { type: 'drop'; region: string; alias: string; keyId: string };

/** The configured key of one alias in one region, `{region}` filled into its policy. */
function wantedKey(account: AccountConfig, alias: string, region: string) {
  const key = account.kms?.[alias];
  return key ? fillTemplate(key, { region }) : undefined;
}

/** Days a dropped key waits before KMS deletes it: the longest KMS allows, so a mistake can be undone. */
const DELETION_WINDOW_DAYS = 30;

/**
 * `kms`: customer keys per region, known by alias (`alias/<name>`), as STUPS made them: created
 * with the file's description, usage, tags and key policy; the policy and description reconciled
 * afterwards; `drop: true` removes the alias and schedules the key's deletion. Keys without an
 * alias of the file are not ours and are left alone.
 */
export const kmsKeys: ResourceModule<Map<string, Map<string, CurrentKey>>, KmsOp> = {
  kind: 'kms',
  async read(clients, account) {
    const state = new Map<string, Map<string, CurrentKey>>();
    const aliases = Object.keys(account.kms ?? {});
    if (!aliases.length) return state;
    for (const region of account.regions) {
      const kms = clients.kms(region);
      const listed: AliasListEntry[] = [];
      let marker: string | undefined;
      do {
        const page = await kms.send(new ListAliasesCommand(marker ? { Marker: marker } : {}));
        listed.push(...(page.Aliases ?? []));
        marker = page.Truncated ? page.NextMarker : undefined;
      } while (marker);
      const keys = new Map<string, CurrentKey>();
      for (const alias of aliases) {
        const keyId = listed.find((a) => a.AliasName === alias)?.TargetKeyId;
        if (!keyId) continue;
        const metadata = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
        // A key already scheduled for deletion counts as gone (a drop that was applied).
        if (metadata?.KeyState === 'PendingDeletion') continue;
        const policy = parsePolicyText(
          (await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))).Policy,
        );
        keys.set(alias, { keyId, ...(metadata ? { metadata } : {}), ...(policy ? { policy } : {}) });
      }
      state.set(region, keys);
    }
    return state;
  },
  diff(account, current) {
    const changes: PlannedChange<KmsOp>[] = [];
    for (const region of account.regions) {
      for (const alias of Object.keys(account.kms ?? {})) {
        const wanted = wantedKey(account, alias, region)!;
        const now = current.get(region)?.get(alias);
        const base = { account: account.name, resource: `kms/${region}/${alias}` };
        if (wanted.drop) {
          if (now)
            changes.push({
              ...base,
              action: 'delete',
              detail: `delete the alias, schedule key ${now.keyId} for deletion in ${DELETION_WINDOW_DAYS} days`,
              op: { type: 'drop', region, alias, keyId: now.keyId },
            });
          continue;
        }
        if (!now) {
          changes.push({
            ...base,
            action: 'create',
            detail: `create key${wanted.description ? ` "${wanted.description}"` : ''}`,
            op: { type: 'create', region, alias },
          });
          continue;
        }
        if (wanted.description !== undefined && now.metadata?.Description !== wanted.description) {
          changes.push({
            ...base,
            action: 'update',
            detail: `description "${wanted.description}"`,
            op: { type: 'description', region, alias, keyId: now.keyId },
          });
        }
        if (wanted.key_policy && !samePolicy(wanted.key_policy, now.policy)) {
          changes.push({
            ...base,
            action: 'update',
            detail: 'key policy',
            op: { type: 'policy', region, alias, keyId: now.keyId },
          });
        }
      }
    }
    return changes;
  },
  async apply(clients, account, { op }) {
    const kms = clients.kms(op.region);
    const wanted = wantedKey(account, op.alias, op.region)!;
    switch (op.type) {
      case 'create': {
        const key = await kms.send(
          new CreateKeyCommand({
            ...(wanted.description !== undefined ? { Description: wanted.description } : {}),
            ...(wanted.key_usage ? { KeyUsage: wanted.key_usage as KeyUsageType } : {}),
            ...(wanted.key_policy ? { Policy: JSON.stringify(wanted.key_policy) } : {}),
            ...(wanted.tags ? { Tags: wanted.tags } : {}),
          }),
        );
        await kms.send(
          new CreateAliasCommand({ AliasName: op.alias, TargetKeyId: key.KeyMetadata?.KeyId ?? '' }),
        );
        return;
      }
      case 'policy':
        await kms.send(
          new PutKeyPolicyCommand({
            KeyId: op.keyId,
            PolicyName: 'default',
            Policy: JSON.stringify(wanted.key_policy),
          }),
        );
        return;
      case 'description':
        await kms.send(
          new UpdateKeyDescriptionCommand({ KeyId: op.keyId, Description: wanted.description ?? '' }),
        );
        return;
      case 'drop':
        await kms.send(new DeleteAliasCommand({ AliasName: op.alias }));
        await kms.send(
          new ScheduleKeyDeletionCommand({ KeyId: op.keyId, PendingWindowInDays: DELETION_WINDOW_DAYS }),
        );
        return;
    }
  },
};
