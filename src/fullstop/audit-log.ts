import { gunzipSync } from 'node:zlib';

/** One successful SSH login, as sshd writes it to the system log Taupage pushes (AUDIT_LOG). */
export interface SshLogin {
  at: Date;
  /** The host name in the log line (`ip-172-31-1-2` on EC2). */
  hostname: string;
  username: string;
  /** Where the connection came from (the odd bastion). */
  from: string;
  port: number;
  /** `publickey`, `password`, `keyboard-interactive/pam`, … */
  method: string;
}

/** Taupage compresses large logs; the decompressed text is bounded so that a log cannot exhaust memory. */
const MAX_TEXT_BYTES = 64 * 1024 * 1024;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const ACCEPTED = /\bsshd\[\d+\]:\s+Accepted\s+(\S+)\s+for\s+(\S+)\s+from\s+(\S+)\s+port\s+(\d+)/;
/** rsyslog's high-precision format: `2026-11-28T04:00:01.123456+00:00 host sshd[1]: …`. */
const ISO_PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))\s+(\S+)\s/;
/** The traditional format: `Nov 28 04:00:01 host sshd[1]: …` (no year, the host's time zone: UTC on Taupage). */
const BSD_PREFIX = /^([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\S+)\s/;

/**
 * The SSH logins of an audit log: `log_data` is base64 of the log text, gzip-compressed or not.
 * Lines that are not sshd logins are skipped. Traditional syslog lines carry no year: it is the
 * boot's year, or the next one for a month before the boot's (a log spanning New Year).
 * Undefined when the data is not a readable log.
 */
export function parseAuditLog(base64: string, bootTime: string): SshLogin[] | undefined {
  let bytes = Buffer.from(base64, 'base64');
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_TEXT_BYTES });
    } catch {
      return undefined;
    }
  }
  const text = bytes.toString('utf8');
  // A binary blob is not a log: refuse it rather than report "no logins".
  if (text.includes('\u0000')) return undefined;
  const boot = new Date(Date.parse(bootTime.replace(' ', 'T')));
  const bootValid = !Number.isNaN(boot.getTime());
  const logins: SshLogin[] = [];
  for (const line of text.split(/\r?\n/)) {
    const accepted = ACCEPTED.exec(line);
    if (!accepted) continue;
    const [, method, username, from, port] = accepted as unknown as [string, string, string, string, string];
    const stamped = timestampOf(line, bootValid ? boot : undefined);
    if (!stamped) continue;
    logins.push({ at: stamped.at, hostname: stamped.hostname, username, from, port: Number(port), method });
  }
  return logins;
}

function timestampOf(line: string, boot: Date | undefined): { at: Date; hostname: string } | undefined {
  const iso = ISO_PREFIX.exec(line);
  if (iso) {
    const at = new Date(Date.parse(iso[1] as string));
    return Number.isNaN(at.getTime()) ? undefined : { at, hostname: iso[2] as string };
  }
  const bsd = BSD_PREFIX.exec(line);
  if (!bsd) return undefined;
  const month = MONTHS.indexOf(bsd[1] as string);
  if (month < 0) return undefined;
  const reference = boot ?? new Date();
  let year = reference.getUTCFullYear();
  if (boot && month < boot.getUTCMonth()) year += 1;
  const at = new Date(Date.UTC(year, month, Number(bsd[2]), Number(bsd[3]), Number(bsd[4]), Number(bsd[5])));
  return { at, hostname: bsd[6] as string };
}

/**
 * The names an instance goes by in even's grants: its id, its log host name and, for EC2's
 * `ip-10-1-2-3` names, the private address `piu` is usually given.
 */
export function hostNamesOf(instanceId: string, hostname: string): string[] {
  const names = new Set([instanceId, hostname.toLowerCase()]);
  const ec2 = /^ip-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})(?:\.|$)/.exec(hostname);
  if (ec2) names.add(ec2.slice(1, 5).join('.'));
  return [...names];
}
