/**
 * The one place that sends HTTP to ShipStation (V1 and V2). Per request it:
 * - takes a slot from the key's `RateLimiter` before sending and reports each response's
 *   `X-Rate-Limit-*` headers back to it;
 * - on 429 blocks the key until `X-Rate-Limit-Reset` (V1) / `Retry-After` (V2) has passed and sends
 *   again (a 429 request was not carried out, so this is safe for every call);
 * - on network errors, timeouts and 5xx retries with capped exponential backoff and jitter, but only
 *   when the caller says the request is safe to repeat (`idempotent`);
 * - says on every error whether the request was not sent, rejected or is in doubt (`delivery`,
 *   src/delivery.ts): connection refused, DNS, TLS and 429 are `not-sent`; a 4xx or 3xx answer is
 *   `rejected`; a timeout or reset after sending, a 5xx, or an unreadable body after a 2xx to a write
 *   is `in-doubt`. An in-doubt failure is `retryable` only when the call is idempotent: a V2
 *   `increment` answered 500 must be checked (the level read back), never sent again as it is;
 * - waits (limiter, 429, back-off) on the caller's wait signal (`abort.ts` `waitSignal`), which a
 *   stopping worker aborts at once, and sends with the caller's signal, which aborts only a request
 *   in flight (at `shutdownTimeout`, a lost lease): aborted in flight, the call is `in-doubt`;
 * - never follows redirects (a redirect could carry our credentials to another host);
 * - turns every failure into a `ShipStationError` (see errors.ts) without credentials in it.
 */
import { createHash } from 'node:crypto';
import { linkSignals, waitSignal } from '../abort.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import {
  describeEndpoint,
  kindForNetworkError,
  kindForStatus,
  parseErrorBody,
  ShipStationError,
} from './errors.js';
import { BudgetSpentError, type RateLimiter } from './rate-limit.js';

export interface RetryPolicy {
  /** Attempts in all for a request that is safe to repeat (1 = no retry). Default 4. */
  attempts: number;
  /** First backoff delay. Default 500 ms. */
  baseMs: number;
  /** Longest backoff delay. Default 30 s. */
  maxMs: number;
  /** How many 429s in a row one call waits out before giving up. Default 5. */
  rateLimitAttempts?: number;
  /**
   * Longest wait for a slot in the key's budget before the call fails as `rate_limited`, unsent.
   * Default: wait as long as the budget says (the budget is shared with every process).
   */
  maxLimiterWaitMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseMs: 500, maxMs: 30_000, rateLimitAttempts: 5 };

export interface TransportOptions {
  api: 'v1' | 'v2';
  baseUrl: string;
  /** Sent on every request; never logged or put in an error. */
  authHeaders: Record<string, string>;
  limiter: RateLimiter;
  /** The limiter key for these credentials (see `rateLimitKey`). */
  limiterKey: string;
  clock: Clock;
  timeoutMs: number;
  retry: RetryPolicy;
  /** Wait after a 429 that says nothing about when to come back. Default 60 s (one window). */
  fallbackRateLimitWaitMs?: number;
  /** Added to a 429's reset/Retry-After (whole seconds, rounding undocumented). Default 1000 ms. */
  rateLimitSafetyMs?: number;
  logger?: Logger;
  /** Jitter source, [0, 1). Default Math.random. */
  random?: () => number;
  /** Told of every HTTP request sent (each retry too): how long it took and how it ended (metrics). */
  onCall?: (call: TransportCall) => void;
}

/** One HTTP request to ShipStation: `outcome` is `ok` (2xx), `rate_limited` (429) or the error kind. */
export interface TransportCall {
  api: 'v1' | 'v2';
  ms: number;
  outcome: string;
  status?: number;
}

export type QueryValue = string | number | boolean | undefined | null;

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path under the base URL (`/orders`), or an absolute URL already checked by the caller. */
  path: string | URL;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** Safe to send again after a network error, timeout or 5xx? (GETs; upserts by key.) */
  idempotent: boolean;
  signal?: AbortSignal;
}

export interface Response<T> {
  status: number;
  /** Parsed JSON, or `undefined` for an empty body (204, some 200s). */
  body: T | undefined;
  headers: Headers;
}

/**
 * The limiter key for a set of credentials: a fingerprint, never the key itself (a database-backed
 * limiter stores it). V1 counts per key/secret pair; V2 per API key.
 */
export function rateLimitKey(api: 'v1' | 'v2', ...credentials: string[]): string {
  const digest = createHash('sha256').update(credentials.join('\u0000')).digest('hex').slice(0, 16);
  return `shipstation-${api}:${digest}`;
}

/** Delay before retry number `retry` (1-based): capped exponential with "equal jitter". */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function numberHeader(headers: Headers, name: string): number | undefined {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date. */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const raw = headers.get('retry-after');
  if (raw === null || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How long a 429 asks us to wait: V1 documents `X-Rate-Limit-Reset` (seconds), V2 `Retry-After`;
 * each falls back to the other's header when its own is missing.
 */
export function rateLimitWaitMs(api: 'v1' | 'v2', headers: Headers, now: number): number | undefined {
  const reset = numberHeader(headers, 'x-rate-limit-reset');
  const fromReset = reset === undefined ? undefined : Math.max(0, reset * 1000);
  const fromRetryAfter = retryAfterMs(headers, now);
  return api === 'v1' ? (fromReset ?? fromRetryAfter) : (fromRetryAfter ?? fromReset);
}

function buildUrl(baseUrl: string, path: string | URL, query?: Record<string, QueryValue>): URL {
  const url =
    path instanceof URL
      ? new URL(path.href)
      : new URL(baseUrl.replace(/\/+$/, '') + path.replace(/^(?!\/)/, '/'));
  if (query) {
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === '') continue;
      url.searchParams.set(name, String(value));
    }
  }
  return url;
}

export class ShipStationTransport {
  readonly #o: TransportOptions;

  constructor(options: TransportOptions) {
    this.#o = options;
  }

  get options(): Readonly<Omit<TransportOptions, 'authHeaders'>> {
    const { authHeaders: _hidden, ...rest } = this.#o;
    return rest;
  }

  async request<T>(spec: RequestSpec): Promise<Response<T>> {
    const o = this.#o;
    const url = buildUrl(o.baseUrl, spec.path, spec.query);
    const endpoint = describeEndpoint(spec.method, url.href);
    const random = o.random ?? Math.random;
    const maxAttempts = spec.idempotent ? Math.max(1, o.retry.attempts) : 1;
    const maxRateLimited = o.retry.rateLimitAttempts ?? DEFAULT_RETRY.rateLimitAttempts ?? 5;
    const headers: Record<string, string> = { accept: 'application/json', ...o.authHeaders };
    let payload: string | undefined;
    if (spec.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(spec.body);
    }

    let attempt = 0; // attempts that failed in a retryable way (network, timeout, 5xx)
    let rateLimited = 0;
    // Waits end when the service starts to stop; a request already sent is aborted only by `signal`.
    const waits = waitSignal(spec.signal);
    for (;;) {
      spec.signal?.throwIfAborted();
      try {
        await o.limiter.acquire(o.limiterKey, waits, { maxWaitMs: o.retry.maxLimiterWaitMs });
      } catch (error) {
        if (!(error instanceof BudgetSpentError)) throw error;
        throw new ShipStationError({
          kind: 'rate_limited',
          api: o.api,
          endpoint,
          providerMessage: `not sent: ${error.message} (spent by this or another process on the key, or held after a 429)`,
          retryable: true,
          attempts: 0,
          retryAfterMs: error.waitMs,
          cause: error,
        });
      }
      attempt += 1;
      const timeout = AbortSignal.timeout(o.timeoutMs);
      // Not AbortSignal.any: on Node 20 it leaves a WeakRef on a long-lived caller signal per call.
      const linked = spec.signal ? linkSignals([spec.signal, timeout]) : undefined;
      const signal = linked?.signal ?? timeout;

      let response: globalThis.Response;
      let text: string;
      const sentAt = o.clock.now();
      try {
        response = await fetch(url, {
          method: spec.method,
          headers,
          body: payload,
          redirect: 'manual',
          signal,
        });
        text = await response.text();
      } catch (error) {
        linked?.dispose();
        if (spec.signal?.aborted) {
          // Aborted while under way (shutdownTimeout passed, a lost lease): it may have reached
          // ShipStation, so a write that is not safe to repeat must be checked, not sent again.
          throw new ShipStationError({
            kind: 'network',
            api: o.api,
            endpoint,
            providerMessage: `aborted while under way (${describeReason(spec.signal.reason)}); it may have reached ShipStation`,
            retryable: spec.idempotent,
            delivery: 'in-doubt',
            attempts: attempt,
            cause: spec.signal.reason,
          });
        }
        const { kind, detail } = kindForNetworkError(error);
        o.onCall?.({ api: o.api, ms: o.clock.now() - sentAt, outcome: kind });
        // Refused, unresolvable or failed at the handshake: nothing went out. A timeout or a reset
        // may have come after ShipStation received the request.
        const delivery = kind === 'unreachable' || kind === 'tls' ? 'not-sent' : 'in-doubt';
        const failure = new ShipStationError({
          kind,
          api: o.api,
          endpoint,
          providerMessage: kind === 'timeout' ? `no response within ${o.timeoutMs} ms` : detail,
          retryable: delivery === 'not-sent' || spec.idempotent,
          delivery,
          attempts: attempt,
          cause: error,
        });
        if (attempt < maxAttempts) {
          await this.#backoff(attempt, failure, random, waits);
          continue;
        }
        throw failure;
      }
      linked?.dispose();

      const now = o.clock.now();
      o.onCall?.({
        api: o.api,
        ms: now - sentAt,
        outcome:
          response.status >= 200 && response.status < 300
            ? 'ok'
            : response.status === 429
              ? 'rate_limited'
              : kindForStatus(response.status),
        status: response.status,
      });
      const limit = numberHeader(response.headers, 'x-rate-limit-limit');
      const remaining = numberHeader(response.headers, 'x-rate-limit-remaining');
      const resetSeconds = numberHeader(response.headers, 'x-rate-limit-reset');
      await o.limiter.observe(o.limiterKey, { limit, remaining, resetSeconds, at: now });

      if (response.status >= 200 && response.status < 300) {
        return {
          status: response.status,
          body: parseJson<T>(text, o.api, endpoint, response.status, spec.idempotent),
          headers: response.headers,
        };
      }

      const parsed = parseErrorBody(text);
      if (response.status === 429) {
        rateLimited += 1;
        const waitMs = rateLimitWaitMs(o.api, response.headers, now) ?? o.fallbackRateLimitWaitMs ?? 60_000;
        const until = now + waitMs + (o.rateLimitSafetyMs ?? 1000);
        await o.limiter.block(o.limiterKey, until);
        // A 429 was not carried out: it does not use up one of the call's attempts.
        attempt -= 1;
        if (rateLimited <= maxRateLimited) {
          o.logger?.warn(
            { endpoint, status: 429, waitMs, rateLimited },
            'ShipStation rate limit hit, waiting',
          );
          continue;
        }
        throw new ShipStationError({
          kind: 'rate_limited',
          api: o.api,
          endpoint,
          status: 429,
          ...parsed,
          retryable: true,
          delivery: 'not-sent',
          attempts: rateLimited,
          retryAfterMs: waitMs,
        });
      }

      const kind = kindForStatus(response.status);
      // A 5xx may come after the work was done (ShipStation's own 500s, a gateway's 502/504): in
      // doubt, and repeated only when the call is safe to repeat. Other statuses refused the request.
      const failure = new ShipStationError({
        kind,
        api: o.api,
        endpoint,
        status: response.status,
        ...parsed,
        retryable: kind === 'server' && spec.idempotent,
        delivery: kind === 'server' ? 'in-doubt' : 'rejected',
        attempts: attempt,
      });
      if (kind === 'server' && attempt < maxAttempts) {
        await this.#backoff(attempt, failure, random, waits);
        continue;
      }
      throw failure;
    }
  }

  async #backoff(attempt: number, failure: ShipStationError, random: () => number, signal?: AbortSignal) {
    const delayMs = backoffDelay(attempt, this.#o.retry, random);
    this.#o.logger?.warn(
      { endpoint: failure.endpoint, kind: failure.kind, status: failure.status, attempt, delayMs },
      `ShipStation request failed (${failure.kind}), retrying`,
    );
    await this.#o.clock.sleep(delayMs, signal);
  }
}

function describeReason(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

function parseJson<T>(
  text: string,
  api: 'v1' | 'v2',
  endpoint: string,
  status: number,
  idempotent: boolean,
): T | undefined {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new ShipStationError({
      kind: 'invalid_response',
      api,
      endpoint,
      status,
      providerMessage: parseErrorBody(text).providerMessage ?? 'not JSON',
      retryable: false,
      // A success status to a write we cannot read: it was most likely done, but we cannot tell what.
      delivery: idempotent ? 'rejected' : 'in-doubt',
      cause: error,
    });
  }
}

/** The parsed body of a call that must have one; an empty answer is an `invalid_response`. */
export function requireBody<T>(http: ShipStationTransport, body: T | undefined, endpoint: string): T {
  if (body === undefined || body === null) {
    throw new ShipStationError({
      kind: 'invalid_response',
      api: http.options.api,
      endpoint,
      providerMessage: 'empty response body',
      retryable: false,
    });
  }
  return body;
}
