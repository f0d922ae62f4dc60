import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ShipStationSandbox } from '../../../src/sandbox/shipstation/index.js';
import type { FakeClock } from '../../helpers/clock.js';
import { type CallResult, control, orderBody, startTestSandbox, v1, v2, v2Shipment } from './helpers.js';

type Call = (method: string, path: string, body?: unknown) => Promise<CallResult>;

describe('ShipStation sandbox V2 shipments (same account as V1 orders)', () => {
  let sandbox: ShipStationSandbox;
  let clock: FakeClock;
  let call: Call;
  let callV1: Call;
  let warehouseId: string;

  before(async () => {
    ({ sandbox, clock } = await startTestSandbox({ v2RateLimit: { limit: 10_000, windowMs: 60_000 } }));
    call = v2(sandbox);
    callV1 = v1(sandbox);
    warehouseId = `se-${sandbox.state.defaultWarehouseId}`;
  });
  after(() => sandbox.close());

  const create = (...items: Record<string, unknown>[]) =>
    call('POST', '/v2/shipments', { shipments: items.map((i) => ({ ...i, warehouse_id: warehouseId })) });

  it('creates in bulk with per-item results; V1 reads the same orders', async () => {
    const res = await create(v2Shipment('V2-1001'), v2Shipment('V2-1002'), { shipment_number: 'V2-BAD' });
    assert.equal(res.status, 200);
    assert.equal(res.body.has_errors, true);
    const [a, b, bad] = res.body.shipments;
    assert.match(a.shipment_id, /^se-\d+$/);
    assert.equal(a.shipment_status, 'pending');
    assert.deepEqual(a.errors, []);
    assert.equal(b.shipment_number, 'V2-1002');
    assert.equal(bad.shipment_id, null);
    assert.match(bad.errors[0], /ship_to/);
    assert.match(a.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const orderId = Number(a.shipment_id.slice(3));
    const order = await callV1('GET', `/orders/${orderId}`);
    assert.equal(order.status, 200);
    assert.equal(order.body.orderKey, 'acme:V2-1001');
    assert.equal(order.body.orderNumber, 'V2-1001');
    assert.equal(order.body.orderStatus, 'awaiting_shipment');
    assert.equal(order.body.shipTo.street1, '12 Analytical Way');
    assert.equal(order.body.shipTo.residential, true);
    assert.equal(order.body.customerNotes, 'leave at the door');
    assert.equal(order.body.amountPaid, 33);
    assert.deepEqual(order.body.weight, { value: 2, units: 'pounds', WeightUnits: 2 });
    assert.deepEqual(
      order.body.items.map((i: { sku: string; quantity: number }) => [i.sku, i.quantity]),
      [
        ['WID-100', 2],
        ['GAD-310', 1],
      ],
    );
    // The account counts two new orders, not three.
    const listed = await callV1('GET', '/orders?orderNumber=V2-10');
    assert.equal(listed.body.total, 2);
  });

  it('shows a V1 order as a V2 shipment, by id and by external_shipment_id', async () => {
    const created = await callV1(
      'POST',
      '/orders/createorder',
      orderBody('V1-2001', { customerNotes: 'hi' }),
    );
    const id = `se-${created.body.orderId}`;
    const byId = await call('GET', `/v2/shipments/${id}`);
    assert.equal(byId.status, 200);
    assert.equal(byId.body.shipment_id, id);
    assert.equal(byId.body.external_shipment_id, 'acme:V1-2001');
    assert.equal(byId.body.shipment_number, 'V1-2001');
    assert.equal(byId.body.shipment_status, 'pending');
    assert.equal(byId.body.ship_to.address_line1, '1 Main St');
    assert.equal(byId.body.ship_to.country_code, 'US');
    assert.equal(byId.body.notes_from_buyer, 'hi');
    assert.equal(byId.body.items[0].external_order_item_id, '1');
    assert.equal(byId.body.warehouse_id, warehouseId);
    assert.ok(byId.body.ship_from?.address_line1, 'ship_from is the warehouse address');
    const byKey = await call(
      'GET',
      `/v2/shipments/external_shipment_id/${encodeURIComponent('acme:V1-2001')}`,
    );
    assert.equal(byKey.status, 200);
    assert.equal(byKey.body.shipment_id, id);
    const missing = await call('GET', '/v2/shipments/se-999999999');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.errors[0].error_code, 'invalid_identifier');
    assert.equal(
      (await call('GET', `/v2/shipments/${created.body.orderId}`)).status,
      404,
      'needs the se- prefix',
    );
  });

  it('keeps external_shipment_id unique and shipment_number unique whatever the status', async () => {
    const first = await create(v2Shipment('V2-3001'));
    const id = first.body.shipments[0].shipment_id;
    assert.equal((await call('PUT', `/v2/shipments/${id}/cancel`)).status, 204);
    const again = await create(v2Shipment('V2-3001', { external_shipment_id: 'acme:V2-3001-b' }));
    assert.equal(again.body.has_errors, true);
    assert.match(again.body.shipments[0].errors[0], /shipment_number 'V2-3001' is already used/);
    const sameKey = await create(v2Shipment('V2-3001-x', { external_shipment_id: 'acme:V2-3001' }));
    assert.match(sameKey.body.shipments[0].errors[0], /external_shipment_id/);
    const twiceInOne = await create(
      v2Shipment('V2-3002', { external_shipment_id: 'k1' }),
      v2Shipment('V2-3002', { external_shipment_id: 'k2' }),
    );
    assert.deepEqual(
      twiceInOne.body.shipments.map((s: { errors: string[] }) => s.errors.length),
      [0, 1],
    );
    const suffixed = await create(v2Shipment('V2-3001-1', { external_shipment_id: 'acme:V2-3001-r1' }));
    assert.equal(suffixed.body.has_errors, false, 'a suffixed number is a new one');
    const long = 'L'.repeat(60);
    const cut = await create(v2Shipment('V2-3003', { external_shipment_id: long }));
    assert.equal(cut.body.shipments[0].external_shipment_id, 'L'.repeat(50));
    assert.equal((await call('POST', '/v2/shipments', { shipments: [] })).status, 400);
    assert.equal((await call('POST', '/v2/shipments', { shipment: [v2Shipment('x')] })).status, 400);
  });

  it('lists with the documented filters and paging; unknown filters are ignored', async () => {
    const t0 = clock.now();
    clock.advance(60_000);
    const made = await create(
      v2Shipment('V2-4001', { ship_to: { ...(v2Shipment('x').ship_to as object), name: 'Grace Hopper' } }),
      v2Shipment('V2-4002', { items: [{ name: 'Sprocket', sku: 'SPR-9', quantity: 1 }] }),
      v2Shipment('V2-4003'),
    );
    const ids = made.body.shipments.map((s: { shipment_id: string }) => s.shipment_id);
    clock.advance(60_000);
    const all = await call('GET', '/v2/shipments?page_size=500');
    const total = all.body.total;
    assert.ok(total >= 3);
    const since = new Date(t0 + 1).toISOString();
    const created = await call('GET', `/v2/shipments?created_at_start=${since}`);
    assert.equal(created.body.total, 3);
    const ignored = await call('GET', `/v2/shipments?modified_date_start=${since}`);
    assert.equal(ignored.status, 200);
    assert.equal(ignored.body.total, total, 'a misspelled filter is ignored, not an error');
    const narrow = async (query: string) => (await call('GET', `/v2/shipments?${query}`)).body;
    assert.equal((await narrow('shipment_number=V2-4002')).shipments[0].shipment_id, ids[1]);
    assert.equal((await narrow('external_shipment_id=acme:V2-4003')).total, 1);
    assert.equal((await narrow('ship_to_name=grace')).total, 1);
    assert.equal((await narrow('item_keyword=spr-9')).total, 1);
    assert.equal((await narrow(`modified_at_end=${new Date(t0).toISOString()}`)).total, total - 3);
    assert.equal((await narrow('sales_order_id=123')).total, 0);
    const store = all.body.shipments[0].store_id;
    assert.ok((await narrow(`store_id=${store}`)).total >= 1);
    assert.equal((await narrow('store_id=se-1')).total, 0);
    const pending = (await narrow('shipment_status=pending&page_size=500')).total;
    const cancelled = (await narrow('shipment_status=cancelled')).total;
    assert.ok(pending > 0 && cancelled > 0 && pending + cancelled <= total);
    const bad = await call('GET', '/v2/shipments?shipment_status=shipped');
    assert.equal(bad.status, 400);
    assert.equal((await call('GET', '/v2/shipments?created_at_start=yesterday')).status, 400);
    // Paging: newest first by default, links on the sandbox's own URL.
    const first = await narrow(`created_at_start=${since}&page_size=2`);
    assert.deepEqual(
      first.shipments.map((s: { shipment_id: string }) => s.shipment_id),
      [ids[2], ids[1]],
    );
    assert.equal(first.pages, 2);
    assert.ok(first.links.next.href.startsWith(`${sandbox.url}/v2/shipments?`));
    const second = await call('GET', first.links.next.href.slice(sandbox.url.length));
    assert.deepEqual(
      second.body.shipments.map((s: { shipment_id: string }) => s.shipment_id),
      [ids[0]],
    );
    const asc = await narrow(`created_at_start=${since}&sort_dir=asc`);
    assert.equal(asc.shipments[0].shipment_id, ids[0]);
    assert.equal((await narrow('page=99')).shipments.length, 0);
  });

  it('updates the whole object only while pending; external_shipment_id cannot change', async () => {
    const made = await create(v2Shipment('V2-5001'));
    const shipment = made.body.shipments[0];
    const { errors: _e, address_validation: _a, ...whole } = shipment;
    const put = await call('PUT', `/v2/shipments/${shipment.shipment_id}`, {
      ...whole,
      notes_from_buyer: 'ring twice',
      items: [...whole.items, { name: 'Extra', sku: 'EXT-1', quantity: 3, external_order_item_id: '3' }],
    });
    assert.equal(put.status, 200);
    assert.equal(put.body.notes_from_buyer, 'ring twice');
    assert.ok(Date.parse(put.body.modified_at) >= Date.parse(shipment.modified_at));
    const orderId = Number(shipment.shipment_id.slice(3));
    const v1Order = await callV1('GET', `/orders/${orderId}`);
    assert.equal(v1Order.body.customerNotes, 'ring twice');
    assert.equal(v1Order.body.items.length, 3);
    const changedKey = await call('PUT', `/v2/shipments/${shipment.shipment_id}`, {
      ...whole,
      external_shipment_id: 'other',
    });
    assert.equal(changedKey.status, 400);
    // Labelled by the warehouse: no longer pending, so no more updates.
    await control(sandbox)('POST', `/_sandbox/orders/${orderId}/labels`, {});
    const after = await call('GET', `/v2/shipments/${shipment.shipment_id}`);
    assert.equal(after.body.shipment_status, 'label_purchased');
    const late = await call('PUT', `/v2/shipments/${shipment.shipment_id}`, whole);
    assert.equal(late.status, 400);
    assert.equal(late.body.errors[0].error_type, 'business_rules');
  });

  it('cancels only once labels are voided', async () => {
    const made = await create(v2Shipment('V2-6001'));
    const id = made.body.shipments[0].shipment_id;
    const orderId = Number(id.slice(3));
    const labels = await control(sandbox)('POST', `/_sandbox/orders/${orderId}/labels`, {});
    const refused = await call('PUT', `/v2/shipments/${id}/cancel`);
    assert.equal(refused.status, 400);
    assert.match(refused.body.errors[0].message, /void/);
    const voided = await callV1('POST', '/shipments/voidlabel', {
      shipmentId: labels.body.shipments[0].shipmentId,
    });
    assert.equal(voided.status, 200);
    assert.equal((await call('PUT', `/v2/shipments/${id}/cancel`)).status, 204);
    assert.equal((await callV1('GET', `/orders/${orderId}`)).body.orderStatus, 'cancelled');
    assert.equal((await call('GET', `/v2/shipments/${id}`)).body.shipment_status, 'cancelled');
    assert.equal((await call('PUT', `/v2/shipments/${id}/cancel`)).status, 204, 'again: no change');
  });

  it('holds and restores one or many shipments; a hold is released on its date', async () => {
    const made = await create(v2Shipment('V2-7001'), v2Shipment('V2-7002'), v2Shipment('V2-7003'));
    const [a, b, c] = made.body.shipments.map((s: { shipment_id: string }) => s.shipment_id);
    const today = new Date(clock.now()).toISOString().slice(0, 10);
    const past = await call('PUT', `/v2/shipments/${a}/hold`, { hold_until_date: today });
    assert.equal(past.status, 400);
    const tomorrow = new Date(clock.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    assert.equal((await call('PUT', `/v2/shipments/${a}/hold`, { hold_until_date: tomorrow })).status, 204);
    const held = await call('GET', `/v2/shipments/${a}`);
    assert.equal(held.body.shipment_status, 'on_hold');
    assert.equal(held.body.hold_until_date, `${tomorrow}T00:00:00Z`);
    assert.equal((await callV1('GET', `/orders/${a.slice(3)}`)).body.orderStatus, 'on_hold');
    assert.equal((await call('PUT', `/v2/shipments/${a}/restore`)).status, 204);
    assert.equal((await call('PUT', `/v2/shipments/${a}/restore`)).status, 400, 'not on hold any more');

    const bulk = await call('PUT', '/v2/shipments/hold', {
      shipment_ids: [a, b, 'se-999999999'],
      hold_until_date: tomorrow,
    });
    assert.equal(bulk.status, 200);
    assert.equal(bulk.body.has_errors, true);
    assert.deepEqual(
      bulk.body.results.map((r: { success: boolean }) => r.success),
      [true, true, false],
    );
    const restored = await call('PUT', '/v2/shipments/restore', { shipment_ids: [a, c] });
    assert.deepEqual(
      restored.body.results.map((r: { success: boolean }) => r.success),
      [true, false],
    );
    const tooMany = Array.from({ length: 501 }, () => a);
    assert.equal((await call('PUT', '/v2/shipments/restore', { shipment_ids: tooMany })).status, 400);
    clock.advance(3 * 86_400_000);
    await sandbox.tick();
    assert.equal((await call('GET', `/v2/shipments/${b}`)).body.shipment_status, 'pending');
  });

  it('splits a pending shipment (_sandbox action): the shipment keeps its ids with fewer items, the part is a new shipment', async () => {
    const created = await create(v2Shipment('V2-SPLIT'));
    const id = created.body.shipments[0].shipment_id as string;
    const split = await control(sandbox)('POST', `/_sandbox/v2/shipments/${id}/split`, { count: 1 });
    assert.equal(split.status, 200, JSON.stringify(split.body));
    const { original, part } = split.body;
    assert.equal(original.shipment_id, id);
    assert.equal(original.external_shipment_id, 'acme:V2-SPLIT');
    assert.equal(original.shipment_number, 'V2-SPLIT');
    assert.deepEqual(
      original.items.map((i: { sku: string }) => i.sku),
      ['WID-100'],
    );
    assert.notEqual(part.shipment_id, id);
    assert.equal(part.shipment_number, 'V2-SPLIT-1');
    assert.equal(part.shipment_status, 'pending');
    assert.deepEqual(
      part.items.map((i: { sku: string; external_order_item_id: string }) => [
        i.sku,
        i.external_order_item_id,
      ]),
      [['GAD-310', '2']],
    );
    // The API shows the same: the shipment by id has one item, the part is listed under its number.
    const read = await call('GET', `/v2/shipments/${id}`);
    assert.equal(read.body.items.length, 1);
    const listed = await call('GET', '/v2/shipments?shipment_number=V2-SPLIT-1');
    assert.equal(listed.body.shipments[0]?.shipment_id, part.shipment_id);
    // Only pending shipments with two or more items split; a bad id is refused.
    assert.equal((await control(sandbox)('POST', `/_sandbox/v2/shipments/${id}/split`)).status, 400);
    assert.equal((await control(sandbox)('POST', '/_sandbox/v2/shipments/nope/split')).status, 400);
  });

  it('applies auth, the rate limit and the fault switches to V2 shipments', async () => {
    const denied = await v2(sandbox, 'nope')('GET', '/v2/shipments');
    assert.equal(denied.status, 401);
    assert.equal(denied.body.errors[0].error_type, 'security');
    const limited = await startTestSandbox({ v2RateLimit: { limit: 2, windowMs: 60_000 } });
    try {
      const c = v2(limited.sandbox);
      await c('GET', '/v2/shipments');
      await c('GET', '/v2/shipments');
      const res = await c('GET', '/v2/shipments');
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '60');
    } finally {
      await limited.sandbox.close();
    }
    const fault = sandbox.faults.add({ route: '/v2/shipments', method: 'POST', error: 1, times: 1 });
    const failed = await create(v2Shipment('V2-8001'));
    assert.equal(failed.status, 500);
    assert.equal(failed.body.errors[0].error_type, 'system');
    assert.equal(
      sandbox.faults.list().some((f) => f.id === fault.id),
      false,
    );
    assert.equal(
      (await call('GET', '/v2/shipments?shipment_number=V2-8001')).body.total,
      0,
      'a 500 wrote nothing',
    );
    // A lost answer: the write is done, the client hears nothing.
    sandbox.faults.add({ route: '/v2/shipments', method: 'POST', lostAnswer: 1, times: 1 });
    await assert.rejects(create(v2Shipment('V2-8002')));
    assert.equal((await call('GET', '/v2/shipments?shipment_number=V2-8002')).body.total, 1);
  });
});
