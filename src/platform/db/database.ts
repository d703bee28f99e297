import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { type ChangeFeed, pgliteChangeFeed, postgresChangeFeed } from './change-feed.js';
import { PGliteDialect } from './pglite-dialect.js';
import { postgresSessionLocks, type SessionLocks } from './session-locks.js';
import {
  cachedSchemaTemplate,
  freshClusterTemplate,
  saveSchemaTemplate,
  unpackFreshCluster,
} from './pglite-template.js';

/** Where the platform keeps its relational data. */
export type DatabaseOptions =
  /**
   * Embedded PGlite; `dataDir` undefined means in memory (tests). `schemaTemplate`: a new data
   * directory starts from the schema template of this key (`migrationsFingerprint`) when one
   * was kept, and `keepSchemaTemplate` keeps one after migrating when none was.
   */
  | { kind: 'pglite'; dataDir?: string | undefined; schemaTemplate?: string | undefined }
  /** A PostgreSQL server; `schema` isolates one installation (or one test suite) from another. */
  | { kind: 'postgres'; url: string; schema?: string | undefined; poolSize?: number | undefined };

/**
 * The one query layer. Components see it through `kysely<TheirTables>()`: each component
 * declares only its own tables, so no component can reach into another's.
 */
export interface Database {
  readonly kind: DatabaseOptions['kind'];
  /** The schema this installation's tables live in (`public` unless one was given). */
  readonly schema: string;
  kysely<Tables>(): Kysely<Tables>;
  /** Cross-replica cache invalidation (LISTEN/NOTIFY); see change-feed.ts for the rule. */
  readonly changes: ChangeFeed;
  /**
   * PostgreSQL only: advisory locks on a connection outside the pool (the job runner's; see
   * session-locks.ts for why not a pool connection). PGlite has one process and no need.
   */
  readonly sessionLocks: SessionLocks | undefined;
  destroy(): Promise<void>;
  /**
   * Keeps this database, just migrated, as the schema template of its key: only a new PGlite data
   * directory opened with `schemaTemplate` and not restored from one; elsewhere it does nothing.
   */
  keepSchemaTemplate(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * PGlite runs PostgreSQL with its default shared_buffers, 128 MB, inside the WASM memory, and
 * touches all of it: two thirds of `stups up`'s resident memory was that (issue 23, measured:
 * PGlite alone 303 MiB RSS at 128 MB, 176 MiB at 16 MB). The embedded database holds one
 * machine's worth of data and its files are read through the OS page cache anyway.
 */
const PGLITE_SHARED_BUFFERS = '16MB';
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`];

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tables are typed per component through kysely<T>().
  let db: Kysely<any>;
  let changes: ChangeFeed;
  let sessionLocks: SessionLocks | undefined;
  const schema = (options.kind === 'postgres' && options.schema) || 'public';
  let keepSchemaTemplate = async (): Promise<void> => {};
  if (options.kind === 'pglite') {
    // A new database starts from the fresh-cluster template instead of running initdb.
    const isNew = options.dataDir === undefined || !existsSync(join(options.dataDir, 'PG_VERSION'));
    const key = options.schemaTemplate;
    if (options.dataDir !== undefined && isNew) {
      const template = key === undefined ? undefined : await cachedSchemaTemplate(key);
      await unpackFreshCluster(options.dataDir, template);
      if (key !== undefined && !template)
        keepSchemaTemplate = () => {
          keepSchemaTemplate = async () => {};
          return saveSchemaTemplate(pglite, key);
        };
    }
    const pglite =
      options.dataDir === undefined
        ? new PGlite({ loadDataDir: await freshClusterTemplate(), startParams: PGLITE_START_PARAMS })
        : new PGlite(options.dataDir, { startParams: PGLITE_START_PARAMS });
    await pglite.waitReady;
    changes = await pgliteChangeFeed(pglite, schema);
    db = new Kysely({ dialect: new PGliteDialect(pglite) });
  } else {
    if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
      throw new Error(`invalid schema name ${JSON.stringify(options.schema)}`);
    }
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    db = new Kysely({ dialect: new PostgresDialect({ pool }) });
    // Connects only once something subscribes (a service's caches), not for CLI tools.
    changes = postgresChangeFeed(options.url, schema);
    // Connects on the first job run, not for CLI tools either.
    sessionLocks = postgresSessionLocks(options.url);
    if (options.schema) {
      await sql`create schema if not exists ${sql.id(options.schema)}`.execute(db);
    }
  }
  return {
    kind: options.kind,
    schema,
    kysely: <Tables>() => db as Kysely<Tables>,
    changes,
    sessionLocks,
    destroy: async () => {
      await changes.close();
      await sessionLocks?.close();
      await db.destroy();
    },
    keepSchemaTemplate: () => keepSchemaTemplate(),
  };
}

/** Parses the `DATABASE_URL` convention: a postgres URL, or nothing for the embedded default. */
export function databaseOptionsFrom(url: string | undefined, dataDir: string | undefined): DatabaseOptions {
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema') ?? undefined;
    parsed.searchParams.delete('schema');
    return { kind: 'postgres', url: parsed.toString(), schema };
  }
  if (url) throw new Error(`DATABASE_URL must start with postgres:// or postgresql://`);
  return { kind: 'pglite', dataDir };
}
