import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { AuditLog, type AuditRecord } from '../../platform/audit/audit-log.js';
import { createAudit } from '../../platform/audit/create-audit.js';
import { TeamPolicy } from '../../platform/authz/team-policy.js';
import type { Principal, Realm } from '../../platform/auth/principal.js';
import type { BlobStore } from '../../platform/blob-store/blob-store.js';
import { createFilesystemBlobStore } from '../../platform/blob-store/filesystem-blob-store.js';
import type { Database } from '../../platform/db/database.js';
import type { ComponentMigrations } from '../../platform/db/migrate.js';
import { silentLogger } from '../../platform/logger.js';
import { KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { teamMigrations, TeamStore } from '../../teams/index.js';
import { type Actor, PushAccess } from '../access.js';
import { parsePierOneConfig } from '../config.js';
import { PIERONE_EVENTS } from '../events.js';
import { Manifests } from '../manifests.js';
import { pieroneMigrations } from '../migrations.js';
import { ScmSourceScanner } from '../scm-source.js';
import { PierOneStore } from '../store.js';
import { BlobUploads } from '../uploads.js';
import { MemoryApplicationDirectory } from './directories.js';

/** Everything Pier One's domain modules need, with the real team store beside them. */
export const DOMAIN_MIGRATIONS: ComponentMigrations[] = [
  ...KERNEL_MIGRATIONS,
  { component: 'teams', migrations: teamMigrations },
  pieroneMigrations,
];

/** Pier One's domain over a real database and blob store: no HTTP, no registry client. */
export interface TestDomain {
  store: PierOneStore;
  blobs: BlobStore;
  teams: TeamStore;
  access: PushAccess;
  manifests: Manifests;
  uploads: BlobUploads;
  auditLog: AuditLog;
  /** Audit events of Pier One for `targetId`, newest first. */
  events(targetId: string): Promise<AuditRecord[]>;
  close(): Promise<void>;
}

/**
 * Builds the domain. Tag lists are cached for a minute, so that a test of what a push shows
 * cannot pass by waiting for the cache to expire. `blobs` replaces the filesystem store (it is
 * given the directory to use).
 */
export async function createTestDomain(
  database: Database,
  options: {
    blobs?: (dir: string) => Promise<BlobStore>;
    /** The upload purge's age, which keeps uploads in use alive (`BlobUploadsDeps.abandonedAfterMs`). */
    abandonedUploadMs?: number;
  } = {},
): Promise<TestDomain> {
  const dir = await mkdtemp(join(tmpdir(), 'pierone-domain-'));
  const blobs = options.blobs
    ? await options.blobs(dir)
    : await createFilesystemBlobStore({ root: dir, fsync: false });
  const teams = new TeamStore(database);
  const store = new PierOneStore(database, { tagListTtlMs: 60_000 });
  const auditLog = new AuditLog(database, silentLogger());
  const audit = createAudit(auditLog, 'pierone', PIERONE_EVENTS);
  const policy = new TeamPolicy({
    teams,
    applications: new MemoryApplicationDirectory({ 'kio-app': 'stups' }),
    // `admin` is a platform administrator, who has no push rights of their own in Pier One.
    adminPolicy: { adminUids: new Set(['admin']), adminScope: 'stups.admin' },
  });
  const access = new PushAccess({ policy, teams, audit });
  const scanner = new ScmSourceScanner(blobs, store, silentLogger(), 64 * 1024);
  const config = parsePierOneConfig({});
  return {
    store,
    blobs,
    teams,
    access,
    manifests: new Manifests({ store, access, scanner, audit, config }),
    uploads: new BlobUploads({ store, blobs, access, audit, abandonedAfterMs: options.abandonedUploadMs }),
    auditLog,
    events: (targetId) => auditLog.query({ service: 'pierone', targetId, limit: 100 }),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

let requests = 0;

/** An actor as the routes build it, with a request id of its own. */
export function actorOf(uid: string, options: { realm?: Realm; scopes?: string[] } = {}): Actor {
  const principal: Principal = {
    uid,
    realm: options.realm ?? 'employees',
    scopes: new Set(['uid', ...(options.scopes ?? [])]),
    clientId: undefined,
    grantType: undefined,
    issuer: 'https://issuer.test',
    tokenId: undefined,
    expiresAt: new Date(Date.now() + 3600_000),
  };
  return { principal, requestId: `req-${++requests}` };
}

/** Audit events whose target id or details contain this cannot be written once `breakAuditFor` ran. */
export const UNAUDITABLE = 'unauditable';

/**
 * Makes the audit table refuse every event whose target id or details contain `UNAUDITABLE`, the way a
 * real insert fails (a database error inside the write's own transaction): a change that must
 * commit with its event then cannot commit at all. Other events are written as usual.
 */
export async function breakAuditFor(database: Database): Promise<void> {
  const db = database.kysely();
  await sql`
    create or replace function refuse_unauditable_events() returns trigger language plpgsql as $$
    begin
      if coalesce(new.target_id, '') || coalesce(new.details::text, '') like ${sql.lit(`%${UNAUDITABLE}%`)} then
        raise exception 'audit event for % cannot be written', new.target_id;
      end if;
      return new;
    end
    $$`.execute(db);
  await sql`drop trigger if exists refuse_unauditable_events on audit_events`.execute(db);
  await sql`
    create trigger refuse_unauditable_events before insert on audit_events
    for each row execute function refuse_unauditable_events()`.execute(db);
}
