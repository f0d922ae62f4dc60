/**
 * ShipStation's request budget: a fixed window per key (V1: key/secret pair, 40 per 60 s; V2: API
 * key, 200 per 60 s). A window opens with the first request after the previous one ended and
 * counts down (observed in production, reference §2). Time comes from the injected clock.
 */
export interface RateLimitSettings {
  limit: number;
  windowMs: number;
}

export interface RateLimitVerdict {
  allowed: boolean;
  limit: number;
  /** Requests left in this window after this one. */
  remaining: number;
  /** Whole seconds until the next window begins (`X-Rate-Limit-Reset`, `Retry-After`). */
  resetSeconds: number;
}

interface Window {
  start: number;
  used: number;
}

export class FixedWindowRateLimit {
  private readonly windows = new Map<string, Window>();
  /** Requests answered 429 because their window was used up (not injected faults). */
  refused = 0;
  /** Requests let through. */
  admitted = 0;
  /** The most requests one key had admitted in one window (the budget as the server saw it spent). */
  mostInOneWindow = 0;

  constructor(
    public settings: RateLimitSettings,
    private readonly now: () => number,
  ) {}

  private window(key: string): Window {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now >= w.start + this.settings.windowMs) {
      w = { start: now, used: 0 };
      this.windows.set(key, w);
    }
    return w;
  }

  /** Counts one request for `key` and says whether it fits (`limit`: this request's budget, e.g. a partner's). */
  take(key: string, limit = this.settings.limit): RateLimitVerdict {
    const w = this.window(key);
    const allowed = w.used < limit;
    if (allowed) {
      w.used += 1;
      this.admitted++;
      this.mostInOneWindow = Math.max(this.mostInOneWindow, w.used);
    } else this.refused++;
    return this.verdict(w, allowed, limit);
  }

  /** The state of `key`'s window without counting a request. */
  peek(key: string): RateLimitVerdict {
    const w = this.window(key);
    return this.verdict(w, w.used < this.settings.limit);
  }

  private verdict(w: Window, allowed: boolean, limit = this.settings.limit): RateLimitVerdict {
    const msLeft = Math.max(0, w.start + this.settings.windowMs - this.now());
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - w.used),
      resetSeconds: Math.ceil(msLeft / 1000),
    };
  }
}
