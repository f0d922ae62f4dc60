import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ShipStationSandbox } from '../../../src/sandbox/shipstation/index.js';
import type { FakeClock } from '../../helpers/clock.js';
import {
  type CallResult,
  control,
  orderBody,
  type ReceivedWebhook,
  startReceiver,
  startTestSandbox,
  v1,
  v2,
  verifySignature,
} from './helpers.js';

describe('ShipStation sandbox V2 subset', () => {
  let sandbox: ShipStationSandbox;
  let clock: FakeClock;
  let call: (method: string, path: string, body?: unknown) => Promise<CallResult>;

  before(async () => {
    ({ sandbox, clock } = await startTestSandbox({ v2RateLimit: { limit: 200, windowMs: 60_000 } }));
    call = v2(sandbox);
  });
  after(() => sandbox.close());

  it('needs the API-Key header; V1 credentials do not work', async () => {
    const res = await v2(sandbox, 'wrong')('GET', '/v2/inventory');
    assert.equal(res.status, 401);
    assert.match(res.body.request_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(Object.keys(res.body.errors[0]).sort(), [
      'error_code',
      'error_source',
      'error_type',
      'message',
    ]);
    assert.equal(res.body.errors[0].error_code, 'unauthorized');
    const basic = await v1(sandbox)('GET', '/v2/inventory');
    assert.equal(basic.status, 401);
  });

  it('lists, increments, decrements, adjusts and modifies inventory', async () => {
    const warehouses = await call('GET', '/v2/inventory_warehouses');
    const warehouseId = warehouses.body.inventory_warehouses[0].inventory_warehouse_id;
    assert.match(warehouseId, /^se-\d+$/);
    const location = await call('POST', '/v2/inventory_locations', {
      name: 'Shelf 9',
      inventory_warehouse_id: warehouseId,
    });
    assert.equal(location.status, 200);
    const locationId = location.body.inventory_location_id;
    const post = (body: Record<string, unknown>) =>
      call('POST', '/v2/inventory', { sku: 'V2-SKU', inventory_location_id: locationId, ...body });
    assert.equal((await post({ transaction_type: 'increment', quantity: 10 })).status, 204);
    assert.equal((await post({ transaction_type: 'decrement', quantity: 3 })).status, 204);
    const level = async () =>
      (await call('GET', `/v2/inventory?sku=V2-SKU&inventory_location_id=${locationId}`)).body.inventory[0];
    assert.equal((await level()).on_hand, 7);
    assert.equal((await level()).available, 7);
    assert.equal((await post({ transaction_type: 'adjust', quantity: 42 })).status, 204);
    assert.equal((await level()).on_hand, 42);
    const tooMany = await post({ transaction_type: 'decrement', quantity: 100 });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.errors[0].error_type, 'business_rules');
    const modifyNoTarget = await post({ transaction_type: 'modify', quantity: 1 });
    assert.equal(modifyNoTarget.status, 400);
    const missing = await call('POST', '/v2/inventory', { transaction_type: 'increment', sku: 'X' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.errors[0].error_code, 'field_value_required');
    const seeded = await call('GET', '/v2/inventory?group_by=warehouse&limit=2');
    assert.equal(seeded.body.inventory.length, 2);
    assert.equal(seeded.body.inventory[0].inventory_location_id, null);
    assert.ok(seeded.body.links.next.href.includes('page=2'));
    assert.equal(seeded.body.page, 1);
  });

  it('answers 429 with Retry-After and the V2 body past 200 requests a minute', async () => {
    const { sandbox: limited, clock: c2 } = await startTestSandbox({
      v2RateLimit: { limit: 3, windowMs: 60_000 },
    });
    try {
      const call2 = v2(limited);
      for (let i = 0; i < 3; i += 1)
        assert.equal((await call2('GET', '/v2/inventory_locations')).status, 200);
      c2.advance(15_000);
      const res = await call2('GET', '/v2/inventory_locations');
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '45');
      assert.equal(res.body.errors[0].error_code, 'rate_limit_exceeded');
    } finally {
      await limited.close();
    }
    const defaults = await startTestSandbox();
    try {
      const call3 = v2(defaults.sandbox);
      let last = 0;
      for (let i = 0; i < 201; i += 1) last = (await call3('GET', '/v2/inventory_warehouses')).status;
      assert.equal(last, 429, 'the default V2 budget is 200 per minute');
    } finally {
      await defaults.sandbox.close();
    }
  });

  it('signs V2 webhooks with RSA-SHA256 verifiable against /jwks', async () => {
    const rx = await startReceiver();
    try {
      const hook = await call('POST', '/v2/environment/webhooks', {
        url: `${rx.url}/v2-track`,
        event: 'track',
        headers: [{ key: 'x-secret-token', value: 'abc' }],
      });
      assert.equal(hook.status, 201);
      assert.match(hook.body.webhook_id, /^se-/);
      assert.equal((await call('GET', '/v2/environment/webhooks')).body.length, 1);
      const order = await v1(sandbox)('POST', '/orders/createorder', orderBody('V2-HOOK'));
      await control(sandbox)('POST', `/_sandbox/orders/${order.body.orderId}/labels`, { carrierCode: 'ups' });
      clock.advance(60_000);
      await sandbox.flushWebhooks();
      assert.equal(rx.received.length, 1);
      const received = rx.received[0] as ReceivedWebhook;
      assert.equal(received.body.resource_type, 'TRACK_EVENT_V2');
      assert.match(received.body.data.tracking_number, /^1Z/);
      assert.equal(received.headers['x-secret-token'], 'abc');
      assert.equal(received.headers['x-shipengine-timestamp'], new Date(clock.now()).toISOString());
      assert.equal(await verifySignature(sandbox.jwksUrl, received), true);
      // A tampered body does not verify.
      assert.equal(
        await verifySignature(sandbox.jwksUrl, { ...received, raw: received.raw.replace('1Z', '2Z') }),
        false,
      );

      const sent = await control(sandbox)('POST', '/_sandbox/v2/webhooks/send', {
        url: `${rx.url}/manual`,
        event: 'batch',
        payload: {
          resource_url: 'https://example.test/v2/batches/se-1',
          resource_type: 'BATCH_PROCESSED_V2',
        },
      });
      assert.equal(sent.body.status, 'delivered');
      const manual = rx.received.find((r) => r.path === '/manual') as ReceivedWebhook;
      assert.equal(await verifySignature(sandbox.jwksUrl, manual), true);
      assert.equal((await call('DELETE', `/v2/environment/webhooks/${hook.body.webhook_id}`)).status, 204);
    } finally {
      await rx.close();
    }
  });
});
