/**
 * Verifies a V2 webhook's signature (reference shipstation-api.md §4.3), for an HTTP receiver:
 * - headers `x-shipengine-rsa-sha256-key-id`, `x-shipengine-rsa-sha256-signature` (base64),
 *   `x-shipengine-timestamp`;
 * - RSASSA-PKCS1-v1_5 with SHA-256 over `"<timestamp>.<raw body>"` (the exact bytes received);
 * - the public key is the JWK with that `kid` in the JWKS (default `https://api.shipstation.com/jwks`),
 *   fetched once and cached by key id; an unknown id refetches the set, at most once per
 *   `refetchIntervalMs`, so forged ids cannot make us hammer the JWKS URL;
 * - a timestamp more than `maxAgeMs` (5 min) away from our clock, either way, is refused.
 * The JWKS URL and the signed-string format come from community code only (UNCONFIRMED in official
 * text); both are options. The timestamp format is not documented either: an ISO-8601 date or epoch
 * seconds (or milliseconds) are accepted.
 *
 * The result is a value, not an exception, with the HTTP status the docs suggest answering:
 * 404 when the signature headers are missing, 400 for a stale timestamp, 401 for a bad signature,
 * 503 when the JWKS cannot be fetched (ShipStation will retry the delivery).
 */
import { createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { V2Jwks } from '../types.js';

export const SHIPSTATION_JWKS_URL = 'https://api.shipstation.com/jwks';
export const KEY_ID_HEADER = 'x-shipengine-rsa-sha256-key-id';
export const SIGNATURE_HEADER = 'x-shipengine-rsa-sha256-signature';
export const TIMESTAMP_HEADER = 'x-shipengine-timestamp';

export type WebhookRejection =
  | 'missing_headers'
  | 'bad_timestamp'
  | 'stale_timestamp'
  | 'unknown_key'
  | 'bad_signature'
  | 'jwks_unavailable';

export type WebhookVerification =
  | { ok: true; keyId: string; timestamp: number }
  | { ok: false; reason: WebhookRejection; httpStatus: 400 | 401 | 404 | 503; message: string };

export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

export interface WebhookVerifierOptions {
  clock: Clock;
  /** Default `https://api.shipstation.com/jwks` (the sandbox serves its own). */
  jwksUrl?: string;
  /** Default 5 minutes. */
  maxAgeMs?: number;
  /** Least time between two JWKS fetches caused by unknown key ids. Default 60 s. */
  refetchIntervalMs?: number;
  /** Per JWKS fetch. Default 10 s. */
  timeoutMs?: number;
  /** Signed string; default `${timestamp}.${rawBody}`. */
  signedPayload?: (timestamp: string, rawBody: Buffer) => Buffer;
}

export interface WebhookVerifier {
  verify(input: { headers: HeaderBag; rawBody: Buffer | string }): Promise<WebhookVerification>;
}

function header(headers: HeaderBag, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined || first === '' ? undefined : first;
  }
  return undefined;
}

/** Epoch ms of an `x-shipengine-timestamp`: ISO-8601, epoch seconds or epoch milliseconds. */
export function parseWebhookTimestamp(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const n = Number(trimmed);
    return n > 1e12 ? n : n * 1000;
  }
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : ms;
}

const reject = (
  reason: WebhookRejection,
  httpStatus: 400 | 401 | 404 | 503,
  message: string,
): WebhookVerification => ({ ok: false, reason, httpStatus, message });

export function createWebhookVerifier(options: WebhookVerifierOptions): WebhookVerifier {
  const jwksUrl = options.jwksUrl ?? SHIPSTATION_JWKS_URL;
  const maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
  const refetchIntervalMs = options.refetchIntervalMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const signedPayload =
    options.signedPayload ??
    ((timestamp: string, rawBody: Buffer) => Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), rawBody]));
  const keys = new Map<string, KeyObject>();
  let lastFetch = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;
  let lastError: Error | undefined;

  async function refresh(): Promise<void> {
    const response = await fetch(jwksUrl, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`JWKS ${jwksUrl} answered HTTP ${response.status}`);
    const body = (await response.json()) as V2Jwks;
    if (!body || !Array.isArray(body.keys)) throw new Error(`JWKS ${jwksUrl} has no "keys" array`);
    for (const jwk of body.keys) {
      if (typeof jwk.kid !== 'string' || jwk.kty !== 'RSA') continue;
      try {
        keys.set(jwk.kid, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
      } catch {
        // A key we cannot read is skipped; the others still verify.
      }
    }
  }

  async function keyFor(keyId: string): Promise<KeyObject | undefined> {
    const cached = keys.get(keyId);
    if (cached) return cached;
    const now = options.clock.now();
    if (!inFlight && now - lastFetch >= refetchIntervalMs) {
      lastFetch = now;
      inFlight = refresh()
        .then(() => {
          lastError = undefined;
        })
        .catch((error: unknown) => {
          lastError = error instanceof Error ? error : new Error(String(error));
        })
        .finally(() => {
          inFlight = undefined;
        });
    }
    if (inFlight) await inFlight;
    const key = keys.get(keyId);
    // Until the JWKS has been read once successfully, say so (503) rather than "unknown key".
    if (!key && lastError) throw lastError;
    return key;
  }

  return {
    async verify({ headers, rawBody }) {
      const keyId = header(headers, KEY_ID_HEADER);
      const signature = header(headers, SIGNATURE_HEADER);
      const timestampText = header(headers, TIMESTAMP_HEADER);
      if (!keyId || !signature || !timestampText) {
        return reject('missing_headers', 404, 'the webhook carries no ShipStation signature headers');
      }
      const timestamp = parseWebhookTimestamp(timestampText);
      if (timestamp === undefined) {
        return reject(
          'bad_timestamp',
          400,
          `unreadable ${TIMESTAMP_HEADER}: "${timestampText.slice(0, 40)}"`,
        );
      }
      const skew = options.clock.now() - timestamp;
      if (Math.abs(skew) > maxAgeMs) {
        return reject(
          'stale_timestamp',
          400,
          `${TIMESTAMP_HEADER} is ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? 'old' : 'in the future'} (limit ${maxAgeMs / 1000} s)`,
        );
      }
      let key: KeyObject | undefined;
      try {
        key = await keyFor(keyId);
      } catch (error) {
        return reject(
          'jwks_unavailable',
          503,
          `cannot read the signing keys: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      if (!key)
        return reject('unknown_key', 401, `no signing key with id "${keyId.slice(0, 80)}" in ${jwksUrl}`);
      const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
      let valid = false;
      try {
        valid = verify('sha256', signedPayload(timestampText, body), key, Buffer.from(signature, 'base64'));
      } catch {
        valid = false;
      }
      if (!valid) return reject('bad_signature', 401, 'the signature does not match the body');
      return { ok: true, keyId, timestamp };
    },
  };
}
