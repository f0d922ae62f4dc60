/**
 * The ShipStation request budget of one API key, shared by every process through the database
 * (`rate_limits`, one row per key). Implements the clients' `RateLimiter`: `acquire` before each
 * request (throttling before sending, so 429 stays the exception), `observe` with each response's
 * `X-Rate-Limit-*` headers, `block` after a 429. The policy is in `rate-budget.ts`.
 *
 * Times come from the injected clock of each process; processes on different machines should keep
 * their clocks in sync (NTP), as a skew of a second shifts the budget by that much.
 */
import { type Clock, systemClock } from '../clock.js';
import type { RateLimiter, RateLimitObservation } from '../shipstation/rate-limit.js';
import { type RateLimitRow, updateRateLimitRow } from '../store/jobs/rate-limits.js';
import type { Store } from '../store/open.js';
import { applyBlock, applyObservation, type BudgetState, trySend } from './rate-budget.js';

export interface DbRateLimiterOptions {
  /** Requests per window (ShipStation V1: 40; `shipstation.rateLimit.limit`). */
  limit: number;
  /** Window length in ms (ShipStation V1: 60 s; `shipstation.rateLimit.window`). */
  windowMs: number;
  /** Extra spacing so network delay cannot push `limit + 1` requests into one server window. */
  marginMs?: number;
  clock?: Clock;
}

export class DbRateLimiter implements RateLimiter {
  readonly #store: Store;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #marginMs: number;
  readonly #clock: Clock;

  constructor(store: Store, options: DbRateLimiterOptions) {
    this.#store = store;
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
    this.#marginMs = options.marginMs ?? Math.min(1000, Math.round(options.windowMs / 60));
    this.#clock = options.clock ?? systemClock;
  }

  async acquire(key: string, signal?: AbortSignal): Promise<number> {
    const started = this.#clock.now();
    for (;;) {
      signal?.throwIfAborted();
      const waitMs = await this.#change(key, (state) => {
        const decision = trySend(state, this.#clock.now(), this.#marginMs);
        return decision.granted
          ? { state: decision.state, result: 0 }
          : { state: null, result: decision.waitMs };
      });
      if (waitMs === 0) return this.#clock.now() - started;
      await this.#clock.sleep(waitMs, signal);
    }
  }

  async observe(key: string, observation: RateLimitObservation): Promise<void> {
    await this.#change(key, (state) => ({
      state: applyObservation(state, observation, this.#limit),
      result: undefined,
    }));
  }

  async block(key: string, until: number): Promise<void> {
    await this.#change(key, (state) => ({ state: applyBlock(state, until), result: undefined }));
  }

  #change<T>(
    key: string,
    decide: (state: BudgetState) => { state: BudgetState | null; result: T },
  ): Promise<T> {
    return updateRateLimitRow(
      this.#store,
      key,
      { limit: this.#limit, windowMs: this.#windowMs },
      this.#clock.now(),
      (row) => {
        const { state, result } = decide(toState(row, this.#limit, this.#windowMs));
        return { row: state ? toRow(row, state) : null, result };
      },
    );
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
    // The configuration may have changed since the row was written: it is the ceiling.
    windowMs,
    limit: Math.min(limit, Number(row.window_limit) || limit),
    sentAt,
    serverRemaining: row.server_remaining,
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
