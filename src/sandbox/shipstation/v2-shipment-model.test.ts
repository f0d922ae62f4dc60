import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OrderRecord } from './order-model.js';
import {
  orderDocFromV2,
  renderV2Shipment,
  v1Address,
  v2Address,
  v2ShipmentStatus,
} from './v2-shipment-model.js';

const T = Date.parse('2026-01-15T20:00:00Z');

function record(status: OrderRecord['status'], body: Record<string, unknown>): OrderRecord {
  return new OrderRecord(
    42,
    'key-42',
    'N-42',
    status,
    7,
    T,
    T,
    T + 1000,
    -1,
    '',
    '',
    'US',
    true,
    JSON.stringify(body),
  );
}

const renderCtx = { defaultWarehouseId: 3, warehouseAddress: () => ({ name: 'WH', street1: '1 Dock' }) };

describe('V2 shipment model', () => {
  it('maps V1 statuses onto V2 shipment statuses', () => {
    const status = (s: OrderRecord['status']) => v2ShipmentStatus(record(s, {}));
    assert.equal(status('awaiting_payment'), 'pending');
    assert.equal(status('awaiting_shipment'), 'pending');
    assert.equal(status('pending_fulfillment'), 'pending');
    assert.equal(status('on_hold'), 'on_hold');
    assert.equal(status('shipped'), 'label_purchased');
    assert.equal(status('cancelled'), 'cancelled');
  });

  it('maps addresses both ways', () => {
    const v1 = {
      name: 'A',
      company: 'C',
      street1: 'S1',
      street2: null,
      street3: null,
      city: 'Austin',
      state: 'TX',
      postalCode: '78701',
      country: 'US',
      phone: '1',
      residential: false,
    };
    const v2 = v2Address(v1);
    assert.equal(v2?.address_line1, 'S1');
    assert.equal(v2?.address_residential_indicator, 'no');
    assert.deepEqual(v1Address(v2), v1);
  });

  it('renders ids, times and money the V2 way', () => {
    const r = record('awaiting_shipment', { amountPaid: 12.5, items: [], holdUntilDate: null });
    const s = renderV2Shipment(r, renderCtx);
    assert.equal(s.shipment_id, 'se-42');
    assert.equal(s.external_shipment_id, 'key-42');
    assert.equal(s.shipment_number, 'N-42');
    assert.equal(s.store_id, 'se-7');
    assert.equal(s.warehouse_id, 'se-3');
    assert.equal(s.created_at, '2026-01-15T20:00:00.000Z');
    assert.equal(s.modified_at, '2026-01-15T20:00:01.000Z');
    assert.deepEqual(s.amount_paid, { currency: 'usd', amount: 12.5 });
    assert.equal((s.ship_from as { address_line1: string }).address_line1, '1 Dock');
  });

  it('refuses a body without ship_to or an origin, and keeps V1-only fields on update', () => {
    const shipTo = {
      name: 'A',
      address_line1: 'S',
      city_locality: 'C',
      postal_code: 'P',
      country_code: 'US',
    };
    assert.equal(orderDocFromV2({}, { now: T }).ok, false);
    const noOrigin = orderDocFromV2({ ship_to: shipTo }, { now: T });
    assert.deepEqual(noOrigin, { ok: false, message: 'Either ship_from or warehouse_id must be set.' });
    const existing = record('awaiting_shipment', {
      internalNotes: 'keep me',
      billTo: { name: 'Bill' },
      items: [
        {
          orderItemId: 9,
          lineItemKey: 'L1',
          name: 'X',
          quantity: 1,
          unitPrice: 5,
          createDate: T,
          modifyDate: T,
        },
      ],
    });
    const mapped = orderDocFromV2(
      {
        ship_to: shipTo,
        warehouse_id: 'se-3',
        items: [{ name: 'X', quantity: 4, external_order_item_id: 'L1' }],
      },
      { now: T, existing: { record: existing, body: existing.body() } },
    );
    assert.ok(mapped.ok);
    assert.equal(mapped.doc.internalNotes, 'keep me');
    assert.deepEqual(mapped.doc.billTo, { name: 'Bill' });
    const item = (mapped.doc.items as Array<Record<string, unknown>>)[0];
    assert.equal(item?.orderItemId, 9);
    assert.equal(item?.unitPrice, 5);
    assert.equal(item?.quantity, 4);
    assert.equal(mapped.doc.orderDate, T);
  });
});
