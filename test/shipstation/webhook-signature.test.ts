import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  createWebhookVerifier,
  KEY_ID_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from '../../src/shipstation/v2/webhook-signature.js';
import { FakeClock } from '../helpers/clock.js';

function keyPair(): { privateKey: KeyObject; jwk: Record<string, unknown> } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, jwk: publicKey.export({ format: 'jwk' }) as Record<string, unknown> };
}

describe('V2 webhook signature verification', () => {
  const clock = new FakeClock(Date.parse('2026-01-15T12:00:00Z'));
  const current = keyPair();
  const other = keyPair();
  let server: Server;
  let jwksUrl: string;
  let jwksHits = 0;
  let jwksStatus = 200;
  const published: Array<Record<string, unknown>> = [
    { ...current.jwk, kid: 'key-1', alg: 'RS256', use: 'sig' },
  ];

  before(async () => {
    server = createServer((req, res) => {
      jwksHits += 1;
      if (req.url !== '/jwks' || jwksStatus !== 200) {
        res.statusCode = jwksStatus === 200 ? 404 : jwksStatus;
        return res.end();
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const body = Buffer.from(
    '{"resource_url":"https://api.shipstation.com/v2/batches/se-1234567890","resource_type":"BATCH_PROCESSED_V2","note":"café"}',
  );

  function signed(options: { keyId?: string; key?: KeyObject; timestamp?: string; rawBody?: Buffer } = {}) {
    const timestamp = options.timestamp ?? new Date(clock.now()).toISOString();
    const signature = sign(
      'sha256',
      Buffer.concat([Buffer.from(`${timestamp}.`), options.rawBody ?? body]),
      options.key ?? current.privateKey,
    ).toString('base64');
    return {
      [KEY_ID_HEADER]: options.keyId ?? 'key-1',
      [SIGNATURE_HEADER]: signature,
      [TIMESTAMP_HEADER]: timestamp,
    };
  }

  it('accepts a body signed with the published key, and caches the key by id', async () => {
    const verifier = createWebhookVerifier({ clock, jwksUrl });
    const before = jwksHits;
    const first = await verifier.verify({ headers: signed(), rawBody: body });
    assert.deepEqual(first, { ok: true, keyId: 'key-1', timestamp: clock.now() });
    const second = await verifier.verify({ headers: new Headers(signed()), rawBody: body.toString('utf8') });
    assert.equal(second.ok, true);
    assert.equal(jwksHits - before, 1, 'the JWKS is fetched once');
  });

  it('accepts epoch-second timestamps and any header casing', async () => {
    const verifier = createWebhookVerifier({ clock, jwksUrl });
    const headers = signed({ timestamp: String(Math.floor(clock.now() / 1000)) });
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    assert.equal((await verifier.verify({ headers: upper, rawBody: body })).ok, true);
  });

  it('refuses a body changed by one byte, a wrong key, and a missing header', async () => {
    const verifier = createWebhookVerifier({ clock, jwksUrl });
    const tampered = Buffer.from(body.toString('utf8').replace('se-1234567890', 'se-1234567891'));
    const changed = await verifier.verify({ headers: signed(), rawBody: tampered });
    assert.equal(changed.ok, false);
    if (!changed.ok) {
      assert.equal(changed.reason, 'bad_signature');
      assert.equal(changed.httpStatus, 401);
    }
    const wrongKey = await verifier.verify({ headers: signed({ key: other.privateKey }), rawBody: body });
    assert.equal(wrongKey.ok ? 'ok' : wrongKey.reason, 'bad_signature');
    // Re-parsed and re-serialised JSON is not the raw body.
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8')), null, 1));
    assert.equal((await verifier.verify({ headers: signed(), rawBody: reserialised })).ok, false);
    const { [SIGNATURE_HEADER]: _dropped, ...unsigned } = signed();
    const missing = await verifier.verify({ headers: unsigned, rawBody: body });
    assert.equal(missing.ok ? 'ok' : `${missing.reason}/${missing.httpStatus}`, 'missing_headers/404');
  });

  it('refuses timestamps more than 5 minutes away, in either direction', async () => {
    const verifier = createWebhookVerifier({ clock, jwksUrl });
    const at = (offsetMs: number) => new Date(clock.now() + offsetMs).toISOString();
    const old = await verifier.verify({
      headers: signed({ timestamp: at(-5 * 60_000 - 1000) }),
      rawBody: body,
    });
    assert.equal(old.ok ? 'ok' : `${old.reason}/${old.httpStatus}`, 'stale_timestamp/400');
    const future = await verifier.verify({
      headers: signed({ timestamp: at(5 * 60_000 + 1000) }),
      rawBody: body,
    });
    assert.equal(future.ok ? 'ok' : future.reason, 'stale_timestamp');
    assert.equal(
      (await verifier.verify({ headers: signed({ timestamp: at(-4 * 60_000) }), rawBody: body })).ok,
      true,
    );
    const garbage = await verifier.verify({ headers: signed({ timestamp: 'yesterday' }), rawBody: body });
    assert.equal(garbage.ok ? 'ok' : garbage.reason, 'bad_timestamp');
  });

  it('picks up a rotated key, but refetches for unknown ids at most once a minute', async () => {
    const verifier = createWebhookVerifier({ clock, jwksUrl });
    assert.equal((await verifier.verify({ headers: signed(), rawBody: body })).ok, true);
    const hits = jwksHits;
    // Unknown key ids within the minute: no refetch, refused.
    for (let i = 0; i < 5; i++) {
      const forged = await verifier.verify({ headers: signed({ keyId: `forged-${i}` }), rawBody: body });
      assert.equal(forged.ok ? 'ok' : forged.reason, 'unknown_key');
    }
    assert.equal(jwksHits, hits);
    // ShipStation rotates: a new key is published, and after the interval we read it.
    published.push({ ...other.jwk, kid: 'key-2' });
    clock.advance(61_000);
    const rotated = await verifier.verify({
      headers: signed({ keyId: 'key-2', key: other.privateKey }),
      rawBody: body,
    });
    assert.equal(rotated.ok, true);
    assert.equal(jwksHits, hits + 1);
  });

  it('answers 503 when the JWKS cannot be read', async () => {
    jwksStatus = 500;
    try {
      const verifier = createWebhookVerifier({ clock, jwksUrl });
      const result = await verifier.verify({ headers: signed(), rawBody: body });
      assert.equal(result.ok ? 'ok' : `${result.reason}/${result.httpStatus}`, 'jwks_unavailable/503');
    } finally {
      jwksStatus = 200;
    }
  });
});
