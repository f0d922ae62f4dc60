/**
 * The ShipStation budgets of this process: one limiter per store and API, shared by every caller
 * (`ping`, the worker's flows, the HTTP server), each keeping one budget per key (the key is a
 * fingerprint of the credentials, so two connections on one key share it).
 *
 * The limiter is the database-backed one on both dialects, timed by the database's clock: on
 * PostgreSQL every process shares a key's budget; on SQLite (one machine) it still covers a `ping`
 * or `backfill` run next to the service, at one small write per request (40 a minute). V1 and V2
 * have separate budgets (40/min and 200/min by default); `X-Rate-Limit-Limit` corrects either.
 */
import { type Clock, systemClock } from '../clock.js';
import { DbRateLimiter } from '../engine/db-rate-limiter.js';
import type { BudgetLimiter } from '../shipstation/rate-budget.js';
import { DatabaseClock, databaseClock } from '../store/db-clock.js';
import type { Store } from '../store/open.js';

export type ShipStationApi = 'v1' | 'v2';

export interface LimiterSettings {
  /** Requests per window assumed until a response's `X-Rate-Limit-Limit` says otherwise. */
  limit: number;
  windowMs: number;
}

interface StoreLimiters {
  clock: DatabaseClock;
  byApi: Map<ShipStationApi, BudgetLimiter>;
}

const registry = new WeakMap<Store, StoreLimiters>();

/**
 * The limiter for `api` on `store`, created on first use with `settings` (a later caller's settings
 * are not applied: the first connection's assumption stands until the server's headers correct
 * it). `local` is this process's clock under the database clock; the first caller's is kept.
 * Use `limiter.clock` as the ShipStation client's clock, so its answers and 429 blocks are timed
 * on the same (database) time as the budget.
 */
export function limiterFor(
  store: Store,
  api: ShipStationApi,
  settings: LimiterSettings,
  local?: Clock,
): BudgetLimiter {
  let entry = registry.get(store);
  if (!entry) {
    entry = {
      // The system clock: the store's one database clock, the same the worker's leases use.
      clock: local && local !== systemClock ? new DatabaseClock(store, { local }) : databaseClock(store),
      byApi: new Map(),
    };
    registry.set(store, entry);
  }
  let limiter = entry.byApi.get(api);
  if (!limiter) {
    limiter = new DbRateLimiter(store, { ...settings, clock: entry.clock });
    entry.byApi.set(api, limiter);
  }
  return limiter;
}
