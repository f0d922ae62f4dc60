/**
 * The ShipStation request budget of one API key. The V1 client asks `acquire` before each request
 * and reports each response's `X-Rate-Limit-*` headers through `observe`; after a 429 it calls
 * `block`. Two implementations: in-process (`memory-rate-limiter.ts`, one process) and one backed by
 * the database so several processes share a key's budget (the engine's, for PostgreSQL scale-out).
 */
export interface RateLimitObservation {
  /** `X-Rate-Limit-Limit`: requests allowed per window. */
  limit?: number;
  /** `X-Rate-Limit-Remaining`: requests left in the current window. */
  remaining?: number;
  /** `X-Rate-Limit-Reset`: seconds until the window resets. */
  resetSeconds?: number;
  /** When the response was received (epoch ms, from the client's clock). */
  at: number;
}

export interface AcquireOptions {
  /**
   * Longest wait for a slot: when the budget frees one only later, `acquire` throws
   * `BudgetSpentError` at once instead of waiting (`ping`: show a spent budget, do not hang).
   */
  maxWaitMs?: number;
}

/** The key's budget has no slot within `maxWaitMs`; nothing was sent. */
export class BudgetSpentError extends Error {
  constructor(readonly waitMs: number) {
    super(`the request budget of this key has no slot for ${Math.ceil(waitMs / 1000)} s`);
    this.name = 'BudgetSpentError';
  }
}

export interface RateLimiter {
  /**
   * Waits (on the client's clock) until one more request for `key` fits in the budget, then takes
   * that slot. Resolves with the milliseconds it waited.
   */
  acquire(key: string, signal?: AbortSignal, options?: AcquireOptions): Promise<number>;
  /** Records what a response's rate-limit headers said about `key`'s window. */
  observe(key: string, observation: RateLimitObservation): Promise<void>;
  /** Nothing more may be sent for `key` before `until` (epoch ms), e.g. after a 429. */
  block(key: string, until: number): Promise<void>;
}
