/**
 * Opens the store named by a URL: `sqlite:<path>` (WAL mode; the directory is created),
 * `sqlite::memory:`, or `postgres://…`. Returns the Kysely handle and which dialect it speaks.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { UserError } from '../config/errors.js';
import type { Database } from './database.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The URL with any password masked, for messages. */
  displayUrl: string;
  close(): Promise<void>;
}

// BIGINT (int8) and COUNT(*) come back from pg as strings; every integer we store fits in a double.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export function maskUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

export function openStore(url: string, options: { poolSize?: number } = {}): Store {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    const memory = path === ':memory:';
    let sqlite: SqliteDatabase.Database;
    try {
      if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
      sqlite = new SqliteDatabase(memory ? ':memory:' : path);
    } catch (err) {
      throw new UserError(
        `Cannot open the SQLite store at ${path}: ${(err as Error).message}. Check the store.url setting and that the directory is writable.`,
      );
    }
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { db, dialect: 'sqlite', displayUrl: url, close: () => db.destroy() };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, types: pgTypes });
    // An idle client that loses its connection must not crash the process.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', displayUrl: maskUrl(url), close: () => db.destroy() };
  }
  throw new UserError(
    `Unknown store URL "${maskUrl(url)}": use "sqlite:<path>" or "postgres://user@host:port/db".`,
  );
}
