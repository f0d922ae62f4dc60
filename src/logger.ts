/**
 * The one logger factory (pino, JSON lines). Every field that can carry a secret is redacted,
 * wherever it sits in a logged object: request headers, passwords, API keys and secrets.
 *
 * Two layers: pino's `redact.paths` (REDACT_PATHS: exact, case-sensitive, at most three levels
 * deep), then `redactDeep` as the `formatters.log` hook, which walks the whole logged object (plain
 * objects, arrays, Error instances) and redacts by key name in any casing, at any depth.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'authorization',
  'Authorization',
  'password',
  'apiKey',
  'apiSecret',
  'v2ApiKey',
  'secret',
  'token',
  'operatorPassword',
  'companyPassword',
  'odataPassword',
  'masterKey',
  'cookie',
  'api-key',
  '*.authorization',
  '*.Authorization',
  '*["api-key"]',
  '*["API-Key"]',
  '*.cookie',
  '*.password',
  '*.apiKey',
  '*.apiSecret',
  '*.v2ApiKey',
  '*.secret',
  '*.token',
  '*.operatorPassword',
  '*.companyPassword',
  '*.odataPassword',
  '*.masterKey',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers["api-key"]',
  '*.headers["API-Key"]',
  '*.headers.cookie',
  '*.*.authorization',
  '*.*.Authorization',
  '*.*.password',
  '*.*.apiKey',
  '*.*.apiSecret',
  '*.*.v2ApiKey',
  '*.*.operatorPassword',
  '*.*.companyPassword',
  '*.*.odataPassword',
  '*.*.secret',
];

export type { Logger };

export function createLogger(
  options: { level?: string; name?: string } = {},
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      name: options.name ?? 'ml-connector',
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      // Runs before the serializers (so `err` is still the raw Error) on every line.
      formatters: { log: (obj) => redactDeep(obj) },
    },
    destination ?? pino.destination(2),
  );
}

/**
 * Removes credentials from a URL or any text holding URLs or headers, for logs, errors and job
 * errors: `user:pass@`, query parameters named like secrets (an e.net session `UserId` included)
 * and `Basic`/`Bearer` tokens.
 */
export function redactCredentials(text: string): string {
  return text
    .replace(/(\/\/)[^/@\s]+@/g, '$1[redacted]@')
    .replace(
      /([?&](?:password|pwd|apikey|api_key|secret|token|access_token|client_secret|CompanyPassword|OperatorPassword|UserId)=)[^&#\s]*/gi,
      '$1[redacted]',
    )
    .replace(/(Basic|Bearer)\s+[A-Za-z0-9+/=._-]+/g, '$1 [redacted]');
}

/**
 * A key whose value is a secret, matched on the whole key name, in any casing: anything ending in
 * password/passwd/pwd/passphrase, secret(s), token(s), api-key/api_key/apikey (so `v2ApiKey`,
 * `x-api-key`, `API-Key`), master/private/secret/encryption/signing key; `pass`, `auth`,
 * (proxy-)authorization and (set-)cookie. Prefixes and suffixes that make a different field are
 * not matched: `tokenType`, `secretRef`, `apiKeyRef`, `passwordSet` are logged. A secret
 * *reference* under a secret-like key (`{ secret: 'shipstation.apiSecret' }`) is redacted too.
 */
export const SECRET_KEY =
  /^(?:.*passw(?:or)?ds?|.*pwd|.*passphrase|pass|auth|.*secrets?|.*tokens?|.*api[-_]?keys?|.*(?:master|private|secret|encryption|signing)[-_]?key|(?:proxy-)?authorization|(?:set-)?cookies?)$/i;

/** A key whose string value is (or lists) URLs; those go through `redactCredentials`. */
const URL_KEY = /^(?:.*(?:url|uri|href)s?|location|dsn|connection[-_]?string)$/i;

const REDACTED = '[redacted]';
/** Objects nested deeper than this are replaced by TOO_DEEP rather than logged unchecked. */
const MAX_DEPTH = 10;
const TOO_DEEP = '[too deep]';
const CIRCULAR = '[Circular]';
const IN_PROGRESS = Symbol('in progress');

/**
 * Returns `value` with the value of every secret-named key (SECRET_KEY) replaced by '[redacted]'
 * and credentials removed from URL strings under URL-named keys, at any depth, through plain
 * objects, arrays and Error instances (own properties, `cause`, `errors`). The input is never
 * modified: what changes is copied (an Error stays an instance of its class, with its message and
 * stack), and an input with nothing to redact is returned as is. Other class instances (Date,
 * Buffer, Map, request objects…) are left alone, except a `URL`, which becomes its redacted href.
 */
export function redactDeep<T>(value: T): T {
  return walk(value, 0, false, new Map()) as T;
}

type Memo = Map<object, unknown>;

function walk(value: unknown, depth: number, urlish: boolean, memo: Memo): unknown {
  if (typeof value === 'string') return urlish ? redactCredentials(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof URL) {
    const href = redactCredentials(value.href);
    return href === value.href ? value : href;
  }
  const isArray = Array.isArray(value);
  const isError = value instanceof Error;
  if (!isArray && !isError && !isPlainObject(value)) return value;
  if (memo.has(value)) {
    const done = memo.get(value);
    return done === IN_PROGRESS ? CIRCULAR : done;
  }
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  memo.set(value, IN_PROGRESS);
  const result = isArray
    ? walkArray(value, depth, urlish, memo)
    : isError
      ? walkError(value, depth, memo)
      : walkObject(value as Record<string, unknown>, depth, memo);
  memo.set(value, result);
  return result;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function walkEntry(key: string, value: unknown, depth: number, memo: Memo): unknown {
  if (value !== undefined && value !== null && SECRET_KEY.test(key)) return REDACTED;
  return walk(value, depth + 1, URL_KEY.test(key), memo);
}

function walkArray(array: unknown[], depth: number, urlish: boolean, memo: Memo): unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i < array.length; i++) {
    const next = walk(array[i], depth + 1, urlish, memo);
    if (next !== array[i]) {
      copy ??= array.slice();
      copy[i] = next;
    }
  }
  return copy ?? array;
}

function walkObject(obj: Record<string, unknown>, depth: number, memo: Memo): Record<string, unknown> {
  let changes: Map<string, unknown> | undefined;
  const keys = Object.keys(obj);
  for (const key of keys) {
    const value = obj[key];
    const next = walkEntry(key, value, depth, memo);
    if (next !== value) {
      changes ??= new Map();
      changes.set(key, next);
    }
  }
  if (!changes) return obj;
  // defineProperty, not assignment: a JSON-parsed `__proto__` key stays a plain key, and a frozen
  // input does not make the copy read-only.
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    const value = changes.has(key) ? changes.get(key) : obj[key];
    Object.defineProperty(copy, key, { value, writable: true, enumerable: true, configurable: true });
  }
  return copy;
}

/** An Error's enumerable own properties, plus `cause` and `errors` (own but not enumerable). */
function walkError(error: Error, depth: number, memo: Memo): Error {
  const descriptors = Object.getOwnPropertyDescriptors(error) as Record<string, PropertyDescriptor>;
  let changed = false;
  for (const key of Object.keys(descriptors)) {
    const descriptor = descriptors[key];
    if (!descriptor || !('value' in descriptor)) continue;
    if (!descriptor.enumerable && key !== 'cause' && key !== 'errors') continue;
    const next = walkEntry(key, descriptor.value, depth, memo);
    if (next !== descriptor.value) {
      descriptors[key] = { ...descriptor, value: next, writable: true, configurable: true };
      changed = true;
    }
  }
  if (!changed) return error;
  // Same class (so pino's `type` and `instanceof` hold), same message, stack and name.
  const stack = descriptors.stack;
  if (stack && !('value' in stack)) {
    descriptors.stack = { value: error.stack, writable: true, enumerable: false, configurable: true };
  }
  return Object.create(Object.getPrototypeOf(error), descriptors) as Error;
}
