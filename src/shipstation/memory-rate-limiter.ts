/**
 * The in-process store of the ShipStation budget: each key's `BudgetState` in a Map, for clients
 * used without a database (tests, library use). The rule itself (sliding log of our sends, the
 * server's `X-Rate-Limit-*`, 429 blocks, the safety margin) is `rate-budget.ts`, shared with the
 * database store (`engine/db-rate-limiter.ts`), which is what the product's clients get.
 */
import type { Clock } from '../clock.js';
import { BudgetLimiter, type BudgetState, type BudgetStore, emptyBudget } from './rate-budget.js';

export interface MemoryRateLimiterOptions {
  clock: Clock;
  /** Requests per window assumed until a response says otherwise (V1: 40; V2: 200). */
  limit: number;
  /** Window length (V1 and V2: 60 s). */
  windowMs: number;
  /** Default `defaultSafetyMs(windowMs)` (1 s for 60 s), see rate-budget.ts. */
  safetyMs?: number;
}

class MemoryBudgetStore implements BudgetStore {
  readonly #keys = new Map<string, BudgetState>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  async update<T>(
    key: string,
    _now: number,
    decide: (state: BudgetState) => { state: BudgetState | null; result: T },
  ): Promise<T> {
    // Synchronous from read to write: atomic within the process.
    const { state, result } = decide(this.#keys.get(key) ?? emptyBudget(this.limit, this.windowMs));
    if (state) this.#keys.set(key, state);
    return result;
  }

  async read(keys: readonly string[]): Promise<Map<string, BudgetState>> {
    const found = new Map<string, BudgetState>();
    for (const key of keys) {
      const state = this.#keys.get(key);
      if (state) found.set(key, state);
    }
    return found;
  }
}

export class MemoryRateLimiter extends BudgetLimiter {
  constructor(options: MemoryRateLimiterOptions) {
    if (!(options.limit > 0) || !(options.windowMs > 0)) {
      throw new RangeError('MemoryRateLimiter needs a positive limit and windowMs');
    }
    super(new MemoryBudgetStore(options.limit, options.windowMs), options);
  }
}
