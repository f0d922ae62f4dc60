/**
 * A statement cache between Kysely and better-sqlite3. Kysely's SQLite driver prepares every query
 * it runs (`db.prepare(sql)`), and compiling the SQL was a tenth of the webhook receiver's time under
 * load (profile of `bench:webhooks`, issue #11): the same few statements (the group commit's
 * look-up and multi-row insert, BEGIN/COMMIT) run thousands of times a second. This keeps the
 * most recently used statements by their SQL text, in a bounded LRU. SQLite re-prepares a cached
 * statement itself after a schema change.
 *
 * Bounded by memory, not only by count: a prepared statement lives in native memory (its compiled
 * program), and the many batch sizes of `IN (?, …)` lists and multi-row inserts are each their own
 * SQL. Measured with better-sqlite3 12 (2026-12-02): 7 KB for `IN (?)`, 18 KB for 100 keys, 92 KB
 * for 500 keys, 378 KB for a 500-row insert; 500 such statements held 34.5 MB. With a count bound
 * alone the cache filled towards that over hours of `run` (the soak's RSS rose ~25 MB in 30 min
 * while the heap after GC stayed flat). Each statement is charged an estimate, 8 KiB plus 256 bytes
 * a parameter (above every measured size), and the least recently used go once the total passes
 * SQLITE_STATEMENT_CACHE_BYTES. An evicted statement's memory is freed when V8 collects it.
 *
 * Streams (`iterate`) always get a fresh statement: a cached one stays free for `all`/`run`, which
 * better-sqlite3 refuses on a statement that is still being iterated.
 */
import type SqliteDatabase from 'better-sqlite3';

export const SQLITE_STATEMENT_CACHE = 500;
/** Estimated native memory the cached statements may hold together (see the comment above). */
export const SQLITE_STATEMENT_CACHE_BYTES = 8 * 1024 * 1024;

/** The estimate a statement is charged: 8 KiB plus 256 bytes for each `?` in its SQL. */
export function statementCost(sql: string): number {
  let parameters = 0;
  for (let i = sql.indexOf('?'); i !== -1; i = sql.indexOf('?', i + 1)) parameters++;
  return 8192 + 256 * parameters;
}

interface CachedStatement {
  readonly reader: boolean;
  /** statementCost of its SQL. */
  readonly cost: number;
  all(parameters: readonly unknown[]): unknown[];
  run(parameters: readonly unknown[]): SqliteDatabase.RunResult;
  iterate(parameters: readonly unknown[]): IterableIterator<unknown>;
}

/** What Kysely's SqliteDialect uses of a database: `prepare` and `close`. */
export interface CachingSqliteDatabase {
  prepare(sql: string): CachedStatement;
  /** The estimated native memory of the statements kept, and their number. */
  readonly cachedBytes: number;
  readonly cachedStatements: number;
  close(): void;
}

export function cachingDatabase(
  db: SqliteDatabase.Database,
  max = SQLITE_STATEMENT_CACHE,
  maxBytes = SQLITE_STATEMENT_CACHE_BYTES,
): CachingSqliteDatabase {
  const cache = new Map<string, CachedStatement>();
  let bytes = 0;
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
      const cost = statementCost(sql);
      const entry: CachedStatement = {
        cost,
        reader: stmt.reader,
        all: (parameters) => stmt.all(parameters),
        run: (parameters) => stmt.run(parameters),
        iterate: (parameters) => db.prepare(sql).iterate(parameters),
      };
      // Larger than the whole budget: run, never kept.
      if (cost > maxBytes) return entry;
      cache.set(sql, entry);
      bytes += cost;
      while (cache.size > max || bytes > maxBytes) {
        const [oldest, evicted] = cache.entries().next().value as [string, CachedStatement];
        cache.delete(oldest);
        bytes -= evicted.cost;
      }
      return entry;
    },
    get cachedBytes() {
      return bytes;
    },
    get cachedStatements() {
      return cache.size;
    },
    close() {
      cache.clear();
      bytes = 0;
      db.close();
    },
  };
}
