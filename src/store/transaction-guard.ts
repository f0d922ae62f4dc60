/**
 * Keeps code inside a write transaction on the transaction's handle.
 *
 * Inside `withWriteTransaction` (and so inside a completion's `record` callback) the only handle
 * that may touch the store is the `db` passed to the callback. Any other use of the same store,
 * `store.db` above all, is wrong on both dialects: on SQLite it waits for the one connection the
 * transaction holds, for ever; on PostgreSQL it takes another pooled connection and writes outside
 * the transaction (the write survives a rollback).
 *
 * How: `openStore` wraps the dialect's driver so that acquiring a connection checks an
 * AsyncLocalStorage mark set by `withWriteTransaction` around its callback. The transaction's own
 * connection is acquired before the mark is set and its queries never acquire another, so every
 * acquisition under the mark is an escape and fails at once with GUARD_MESSAGE. Checking at the
 * driver rather than at `store.db` also catches a handle taken before the transaction
 * (`const { db } = store`), `sql`…`.execute(store.db)`, `withPlugin` copies and a nested
 * `withWriteTransaction`. The mark dies with the transaction: work that the callback left running
 * (a timer, an unawaited promise) may use `store.db` again once the transaction has ended.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DatabaseConnection, Dialect, Driver, Kysely } from 'kysely';

export const GUARD_MESSAGE =
  'store.db (or another handle on the same store) was used inside a write transaction: use the ' +
  'transaction handle `db` passed to this callback (withWriteTransaction, or a completion `record`), ' +
  'not store.db. On SQLite the query would wait for ever on the connection the transaction holds; ' +
  'on PostgreSQL it would write outside the transaction.';

export class TransactionEscapeError extends Error {
  constructor() {
    super(GUARD_MESSAGE);
    this.name = 'TransactionEscapeError';
  }
}

/** One store's identity for the guard. */
export interface GuardToken {
  readonly label: string;
}

interface Mark {
  token: GuardToken;
  active: boolean;
}

const marks = new AsyncLocalStorage<readonly Mark[]>();
const tokens = new WeakMap<object, GuardToken>();

function insideTransactionOf(token: GuardToken): boolean {
  return (marks.getStore() ?? []).some((m) => m.active && m.token === token);
}

/** The dialect with its driver guarded by `token`. */
export function guardDialect(dialect: Dialect, token: GuardToken): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => guardDriver(dialect.createDriver(), token),
  };
}

function guardDriver(driver: Driver, token: GuardToken): Driver {
  return new Proxy(driver, {
    get(target, property, receiver) {
      if (property === 'acquireConnection') {
        return (): Promise<DatabaseConnection> => {
          if (insideTransactionOf(token)) return Promise.reject(new TransactionEscapeError());
          return target.acquireConnection();
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Remembers which guard token a store's Kysely handle belongs to. */
export function registerGuard(db: Kysely<unknown> | object, token: GuardToken): void {
  tokens.set(db, token);
}

/**
 * Runs `body` marked as inside a write transaction of the store whose handle is `db` (the store's
 * own `store.db`, not the transaction's). Unguarded handles run `body` unmarked.
 */
export async function runMarked<T>(db: object, body: () => Promise<T>): Promise<T> {
  const token = tokens.get(db);
  if (!token) return body();
  const mark: Mark = { token, active: true };
  try {
    return await marks.run([...(marks.getStore() ?? []), mark], body);
  } finally {
    mark.active = false;
  }
}
