/**
 * Errors from the ShipStation clients. One class, `ShipStationError`, whose `kind` says what went
 * wrong in terms an operator (and `ml-connector ping`) can act on; `status`, the provider's own
 * message and the endpoint travel with it. Credentials never do: the endpoint is method + URL
 * (V1 credentials are in a header, never in the URL) and bodies are ShipStation's, not ours.
 */
import type { Delivery } from '../delivery.js';
import { redactCredentials } from '../logger.js';
import { networkErrorCode } from '../network-error.js';
import type { V1ErrorBody, V2Error, V2ErrorBody } from './types.js';

export type ShipStationErrorKind =
  /** 401 or 403: wrong API key/secret, or the key lacks access. */
  | 'auth'
  /** 429 (after the retries allowed for it). */
  | 'rate_limited'
  /** DNS failure or connection refused: the host cannot be reached. */
  | 'unreachable'
  /** The TLS handshake or certificate check failed. */
  | 'tls'
  /** No response within `timeoutMs`. */
  | 'timeout'
  /** Any other network failure (connection reset mid-request...). */
  | 'network'
  /** 400 / 422: ShipStation refused the request as invalid. */
  | 'bad_request'
  | 'not_found'
  /** 5xx. */
  | 'server'
  /** Any other unexpected HTTP status (3xx redirects included: we never follow them). */
  | 'http'
  /** The response body was not what the endpoint returns (e.g. an HTML page instead of JSON). */
  | 'invalid_response'
  /** A `resource_url` pointing at a host that is not ShipStation's: refused before any request. */
  | 'refused_host';

export interface ShipStationErrorInit {
  kind: ShipStationErrorKind;
  api: 'v1' | 'v2';
  /** `GET https://ssapi.shipstation.com/orders?page=2`: method and URL, credentials removed. */
  endpoint: string;
  status?: number;
  /** ShipStation's own words: `Message` / `ExceptionMessage` / `message` / V2 `errors[].message`. */
  providerMessage?: string;
  /** V1 `ModelState`: parameter path → messages. */
  modelState?: Record<string, string[]>;
  /** V2 `errors[]`. */
  providerErrors?: V2Error[];
  /** V2 `request_id`, for ShipStation support. */
  requestId?: string;
  /**
   * May the same request be sent again as it is and possibly succeed (network, timeout, 429, 5xx)?
   * False for an in-doubt failure of a call that is not safe to repeat.
   */
  retryable: boolean;
  /** Not sent, rejected, or in doubt (src/delivery.ts). Default by kind (`DELIVERY_BY_KIND`). */
  delivery?: Delivery;
  /** Attempts made before giving up. */
  attempts?: number;
  /** For 429: milliseconds ShipStation asked us to wait. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class ShipStationError extends Error {
  readonly kind: ShipStationErrorKind;
  readonly api: 'v1' | 'v2';
  readonly endpoint: string;
  readonly status: number | undefined;
  readonly providerMessage: string | undefined;
  readonly modelState: Record<string, string[]> | undefined;
  readonly providerErrors: V2Error[] | undefined;
  readonly requestId: string | undefined;
  readonly retryable: boolean;
  readonly delivery: Delivery;
  readonly attempts: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(init: ShipStationErrorInit) {
    super(describe(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ShipStationError';
    this.kind = init.kind;
    this.api = init.api;
    this.endpoint = init.endpoint;
    this.status = init.status;
    this.providerMessage = init.providerMessage;
    this.modelState = init.modelState;
    this.providerErrors = init.providerErrors;
    this.requestId = init.requestId;
    this.retryable = init.retryable;
    this.delivery = init.delivery ?? DELIVERY_BY_KIND[init.kind];
    this.attempts = init.attempts;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** A plain object for logs and job records (no stack, no cause). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      api: this.api,
      endpoint: this.endpoint,
      status: this.status,
      message: this.message,
      providerMessage: this.providerMessage,
      modelState: this.modelState,
      providerErrors: this.providerErrors,
      requestId: this.requestId,
      retryable: this.retryable,
      delivery: this.delivery,
      attempts: this.attempts,
    };
  }
}

/**
 * What a kind says about delivery unless the transport knows better: the transport sets it on every
 * error it raises (a body it cannot read after a 2xx to a write is `in-doubt`: the write was done).
 */
export const DELIVERY_BY_KIND: Record<ShipStationErrorKind, Delivery> = {
  auth: 'rejected',
  rate_limited: 'not-sent',
  unreachable: 'not-sent',
  tls: 'not-sent',
  timeout: 'in-doubt',
  network: 'in-doubt',
  bad_request: 'rejected',
  not_found: 'rejected',
  server: 'in-doubt',
  http: 'rejected',
  invalid_response: 'rejected',
  refused_host: 'not-sent',
};

const KIND_TEXT: Record<ShipStationErrorKind, string> = {
  auth: 'rejected the credentials (check the API key and secret)',
  rate_limited: 'rate limit exceeded',
  unreachable: 'host unreachable',
  tls: 'TLS failure',
  timeout: 'timed out',
  network: 'network error',
  bad_request: 'refused the request as invalid',
  not_found: 'not found',
  server: 'server error',
  http: 'unexpected HTTP response',
  invalid_response: 'unexpected response body',
  refused_host: 'refused to fetch a URL that is not a webhook resource on a ShipStation API host',
};

/**
 * ShipStation's texts on one line: Json.NET's ModelState messages (and some `Message`s) carry `\r\n`,
 * which would split a log line or a dashboard cell. The raw texts stay in `providerMessage` and
 * `modelState`.
 */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function describe(init: ShipStationErrorInit): string {
  const parts = [`ShipStation ${init.api.toUpperCase()} ${init.endpoint}: ${KIND_TEXT[init.kind]}`];
  if (init.status !== undefined) parts.push(`(HTTP ${init.status})`);
  let text = parts.join(' ');
  if (init.providerMessage) text += `: ${oneLine(init.providerMessage)}`;
  if (init.modelState && Object.keys(init.modelState).length > 0) {
    const fields = Object.entries(init.modelState)
      .map(([field, messages]) => `${oneLine(field)}: ${messages.map(oneLine).join('; ')}`)
      .join(' | ');
    text += ` [${fields}]`;
  }
  if (init.attempts !== undefined && init.attempts > 1) text += ` (after ${init.attempts} attempts)`;
  return text;
}

/** `GET https://host/path?query` with credentials removed. */
export function describeEndpoint(method: string, url: string): string {
  return `${method.toUpperCase()} ${redactCredentials(url)}`;
}

export function kindForStatus(status: number): ShipStationErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  if (status === 400 || status === 422) return 'bad_request';
  if (status === 404) return 'not_found';
  if (status >= 500) return 'server';
  return 'http';
}

export interface ParsedErrorBody {
  providerMessage?: string;
  modelState?: Record<string, string[]>;
  providerErrors?: V2Error[];
  requestId?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const MAX_TEXT = 300;

/**
 * Reads what ShipStation said in an error body: the V1 ASP.NET shape (`Message`, `ExceptionMessage`,
 * `ModelState`), the V1 429 `{ message }`, the V2 `{ request_id, errors[] }`, or, failing all of those,
 * a short excerpt of the text (some gateways answer with an HTML page).
 */
export function parseErrorBody(text: string): ParsedErrorBody {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(trimmed);
  } catch {
    return { providerMessage: excerpt(trimmed) };
  }
  if (typeof body === 'string') return { providerMessage: excerpt(body) };
  if (!isRecord(body)) return { providerMessage: excerpt(trimmed) };

  const v1 = body as V1ErrorBody;
  const v2 = body as V2ErrorBody;
  const out: ParsedErrorBody = {};
  const messages: string[] = [];
  if (typeof v1.Message === 'string') messages.push(v1.Message);
  if (typeof v1.message === 'string') messages.push(v1.message);
  if (typeof v1.ExceptionMessage === 'string' && v1.ExceptionMessage !== v1.Message) {
    messages.push(v1.ExceptionMessage);
  }
  if (isRecord(v1.ModelState)) {
    const modelState: Record<string, string[]> = {};
    for (const [field, value] of Object.entries(v1.ModelState)) {
      modelState[field] = Array.isArray(value) ? value.map(String) : [String(value)];
    }
    out.modelState = modelState;
  }
  if (Array.isArray(v2.errors)) {
    out.providerErrors = v2.errors.filter(isRecord) as V2Error[];
    for (const e of out.providerErrors) {
      const code = [e.error_source, e.error_type, e.error_code].filter(Boolean).join('/');
      if (e.message) messages.push(code ? `${e.message} (${code})` : e.message);
    }
  }
  if (typeof v2.request_id === 'string') out.requestId = v2.request_id;
  if (messages.length > 0) out.providerMessage = messages.join(' — ');
  else if (!out.modelState && !out.providerErrors) out.providerMessage = excerpt(trimmed);
  return out;
}

function excerpt(text: string): string {
  const plain = text
    .replace(/<script[\s\S]*?<\/script>/gi, ' ')
    .replace(/<style[\s\S]*?<\/style>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length > MAX_TEXT ? `${plain.slice(0, MAX_TEXT)}…` : plain;
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
  'EPROTO',
]);
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorText(error: unknown): string {
  const texts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    texts.push(current.message);
    current = current.cause;
  }
  return texts.join(': ');
}

/** Classifies a failure to get any response (fetch rejected) by its socket/TLS error code. */
export function kindForNetworkError(error: unknown): {
  kind: 'unreachable' | 'tls' | 'timeout' | 'network';
  detail: string;
} {
  const code = networkErrorCode(error);
  const text = errorText(error);
  const detail = code ? `${code}${text ? ` (${text})` : ''}` : text || String(error);
  if (isRecord(error) && (error.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT')) {
    return { kind: 'timeout', detail };
  }
  if (code && UNREACHABLE_CODES.has(code)) return { kind: 'unreachable', detail };
  if (code && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) {
    return { kind: 'tls', detail };
  }
  if (/certificate|ssl|tls/i.test(text)) return { kind: 'tls', detail };
  return { kind: 'network', detail };
}

/** What an operator can do about each kind of failure (for `ping` and the dashboard). */
export const OPERATOR_ADVICE: Record<ShipStationErrorKind, string> = {
  auth: 'Check the ShipStation API key and secret (Account Settings → API Settings); V1 and V2 keys are different.',
  rate_limited:
    'The key is over its request budget (V1: 40/min, shared with every app using the key). Wait a minute; if it persists, look for another app on the same key.',
  unreachable: 'Check the ShipStation URL, DNS and the outbound firewall/proxy of this machine.',
  tls: 'The TLS connection failed: check the URL scheme, a TLS-intercepting proxy, or the system CA certificates.',
  timeout:
    'ShipStation did not answer in time; it is retried automatically; if it persists, check the network path and status.shipstation.com.',
  network: 'The connection broke mid-request; retry, and check proxies between here and ShipStation.',
  bad_request: 'ShipStation refused the data: see its message and the fields it names.',
  not_found: 'The record does not exist in this ShipStation account.',
  server:
    'ShipStation had an internal error; it is retried automatically. If it persists, check status.shipstation.com.',
  http: 'Unexpected HTTP answer (a redirect or unusual status): check the configured URL.',
  invalid_response: 'The answer was not ShipStation JSON (a proxy or maintenance page?): check the URL.',
  refused_host:
    'A webhook pointed outside the ShipStation API hosts, or at a path or query webhooks do not use, and was not followed. If the host is a sandbox or proxy, add it to shipstation.allowedResourceHosts.',
};
