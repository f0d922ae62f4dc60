/**
 * Every failure of the SYSPRO clients is a `SysproError` with a `kind` that says what went wrong in
 * terms an operator (and `ml-connector ping`) can act on, `retryable` that tells the engine
 * whether trying again later can help, and `delivery` (src/delivery.ts): whether the request was
 * not sent, rejected, or is in doubt. Messages never contain a password or a session UserId.
 */

import { type Delivery, NOT_SENT_CODES } from '../delivery.js';
import { networkErrorCode } from '../network-error.js';

export type SysproErrorKind =
  /** e.net refused the operator's password. */
  | 'wrong-operator-password'
  /** e.net does not know the operator, or the operator may not use business objects. */
  | 'unknown-operator'
  /** e.net does not know the company id. */
  | 'unknown-company'
  /** e.net refused the company password. */
  | 'wrong-company-password'
  /** Every e.net licence seat is taken; a seat frees when another session logs off or times out. */
  | 'licence-exhausted'
  /** The session UserId is no longer valid (evicted by another logon of the operator, or timed out). */
  | 'session-invalid'
  /** The business object is unknown or not licensed (`e.net exception raised: 100000`). */
  | 'business-object-unavailable'
  /** SYSPRO answered `ERROR…` for another reason. */
  | 'enet-error'
  /** The business object ran and reported errors inside its XmlOut. */
  | 'business-object'
  /** The host could not be reached (connection refused, name not found, network down, reset). */
  | 'unreachable'
  /** The TLS handshake failed (certificate not trusted, expired, wrong host name, protocol). */
  | 'tls'
  /** No answer within the configured timeout. */
  | 'timeout'
  /** OData refused the credentials (HTTP 401/403). */
  | 'unauthorized'
  /** The server answered an HTTP status that is not success (404 unknown table, 5xx, …). */
  | 'http-status'
  /** The answer could not be understood (not XML where XML was expected, bad JSON, …). */
  | 'bad-response'
  /** The request would be longer than the server accepts (URL length), so it was not sent. */
  | 'request-too-large'
  /** The client was closed. */
  | 'closed';

/**
 * Kinds for which trying again later (unchanged) can succeed. `timeout` and `unreachable` are here
 * for calls that are safe to repeat (queries, logon); a post that failed that way after it went out
 * is in doubt and made `retryable: false` by the e.net client (`asPostFailure`), so the engine checks
 * SYSPRO instead of posting it again.
 */
const RETRYABLE: ReadonlySet<SysproErrorKind> = new Set([
  'licence-exhausted',
  'session-invalid',
  'unreachable',
  'timeout',
]);

/**
 * What a kind says about delivery when the code that raises it says nothing more. `unreachable`,
 * `closed` and `http-status` depend on the case and are set where they are raised (transportError,
 * sendRequest, httpStatusError); these are the defaults.
 */
const DELIVERY: Record<SysproErrorKind, Delivery> = {
  'wrong-operator-password': 'rejected',
  'unknown-operator': 'rejected',
  'unknown-company': 'rejected',
  'wrong-company-password': 'rejected',
  // An `ERROR…` answer: e.net did not run the call (the reference: the session or seat check comes first).
  'licence-exhausted': 'rejected',
  'session-invalid': 'rejected',
  'business-object-unavailable': 'rejected',
  'enet-error': 'rejected',
  'business-object': 'rejected',
  unreachable: 'not-sent',
  tls: 'not-sent',
  timeout: 'in-doubt',
  unauthorized: 'rejected',
  'http-status': 'in-doubt',
  'bad-response': 'rejected',
  'request-too-large': 'not-sent',
  closed: 'not-sent',
};

export interface SysproErrorDetails {
  /** The e.net route or OData entity set, e.g. `Transaction/Post` or `SorMaster`. Never a full URL. */
  endpoint?: string;
  businessObject?: string;
  /** HTTP status when one was received. */
  status?: number;
  /** What SYSPRO said (the `ERROR…` text or the first business-object error), passwords removed. */
  sysproMessage?: string;
  /** Per-item errors when `kind` is `business-object`. */
  itemErrors?: readonly { field: string; number?: string; description: string; value?: string }[];
  retryable?: boolean;
  /** Default by kind (see `DELIVERY`). */
  delivery?: Delivery;
  cause?: unknown;
}

export class SysproError extends Error {
  override readonly name = 'SysproError';
  readonly kind: SysproErrorKind;
  readonly retryable: boolean;
  /** Not sent, rejected, or in doubt (src/delivery.ts). */
  readonly delivery: Delivery;
  readonly endpoint?: string;
  readonly businessObject?: string;
  readonly status?: number;
  readonly sysproMessage?: string;
  readonly itemErrors?: SysproErrorDetails['itemErrors'];

  constructor(kind: SysproErrorKind, message: string, details: SysproErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.retryable = details.retryable ?? RETRYABLE.has(kind);
    this.delivery = details.delivery ?? DELIVERY[kind];
    this.endpoint = details.endpoint;
    this.businessObject = details.businessObject;
    this.status = details.status;
    this.sysproMessage = details.sysproMessage;
    this.itemErrors = details.itemErrors;
  }
}

export function isSysproError(error: unknown, kind?: SysproErrorKind): error is SysproError {
  return error instanceof SysproError && (kind === undefined || error.kind === kind);
}

/** What an operator should do about each kind; appended to messages. */
export const OPERATOR_ADVICE: Record<SysproErrorKind, string> = {
  'wrong-operator-password':
    'check the SYSPRO operator password stored for this connection (ml-connector creds set)',
  'unknown-operator':
    'check the operator code, and that the operator exists and has access to business objects',
  'unknown-company': 'check the SYSPRO company id in the connection configuration',
  'wrong-company-password': 'check the SYSPRO company password stored for this connection',
  'licence-exhausted':
    'all e.net licence seats are in use; it will be retried. If it persists, log off idle sessions or add seats in e.net License Apportionment',
  'session-invalid':
    'the e.net session ended (another logon with the same operator, or idle timeout); use a dedicated operator for ml-connector',
  'business-object-unavailable':
    'the business object is not licensed for this operator or does not exist; check e.net License Apportionment',
  'enet-error': 'see the SYSPRO message; check the e.net service and its log',
  'business-object': 'see the per-item errors; correct the data in SYSPRO or in the mapping',
  unreachable: 'check the host name and port, that the SYSPRO service is running, and the firewall',
  tls: 'check the server certificate (trusted CA, host name, expiry) or use the right http/https scheme',
  timeout: 'the server did not answer in time; check it is running and not overloaded, or raise the timeout',
  unauthorized: 'check the OData user and password, and that the operator is enabled for OData',
  'http-status': 'check the URL (base path, company, table) and the service log',
  'bad-response': 'the server did not answer like SYSPRO; check the URL points at the right service',
  'request-too-large': 'the request is too long for a URL; send fewer items per call',
  closed: 'the client was shut down',
};

/** Removes anything that looks like a password or session id from text that SYSPRO sent back. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text
    .replace(/((?:Operator|Company)?Password=|UserId=)[^&\s]*/gi, (_m, name: string) => `${name}[redacted]`)
    // A session UserId (34 hex characters) is a bearer credential while it lives.
    .replace(/\b[0-9A-F]{32,}\b/gi, '[session]');
  for (const secret of secrets) {
    if (secret && secret.length >= 3) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/**
 * Patterns for e.net `ERROR…` texts. The invalid-password text is on the wire (S1); the rest of the
 * wording is not published by SYSPRO (UNCONFIRMED in the reference), so these are broad and can be
 * extended per site through the client's `sessionErrorPatterns`.
 *
 * The logon patterns (licence, passwords, company, operator) are tested on the Logon route only: on
 * any other route the session already exists, so a text such as `ERROR: UserId … is not logged on to
 * company EDU1` means the session is gone, not that the company id is wrong.
 */
const LOGON_PATTERNS: readonly [SysproErrorKind, RegExp][] = [
  [
    'licence-exhausted',
    /licen[cs]es? (?:are |is )?(?:all )?(?:in use|exhausted|exceeded|unavailable|taken)|all (?:[\w.]+ )?licen[cs]es|no (?:more |free )?(?:seats?|licen[cs]es?)|maximum number of (?:users|sessions|licen)/i,
  ],
  ['wrong-company-password', /company password/i],
  ['wrong-operator-password', /password/i],
  ['unknown-company', /company/i],
  ['unknown-operator', /operator/i],
];

const SESSION_PATTERN =
  /not logged on|not logged in|session|user ?id\b.*(?:invalid|not found|expired|unknown)|invalid user ?id|logged (?:off|out)|evicted|expired/i;

const BUSINESS_OBJECT_UNAVAILABLE = /e\.net exception raised: 100000\b/i;

/**
 * Classifies the text of an e.net `ERROR…` answer by the route that gave it. On `Logon`: licence,
 * password, company and operator texts, then an unavailable business object. On every other route:
 * a dead session (the site's `extraSessionPatterns` first), then an unavailable business object.
 * Anything else is `enet-error`.
 */
export function classifyEnetError(
  text: string,
  route: string,
  extraSessionPatterns: readonly RegExp[] = [],
): SysproErrorKind {
  if (route.toLowerCase() === 'logon') {
    for (const [kind, pattern] of LOGON_PATTERNS) if (pattern.test(text)) return kind;
  } else {
    for (const pattern of extraSessionPatterns) if (pattern.test(text)) return 'session-invalid';
    if (SESSION_PATTERN.test(text)) return 'session-invalid';
  }
  if (BUSINESS_OBJECT_UNAVAILABLE.test(text)) return 'business-object-unavailable';
  return 'enet-error';
}

/** Node's error codes for a host we cannot reach. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    code.startsWith('CERT_') ||
    code.includes('CERT') ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' ||
    code === 'EPROTO'
  );
}

/**
 * Turns what `fetch` threw into a `SysproError` (unreachable, TLS, timeout) with its delivery: a
 * refused connection, a name that does not resolve or a failed TLS handshake never sent the
 * request (`not-sent`); a timeout, a reset or a closed socket may have come after e.net received it
 * (`in-doubt`), and so does a failure we cannot name.
 */
export function transportError(
  error: unknown,
  context: { endpoint: string; host: string; timeoutMs: number; businessObject?: string },
): SysproError {
  if (error instanceof SysproError) return error;
  const name = (error as { name?: unknown } | undefined)?.name;
  const where = `${context.endpoint} on ${context.host}`;
  const details = { endpoint: context.endpoint, businessObject: context.businessObject, cause: error };
  const networkCode = networkErrorCode(error);
  if (networkCode === 'UND_ERR_CONNECT_TIMEOUT') {
    return new SysproError(
      'unreachable',
      `SYSPRO ${where} did not accept a connection within the connect timeout: ${OPERATOR_ADVICE.unreachable}`,
      { ...details, delivery: 'not-sent' },
    );
  }
  if (name === 'TimeoutError' || name === 'AbortError' || networkCode === 'UND_ERR_HEADERS_TIMEOUT') {
    return new SysproError(
      'timeout',
      `SYSPRO ${where} did not answer within ${context.timeoutMs} ms: ${OPERATOR_ADVICE.timeout}`,
      { ...details, delivery: 'in-doubt' },
    );
  }
  const code = networkCode ?? 'unknown';
  if (isTlsCode(code)) {
    return new SysproError('tls', `TLS to SYSPRO ${where} failed (${code}): ${OPERATOR_ADVICE.tls}`, {
      ...details,
      delivery: 'not-sent',
    });
  }
  const delivery: Delivery = NOT_SENT_CODES.has(code) ? 'not-sent' : 'in-doubt';
  if (UNREACHABLE_CODES.has(code)) {
    return new SysproError(
      'unreachable',
      `SYSPRO ${where} is unreachable (${code}): ${OPERATOR_ADVICE.unreachable}`,
      { ...details, delivery },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new SysproError(
    'unreachable',
    `request to SYSPRO ${where} failed (${code}: ${message}): ${OPERATOR_ADVICE.unreachable}`,
    { ...details, delivery },
  );
}

/**
 * What a failed post (Transaction/Post, Setup/*) means, given the route it was sent on:
 * - it failed before the post went out (the logon, or the re-logon after a dead session): not sent,
 *   whatever the logon's own failure was;
 * - it went out and is in doubt (timeout, reset, 5xx, an answer that never came): the same error,
 *   but `retryable: false` and saying so, because posting it again could post it twice; the engine
 *   has the job's handler check SYSPRO (SORQDN, SORQRY, …) first;
 * - otherwise (refused, an `ERROR…` text): unchanged.
 */
export function asPostFailure(error: unknown, route: string): unknown {
  if (!(error instanceof SysproError)) return error;
  if (error.endpoint !== undefined && error.endpoint !== route) {
    return error.delivery === 'not-sent' ? error : copyWith(error, { delivery: 'not-sent' });
  }
  if (error.delivery !== 'in-doubt' || !error.retryable) return error;
  return copyWith(error, {
    retryable: false,
    message: `${error.message} — the post may have been carried out: check SYSPRO before posting it again`,
  });
}

function copyWith(
  error: SysproError,
  change: { delivery?: Delivery; retryable?: boolean; message?: string },
): SysproError {
  const copy = new SysproError(error.kind, change.message ?? error.message, {
    endpoint: error.endpoint,
    businessObject: error.businessObject,
    status: error.status,
    sysproMessage: error.sysproMessage,
    itemErrors: error.itemErrors,
    retryable: change.retryable ?? error.retryable,
    delivery: change.delivery ?? error.delivery,
    cause: error.cause,
  });
  copy.stack = error.stack;
  return copy;
}
