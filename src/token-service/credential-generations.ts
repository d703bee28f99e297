import { sql, type Transaction } from 'kysely';
import type { TokenServiceTables } from './tables.js';

/*
 * Overlapping generations of one credential (a service user's password, a client's secret): the
 * current hash, and the previous one, valid beside it until `previous…valid_until` (without an
 * end while a rotation is unfinished). Service users and clients store them in columns of the
 * same shape; this is the one place that rotates and retires them, for both.
 */

/** Where one kind of credential keeps its generations. */
export interface GenerationColumns {
  table: keyof TokenServiceTables & ('token_service_users' | 'token_clients');
  key: 'username' | 'client_id';
  current: 'password_hash' | 'secret_hash';
  previous: 'previous_password_hash' | 'previous_secret_hash';
  previousValidUntil: 'previous_password_valid_until' | 'previous_secret_valid_until';
}

export const PASSWORD_GENERATIONS: GenerationColumns = {
  table: 'token_service_users',
  key: 'username',
  current: 'password_hash',
  previous: 'previous_password_hash',
  previousValidUntil: 'previous_password_valid_until',
};

export const SECRET_GENERATIONS: GenerationColumns = {
  table: 'token_clients',
  key: 'client_id',
  current: 'secret_hash',
  previous: 'previous_secret_hash',
  previousValidUntil: 'previous_secret_valid_until',
};

/** What a rotation did; `missing` when there is no such row, `noCurrent` for a credential-less one (public client). */
export type RotationOutcome =
  | { kind: 'missing' }
  | { kind: 'noCurrent' }
  | { kind: 'rotated'; unfinished: boolean; details: Record<string, unknown> };

/**
 * Rotation with overlap, in the caller's transaction (the row is locked): `newHash` becomes the
 * current generation and the current one the previous, valid until `keepPreviousUntil` (null: until
 * `retirePrevious`). When a previous generation is still held without an end, the last rotation
 * never finished (the new credential may not have reached its consumers), so only the current one
 * is replaced: the previous generation is the one consumers hold.
 */
export async function rotateWithOverlap(
  trx: Transaction<TokenServiceTables>,
  columns: GenerationColumns,
  id: string,
  newHash: string,
  keepPreviousUntil: Date | null,
  now: Date,
): Promise<RotationOutcome> {
  const { table, key, current, previous, previousValidUntil } = columns;
  const { rows } = await sql<{ current: string | null; previous: string | null; until: Date | null }>`
    select ${sql.ref(current)} as current, ${sql.ref(previous)} as previous,
      ${sql.ref(previousValidUntil)} as until
    from ${sql.table(table)} where ${sql.ref(key)} = ${id} for update`.execute(trx);
  const row = rows[0];
  if (!row) return { kind: 'missing' };
  if (row.current === null) return { kind: 'noCurrent' };
  const unfinished = row.previous !== null && row.until === null;
  const keep = unfinished
    ? sql``
    : sql`, ${sql.ref(previous)} = ${row.current}, ${sql.ref(previousValidUntil)} = ${keepPreviousUntil}`;
  await sql`update ${sql.table(table)} set ${sql.ref(current)} = ${newHash}${keep}, updated_at = ${now}
    where ${sql.ref(key)} = ${id}`.execute(trx);
  return {
    kind: 'rotated',
    unfinished,
    details: {
      overlap: true,
      previous_kept: unfinished ? 'unchanged (unfinished rotation)' : 'current',
      previous_valid_until: unfinished ? null : (keepPreviousUntil?.toISOString() ?? null),
    },
  };
}

/**
 * Ends the overlap in the caller's transaction: the previous generation stays valid until `at`,
 * or goes at once when `at` is not ahead of `now`. False when there is no previous generation.
 */
export async function retirePrevious(
  trx: Transaction<TokenServiceTables>,
  columns: GenerationColumns,
  id: string,
  at: Date,
  now: number,
): Promise<boolean> {
  const { table, key, previous, previousValidUntil } = columns;
  const set =
    at.getTime() <= now
      ? sql`${sql.ref(previous)} = null, ${sql.ref(previousValidUntil)} = null`
      : sql`${sql.ref(previousValidUntil)} = ${at}`;
  const result = await sql`update ${sql.table(table)} set ${set}
    where ${sql.ref(key)} = ${id} and ${sql.ref(previous)} is not null`.execute(trx);
  return (result.numAffectedRows ?? 0n) > 0n;
}
