/**
 * The in-process `RateLimiter`: one budget per key, kept in memory, for a single process.
 *
 * ShipStation V1 counts requests in fixed windows (40 per 60 s per key/secret pair, shared with any
 * other app on the same key) and reports the window on every response: `X-Rate-Limit-Remaining` and
 * `X-Rate-Limit-Reset` (seconds to the next window). The limiter:
 * - hands out at most `remaining` slots until the window ends, then waits for the next window;
 * - before it has heard from the server (or after a window ended) it assumes a full window of
 *   `limit` starting now, and corrects that as soon as a response reports the real window;
 * - believes the server about how much is left (other apps spend the same budget), minus the
 *   requests it has let through that the server has not answered yet (in flight);
 * - adds `safetyMs` to the reported reset: the header is whole seconds, and whether the server
 *   rounds up or down is not documented (UNCONFIRMED), so we wait the extra moment.
 * - honours `block(until)` (after a 429) by sending nothing until then.
 */
import type { Clock } from '../clock.js';
import type { RateLimiter, RateLimitObservation } from './rate-limit.js';

export interface MemoryRateLimiterOptions {
  clock: Clock;
  /** Requests per window assumed until a response says otherwise (V1: 40; V2: 200). */
  limit: number;
  /** Window length (V1 and V2: 60 s). */
  windowMs: number;
  /** Extra wait added to a reported reset. Default 1000 ms. */
  safetyMs?: number;
}

interface KeyState {
  limit: number;
  /** End (epoch ms) of the window `remaining` belongs to. */
  windowEnd: number;
  /** Whether `windowEnd` came from the server (true) or is our guess (false). */
  confirmed: boolean;
  remaining: number;
  blockedUntil: number;
  /** Times of the requests let through and not yet observed (answered), oldest first. */
  inFlight: number[];
}

export class MemoryRateLimiter implements RateLimiter {
  readonly #clock: Clock;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #safetyMs: number;
  readonly #keys = new Map<string, KeyState>();

  constructor(options: MemoryRateLimiterOptions) {
    if (!(options.limit > 0) || !(options.windowMs > 0)) {
      throw new RangeError('MemoryRateLimiter needs a positive limit and windowMs');
    }
    this.#clock = options.clock;
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
    this.#safetyMs = options.safetyMs ?? 1000;
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (!state) {
      state = {
        limit: this.#limit,
        windowEnd: 0,
        confirmed: false,
        remaining: 0,
        blockedUntil: 0,
        inFlight: [],
      };
      this.#keys.set(key, state);
    }
    return state;
  }

  /** Forgets in-flight requests that never got an answer (failed without a response). */
  #dropLost(state: KeyState, now: number): void {
    const horizon = now - this.#windowMs;
    while (state.inFlight.length > 0 && state.inFlight[0]! < horizon) state.inFlight.shift();
  }

  async acquire(key: string, signal?: AbortSignal): Promise<number> {
    const state = this.#state(key);
    const started = this.#clock.now();
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#clock.now();
      if (now < state.blockedUntil) {
        await this.#clock.sleep(state.blockedUntil - now, signal);
        continue;
      }
      if (now >= state.windowEnd) {
        // A new window we have not heard about yet: assume a full one starting now.
        state.windowEnd = now + this.#windowMs;
        state.confirmed = false;
        state.remaining = state.limit;
      }
      if (state.remaining > 0) {
        state.remaining -= 1;
        state.inFlight.push(now);
        return now - started;
      }
      await this.#clock.sleep(state.windowEnd - now, signal);
    }
  }

  async observe(key: string, observation: RateLimitObservation): Promise<void> {
    const state = this.#state(key);
    state.inFlight.shift();
    this.#dropLost(state, observation.at);
    if (observation.limit !== undefined && observation.limit > 0) state.limit = observation.limit;
    if (observation.resetSeconds === undefined || observation.remaining === undefined) return;

    const serverEnd = observation.at + Math.max(0, observation.resetSeconds) * 1000 + this.#safetyMs;
    const serverRemaining = Math.max(0, observation.remaining - state.inFlight.length);
    const tolerance = Math.min(5000, this.#windowMs / 4);

    if (state.confirmed && serverEnd < state.windowEnd - tolerance) {
      // A late answer from a window that has already ended: it says nothing about this one.
      return;
    }
    const sameWindow = Math.abs(serverEnd - state.windowEnd) <= tolerance;
    if (state.confirmed && sameWindow) {
      state.windowEnd = Math.max(state.windowEnd, serverEnd);
      state.remaining = Math.min(state.remaining, serverRemaining);
    } else if (!state.confirmed && serverEnd <= state.windowEnd + tolerance) {
      // Our guessed window, corrected by the server: its end, and the smaller budget.
      state.windowEnd = serverEnd;
      state.remaining = Math.min(state.remaining, serverRemaining);
    } else {
      // The server is already in a later window than we thought.
      state.windowEnd = serverEnd;
      state.remaining = serverRemaining;
    }
    state.confirmed = true;
  }

  async block(key: string, until: number): Promise<void> {
    const state = this.#state(key);
    state.blockedUntil = Math.max(state.blockedUntil, until);
    // Nothing is left in the window the 429 came from, and that window ends at `until` (the server's
    // reset): the next acquire after it starts afresh.
    state.remaining = 0;
    state.windowEnd = until;
    state.confirmed = false;
  }
}
