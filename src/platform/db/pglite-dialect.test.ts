import { PGlite } from '@electric-sql/pglite';
import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGliteDialect } from './pglite-dialect.js';

// The dialect sends scalar parameters as text of unspecified type in one protocol call, and the
// rest through PGlite's `query`: both must read back what was written, typed by the column.
describe('PGliteDialect', () => {
  let pglite: PGlite;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a throwaway table.
  let db: Kysely<any>;

  beforeAll(async () => {
    pglite = new PGlite();
    db = new Kysely({ dialect: new PGliteDialect(pglite) });
    await sql`create table kinds (
      id text primary key, n int, big bigint, f double precision, ok boolean, at timestamptz,
      day date, bytes bytea, doc jsonb, tags text[])`.execute(db);
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('writes and reads every scalar kind by its column type', async () => {
    const at = new Date('2026-11-29T04:05:06.789Z');
    const bytes = new Uint8Array([0, 1, 92, 120, 255]);
    const id = `it's "quoted" \\ back\\slashed, ünïcödé 🚀`;
    await db
      .insertInto('kinds')
      .values({ id, n: -42, big: 2n ** 60n, f: 1.5e-7, ok: false, at, day: at, bytes, doc: '{"a":[1]}' })
      .execute();
    const row = await db.selectFrom('kinds').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ id, n: -42, big: 2n ** 60n, f: 1.5e-7, ok: false, doc: { a: [1] } });
    expect(row.at).toEqual(at);
    expect(Buffer.from(row.bytes as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    expect(String(row.day)).toContain('2026');
  });

  it('writes null and undefined as NULL, and counts affected rows', async () => {
    const result = await db
      .insertInto('kinds')
      .values({ id: 'nulls', n: null, ok: undefined })
      .executeTakeFirst();
    expect(result.numInsertedOrUpdatedRows).toBe(1n);
    const row = await db.selectFrom('kinds').select(['n', 'ok']).where('id', '=', 'nulls').executeTakeFirst();
    expect(row).toEqual({ n: null, ok: null });
    const updated = await db
      .updateTable('kinds')
      .set({ n: 1 })
      .where('id', 'in', ['nulls', 'none'])
      .executeTakeFirst();
    expect(updated.numUpdatedRows).toBe(1n);
  });

  it('takes arrays and objects, whose text depends on the column, through PGlite', async () => {
    await db
      .insertInto('kinds')
      .values({ id: 'typed', tags: ['a', 'b,c', 'd"e'], doc: { nested: { list: [1, 2] } } })
      .execute();
    const row = await db
      .selectFrom('kinds')
      .select(['tags', 'doc'])
      .where('id', '=', 'typed')
      .executeTakeFirst();
    expect(row).toEqual({ tags: ['a', 'b,c', 'd"e'], doc: { nested: { list: [1, 2] } } });
    const any = await sql<{ id: string }>`select id from kinds where id = any(${['typed', 'x']})`.execute(db);
    expect(any.rows).toEqual([{ id: 'typed' }]);
  });

  it('fails a statement with PostgreSQL’s error and stays usable', async () => {
    await expect(db.insertInto('kinds').values({ id: 'nulls' }).execute()).rejects.toMatchObject({
      code: '23505',
    });
    await expect(sql`select ${'x'}::int`.execute(db)).rejects.toMatchObject({ code: '22P02' });
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('runs transactions, rolled back on failure', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('kinds').values({ id: 'rolled back' }).execute();
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('kinds').values({ id: 'committed' }).execute();
    });
    const ids = await db
      .selectFrom('kinds')
      .select('id')
      .where('id', 'in', ['rolled back', 'committed'])
      .execute();
    expect(ids).toEqual([{ id: 'committed' }]);
  });
});

// Queries and DML are named prepared statements of the PGlite session, parsed once (issue 24).
describe('PGliteDialect prepared statements', () => {
  let pglite: PGlite;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- throwaway tables.
  let db: Kysely<any>;
  const prepared = async () =>
    (
      await pglite.query<{ name: string; statement: string }>(
        `select name, statement from pg_prepared_statements where name like 'stups_%'`,
      )
    ).rows;

  beforeAll(async () => {
    pglite = new PGlite();
    db = new Kysely({ dialect: new PGliteDialect(pglite) });
    await sql`create table items (id int primary key, label text)`.execute(db);
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('parses a statement once and runs it again by name', async () => {
    for (let i = 0; i < 3; i++)
      await db
        .insertInto('items')
        .values({ id: i, label: `l${i}` })
        .execute();
    const inserts = (await prepared()).filter((p) => p.statement.startsWith('insert into "items"'));
    expect(inserts).toHaveLength(1);
    const rows = await db.selectFrom('items').select(['id', 'label']).orderBy('id').execute();
    expect(rows).toEqual([0, 1, 2].map((id) => ({ id, label: `l${id}` })));
    // Planned for its parameters each time, as an unnamed statement on a server is.
    const { rows: mode } = await sql<{ plan_cache_mode: string }>`show plan_cache_mode`.execute(db);
    expect(mode).toEqual([{ plan_cache_mode: 'force_custom_plan' }]);
  });

  it('sees a table’s new shape after DDL, through the dialect or around it', async () => {
    const all = () => db.selectFrom('items').selectAll().where('id', '=', 0).executeTakeFirst();
    expect(await all()).toEqual({ id: 0, label: 'l0' });
    await sql`alter table items add column size int default 7`.execute(db);
    expect(await all()).toEqual({ id: 0, label: 'l0', size: 7 });
    // Around the dialect: PostgreSQL refuses the stale prepared `select *` once; it is prepared again.
    await pglite.exec('alter table items add column note text default $$n$$');
    expect(await all()).toEqual({ id: 0, label: 'l0', size: 7, note: 'n' });
  });

  it('keeps a failed statement from breaking the next ones, in and out of transactions', async () => {
    const insert = (id: number) => db.insertInto('items').values({ id, label: 'again' }).execute();
    await expect(insert(0)).rejects.toMatchObject({ code: '23505' });
    await insert(10);
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ id: 11, label: 'again' }).execute();
        await trx.insertInto('items').values({ id: 11, label: 'again' }).execute();
      }),
    ).rejects.toMatchObject({ code: '23505' });
    await insert(11);
    // A statement PostgreSQL cannot parse, twice: the same error each time, nothing left behind.
    for (let i = 0; i < 2; i++) {
      await expect(sql`select nosuchcolumn from items`.execute(db)).rejects.toMatchObject({ code: '42703' });
    }
    expect((await prepared()).some((p) => p.statement.includes('nosuchcolumn'))).toBe(false);
    const ids = await db.selectFrom('items').select('id').where('id', '>=', 10).orderBy('id').execute();
    expect(ids).toEqual([{ id: 10 }, { id: 11 }]);
  });

  it('keeps at most 256 statements prepared, the least recently used closed first', async () => {
    const first = sql<{ n: number }>`select 1000 as n`;
    await first.execute(db);
    for (let i = 0; i < 300; i++) {
      const { rows } = await sql<{ n: number }>`select ${sql.lit(i)}::int as n`.execute(db);
      expect(rows).toEqual([{ n: i }]);
      if (i % 50 === 0) await first.execute(db); // used often: kept
    }
    const statements = (await prepared()).map((p) => p.statement);
    expect(statements.length).toBeLessThanOrEqual(257);
    expect(statements).toContain('select 1000 as n');
    expect(statements).toContain('select 299::int as n');
    expect(statements).not.toContain('select 0::int as n');
  });

  it('shares the statement names of one PGlite between two dialects over it', async () => {
    const other = new Kysely<{ items: { id: number; label: string } }>({
      dialect: new PGliteDialect(pglite),
    });
    const a = await db.selectFrom('items').select('label').where('id', '=', 1).executeTakeFirst();
    const b = await other.selectFrom('items').select('label').where('id', '=', 2).executeTakeFirst();
    const c = await other.selectFrom('items').select('id').where('id', '=', 2).executeTakeFirst();
    expect([a, b, c]).toEqual([{ label: 'l1' }, { label: 'l2' }, { id: 2 }]);
  });
});
