import type { CloudTrailRecord } from '../fullstop/cloudtrail.js';
import type { CloudTrailSource } from '../fullstop/ingestion.js';
import type { SandboxExceptionKind } from './contract.js';

/*
 * Console logins with the root user or an IAM user are exceptions in a personal account: people
 * sign in through the identity provider (an assumed role). The evidence is CloudTrail's
 * `ConsoleLogin` record, read from the same log files fullstop ingests (a folder laid out as
 * CloudTrail writes to S3, or the bucket itself) with fullstop's own reader and record schema:
 * one parser of CloudTrail, two readers of its files, each keeping its own cursor.
 */

export interface ConsoleLoginFinding {
  accountId: string;
  kind: Extract<SandboxExceptionKind, 'ConsoleLoginWithRootException' | 'ConsoleLoginWithIamUserException'>;
  eventId: string;
  at: Date;
  message: string;
  details: Record<string, unknown>;
}

/** The exception a CloudTrail record is, or undefined (any other event, a federated login). */
export function consoleLoginFinding(record: CloudTrailRecord): ConsoleLoginFinding | undefined {
  if (record.eventName !== 'ConsoleLogin' || record.eventSource !== 'signin.amazonaws.com') return undefined;
  const identity = record.userIdentity;
  const kind =
    identity?.type === 'Root'
      ? 'ConsoleLoginWithRootException'
      : identity?.type === 'IAMUser'
        ? 'ConsoleLoginWithIamUserException'
        : undefined;
  const accountId = record.recipientAccountId ?? identity?.accountId;
  const at = new Date(record.eventTime);
  if (!kind || !accountId || Number.isNaN(at.getTime())) return undefined;
  const response = record.responseElements as { ConsoleLogin?: unknown } | null | undefined;
  const outcome = typeof response?.ConsoleLogin === 'string' ? response.ConsoleLogin : 'unknown';
  const extra = record.additionalEventData as { MFAUsed?: unknown } | null | undefined;
  const who =
    kind === 'ConsoleLoginWithRootException' ? 'root user' : `IAM user ${identity?.userName ?? '?'}`;
  const sourceIp = (record as { sourceIPAddress?: unknown }).sourceIPAddress;
  return {
    accountId,
    kind,
    eventId: record.eventID,
    at,
    message: `console login (${outcome.toLowerCase()}) with the ${who}`,
    details: {
      cloudtrail_event_id: record.eventID,
      outcome,
      user: identity?.userName ?? null,
      arn: identity?.arn ?? null,
      mfa_used: typeof extra?.MFAUsed === 'string' ? extra.MFAUsed : null,
      source_ip: typeof sourceIp === 'string' ? sourceIp : null,
    },
  };
}

const KEY_DAY = /\/(\d{4})\/(\d\d)\/(\d\d)\/[^/]+$/;

/**
 * The root and IAM-user console logins of `accounts` in the log files of `source`. Files of days
 * before `since` (less a day: CloudTrail delivers up to ~15 minutes late, across midnight too)
 * are not read again; the caller drops findings it has recorded already (by CloudTrail event id).
 */
export async function scanConsoleLogins(
  source: CloudTrailSource,
  accounts: ReadonlySet<string>,
  since?: Date,
): Promise<{ findings: ConsoleLoginFinding[]; files: number; unreadable: string[] }> {
  const [{ parseCloudTrailKey }, { readRecords }] = await Promise.all([
    import('../fullstop/cloudtrail.js'),
    import('../fullstop/ingestion.js'),
  ]);
  const from = since ? new Date(since.getTime() - 86_400_000).toISOString().slice(0, 10) : undefined;
  const findings: ConsoleLoginFinding[] = [];
  const unreadable: string[] = [];
  let files = 0;
  for (const key of (await source.listKeys()).sort()) {
    const where = parseCloudTrailKey(key);
    // Only the member accounts' own trails (or an organisation trail's folder per account).
    if (!where || !accounts.has(where.account)) continue;
    const day = KEY_DAY.exec(key);
    if (from && day && `${day[1]}-${day[2]}-${day[3]}` < from) continue;
    files++;
    let records: CloudTrailRecord[];
    try {
      records = (await readRecords(await source.read(key))).valid;
    } catch {
      unreadable.push(key);
      continue;
    }
    for (const record of records) {
      const finding = consoleLoginFinding(record);
      if (finding && accounts.has(finding.accountId)) findings.push(finding);
    }
  }
  return { findings, files, unreadable };
}
