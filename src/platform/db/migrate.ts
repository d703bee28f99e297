import { createHash } from 'node:crypto';
import { DEFAULT_MIGRATION_TABLE, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { Database } from './database.js';

/** Migrations of one component, keyed by a name that sorts in the order they must run. */
export interface ComponentMigrations {
  component: string;
  migrations: Record<string, Migration>;
}

class ComponentMigrationProvider implements MigrationProvider {
  constructor(private readonly components: readonly ComponentMigrations[]) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const all: Record<string, Migration> = {};
    for (const { component, migrations } of this.components) {
      for (const [name, migration] of Object.entries(migrations)) all[`${component}/${name}`] = migration;
    }
    return all;
  }
}

/** Whether a migration run failed because some *other* schema vanished while Kysely scanned the catalog. */
function droppedElsewhere(error: unknown, ownSchema: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return false;
  // The scan can also land on a table of that schema between its listing and its look-up.
  const named =
    code === '3F000'
      ? /^schema "([^"]+)" does not exist$/.exec(message)?.[1]
      : code === '42P01'
        ? /^relation "([^".]+)\.[^"]+" does not exist$/.exec(message)?.[1]
        : undefined;
  return named !== undefined && named !== ownSchema;
}

/**
 * Names what `components` would make of an empty database: every migration's name and the text of
 * its functions. The key of PGlite's schema template (pglite-template.ts): an added migration, or
 * one edited while it is being written, gives another key and so another template.
 */
export function migrationsFingerprint(components: readonly ComponentMigrations[]): string {
  const hash = createHash('sha256');
  for (const { component, migrations } of components)
    for (const [name, migration] of Object.entries(migrations)) {
      // The functions' source text: read, never called, so their `this` does not matter.
      const { up, down } = migration as { up: () => unknown; down?: () => unknown };
      hash.update(`${component}/${name}\0${up.toString()}\0${down?.toString() ?? ''}\0`);
    }
  return hash.digest('hex');
}

/**
 * Whether every migration of `components` is already recorded as applied. Kysely's Migrator
 * answers that too, but only after introspecting every table and column of the schema (its
 * "does my table exist" check), which took ~1 s of a 3 s restart of `stups up` on PGlite
 * (issue 23). One read of its own table answers the common case, a restart with nothing new;
 * anything else (no table yet, a migration missing) goes through the Migrator and its lock.
 */
async function everyMigrationApplied(
  database: Database,
  components: readonly ComponentMigrations[],
): Promise<boolean> {
  let applied: Set<string>;
  try {
    const { rows } = await sql<{ name: string }>`select name from ${sql.id(
      database.schema,
      DEFAULT_MIGRATION_TABLE,
    )}`.execute(database.kysely());
    applied = new Set(rows.map((row) => row.name));
  } catch {
    // No migration table yet (a new database), or it cannot be read: the Migrator decides.
    return false;
  }
  return components.every(({ component, migrations }) =>
    Object.keys(migrations).every((name) => applied.has(`${component}/${name}`)),
  );
}

/**
 * Brings the schema up to date. Safe to run from many replicas at once: Kysely takes an
 * advisory lock on PostgreSQL. Components are independent, so a component added later may
 * sort before ones already applied: unordered application is allowed for that reason.
 */
export async function migrateToLatest(
  database: Database,
  components: readonly ComponentMigrations[],
): Promise<void> {
  if (await everyMigrationApplied(database, components)) return;
  const migrator = new Migrator({
    db: database.kysely(),
    provider: new ComponentMigrationProvider(components),
    allowUnorderedMigrations: true,
    // Kysely looks for its tables across all schemas; pinning the schema keeps installations
    // (and test suites) that share one PostgreSQL from seeing each other's migration state.
    migrationTableSchema: database.schema,
  });
  let outcome = await migrator.migrateToLatest();
  // Kysely checks for its own tables by introspecting every schema of the database, through
  // pg_get_serial_sequence, which fails with "schema … does not exist" (or "relation
  // <schema>.<table> does not exist") when another installation
  // sharing the server (or another test suite) drops its schema during that scan. Nothing of ours
  // was touched: the check is simply asked again.
  for (
    let attempt = 1;
    attempt < 10 && outcome.error && droppedElsewhere(outcome.error, database.schema);
    attempt++
  ) {
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    outcome = await migrator.migrateToLatest();
  }
  const { error, results } = outcome;
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(
      `database migration ${failed} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
      {
        cause: error,
      },
    );
  }
}
