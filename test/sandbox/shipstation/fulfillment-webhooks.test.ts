/**
 * The sandbox's FULFILLMENT_SHIPPED / FULFILLMENT_REJECTED deliveries (inferred from reference
 * §1.7 and §4.1: see docs/sandbox-shipstation.md) and its API request log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ShipStationSandbox } from '../../../src/sandbox/shipstation/index.js';
import type { FakeClock } from '../../helpers/clock.js';
import { type CallResult, control, orderBody, startReceiver, startTestSandbox, v1 } from './helpers.js';

describe('ShipStation sandbox V1: fulfillment webhooks', () => {
  let sandbox: ShipStationSandbox;
  let clock: FakeClock;
  let call: (method: string, path: string, body?: unknown) => Promise<CallResult>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    ({ sandbox, clock } = await startTestSandbox({
      webhookDelayMs: 60_000,
      rateLimit: { limit: 1000, windowMs: 60_000 },
    }));
    call = v1(sandbox);
    receiver = await startReceiver();
    for (const event of ['FULFILLMENT_SHIPPED', 'FULFILLMENT_REJECTED', 'SHIP_NOTIFY']) {
      const res = await call('POST', '/webhooks/subscribe', {
        target_url: `${receiver.url}/${event}`,
        event,
      });
      assert.equal(res.status, 200);
    }
  });
  after(async () => {
    await sandbox?.close();
    await receiver?.close();
  });
  const posted = (event: string) => receiver.received.filter((r) => r.path === `/${event}`);

  it('mark-as-shipped (API and UI) fires one FULFILLMENT_SHIPPED each, whose resource_url lists exactly that fulfillment', async () => {
    const a = await call('POST', '/orders/createorder', orderBody('FF-1'));
    const b = await call('POST', '/orders/createorder', orderBody('FF-2'));
    const marked = await call('POST', '/orders/markasshipped', {
      orderId: a.body.orderId,
      carrierCode: 'ups',
      trackingNumber: '1Z999AA10123456784',
    });
    assert.equal(marked.status, 200);
    const ui = await control(sandbox)('POST', `/_sandbox/orders/${b.body.orderId}/mark-shipped`, {
      carrierCode: 'fedex',
    });
    assert.equal(ui.status, 200, ui.text);
    clock.advance(60_000);
    await sandbox.flushWebhooks();
    const hooks = posted('FULFILLMENT_SHIPPED');
    assert.equal(hooks.length, 2);
    assert.equal(posted('SHIP_NOTIFY').length, 0, 'a fulfillment is not a label');
    const urls = hooks.map((h) => h.body.resource_url as string);
    for (const url of urls) assert.match(url, /\/fulfillments\?batchId=\d+$/);
    assert.equal(hooks[0]?.body.resource_type, 'FULFILLMENT_SHIPPED');
    const first = await call('GET', urls[0] as string);
    assert.deepEqual(
      first.body.fulfillments.map((f: { orderId: number }) => f.orderId),
      [a.body.orderId],
    );
    assert.equal(first.body.fulfillments[0].trackingNumber, '1Z999AA10123456784');
    const second = await call('GET', urls[1] as string);
    assert.deepEqual(
      second.body.fulfillments.map((f: { orderId: number }) => f.orderId),
      [b.body.orderId],
    );
    assert.equal(second.body.fulfillments[0].voided, false);
  });

  it('a fulfillment provider rejecting an open order fires FULFILLMENT_REJECTED; the order stays open', async () => {
    const order = await call('POST', '/orders/createorder', orderBody('FF-3'));
    const res = await control(sandbox)('POST', `/_sandbox/orders/${order.body.orderId}/reject-fulfillment`, {
      reason: 'Out of stock at the fulfillment center',
    });
    assert.equal(res.status, 200, res.text);
    clock.advance(60_000);
    await sandbox.flushWebhooks();
    const hooks = posted('FULFILLMENT_REJECTED');
    assert.equal(hooks.length, 1);
    const listed = await call('GET', hooks[0]?.body.resource_url);
    assert.equal(listed.body.fulfillments.length, 1);
    assert.equal(listed.body.fulfillments[0].voided, true);
    assert.equal(listed.body.fulfillments[0].notifyErrorMessage, 'Out of stock at the fulfillment center');
    const after = await call('GET', `/orders/${order.body.orderId}`);
    assert.equal(after.body.orderStatus, 'awaiting_shipment');
    const shipped = await call('POST', '/orders/markasshipped', {
      orderId: order.body.orderId,
      carrierCode: 'ups',
    });
    assert.equal(shipped.status, 200);
    const refused = await control(sandbox)(
      'POST',
      `/_sandbox/orders/${order.body.orderId}/reject-fulfillment`,
      {},
    );
    assert.equal(refused.status, 400, 'a shipped order cannot be rejected');
  });

  it('keeps a log of the API requests it received', async () => {
    const before = sandbox.requests().length;
    await call('GET', '/fulfillments?batchId=1');
    await control(sandbox)('GET', '/_sandbox/state');
    const log = sandbox.requests().slice(before);
    assert.deepEqual(
      log.map((r) => [r.api, r.method, r.url]),
      [['v1', 'GET', '/fulfillments?batchId=1']],
    );
  });
});
