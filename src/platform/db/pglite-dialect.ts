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
import { LRUCache } from 'lru-cache';

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

/** Statements kept prepared per PGlite instance (each holds its parse tree and plans in WASM memory). */
const PREPARED_LIMIT = 256;

/** Queries and DML, whose prepared form PostgreSQL keeps valid across schema changes. */
const PREPARABLE = /^[\s(]*(select|insert|update|delete|with|values)\b/i;

/** Statements that may change a table's shape, and so a prepared statement's result. */
const SCHEMA_CHANGE = /^\s*(create|alter|drop|do)\b/i;

/**
 * Named prepared statements of one PGlite instance, by SQL text, the least recently used closed
 * first. One per instance, not per dialect: names are per database session, and PGlite is one
 * session. Whatever leaves the map (evicted, forgotten, cleared) is closed with the next message.
 */
class PreparedStatements {
  /** Statements that left the map, to be closed in the next message sent. */
  #closing: string[] = [];
  readonly #names = new LRUCache<string, string>({
    max: PREPARED_LIMIT,
    dispose: (name) => this.#closing.push(name),
  });
  #next = 0;

  /** The statement's name, and whether it must be parsed (it is new) in this message. */
  name(text: string): { name: string; parse: boolean } {
    const known = this.#names.get(text);
    if (known !== undefined) return { name: known, parse: false };
    return { name: `stups_${(this.#next++).toString(36)}`, parse: true };
  }

  /** Records a statement whose Parse succeeded. */
  prepared(text: string, name: string): void {
    this.#names.set(text, name);
  }

  /** Forgets a statement (it failed, or its plan went stale), parsed or not. */
  forget(text: string, name: string): void {
    if (this.#names.peek(text) === name) this.#names.delete(text);
    else this.#closing.push(name);
  }

  /** Forgets every statement: after a schema change their result shapes may be stale. */
  forgetAll(): void {
    this.#names.clear();
  }

  /** Close messages for the statements forgotten since the last call. */
  takeCloses(): Uint8Array[] {
    const closes = this.#closing.map((name) => serialize.close({ type: 'S', name }));
    this.#closing = [];
    return closes;
  }
}

const preparedByInstance = new WeakMap<PGlite, PreparedStatements>();

function preparedOf(pglite: PGlite): PreparedStatements {
  let prepared = preparedByInstance.get(pglite);
  if (!prepared) preparedByInstance.set(pglite, (prepared = new PreparedStatements()));
  return prepared;
}

/** PostgreSQL's error for a prepared `select *` (or RETURNING *) whose table changed shape. */
const STALE_RESULT_TYPE = '0A000';

class PGliteConnection implements DatabaseConnection {
  readonly #prepared: PreparedStatements;
  constructor(private readonly pglite: PGlite) {
    this.#prepared = preparedOf(pglite);
  }

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
   * One call into PostgreSQL per statement: bind, execute and sync in one protocol message, the
   * parameters sent as text of unspecified type (as node-postgres sends them, so PostgreSQL
   * infers each type from the statement exactly as it does on a server). PGlite's `query` makes
   * five calls instead, one of them to describe the statement and learn the types it then writes
   * the parameters for: ~35 % of an indexed upsert's time (issue 23, measured).
   *
   * Queries and DML are named prepared statements, parsed on first use (as pgx, asyncpg and JDBC
   * do): PostgreSQL then skips parsing, analysis and rewriting, and plans each run for its
   * parameters (see `init`). Pier One's small upload: 2.0 → 1.3–1.7 ms inside PostgreSQL.
   * Anything else runs unnamed, and DDL forgets every prepared statement, whose result shape may
   * have changed.
   * Parameters whose text depends on their type (arrays, objects) still go through `query`.
   */
  async #run<R>(compiled: CompiledQuery): Promise<Results<R>> {
    const texts = textsOf(compiled.parameters);
    if (!texts) return this.pglite.query<R>(compiled.sql, compiled.parameters as unknown[]);
    // Exclusive like `query`: PGlite collects one call's answers at a time.
    return this.pglite.runExclusive(async () => {
      if (!PREPARABLE.test(compiled.sql)) {
        const result = await this.#send<R>(compiled.sql, texts, undefined);
        if (SCHEMA_CHANGE.test(compiled.sql)) this.#prepared.forgetAll();
        return result;
      }
      try {
        return await this.#sendPrepared<R>(compiled.sql, texts);
      } catch (error) {
        // A table changed shape under a prepared statement (DDL that did not come through
        // here): prepared again, once, where no transaction was aborted by the failure.
        if ((error as { code?: string }).code !== STALE_RESULT_TYPE || this.pglite.isInTransaction()) {
          throw error;
        }
        return this.#sendPrepared<R>(compiled.sql, texts);
      }
    });
  }

  async #sendPrepared<R>(text: string, values: Array<string | null>): Promise<Results<R>> {
    const { name, parse } = this.#prepared.name(text);
    try {
      const result = await this.#send<R>(text, values, { name, parse });
      if (parse) this.#prepared.prepared(text, name);
      return result;
    } catch (error) {
      // Whether or not its Parse went through, the name is closed with the next message (closing
      // an unknown name is no error) and a new one is parsed next time.
      this.#prepared.forget(text, name);
      throw error;
    }
  }

  async #send<R>(
    text: string,
    values: Array<string | null>,
    statement: { name: string; parse: boolean } | undefined,
  ): Promise<Results<R>> {
    const message = Buffer.concat([
      ...this.#prepared.takeCloses(),
      ...(statement?.parse === false
        ? []
        : [serialize.parse({ text, types: [], ...(statement && { name: statement.name }) })]),
      serialize.bind({ values, ...(statement && { statement: statement.name }) }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    ]);
    const { messages } = await this.pglite.execProtocol(message);
    return parse.parseResults(messages, this.pglite.parsers)[0] as Results<R>;
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
    // Prepared statements are planned for their parameters each time, as the unnamed ones
    // node-postgres sends to a server are: the same plans on both databases. A generic plan would
    // save a little more (~0.2 ms of a small Pier One upload's ~1.5 ms in PostgreSQL), but one plan
    // for every word of a Kio search would scan a GIN index where a common word wants the
    // sequential scan that stops at the candidate cap.
    await this.pglite.exec('set plan_cache_mode = force_custom_plan');
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
