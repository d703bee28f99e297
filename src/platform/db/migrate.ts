import { type Migration, type MigrationProvider, Migrator } from 'kysely';
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

/**
 * Brings the schema up to date. Safe to run from many replicas at once: Kysely takes an
 * advisory lock on PostgreSQL. Components are independent, so a component added later may
 * sort before ones already applied: unordered application is allowed for that reason.
 */
export async function migrateToLatest(
  database: Database,
  components: readonly ComponentMigrations[],
): Promise<void> {
  const migrator = new Migrator({
    db: database.kysely(),
    provider: new ComponentMigrationProvider(components),
    allowUnorderedMigrations: true,
    // Kysely looks for its tables across all schemas; pinning the schema keeps installations
    // (and test suites) that share one PostgreSQL from seeing each other's migration state.
    migrationTableSchema: database.schema,
  });
  const { error, results } = await migrator.migrateToLatest();
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
