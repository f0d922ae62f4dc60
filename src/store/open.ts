/**
 * Opens the store named by a URL: `sqlite:<path>` (WAL mode; the directory is created),
 * `sqlite::memory:`, or `postgres://…`. Returns the Kysely handle and which dialect it speaks.
 *
 * File modes: a directory created for the SQLite file is 0700 and a new SQLite file is 0600
 * (SQLite gives its -wal and -shm files the mode of the database file). Existing files and
 * directories keep their modes.
 *
 * The handle is guarded (see transaction-guard.ts): inside `withWriteTransaction` any use of
 * `store.db` fails at once instead of deadlocking (SQLite) or escaping the transaction (PostgreSQL).
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { UserError } from '../config/errors.js';
import type { SecretRef } from '../config/schema.js';
import type { Database } from './database.js';
import { cachingDatabase } from './sqlite-statements.js';
import { describeStoreError } from './store-errors.js';
import { guardDialect, registerGuard } from './transaction-guard.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /**
   * SQLite only: the better-sqlite3 handle under `db` (the same one connection), for hot paths that
   * run their statements directly while holding Kysely's connection (`jobs/sqlite-enqueue.ts`).
   */
  sqlite?: SqliteDatabase.Database;
  /** SQLite only: the prepared-statement cache under `db` (sqlite-statements.ts), for /metrics and tests. */
  statements?: { readonly cachedStatements: number; readonly cachedBytes: number };
  /** The URL with any password masked, for messages. */
  displayUrl: string;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  poolSize?: number;
  /** PostgreSQL password, for a `store.url` without one (never part of `displayUrl`). */
  password?: string;
}

// BIGINT (int8) and COUNT(*) come back from pg as strings; every integer we store fits in a double.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * The URL with the password of its user information replaced by `***`. Everything between the
 * user name and the LAST `@` counts as the password, so a password holding `@`, `/` or `#` is
 * masked whole (masking too much is the safe side).
 */
export function maskUrl(url: string): string {
  const start = url.indexOf('://');
  if (start < 0) return url;
  const at = url.lastIndexOf('@');
  if (at < start) return url;
  const userinfo = url.slice(start + 3, at);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return url;
  return `${url.slice(0, start + 3)}${userinfo.slice(0, colon)}:***${url.slice(at)}`;
}

/** True when the URL's user information carries a password. */
export function urlHasPassword(url: string): boolean {
  return maskUrl(url) !== url;
}

/**
 * WAL pages between automatic checkpoints: SQLite's default, 1,000 pages (4 MB). A larger value
 * (10,000 was tried for `bench:webhooks`, issue #11) makes commits cheaper, because the jobs
 * table's hash-keyed index is dirtied all over by every webhook batch and each checkpoint copies
 * those pages again. It was not kept: with `synchronous = NORMAL` a power loss can lose the commits
 * since the last checkpoint, and a webhook is acknowledged only once stored, so a wider window
 * would widen what an acknowledged-but-lost event can be. Kept as a named constant so the trade
 * is in one place.
 */
export const SQLITE_WAL_AUTOCHECKPOINT = 1_000;

/**
 * SQLite's page cache for the one connection, in KiB: 32 MiB (SQLite's default is 2 MiB). The jobs
 * table's key index is read at every enqueue; with 2 MiB a queue of some tens of thousands of jobs
 * no longer fits and each insert read its pages back through the file system (issue #11's bench).
 * Memory only: it changes nothing about durability. Grows only as pages are used.
 */
export const SQLITE_CACHE_KIB = 32 * 1024;

export function openStore(url: string, options: OpenStoreOptions = {}): Store {
  const token = { label: maskUrl(url) };
  if (url.startsWith('sqlite:')) {
    if (options.password !== undefined) {
      throw new UserError('store.password applies to PostgreSQL only; remove it for a sqlite: store.url.');
    }
    const path = url.slice('sqlite:'.length);
    const memory = path === ':memory:';
    let sqlite: SqliteDatabase.Database;
    try {
      if (!memory) createPrivateFile(resolve(path));
      sqlite = new SqliteDatabase(memory ? ':memory:' : path);
    } catch (err) {
      throw new UserError(
        `Cannot open the SQLite store at ${path}: ${(err as Error).message}. Check the store.url setting and that the directory is writable.`,
      );
    }
    try {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = NORMAL');
      // Checkpoint every SQLITE_WAL_AUTOCHECKPOINT pages (see its comment).
      sqlite.pragma(`wal_autocheckpoint = ${SQLITE_WAL_AUTOCHECKPOINT}`);
      sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      // Page cache (SQLITE_CACHE_KIB): see its comment.
      sqlite.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
      sqlite.pragma('busy_timeout = 5000');
      sqlite.pragma('foreign_keys = ON');
    } catch (err) {
      sqlite.close();
      throw describeStoreError(err, url) ?? err;
    }
    const statements = cachingDatabase(sqlite);
    const db = new Kysely<Database>({
      dialect: guardDialect(
        new SqliteDialect({ database: statements as unknown as SqliteDatabase.Database }),
        token,
      ),
    });
    registerGuard(db, token);
    return { db, dialect: 'sqlite', sqlite, statements, displayUrl: url, close: () => db.destroy() };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const connectionString = options.password === undefined ? url : withPassword(url, options.password);
    const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10, types: pgTypes });
    // An idle client that loses its connection must not crash the process.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: guardDialect(new PostgresDialect({ pool }), token) });
    registerGuard(db, token);
    return { db, dialect: 'postgres', displayUrl: maskUrl(url), close: () => db.destroy() };
  }
  throw new UserError(
    `Unknown store URL "${maskUrl(url)}": use "sqlite:<path>" or "postgres://user@host:port/db".`,
  );
}

/** The directory (0700 when created) and an empty 0600 file, unless the file exists already. */
function createPrivateFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * The URL with `password` in its user information. pg lets a connection string override an
 * explicit `password` option (with an empty one when the URL has none), so the password has to
 * travel inside the string; it stays out of `displayUrl` and messages.
 */
function withPassword(url: string, password: string): string {
  if (urlHasPassword(url)) {
    throw new UserError(
      `store.url (${maskUrl(url)}) already carries a password and store.password is set too: keep one, preferably store.password.`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(
      `store.url (${maskUrl(url)}) is not a valid URL, so store.password cannot be added to it.`,
    );
  }
  if (!parsed.host) {
    throw new UserError(
      `store.url (${maskUrl(url)}) needs a host (postgres://user@host:port/db) to be used with store.password.`,
    );
  }
  // pg decodes it with decodeURIComponent; the URL setter alone would leave a `%20` as it is.
  parsed.password = encodeURIComponent(password);
  return parsed.href;
}

/** The store part of the configuration that `openConfiguredStore` reads. */
export interface StoreSettings {
  url: string;
  password?: SecretRef;
}

/** Environment variable that holds the store password named by `store.password: secret:<name>`. */
export function storeSecretEnvName(name: string): string {
  return `ML_CONNECTOR_SECRET_${name}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/**
 * The PostgreSQL password for the configured store, or undefined to use the URL as it is:
 * `store.password: secret:<name>` is read from `ML_CONNECTOR_SECRET_<NAME>`; without it, a URL
 * without a password takes `PGPASSWORD` (the libpq convention). Never from the encrypted
 * credentials: they live in the database this password opens.
 */
export function resolveStorePassword(settings: StoreSettings, env: NodeJS.ProcessEnv): string | undefined {
  if (settings.password) {
    const variable = storeSecretEnvName(settings.password.secret);
    const value = env[variable];
    if (value === undefined || value === '') {
      throw new UserError(
        `store.password refers to the secret "${settings.password.secret}", which is read from the environment variable ${variable}, and it is not set. ` +
          'Set it (or remove store.password and set PGPASSWORD). The store password cannot come from `ml-connector creds set`: ' +
          'the encrypted credentials are kept in the database that this password opens.',
      );
    }
    return value;
  }
  if (/^postgres(ql)?:\/\//.test(settings.url) && !urlHasPassword(settings.url) && env.PGPASSWORD) {
    return env.PGPASSWORD;
  }
  return undefined;
}

/** Opens the store of the configuration, with its password resolved from the environment. */
export function openConfiguredStore(
  settings: StoreSettings,
  env: NodeJS.ProcessEnv,
  options: Omit<OpenStoreOptions, 'password'> = {},
): Store {
  return openStore(settings.url, { ...options, password: resolveStorePassword(settings, env) });
}
