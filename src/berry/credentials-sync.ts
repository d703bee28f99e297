import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { StupsError } from '../platform/errors.js';
import type { MintBucket } from './mint-bucket.js';

/** The two files mint writes per application, and what each must hold to be worth writing. */
export const CREDENTIAL_FILES = ['user', 'client'] as const;
export type CredentialFile = (typeof CREDENTIAL_FILES)[number];

const FILE_SCHEMAS = {
  user: z.looseObject({
    application_username: z.string().min(1),
    application_password: z.string().min(1),
  }),
  // Public clients have no secret: mint writes `null`.
  client: z.looseObject({ client_id: z.string().min(1), client_secret: z.string().min(1).nullable() }),
} satisfies Record<CredentialFile, z.ZodType>;

export interface BerryLog {
  info(message: string): void;
  error(message: string): void;
}

/** What one pass found: the files it replaced and every error, one line each. */
export interface SyncOutcome {
  changed: CredentialFile[];
  errors: string[];
}

/** The status file's content, for health checks: when berry last succeeded and what failed last. */
export interface BerryStatus {
  application_id: string;
  source: string;
  last_attempt: string;
  last_success: string | null;
  last_change: string | null;
  last_error: { at: string; message: string } | null;
  consecutive_failures: number;
  ok: boolean;
}

const BerryStatusSchema = z.object({
  last_success: z.string().nullable(),
  last_change: z.string().nullable(),
  last_error: z.object({ at: z.string(), message: z.string() }).nullable(),
  consecutive_failures: z.number().int().nonnegative(),
});

export interface BerryAgentOptions {
  applicationId: string;
  /** Where `user.json` and `client.json` go (Taupage: `/meta/credentials`). */
  dir: string;
  /**
   * The bucket for one pass. Called before every pass so that credentials from the `-c` file are
   * read each time, as the original does; a thrown error counts as that pass's error.
   */
  openBucket: () => Promise<MintBucket & { destroy?: () => void }>;
  log: BerryLog;
  /** Tells the application about new credentials (`--exec`, `--signal`); a failure is an error of the pass. */
  onChange?: (changed: readonly CredentialFile[]) => Promise<void>;
  statusFile?: string | undefined;
  now?: () => Date;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Writes a file so that readers see the old or the new content, never a part: a private temp file
 * beside it, flushed, then renamed over it.
 */
export async function writeFileAtomically(file: string, content: string | Buffer): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  // A temp file left by a crash would keep its old mode: start fresh so 0600 applies.
  await rm(temp, { force: true });
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function readLocalJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    // Missing or damaged: anything from the bucket replaces it.
    return undefined;
  }
}

/**
 * berry's work: copies an application's credentials from its mint bucket into a local folder,
 * rewriting a file only when its content changed and never removing the last good one.
 */
export class BerryAgent {
  private status: Omit<BerryStatus, 'application_id' | 'source' | 'last_attempt' | 'ok'> | undefined;
  private source = 'unknown';

  constructor(private readonly options: BerryAgentOptions) {}

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** One pass over both files; never throws for a bucket or file problem, it reports it. */
  async syncOnce(): Promise<SyncOutcome> {
    const { applicationId, log } = this.options;
    const outcome: SyncOutcome = { changed: [], errors: [] };
    const fail = (message: string) => {
      outcome.errors.push(message);
      log.error(message);
    };
    let bucket: (MintBucket & { destroy?: () => void }) | undefined;
    try {
      bucket = await this.options.openBucket();
      this.source = bucket.description;
    } catch (error) {
      fail(messageOf(error));
    }
    if (bucket) {
      try {
        for (const name of CREDENTIAL_FILES) {
          try {
            if (await this.syncFile(bucket, name)) {
              outcome.changed.push(name);
              log.info(`Rotated ${name} credentials for ${applicationId}`);
            }
          } catch (error) {
            fail(messageOf(error));
          }
        }
      } finally {
        bucket.destroy?.();
      }
    }
    if (outcome.changed.length > 0 && this.options.onChange) {
      try {
        await this.options.onChange(outcome.changed);
      } catch (error) {
        fail(messageOf(error));
      }
    }
    await this.recordStatus(outcome);
    return outcome;
  }

  /** Downloads one file; true when the local copy was replaced. */
  private async syncFile(bucket: MintBucket, name: CredentialFile): Promise<boolean> {
    const key = `${this.options.applicationId}/${name}.json`;
    const bytes = await bucket.read(key);
    let remote: unknown;
    try {
      remote = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new StupsError(
        'INVALID_CREDENTIALS',
        `Credentials file "${key}" in ${bucket.description} is not JSON`,
      );
    }
    const parsed = FILE_SCHEMAS[name].safeParse(remote);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new StupsError(
        'INVALID_CREDENTIALS',
        `Credentials file "${key}" in ${bucket.description} is not valid: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected content'}`,
      );
    }
    const file = join(this.options.dir, `${name}.json`);
    // Compared as JSON, as the original does: key order or spacing alone is no rotation.
    if (isDeepStrictEqual(await readLocalJson(file), remote)) return false;
    // Only now, with a valid file to write: a failed download leaves no empty folder behind (an
    // application waiting for the folder to appear would take it for credentials).
    try {
      await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StupsError(
        'CREDENTIALS_DIR',
        `Could not create credentials folder ${this.options.dir}: ${messageOf(error)}`,
      );
    }
    await writeFileAtomically(file, bytes);
    return true;
  }

  private async loadStatus(): Promise<NonNullable<BerryAgent['status']>> {
    if (this.status) return this.status;
    const empty = { last_success: null, last_change: null, last_error: null, consecutive_failures: 0 };
    if (!this.options.statusFile) return empty;
    // Carries history across `--once` runs (Taupage runs one before the daemon starts).
    const previous = BerryStatusSchema.safeParse(await readLocalJson(this.options.statusFile));
    return previous.success ? previous.data : empty;
  }

  private async recordStatus(outcome: SyncOutcome): Promise<void> {
    const at = this.now().toISOString();
    const before = await this.loadStatus();
    const ok = outcome.errors.length === 0;
    this.status = {
      last_success: ok ? at : before.last_success,
      last_change: outcome.changed.length > 0 ? at : before.last_change,
      last_error: ok ? before.last_error : { at, message: outcome.errors.join('; ') },
      consecutive_failures: ok ? 0 : before.consecutive_failures + 1,
    };
    if (!this.options.statusFile) return;
    const status: BerryStatus = {
      application_id: this.options.applicationId,
      source: this.source,
      last_attempt: at,
      ok,
      ...this.status,
    };
    try {
      await writeFileAtomically(this.options.statusFile, `${JSON.stringify(status, null, 2)}\n`);
    } catch (error) {
      this.options.log.error(`Could not write status file ${this.options.statusFile}: ${messageOf(error)}`);
    }
  }

  /**
   * Passes every `intervalSeconds` until `signal` aborts; a pass under way finishes first (its
   * writes are atomic anyway), so SIGTERM never leaves a temp file behind.
   */
  async run(intervalSeconds: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.syncOnce();
      try {
        await sleep(intervalSeconds * 1000, undefined, { signal });
      } catch {
        return;
      }
    }
  }
}
