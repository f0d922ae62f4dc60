/**
 * A statement cache between Kysely and better-sqlite3. Kysely's SQLite driver prepares every query
 * it runs (`db.prepare(sql)`), and compiling the SQL was a tenth of the webhook receiver's time under
 * load (profile of `bench:webhooks`, issue #11): the same few statements (the group commit's
 * look-up and multi-row insert, BEGIN/COMMIT) run thousands of times a second. This keeps the
 * most recently used statements by their SQL text (a bounded LRU, so SQL with literals cannot grow
 * it without end). SQLite re-prepares a cached statement itself after a schema change.
 *
 * Streams (`iterate`) always get a fresh statement: a cached one stays free for `all`/`run`, which
 * better-sqlite3 refuses on a statement that is still being iterated.
 */
import type SqliteDatabase from 'better-sqlite3';

export const SQLITE_STATEMENT_CACHE = 500;

interface CachedStatement {
  readonly reader: boolean;
  all(parameters: readonly unknown[]): unknown[];
  run(parameters: readonly unknown[]): SqliteDatabase.RunResult;
  iterate(parameters: readonly unknown[]): IterableIterator<unknown>;
}

/** What Kysely's SqliteDialect uses of a database: `prepare` and `close`. */
export interface CachingSqliteDatabase {
  prepare(sql: string): CachedStatement;
  close(): void;
}

export function cachingDatabase(
  db: SqliteDatabase.Database,
  max = SQLITE_STATEMENT_CACHE,
): CachingSqliteDatabase {
  const cache = new Map<string, CachedStatement>();
  return {
    prepare(sql) {
      const hit = cache.get(sql);
      if (hit) {
        // Most recently used last: the first entry is the one to evict.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const stmt = db.prepare(sql);
      const entry: CachedStatement = {
        reader: stmt.reader,
        all: (parameters) => stmt.all(parameters),
        run: (parameters) => stmt.run(parameters),
        iterate: (parameters) => db.prepare(sql).iterate(parameters),
      };
      cache.set(sql, entry);
      if (cache.size > max) cache.delete(cache.keys().next().value as string);
      return entry;
    },
    close() {
      cache.clear();
      db.close();
    },
  };
}
