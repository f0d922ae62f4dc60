/**
 * THE rule for spending a ShipStation key's request budget: one window model, used by both stores
 * (`memory-rate-limiter.ts`, one process; `engine/db-rate-limiter.ts`, every process on one
 * database). The stores only keep a `BudgetState` per key and run `trySend` / `applyObservation` /
 * `applyBlock` on it atomically; `BudgetLimiter` is the acquire loop both share.
 *
 * The model:
 * - Our own sends are a sliding log: a request may go when fewer than `limit` of ours went in the
 *   last `windowMs + safetyMs`. Then every window of `windowMs`, wherever the server's fixed window
 *   starts (we only learn it to the whole second), holds at most `limit` of our requests, even with
 *   a little network delay between our decision and the server's count.
 * - The server's `X-Rate-Limit-Remaining` / `-Reset` also count other apps on the same key: when it
 *   says nothing remains, we wait until its window ends (`at + reset + safetyMs`). Our sends since
 *   then are taken off what it said, and within one server window the lower figure wins (answers of
 *   concurrent requests arrive out of order), so requests still in flight are not counted twice.
 * - `X-Rate-Limit-Limit` is the server's word on the key's budget and replaces our assumption, up
 *   or down (a partner key gets 100/min on V1; see docs/decisions.md "One ShipStation budget"). The
 *   configured limit is what we assume until a response says otherwise.
 * - After a 429, `block(until)` holds everything for the key until then.
 *
 * `safetyMs` is the one tolerance: `X-Rate-Limit-Reset` is whole seconds with undocumented rounding
 * (UNCONFIRMED) and answers take time to arrive, so every time we infer from the server, and the
 * sliding log, is padded by it. Default `defaultSafetyMs(windowMs)`: 1 s for ShipStation's 60 s.
 */
import type { Clock } from '../clock.js';
import {
  type AcquireOptions,
  BudgetSpentError,
  type RateLimiter,
  type RateLimitObservation,
} from './rate-limit.js';

export interface BudgetState {
  windowMs: number;
  /** Requests per window: the configured assumption until `X-Rate-Limit-Limit` says otherwise. */
  limit: number;
  /** Our send times (epoch ms) in the recent window, ascending. */
  sentAt: number[];
  /** What the server said remains in its window ending at `serverWindowEnd`, minus our sends since. */
  serverRemaining: number | null;
  serverWindowEnd: number | null;
  /** Nothing may be sent before this (after a 429). */
  blockedUntil: number | null;
}

export type SendDecision = { granted: true; state: BudgetState } | { granted: false; waitMs: number };

/** `X-Rate-Limit-Reset` counts whole seconds. */
const RESET_UNIT_MS = 1000;

/** The safety margin for a window length: 1 s for a 60 s window, proportionally less for short test windows. */
export function defaultSafetyMs(windowMs: number): number {
  return Math.min(1000, Math.round(windowMs / 60));
}

/** A key nobody has sent on yet. */
export function emptyBudget(limit: number, windowMs: number): BudgetState {
  return { windowMs, limit, sentAt: [], serverRemaining: null, serverWindowEnd: null, blockedUntil: null };
}

/**
 * How many requests could go at `now` without waiting (0: `trySend` would wait): the room left in
 * our sliding log, less when the server's open window says fewer remain, none while blocked.
 */
export function freeSlots(state: BudgetState, now: number, safetyMs: number): number {
  if (state.blockedUntil !== null && state.blockedUntil > now) return 0;
  const span = state.windowMs + safetyMs;
  let free = state.limit - state.sentAt.filter((t) => t > now - span).length;
  const serverWindowOpen = state.serverWindowEnd !== null && now < state.serverWindowEnd;
  if (serverWindowOpen && state.serverRemaining !== null) free = Math.min(free, state.serverRemaining);
  return Math.max(0, free);
}

/** May one more request go at `now`? If so, the state with it counted; if not, how long to wait. */
export function trySend(state: BudgetState, now: number, safetyMs: number): SendDecision {
  const span = state.windowMs + safetyMs;
  const recent = state.sentAt.filter((t) => t > now - span);
  const waits: number[] = [];
  if (state.blockedUntil !== null && state.blockedUntil > now) waits.push(state.blockedUntil - now);
  const serverWindowOpen = state.serverWindowEnd !== null && now < state.serverWindowEnd;
  if (serverWindowOpen && state.serverRemaining !== null && state.serverRemaining <= 0) {
    waits.push((state.serverWindowEnd as number) - now);
  }
  if (recent.length >= state.limit) {
    const leaving = recent[recent.length - state.limit] as number;
    waits.push(leaving + span - now);
  }
  if (waits.length > 0) return { granted: false, waitMs: Math.max(1, ...waits) };
  recent.push(now);
  return {
    granted: true,
    state: {
      ...state,
      sentAt: recent.slice(-state.limit),
      serverRemaining: serverWindowOpen && state.serverRemaining !== null ? state.serverRemaining - 1 : null,
      serverWindowEnd: serverWindowOpen ? state.serverWindowEnd : null,
      blockedUntil: state.blockedUntil !== null && state.blockedUntil > now ? state.blockedUntil : null,
    },
  };
}

/**
 * Folds in what a response's headers said. Two reported window ends closer than a reset unit plus
 * the margin (at most half a window) are one server window: the lower remaining wins. A later
 * window replaces an earlier one; an answer about a window that already ended is ignored.
 */
export function applyObservation(
  state: BudgetState,
  obs: RateLimitObservation,
  safetyMs: number,
): BudgetState {
  let next = { ...state };
  if (obs.limit !== undefined && Number.isFinite(obs.limit) && obs.limit >= 1) {
    next.limit = Math.floor(obs.limit);
  }
  if (obs.remaining === undefined || obs.resetSeconds === undefined) return next;
  const end = obs.at + Math.max(0, obs.resetSeconds) * 1000 + safetyMs;
  const remaining = Math.max(0, obs.remaining);
  const sameWindowMs = Math.min(state.windowMs / 2, RESET_UNIT_MS + safetyMs);
  const current = state.serverWindowEnd;
  if (current === null || current <= obs.at || end > current + sameWindowMs) {
    next = { ...next, serverRemaining: remaining, serverWindowEnd: end };
  } else if (Math.abs(end - current) <= sameWindowMs) {
    next = {
      ...next,
      serverRemaining: Math.min(state.serverRemaining ?? remaining, remaining),
      serverWindowEnd: Math.max(current, end),
    };
  }
  return next;
}

/** After a 429: nothing is sent for the key before `until`. */
export function applyBlock(state: BudgetState, until: number): BudgetState {
  return { ...state, blockedUntil: Math.max(state.blockedUntil ?? 0, until) };
}

/**
 * Where a limiter keeps each key's state. `update` must run `decide` atomically per key (a lock
 * across processes for the database store) and save the state it returns (`null`: unchanged).
 */
export interface BudgetStore {
  update<T>(
    key: string,
    now: number,
    decide: (state: BudgetState) => { state: BudgetState | null; result: T },
  ): Promise<T>;
  /** The states of `keys` as they are now, without locking (a key nobody sent on is absent). */
  read(keys: readonly string[]): Promise<Map<string, BudgetState>>;
}

export interface BudgetLimiterOptions {
  /** The clock every sharer of the store agrees on (the database's, for the database store). */
  clock: Clock;
  /** Default `defaultSafetyMs(windowMs)`. */
  safetyMs?: number;
  windowMs: number;
  /** Awaited before each decision (the database clock's first measurement). */
  ready?: () => Promise<void>;
}

/** The `RateLimiter` of both stores: the acquire loop over `trySend`. */
export class BudgetLimiter implements RateLimiter {
  readonly #store: BudgetStore;
  readonly #clock: Clock;
  readonly #safetyMs: number;
  readonly #ready: () => Promise<void>;

  constructor(store: BudgetStore, options: BudgetLimiterOptions) {
    this.#store = store;
    this.#clock = options.clock;
    this.#ready = options.ready ?? (() => Promise.resolve());
    this.#safetyMs = options.safetyMs ?? defaultSafetyMs(options.windowMs);
  }

  get clock(): Clock {
    return this.#clock;
  }

  async acquire(key: string, signal?: AbortSignal, options: AcquireOptions = {}): Promise<number> {
    await this.#ready();
    const started = this.#clock.now();
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#clock.now();
      const waitMs = await this.#store.update(key, now, (state) => {
        const decision = trySend(state, now, this.#safetyMs);
        return decision.granted
          ? { state: decision.state, result: 0 }
          : { state: null, result: decision.waitMs };
      });
      if (waitMs === 0) return this.#clock.now() - started;
      const waited = this.#clock.now() - started;
      if (options.maxWaitMs !== undefined && waited + waitMs > options.maxWaitMs) {
        throw new BudgetSpentError(waitMs);
      }
      await this.#clock.sleep(waitMs, signal);
    }
  }

  /**
   * For each of `keys`, how many requests could go now without waiting (`freeSlots`), from one
   * unlocked read: a hint for choosing work (another process may take a slot meanwhile; `acquire`
   * still decides). A key nobody has sent on counts as its full configured limit.
   */
  async freeSlots(keys: readonly string[], defaultLimit: number): Promise<Map<string, number>> {
    await this.#ready();
    const now = this.#clock.now();
    const states = await this.#store.read(keys);
    const free = new Map<string, number>();
    for (const key of keys) {
      const state = states.get(key);
      free.set(key, state ? freeSlots(state, now, this.#safetyMs) : defaultLimit);
    }
    return free;
  }

  async observe(key: string, observation: RateLimitObservation): Promise<void> {
    await this.#ready();
    await this.#store.update(key, this.#clock.now(), (state) => ({
      state: applyObservation(state, observation, this.#safetyMs),
      result: undefined,
    }));
  }

  async block(key: string, until: number): Promise<void> {
    await this.#ready();
    await this.#store.update(key, this.#clock.now(), (state) => ({
      state: applyBlock(state, until),
      result: undefined,
    }));
  }
}
