import { type PGlite, parse, protocol, type Results } from '@electric-sql/pglite';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/*
 * Kysely driver for the embedded PGlite database. Written here because the published
 * kysely-pglite dialects pin older PGlite majors. PGlite is a single connection, so the
 * driver hands it out to one user at a time: a transaction holds it until commit/rollback.
 */

class Mutex {
  #tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const acquired = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return acquired;
  }
}

/**
 * A parameter as PostgreSQL's text input takes it, whatever the parameter's type turns out to be;
 * undefined for a value whose text depends on that type (an array: a PostgreSQL array or JSON;
 * an object: JSON or a composite).
 */
function textOf(value: unknown): string | null | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return null;
    case 'object':
      if (value === null) return null;
      if (value instanceof Date) return value.toISOString();
      if (value instanceof Uint8Array)
        return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
      return undefined;
    default:
      return undefined;
  }
}

/** Texts of every parameter, or undefined when one of them needs its type to be written. */
function textsOf(parameters: readonly unknown[]): Array<string | null> | undefined {
  const texts: Array<string | null> = [];
  for (const value of parameters) {
    const text = textOf(value);
    if (text === undefined) return undefined;
    texts.push(text);
  }
  return texts;
}

const { serialize } = protocol;

class PGliteConnection implements DatabaseConnection {
  constructor(private readonly pglite: PGlite) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.#run<R>(compiled);
    const affected = result.affectedRows;
    return {
      rows: result.rows,
      ...(affected !== undefined && compiled.query.kind !== 'SelectQueryNode'
        ? { numAffectedRows: BigInt(affected) }
        : {}),
    };
  }

  /**
   * One call into PostgreSQL per statement: parse, bind, execute and sync in one protocol
   * message, the parameters sent as text of unspecified type (as node-postgres sends them, so
   * PostgreSQL infers each type from the statement exactly as it does on a server). PGlite's
   * `query` makes five calls instead, one of them to describe the statement and learn the types
   * it then writes the parameters for: ~35 % of an indexed upsert's time (issue 23, measured).
   * Parameters whose text depends on their type (arrays, objects) still go through `query`.
   */
  async #run<R>(compiled: CompiledQuery): Promise<Results<R>> {
    const texts = textsOf(compiled.parameters);
    if (!texts) return this.pglite.query<R>(compiled.sql, compiled.parameters as unknown[]);
    const message = Buffer.concat([
      serialize.parse({ text: compiled.sql, types: [] }),
      serialize.bind({ values: texts }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    ]);
    // Exclusive like `query`: PGlite collects one call's answers at a time.
    return this.pglite.runExclusive(async () => {
      const { messages } = await this.pglite.execProtocol(message);
      return parse.parseResults(messages, this.pglite.parsers)[0] as Results<R>;
    });
  }

  // eslint-disable-next-line require-yield -- streaming is not offered by PGlite; fail loudly.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite does not support streaming queries');
  }
}

class PGliteDriver implements Driver {
  readonly #mutex = new Mutex();
  readonly #releases = new WeakMap<DatabaseConnection, () => void>();
  constructor(private readonly pglite: PGlite) {}

  async init(): Promise<void> {
    await this.pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.#mutex.lock();
    const connection = new PGliteConnection(this.pglite);
    this.#releases.set(connection, release);
    return connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const isolation = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    await this.pglite.exec(`begin${isolation}`);
    void connection;
  }

  async commitTransaction(): Promise<void> {
    await this.pglite.exec('commit');
  }

  async rollbackTransaction(): Promise<void> {
    await this.pglite.exec('rollback');
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#releases.get(connection)?.();
    this.#releases.delete(connection);
  }

  async destroy(): Promise<void> {
    if (!this.pglite.closed) await this.pglite.close();
  }
}

/** A Kysely dialect over one PGlite instance. */
export class PGliteDialect implements Dialect {
  constructor(private readonly pglite: PGlite) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.pglite);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's own signature.
  createIntrospector(db: Kysely<any>) {
    return new PostgresIntrospector(db);
  }
}
