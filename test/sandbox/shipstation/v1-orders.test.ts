import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ShipStationSandbox } from '../../../src/sandbox/shipstation/index.js';
import type { FakeClock } from '../../helpers/clock.js';
import { type CallResult, orderBody, startTestSandbox, v1 } from './helpers.js';

describe('ShipStation sandbox V1: orders', () => {
  let sandbox: ShipStationSandbox;
  let clock: FakeClock;
  let call: (method: string, path: string, body?: unknown) => Promise<CallResult>;

  before(async () => {
    ({ sandbox, clock } = await startTestSandbox({ rateLimit: { limit: 10_000, windowMs: 60_000 } }));
    call = v1(sandbox);
  });
  after(() => sandbox.close());

  it('refuses requests without the right Basic credentials with 401', async () => {
    const wrong = await v1(sandbox, { key: sandbox.apiKey, secret: 'nope' })('GET', '/orders');
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, { Message: 'Authorization has been denied for this request.' });
    assert.ok(wrong.headers.get('x-rate-limit-limit'));
    const none = await fetch(`${sandbox.url}/orders`);
    assert.equal(none.status, 401);
  });

  it('upserts by orderKey: re-posting the same orderKey updates the order and keeps one', async () => {
    const first = await call(
      'POST',
      '/orders/createorder',
      orderBody('UP-1', { customerNotes: 'leave at door' }),
    );
    assert.equal(first.status, 200);
    clock.advance(5 * 60_000);
    const second = await call(
      'POST',
      '/orders/createorder',
      orderBody('UP-1', {
        orderStatus: 'on_hold',
        items: [{ sku: 'X-1', name: 'Other', quantity: 3, unitPrice: 1 }],
      }),
    );
    assert.equal(second.status, 200);
    assert.equal(second.body.orderId, first.body.orderId);
    assert.equal(second.body.orderKey, 'acme:UP-1');
    assert.equal(second.body.orderStatus, 'on_hold');
    assert.equal(second.body.createDate, first.body.createDate);
    assert.notEqual(second.body.modifyDate, first.body.modifyDate);
    // Whole replace: a field left out is cleared, items are replaced.
    assert.equal(second.body.customerNotes, null);
    assert.deepEqual(
      second.body.items.map((i: { sku: string }) => i.sku),
      ['X-1'],
    );
    const list = await call('GET', '/orders?orderNumber=UP-1');
    assert.equal(list.body.total, 1);
  });

  it('generates an orderKey when missing, and keeps orderKey and storeId immutable on update by orderId', async () => {
    const body = orderBody('GEN-1', { advancedOptions: { storeId: 310002 } });
    delete body.orderKey;
    const created = await call('POST', '/orders/createorder', body);
    assert.match(created.body.orderKey, /^[0-9a-f-]{36}$/);
    assert.equal(created.body.advancedOptions.storeId, 310002);
    const updated = await call(
      'POST',
      '/orders/createorder',
      orderBody('GEN-1', {
        orderId: created.body.orderId,
        orderKey: 'new-key',
        advancedOptions: { storeId: 310001 },
      }),
    );
    assert.equal(updated.status, 200);
    assert.equal(updated.body.orderId, created.body.orderId);
    assert.equal(updated.body.orderKey, created.body.orderKey);
    assert.equal(updated.body.advancedOptions.storeId, 310002);
    const unknown = await call('POST', '/orders/createorder', orderBody('GEN-2', { orderId: 999 }));
    assert.equal(unknown.status, 404);
  });

  it('binds JSON like ASP.NET: case-insensitive names, type errors as ModelState', async () => {
    const ok = await call('POST', '/orders/createorder', {
      ...orderBody('CASE-1'),
      OrderNumber: 'CASE-1',
      CUSTOMEREMAIL: 'a@b.c',
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.customerEmail, 'a@b.c');
    const bad = await call(
      'POST',
      '/orders/createorder',
      orderBody('CASE-2', { orderDate: 'soon', items: [{ name: 'x', quantity: 'two' }] }),
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.Message, 'The request is invalid.');
    assert.deepEqual(Object.keys(bad.body.ModelState).sort(), ['order.items[0].quantity', 'order.orderDate']);
    const invalidJson = await call('POST', '/orders/createorder', '{"orderNumber":');
    assert.equal(invalidJson.status, 400);
    assert.ok(invalidJson.body.ModelState.order);
  });

  it('refuses to update a shipped order (createorder 400, createorders per-order failure)', async () => {
    const created = await call('POST', '/orders/createorder', orderBody('LOCK-1'));
    const shipped = await call('POST', '/orders/markasshipped', {
      orderId: created.body.orderId,
      carrierCode: 'ups',
      trackingNumber: '1Z999',
    });
    assert.equal(shipped.status, 200);
    const again = await call(
      'POST',
      '/orders/createorder',
      orderBody('LOCK-1', { internalNotes: 'changed' }),
    );
    assert.equal(again.status, 400);
    assert.match(again.body.Message, /shipped/);
    const batch = await call('POST', '/orders/createorders', [orderBody('LOCK-1'), orderBody('LOCK-2')]);
    assert.equal(batch.status, 200);
    assert.equal(batch.body.hasErrors, true);
    assert.equal(batch.body.results[0].success, false);
    assert.match(batch.body.results[0].errorMessage, /shipped/);
    assert.equal(batch.body.results[1].success, true);
    const order = await call('GET', `/orders/${created.body.orderId}`);
    assert.equal(order.body.internalNotes, null);
    assert.equal(order.body.orderStatus, 'shipped');
  });

  it('createorders: up to 100 orders with per-order results; 101 or a wrong shape is the ModelState 400', async () => {
    const hundred = Array.from({ length: 100 }, (_, i) => orderBody(`BULK-${i}`));
    const ok = await call('POST', '/orders/createorders', hundred);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.hasErrors, false);
    assert.equal(ok.body.results.length, 100);
    assert.deepEqual(Object.keys(ok.body.results[0]).sort(), [
      'errorMessage',
      'orderId',
      'orderKey',
      'orderNumber',
      'success',
    ]);
    assert.equal(ok.body.results[99].orderKey, 'acme:BULK-99');

    const tooMany = await call('POST', '/orders/createorders', [...hundred, orderBody('BULK-100')]);
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.Message, 'The request is invalid.');
    assert.ok(tooMany.body.ModelState.orders);
    assert.equal(
      (await call('GET', '/orders?orderNumber=BULK-100')).body.total,
      0,
      'nothing of the 101 was stored',
    );

    const notArray = await call('POST', '/orders/createorders', orderBody('SHAPE-1'));
    assert.equal(notArray.status, 400);
    assert.match(notArray.body.ModelState.orders[0], /JSON array/);

    const missing = await call('POST', '/orders/createorders', [
      { orderNumber: 'NO-DATE', orderStatus: 'awaiting_shipment' },
    ]);
    assert.equal(missing.body.results[0].success, false);
    assert.match(missing.body.results[0].errorMessage, /orderDate/);
  });

  it('lists orders with the reference filters, starts-with orderNumber, paging and sorting', async () => {
    await call('POST', '/orders/createorders', [
      orderBody('SO100', { orderDate: '2026-01-01 08:00:00', paymentDate: '2026-01-01 09:00:00' }),
      orderBody('SO1001', {
        orderDate: '2026-01-03 08:00:00',
        orderStatus: 'awaiting_payment',
        shipTo: { name: 'Zed Zulu', street1: '2 Rue', city: 'Paris', postalCode: '75001', country: 'FR' },
        advancedOptions: { storeId: 310002 },
      }),
      orderBody('SO1002', {
        orderDate: '2026-01-02 08:00:00',
        items: [
          {
            sku: 'RED-1',
            name: 'Red thing',
            quantity: 1,
            unitPrice: 2,
            options: [{ name: 'Size', value: 'XL' }],
          },
        ],
      }),
    ]);
    const prefix = await call('GET', '/orders?orderNumber=SO100');
    assert.deepEqual(
      prefix.body.orders.map((o: { orderNumber: string }) => o.orderNumber),
      ['SO100', 'SO1001', 'SO1002'],
    );
    const byStatus = await call('GET', '/orders?orderNumber=SO100&orderStatus=awaiting_payment');
    assert.deepEqual(
      byStatus.body.orders.map((o: { orderNumber: string }) => o.orderNumber),
      ['SO1001'],
    );
    assert.equal((await call('GET', '/orders?orderNumber=SO100&storeId=310002')).body.total, 1);
    assert.equal((await call('GET', '/orders?customerName=zed')).body.orders[0].orderNumber, 'SO1001');
    assert.equal((await call('GET', '/orders?itemKeyword=xl')).body.orders[0].orderNumber, 'SO1002');
    assert.equal((await call('GET', '/orders?customsCountryCode=FR')).body.total, 1);
    assert.equal((await call('GET', '/orders?orderNumber=SO100&paymentDateStart=2026-01-01')).body.total, 1);
    // ASP.NET binds query names case-insensitively.
    const sorted = await call('GET', '/orders?ordernumber=SO100&SORTBY=OrderDate&sortDir=DESC');
    assert.deepEqual(
      sorted.body.orders.map((o: { orderNumber: string }) => o.orderNumber),
      ['SO1001', 'SO1002', 'SO100'],
    );
    const page2 = await call('GET', '/orders?orderNumber=SO100&pageSize=2&page=2');
    assert.deepEqual(
      [page2.body.total, page2.body.page, page2.body.pages, page2.body.orders.length],
      [3, 2, 2, 1],
    );
    const all = await call('GET', '/orders?pageSize=500');
    const ids = all.body.orders.map((o: { orderId: number }) => o.orderId);
    assert.deepEqual(
      ids,
      [...ids].sort((a: number, b: number) => a - b),
      'default sort is ascending orderId',
    );

    const tooBig = await call('GET', '/orders?pageSize=501');
    assert.equal(tooBig.status, 400);
    assert.ok(tooBig.body.ModelState.pageSize);
    const badDate = await call('GET', '/orders?modifyDateStart=tomorrow');
    assert.equal(badDate.status, 400);
    assert.deepEqual(badDate.body.ModelState, {
      modifyDateStart: ["The value 'tomorrow' is not valid for modifyDateStart."],
    });
  });

  it('gets one order, soft-deletes it (gone from lists) and answers 404 for an unknown id', async () => {
    const created = await call('POST', '/orders/createorder', orderBody('DEL-1'));
    const got = await call('GET', `/orders/${created.body.orderId}`);
    assert.equal(got.body.orderNumber, 'DEL-1');
    const deleted = await call('DELETE', `/orders/${created.body.orderId}`);
    assert.deepEqual(deleted.body, { success: true, message: 'The requested order has been deleted.' });
    assert.equal((await call('GET', '/orders?orderNumber=DEL-1')).body.total, 0);
    assert.equal((await call('GET', '/orders/12345')).status, 404);
  });

  it('mark-as-shipped creates a fulfillment, not a shipment', async () => {
    const created = await call('POST', '/orders/createorder', orderBody('MAS-1'));
    const res = await call('POST', '/orders/markasshipped', {
      orderId: created.body.orderId,
      carrierCode: 'fedex',
      shipDate: '2026-01-15',
      trackingNumber: '123456789012',
    });
    assert.deepEqual(res.body, { orderId: created.body.orderId, orderNumber: 'MAS-1' });
    const fulfillments = await call('GET', `/fulfillments?orderId=${created.body.orderId}`);
    assert.equal(fulfillments.body.total, 1);
    assert.equal(fulfillments.body.fulfillments[0].trackingNumber, '123456789012');
    assert.equal(fulfillments.body.fulfillments[0].shipDate, '2026-01-15T00:00:00.0000000');
    const shipments = await call('GET', `/shipments?orderId=${created.body.orderId}`);
    assert.equal(shipments.body.total, 0);
    const missing = await call('POST', '/orders/markasshipped', { orderId: created.body.orderId });
    assert.equal(missing.status, 400);
    assert.ok(missing.body.ModelState['request.carrierCode']);
  });

  it('holds an order until a date, then releases it when that date comes', async () => {
    const created = await call('POST', '/orders/createorder', orderBody('HOLD-1'));
    const held = await call('POST', '/orders/holduntil', {
      orderId: created.body.orderId,
      holdUntilDate: '2026-01-17',
    });
    assert.deepEqual(held.body, { success: true, message: 'Order held successfully.' });
    const order = await call('GET', `/orders/${created.body.orderId}`);
    assert.equal(order.body.orderStatus, 'on_hold');
    assert.equal(order.body.holdUntilDate, '2026-01-17');
    clock.set('2026-01-17T08:00:01Z');
    await sandbox.tick();
    assert.equal(
      (await call('GET', `/orders/${created.body.orderId}`)).body.orderStatus,
      'awaiting_shipment',
    );
  });

  it('lists stores and warehouses as bare arrays', async () => {
    const stores = await call('GET', '/stores');
    assert.ok(Array.isArray(stores.body));
    assert.equal(stores.body[0].storeName, 'Manual Orders');
    const warehouses = await call('GET', '/warehouses');
    assert.equal(warehouses.body.find((w: { isDefault: boolean }) => w.isDefault).warehouseId, 410001);
  });
});
