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
