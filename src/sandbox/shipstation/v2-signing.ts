/**
 * The signer of V2 webhooks (reference §4.3): an RSA key pair made at start, its public half served
 * as a JWKS at `/jwks`, and RSASSA-PKCS1-v1_5 / SHA-256 signatures over `<timestamp>.<raw body>`,
 * sent in `x-shipengine-rsa-sha256-key-id`, `x-shipengine-rsa-sha256-signature` (base64) and
 * `x-shipengine-timestamp`. The JWKS URL and the signed string come from community verifiers
 * (UNCONFIRMED in official text); the timestamp format is our choice (see `V2TimestampFormat`).
 */
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** `iso`: `2026-01-15T12:00:00.000Z` (default); `unix`: seconds since the epoch. UNCONFIRMED which one ShipStation sends. */
export type V2TimestampFormat = 'iso' | 'unix';

export interface Jwk {
  kty: string;
  kid: string;
  use: 'sig';
  alg: 'RS256';
  n: string;
  e: string;
}

export class V2WebhookSigner {
  readonly keyId: string;
  private readonly privateKey: KeyObject;
  private readonly jwk: Jwk;

  constructor(
    keyId: string,
    private readonly timestampFormat: V2TimestampFormat = 'iso',
  ) {
    this.keyId = keyId;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    const exported = publicKey.export({ format: 'jwk' });
    this.jwk = {
      kty: 'RSA',
      kid: keyId,
      use: 'sig',
      alg: 'RS256',
      n: String(exported.n),
      e: String(exported.e),
    };
  }

  jwks(): { keys: Jwk[] } {
    return { keys: [this.jwk] };
  }

  timestamp(nowMs: number): string {
    return this.timestampFormat === 'unix' ? String(Math.floor(nowMs / 1000)) : new Date(nowMs).toISOString();
  }

  /** The three headers for `rawBody` sent at `nowMs`. */
  headers(rawBody: string, nowMs: number): Record<string, string> {
    const timestamp = this.timestamp(nowMs);
    const signer = createSign('RSA-SHA256');
    signer.update(`${timestamp}.${rawBody}`);
    return {
      'x-shipengine-rsa-sha256-key-id': this.keyId,
      'x-shipengine-rsa-sha256-signature': signer.sign(this.privateKey, 'base64'),
      'x-shipengine-timestamp': timestamp,
    };
  }
}
