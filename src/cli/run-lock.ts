/**
 * One `ml-connector run` per SQLite store. SQLite serves one process well; two workers on one file
 * would fight over its write lock and, worse, each think it is the only scheduler and sweeper.
 *
 * The lock is SQLite's own file locking, on a small file beside the database (`<db>.run-lock`):
 * `run` opens it and holds `BEGIN EXCLUSIVE` for its whole life. The operating system drops that
 * lock when the process ends, however it ends (kill -9, power loss of a container), so a lock is
 * never stale and no pid has to be checked for liveness (pids are reused, and every container's
 * first process is pid 1). Who holds it is written to `<db>.run-pid` after the lock is taken, for
 * the message a second `run` prints; that file is information only, never the lock.
 *
 * Only `run` takes the lock: short commands (`jobs`, `replay`, `creds`, `migrate`) may use the
 * store while a `run` is up, as SQLite's WAL mode and busy timeout allow.
 */
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { UserError } from '../config/errors.js';

export interface RunLock {
  /** The lock file. */
  path: string;
  /** Gives the lock back (idempotent). */
  release(): void;
}

interface Holder {
  pid: number;
  host: string;
  startedAt: string;
}

/** Where the lock of the SQLite database at `dbPath` lives (symbolic links in the directory resolved). */
export function runLockPaths(dbPath: string): { lock: string; holder: string } {
  const absolute = resolve(dbPath);
  let dir = dirname(absolute);
  try {
    dir = realpathSync(dir);
  } catch {
    // not created yet: the path as given
  }
  const base = join(dir, basename(absolute));
  return { lock: `${base}.run-lock`, holder: `${base}.run-pid` };
}

/**
 * Takes the run lock of the SQLite store at `dbPath`, or throws a UserError naming the process
 * that holds it. `shownPath` is the store as the operator wrote it, for the message.
 */
export function acquireRunLock(dbPath: string, shownPath = dbPath): RunLock {
  const paths = runLockPaths(dbPath);
  let db: SqliteDatabase.Database;
  try {
    mkdirSync(dirname(paths.lock), { recursive: true });
    db = new SqliteDatabase(paths.lock, { timeout: 0 });
  } catch (err) {
    throw new UserError(
      `Cannot create the run lock ${paths.lock}: ${(err as Error).message}. Check that the store's directory is writable.`,
    );
  }
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY')
      throw new UserError(heldMessage(paths.holder, shownPath));
    throw new UserError(`Cannot take the run lock ${paths.lock}: ${(err as Error).message}.`);
  }
  const me: Holder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  try {
    writeFileSync(paths.holder, `${JSON.stringify(me)}\n`);
  } catch {
    // Information only: the lock is held either way.
  }
  let released = false;
  return {
    path: paths.lock,
    release() {
      if (released) return;
      released = true;
      const holder = readHolder(paths.holder);
      if (holder?.pid === me.pid && holder.host === me.host) rmSync(paths.holder, { force: true });
      try {
        db.exec('ROLLBACK');
      } catch {
        // closing drops the lock anyway
      }
      db.close();
    },
  };
}

function readHolder(path: string): Holder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Holder;
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function heldMessage(holderPath: string, shownPath: string): string {
  const holder = readHolder(holderPath);
  let who = 'another ml-connector run';
  if (holder && holder.pid !== process.pid) {
    who += holder.host === hostname() ? ` (pid ${holder.pid})` : ` (pid ${holder.pid} on ${holder.host})`;
  }
  return (
    `${who[0]?.toUpperCase()}${who.slice(1)} is using ${shownPath}; SQLite serves one process. ` +
    'Stop it, or use PostgreSQL (store.url: postgres://…) to run several.'
  );
}
