import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseV1WebhookPayload } from './webhook-payload.js';

describe('parseV1WebhookPayload', () => {
  it('reads the observed SHIP_NOTIFY payload, from an object, a string or a Buffer', () => {
    const body = {
      resource_url: 'https://ssapi6.shipstation.com/shipments?batchId=190671332&includeShipmentItems=False',
      resource_type: 'SHIP_NOTIFY',
    };
    for (const input of [body, JSON.stringify(body), Buffer.from(JSON.stringify(body))]) {
      const parsed = parseV1WebhookPayload(input);
      assert.ok(parsed.ok);
      assert.equal(parsed.payload.resource_url, body.resource_url);
      assert.equal(parsed.payload.resource_type, 'SHIP_NOTIFY');
      assert.equal(parsed.known, true);
    }
  });

  it('flags unknown event types and refuses malformed bodies', () => {
    const unknown = parseV1WebhookPayload({
      resource_url: 'https://ssapi.shipstation.com/x',
      resource_type: 'new_thing',
    });
    assert.ok(unknown.ok && !unknown.known && unknown.payload.resource_type === 'NEW_THING');
    for (const bad of [
      'not json',
      '[]',
      null,
      { resource_type: 'SHIP_NOTIFY' },
      { resource_url: 'https://x', resource_type: '' },
    ]) {
      const parsed = parseV1WebhookPayload(bad);
      assert.equal(parsed.ok, false, JSON.stringify(bad));
    }
    assert.equal(
      parseV1WebhookPayload({ resource_url: `https://x/${'a'.repeat(3000)}`, resource_type: 'SHIP_NOTIFY' })
        .ok,
      false,
    );
  });
});
