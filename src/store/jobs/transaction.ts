/**
 * A transaction that writes. PostgreSQL: an ordinary transaction (claims lock rows with
 * `FOR UPDATE SKIP LOCKED`). SQLite: `BEGIN IMMEDIATE`, which takes the one write lock up front, so
 * a read-then-update cannot be overtaken by another process between the read and the write.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../database.js';
import type { Store } from '../open.js';
import { runMarked } from '../transaction-guard.js';

/**
 * Runs `body` in a write transaction and commits what it did, or rolls back if it throws. `body`
 * must use the `db` it is given: any use of `store.db` (or a handle taken from it) inside fails at
 * once with a TransactionEscapeError (see transaction-guard.ts), and so does a nested
 * withWriteTransaction on the same store.
 */
export async function withWriteTransaction<T>(
  store: Store,
  body: (db: Kysely<Database>) => Promise<T>,
): Promise<T> {
  const outer = store.db;
  if (store.dialect === 'postgres') {
    return outer.transaction().execute((trx) => runMarked(outer, () => body(trx)));
  }
  return outer.connection().execute(async (db) => {
    await sql`BEGIN IMMEDIATE`.execute(db);
    try {
      const result = await runMarked(outer, () => body(db));
      await sql`COMMIT`.execute(db);
      return result;
    } catch (err) {
      await sql`ROLLBACK`.execute(db).catch(() => {});
      throw err;
    }
  });
}

/** `FOR UPDATE SKIP LOCKED` on PostgreSQL; nothing on SQLite (the immediate transaction is the lock). */
export function isPostgres(store: Store): boolean {
  return store.dialect === 'postgres';
}

/** True when a database error is a unique-constraint violation (both dialects). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    /UNIQUE constraint failed/.test(e?.message ?? '')
  );
}
