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
 *
 * Delivery (src/delivery.ts): the verdict also says whether the failed request was not sent,
 * rejected or in doubt, from the error's own `delivery` (our clients always set one) or, for other
 * errors, from its code or status (refused/DNS/408/429 not sent, other 4xx rejected, resets,
 * timeouts and 5xx in doubt). `inDoubt` is the case the worker treats apart: in doubt AND not
 * retryable, i.e. the request may have taken effect and sending it again could do it twice. Such a
 * job is never sent again blindly: its handler must check the target system first
 * (`JobHandler.checksInDoubt`, `checkInDoubt` in handler.ts) or the job is dead at once. An
 * in-doubt failure that is retryable (a GET, an upsert by key) is simply retried. An error that
 * says neither (a raw fetch error from code that does not say whether its call is idempotent) keeps
 * the older rule: retried.
 */

import { type Delivery, isDelivery, NOT_SENT_CODES } from '../delivery.js';
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

/**
 * A handler's check of an in-doubt job could not tell whether the earlier request took effect (or
 * found something it cannot reconcile). Not retryable: the job is dead at once, and the message
 * says what the operator should look at in the target system before replaying it.
 */
export class InDoubtUnresolved extends Error {
  override readonly name = 'InDoubtUnresolved';
  readonly retryable = false;
  readonly delivery = 'in-doubt' as const;
  readonly unresolved = true;
  /** The system to look at: `SYSPRO` or `ShipStation`. */
  readonly system: string;
  constructor(system: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.system = system;
  }
}

/**
 * A client error of a write that may have taken effect, with what the next attempt needs to check
 * it (e.g. the inventory level read before an `increment`). The worker keeps `evidence` (JSON) on
 * the job with the in-doubt mark, and the next attempt finds it in `job.inDoubt.evidence`.
 */
export class InDoubtError extends Error {
  override readonly name = 'InDoubtError';
  readonly retryable = false;
  readonly delivery = 'in-doubt' as const;
  readonly evidence: unknown;
  constructor(cause: unknown, evidence: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.evidence = evidence;
  }
}

/**
 * For a handler that left something to check by: `error` as an `InDoubtError` carrying `evidence`
 * when it is an in-doubt failure (see `classifyError`), else `error` unchanged (a refused or unsent
 * request needs no evidence and must not be turned into an in-doubt one).
 */
export function withInDoubtEvidence(error: unknown, evidence: unknown): unknown {
  return classifyError(error).inDoubt ? new InDoubtError(error, evidence) : error;
}

export interface ErrorClass {
  retryable: boolean;
  /** Why, in a few words (for logs). */
  reason: string;
  retryAfterMs?: number;
  /** Not sent, rejected or in doubt, when the error says or its code/status tells. */
  delivery?: Delivery;
  /** In doubt and not to be sent again as is: the handler must check before anything is sent. */
  inDoubt: boolean;
  /** An `InDoubtUnresolved`: a check could not decide; dead at once. */
  unresolved?: boolean;
  /** The system to check (SYSPRO, ShipStation), when the error names it. */
  system?: string;
  /** What an `InDoubtError` carried for the next attempt's check. */
  evidence?: unknown;
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
  const verdict = classify(err, 0);
  const delivery = deliveryOf(err, 0);
  const inDoubt = delivery === 'in-doubt' && !verdict.retryable;
  const out: ErrorClass = { ...verdict, inDoubt };
  if (delivery !== undefined) out.delivery = delivery;
  if (inDoubt) {
    const system = systemOf(err);
    if (system) out.system = system;
    if (err instanceof InDoubtUnresolved) out.unresolved = true;
    const evidence = evidenceOf(err);
    if (evidence !== undefined) out.evidence = evidence;
  }
  return out;
}

type Verdict = Omit<ErrorClass, 'inDoubt'>;

function classify(err: unknown, depth: number): Verdict {
  if (err === null || typeof err !== 'object') return { retryable: true, reason: 'unknown failure' };
  const e = err as ErrorLike;
  const retryAfterMs = typeof e.retryAfterMs === 'number' ? e.retryAfterMs : undefined;
  const withDelay = (c: Verdict): Verdict => (retryAfterMs === undefined ? c : { ...c, retryAfterMs });

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

/** The error's own `delivery`, else what its status or network code tells, else its cause's. */
function deliveryOf(err: unknown, depth: number): Delivery | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as ErrorLike & { delivery?: unknown };
  if (isDelivery(e.delivery)) return e.delivery;
  const status =
    typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined && status >= 400) {
    if (status === 408 || status === 429) return 'not-sent';
    return status >= 500 ? 'in-doubt' : 'rejected';
  }
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && NOT_SENT_CODES.has(code)) return 'not-sent';
  if (code && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR'))) return 'in-doubt';
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'AbortError' || name === 'TimeoutError') return 'in-doubt';
  if (e.cause !== undefined && depth < 5) return deliveryOf(e.cause, depth + 1);
  return undefined;
}

const SYSTEM_BY_ERROR: Record<string, string> = { SysproError: 'SYSPRO', ShipStationError: 'ShipStation' };

function systemOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const e = current as { name?: unknown; system?: unknown; cause?: unknown };
    if (typeof e.system === 'string') return e.system;
    if (typeof e.name === 'string' && SYSTEM_BY_ERROR[e.name]) return SYSTEM_BY_ERROR[e.name];
    current = e.cause;
  }
  return undefined;
}

function evidenceOf(err: unknown): unknown {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof InDoubtError) return current.evidence;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
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
