/**
 * What is retried. `classifyError` is the one place that decides; the worker asks it about every
 * error a handler throws or returns.
 *
 * - `RetryableError` / `PermanentError`: the handler said so.
 * - Any error with a boolean `retryable` property (other modules' errors carry one): that answer.
 * - Network failures (connection refused/reset, DNS, socket and undici errors), timeouts and
 *   aborts, HTTP 408, 429 and 5xx: retryable. Other HTTP 4xx: permanent (sending it again will not
 *   change the answer).
 * - Validation errors (`ZodError`, `ValidationError`, JSON `SyntaxError`): permanent.
 * - Anything else: retryable, so an unexpected failure still gets the cadence before it is dead.
 */

import { redactCredentials } from '../logger.js';

export interface ErrorOptions {
  cause?: unknown;
  /** Do not retry before this many ms (e.g. a 429's reset); the cadence delay applies if longer. */
  retryAfterMs?: number;
}

/** A failure worth trying again later (SYSPRO down, a timeout, a 503). */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  readonly retryable = true;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A failure that will not go away by itself (bad data, a rejected order): the job dies at once. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  readonly retryable = false;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
  }
}

export interface ErrorClass {
  retryable: boolean;
  /** Why, in a few words (for logs). */
  reason: string;
  retryAfterMs?: number;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ESOCKETTIMEDOUT',
]);

const VALIDATION_NAMES = new Set(['ZodError', 'ValidationError', 'SyntaxError']);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  status?: unknown;
  statusCode?: unknown;
  retryable?: unknown;
  retryAfterMs?: unknown;
  cause?: unknown;
}

export function classifyError(err: unknown): ErrorClass {
  return classify(err, 0);
}

function classify(err: unknown, depth: number): ErrorClass {
  if (err === null || typeof err !== 'object') return { retryable: true, reason: 'unknown failure' };
  const e = err as ErrorLike;
  const retryAfterMs = typeof e.retryAfterMs === 'number' ? e.retryAfterMs : undefined;
  const withDelay = (c: ErrorClass): ErrorClass => (retryAfterMs === undefined ? c : { ...c, retryAfterMs });

  if (typeof e.retryable === 'boolean') {
    return withDelay({
      retryable: e.retryable,
      reason: e.retryable ? 'marked retryable' : 'marked permanent',
    });
  }
  const status =
    typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined) {
    if (status === 408 || status === 429 || status >= 500) {
      return withDelay({ retryable: true, reason: `HTTP ${status}` });
    }
    if (status >= 400) return { retryable: false, reason: `HTTP ${status}` };
  }
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR'))) {
    return withDelay({ retryable: true, reason: `network error ${code}` });
  }
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'AbortError' || name === 'TimeoutError')
    return withDelay({ retryable: true, reason: 'timed out' });
  if (VALIDATION_NAMES.has(name)) return { retryable: false, reason: 'invalid data' };
  // fetch() wraps the network error: TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }).
  if (e.cause !== undefined && depth < 5) {
    const inner = classify(e.cause, depth + 1);
    if (inner.reason !== 'unknown failure') return inner;
  }
  return withDelay({ retryable: true, reason: 'unknown failure' });
}

/**
 * The text kept as a job's `last_error`: name, message and the causes' messages. Credentials in
 * URLs (`user:pass@`, `password=` parameters) are masked; errors should not carry secrets anyway.
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      const code = (current as ErrorLike).code;
      parts.push(`${current.name}: ${current.message}${typeof code === 'string' ? ` (${code})` : ''}`);
      current = current.cause;
    } else {
      parts.push(typeof current === 'string' ? current : safeJson(current));
      break;
    }
  }
  return redactCredentials(parts.join(' <- caused by ') || 'unknown error');
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
