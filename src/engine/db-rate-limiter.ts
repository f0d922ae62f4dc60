/**
 * The database store of the ShipStation budget: each key's `BudgetState` in `rate_limits` (one row
 * per key, read and rewritten under a row lock), so every process on one database spends one
 * budget per key. The rule is `shipstation/rate-budget.ts`, the same one the in-process store runs.
 *
 * Every process must decide on one clock, or a process whose clock runs ahead sees the others'
 * sends leave the window early and sends too many: the clock given here should be the database's
 * (`store/db-clock.ts`), which is what `sync/limiters.ts` gives it. The ShipStation clients using
 * this limiter take the same clock, so `observe`'s `at` and `block`'s `until` are on it too.
 */

import type { Clock } from '../clock.js';
import {
  BudgetLimiter,
  type BudgetState,
  type BudgetStore,
  emptyBudget,
} from '../shipstation/rate-budget.js';
import { DatabaseClock, databaseClock } from '../store/db-clock.js';
import { type RateLimitRow, readRateLimitRows, updateRateLimitRow } from '../store/jobs/rate-limits.js';
import type { Store } from '../store/open.js';

export interface DbRateLimiterOptions {
  /** Requests per window assumed until `X-Rate-Limit-Limit` says otherwise (V1: 40, V2: 200). */
  limit: number;
  /** Window length in ms (ShipStation: 60 s). */
  windowMs: number;
  /** Default `defaultSafetyMs(windowMs)` (1 s for 60 s), see rate-budget.ts. */
  safetyMs?: number;
  /** Default: the store's database clock (`databaseClock(store)`). */
  clock?: Clock;
}

class DbBudgetStore implements BudgetStore {
  constructor(
    private readonly store: Store,
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  update<T>(
    key: string,
    now: number,
    decide: (state: BudgetState) => { state: BudgetState | null; result: T },
  ): Promise<T> {
    return updateRateLimitRow(this.store, key, { limit: this.limit, windowMs: this.windowMs }, now, (row) => {
      const { state, result } = decide(toState(row, this.limit, this.windowMs));
      return { row: state ? toRow(row, state) : null, result };
    });
  }

  async read(keys: readonly string[]): Promise<Map<string, BudgetState>> {
    const found = new Map<string, BudgetState>();
    for (const row of await readRateLimitRows(this.store, keys))
      found.set(row.key, toState(row, this.limit, this.windowMs));
    return found;
  }
}

export class DbRateLimiter extends BudgetLimiter {
  constructor(store: Store, options: DbRateLimiterOptions) {
    if (!(options.limit > 0) || !(options.windowMs > 0)) {
      throw new RangeError('DbRateLimiter needs a positive limit and windowMs');
    }
    const clock = options.clock ?? databaseClock(store);
    super(new DbBudgetStore(store, options.limit, options.windowMs), {
      ...options,
      clock,
      ready: clock instanceof DatabaseClock ? () => clock.ready() : undefined,
    });
  }
}

function toState(row: RateLimitRow, limit: number, windowMs: number): BudgetState {
  let sentAt: number[] = [];
  try {
    const parsed: unknown = JSON.parse(row.sent_at);
    if (Array.isArray(parsed)) sentAt = parsed.filter((t): t is number => typeof t === 'number');
  } catch {
    // A damaged row starts afresh; the server's own headers still hold us back.
  }
  return {
    ...emptyBudget(Number(row.window_limit) || limit, windowMs),
    sentAt,
    serverRemaining: row.server_remaining === null ? null : Number(row.server_remaining),
    serverWindowEnd: row.server_window_end,
    blockedUntil: row.blocked_until,
  };
}

function toRow(row: RateLimitRow, state: BudgetState): RateLimitRow {
  return {
    ...row,
    window_ms: state.windowMs,
    window_limit: state.limit,
    sent_at: JSON.stringify(state.sentAt),
    server_remaining: state.serverRemaining,
    server_window_end: state.serverWindowEnd,
    blocked_until: state.blockedUntil,
  };
}
