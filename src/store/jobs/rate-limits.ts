/**
 * Rate-limit rows: one per key (e.g. a ShipStation API key id), read and rewritten under a lock so
 * every process sees one budget. PostgreSQL: `SELECT … FOR UPDATE` on the row inside a transaction;
 * SQLite: the same inside `BEGIN IMMEDIATE`. What to change is decided by the caller (a pure
 * function of the row), so the SQL stays here and the policy stays in the engine.
 */
import type { Selectable } from 'kysely';
import type { RateLimitsTable } from '../database.js';
import type { Store } from '../open.js';
import { withWriteTransaction } from './transaction.js';

export type RateLimitRow = Selectable<RateLimitsTable>;

export interface RateLimitDefaults {
  limit: number;
  windowMs: number;
}

/**
 * Locks the row of `key` (creating it with `defaults` if missing), passes it to `change`, and
 * writes back the row `change` returns (unless it returns `row: null`). Returns `change`'s result.
 */
export async function updateRateLimitRow<T>(
  store: Store,
  key: string,
  defaults: RateLimitDefaults,
  now: number,
  change: (row: RateLimitRow) => { row: RateLimitRow | null; result: T },
): Promise<T> {
  return withWriteTransaction(store, async (db) => {
    await db
      .insertInto('rate_limits')
      .values({
        key,
        window_ms: defaults.windowMs,
        window_limit: defaults.limit,
        sent_at: '[]',
        server_remaining: null,
        server_window_end: null,
        blocked_until: null,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    let select = db.selectFrom('rate_limits').selectAll().where('key', '=', key);
    if (store.dialect === 'postgres') select = select.forUpdate();
    const current = await select.executeTakeFirstOrThrow();
    const { row, result } = change({
      ...current,
      window_ms: Number(current.window_ms),
      server_window_end: current.server_window_end === null ? null : Number(current.server_window_end),
      blocked_until: current.blocked_until === null ? null : Number(current.blocked_until),
    });
    if (row) {
      await db
        .updateTable('rate_limits')
        .set({
          window_ms: row.window_ms,
          window_limit: row.window_limit,
          sent_at: row.sent_at,
          server_remaining: row.server_remaining,
          server_window_end: row.server_window_end,
          blocked_until: row.blocked_until,
          updated_at: now,
        })
        .where('key', '=', key)
        .execute();
    }
    return result;
  });
}

export async function getRateLimitRow(store: Store, key: string): Promise<RateLimitRow | undefined> {
  return store.db.selectFrom('rate_limits').selectAll().where('key', '=', key).executeTakeFirst();
}

/** The rows of `keys` (those that exist), in one unlocked read. */
export async function readRateLimitRows(store: Store, keys: readonly string[]): Promise<RateLimitRow[]> {
  if (keys.length === 0) return [];
  const rows = await store.db
    .selectFrom('rate_limits')
    .selectAll()
    .where('key', 'in', [...keys])
    .execute();
  return rows.map((row) => ({
    ...row,
    window_ms: Number(row.window_ms),
    server_window_end: row.server_window_end === null ? null : Number(row.server_window_end),
    blocked_until: row.blocked_until === null ? null : Number(row.blocked_until),
  }));
}
