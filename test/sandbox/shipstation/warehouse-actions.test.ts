import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ShipStationSandbox } from '../../../src/sandbox/shipstation/index.js';
import type { FakeClock } from '../../helpers/clock.js';
import { type CallResult, control, orderBody, startReceiver, startTestSandbox, v1 } from './helpers.js';

const TRACKING = /^(1Z[0-9A-Z]{16}|94001\d{17}|\d{12})$/;

describe('ShipStation sandbox: warehouse actions under /_sandbox/', () => {
  let sandbox: ShipStationSandbox;
  let clock: FakeClock;
  let call: (method: string, path: string, body?: unknown) => Promise<CallResult>;
  let ui: (method: string, path: string, body?: unknown) => Promise<CallResult>;

  before(async () => {
    ({ sandbox, clock } = await startTestSandbox({ rateLimit: { limit: 1000, windowMs: 60_000 } }));
    call = v1(sandbox);
    ui = control(sandbox);
  });
  after(() => sandbox.close());

  it('labels some items, then the rest; the order ships when every item is on a label', async () => {
    const order = await call('POST', '/orders/createorder', orderBody('PART-1'));
    const [widget, gadget] = order.body.items;
    const first = await ui('POST', `/_sandbox/orders/${order.body.orderId}/labels`, {
      carrierCode: 'ups',
      items: [{ orderItemId: widget.orderItemId, quantity: 1 }],
    });
    assert.equal(first.status, 200);
    assert.match(first.body.shipments[0].trackingNumber, /^1Z/);
    assert.equal(first.body.shipments[0].shipmentItems[0].quantity, 1);
    assert.equal((await call('GET', `/orders/${order.body.orderId}`)).body.orderStatus, 'awaiting_shipment');
    const rest = await ui('POST', `/_sandbox/orders/${order.body.orderId}/labels`, {
      carrierCode: 'fedex',
      packages: [
        { items: [{ sku: 'WID-100', quantity: 1 }] },
        { items: [{ lineItemKey: gadget.lineItemKey }] },
      ],
    });
    assert.equal(rest.body.shipments.length, 2, 'several packages, one label each');
    assert.equal(new Set(rest.body.shipments.map((s: { batchNumber: string }) => s.batchNumber)).size, 1);
    for (const s of rest.body.shipments) assert.match(s.trackingNumber, /^\d{12}$/);
    const shipped = await call('GET', `/orders/${order.body.orderId}`);
    assert.equal(shipped.body.orderStatus, 'shipped');
    assert.equal(shipped.body.shipDate, '2026-01-15');
    const list = await call('GET', `/shipments?orderId=${order.body.orderId}&includeShipmentItems=true`);
    assert.equal(list.body.total, 3);
    const tooMuch = await ui('POST', `/_sandbox/orders/${order.body.orderId}/labels`, {
      items: [{ sku: 'WID-100', quantity: 5 }],
    });
    assert.equal(tooMuch.status, 400);
  });

  it('voids a label: it stays listed with voided:true and a voidDate, and the order goes back to the queue', async () => {
    const order = await call('POST', '/orders/createorder', orderBody('VOID-1'));
    const label = await ui('POST', `/_sandbox/orders/${order.body.orderId}/labels`, {});
    const shipmentId = label.body.shipments[0].shipmentId;
    clock.advance(3_600_000);
    const voided = await ui('POST', `/_sandbox/shipments/${shipmentId}/void`);
    assert.equal(voided.body.voided, true);
    assert.equal(voided.body.voidDate, '2026-01-15T13:00:00.0000000');
    const listed = await call('GET', `/shipments?orderId=${order.body.orderId}`);
    assert.equal(listed.body.total, 1);
    assert.equal(listed.body.shipments[0].voided, true);
    const byVoidDate = await call('GET', '/shipments?voidDateStart=2026-01-15 12:30:00');
    assert.deepEqual(
      byVoidDate.body.shipments.map((s: { shipmentId: number }) => s.shipmentId),
      [shipmentId],
    );
    assert.equal((await call('GET', `/orders/${order.body.orderId}`)).body.orderStatus, 'awaiting_shipment');
    const apiVoid = await ui('POST', `/_sandbox/shipments/${shipmentId}/void`);
    assert.equal(apiVoid.status, 400);
  });

  it('creates an order as a marketplace channel would (its store, one import batch, ORDER_NOTIFY)', async () => {
    const rx = await startReceiver();
    try {
      await call('POST', '/webhooks/subscribe', {
        target_url: rx.url,
        event: 'ORDER_NOTIFY',
        store_id: 310002,
      });
      const res = await ui('POST', '/_sandbox/channel-orders', {
        count: 2,
        order: { customerNotes: 'from Shopify' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.orders.length, 2);
      for (const o of res.body.orders) {
        assert.equal(o.advancedOptions.storeId, 310002);
        assert.equal(o.customerNotes, 'from Shopify');
        assert.equal(o.orderStatus, 'awaiting_shipment');
      }
      clock.advance(60_000);
      await sandbox.flushWebhooks();
      assert.equal(rx.received.length, 1);
      const listed = await call('GET', rx.received[0]?.body.resource_url);
      assert.equal(listed.body.total, 2);
    } finally {
      await rx.close();
    }
  });

  it('auto-ship labels awaiting orders after the delay, with carrier-realistic tracking and a SHIP_NOTIFY', async () => {
    const rx = await startReceiver();
    try {
      await call('POST', '/webhooks/subscribe', { target_url: rx.url, event: 'SHIP_NOTIFY' });
      sandbox.setAutoShip({ delayMs: 30_000 });
      const created = await call('POST', '/orders/createorders', [
        orderBody('AUTO-1'),
        orderBody('AUTO-2'),
        orderBody('AUTO-3', { orderStatus: 'on_hold' }),
      ]);
      assert.deepEqual(await sandbox.runAutoShip(), [], 'not before the delay');
      clock.advance(30_000);
      const labelled = await sandbox.runAutoShip();
      assert.deepEqual(
        labelled,
        created.body.results.slice(0, 2).map((r: { orderId: number }) => r.orderId),
      );
      const shipments = await call('GET', '/shipments?orderNumber=AUTO-');
      assert.equal(shipments.body.total, 2);
      for (const s of shipments.body.shipments) assert.match(s.trackingNumber, TRACKING);
      assert.equal((await call('GET', '/orders?orderNumber=AUTO-&orderStatus=shipped')).body.total, 2);
      clock.advance(60_000);
      await sandbox.flushWebhooks();
      assert.equal(rx.received.length, 1, 'one label batch, one SHIP_NOTIFY');
      const toggled = await ui('PUT', '/_sandbox/auto-ship', { enabled: false });
      assert.equal(toggled.body.autoShip, false);
    } finally {
      sandbox.setAutoShip(false);
      await rx.close();
    }
  });

  it('describes itself and reports state counts', async () => {
    const index = await ui('GET', '/_sandbox');
    assert.equal(index.body.sandbox, 'shipstation');
    const state = await ui('GET', '/_sandbox/state');
    assert.ok(state.body.orders >= 1);
    assert.equal((await ui('GET', '/_sandbox/nothing')).status, 404);
  });
});
