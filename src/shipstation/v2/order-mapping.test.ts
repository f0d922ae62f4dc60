import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1OrderInput } from '../types.js';
import { onlyDocumented } from './list.js';
import {
  fulfillmentOf,
  isExternalIdTaken,
  isShipmentNumberTaken,
  numberOfV2Id,
  orderOfShipment,
  orderStatusOf,
  shipmentInputOf,
  shipmentNumberFor,
  shipmentOfLabel,
  v2Id,
} from './order-mapping.js';
import { LIST_SHIPMENTS_FILTERS } from './shipments.js';
import type { V2Label, V2Shipment } from './types.js';

const order: V1OrderInput = {
  orderNumber: '000123',
  orderKey: 'EDU1:000123',
  orderDate: '2026-11-20 09:00:00',
  shipByDate: '2026-11-01 01:30:00',
  orderStatus: 'awaiting_shipment',
  customerEmail: 'a@example.com',
  billTo: { name: 'Bill' },
  shipTo: {
    name: 'Ann',
    street1: '1 Main St',
    city: 'Austin',
    state: 'TX',
    postalCode: '78701',
    country: 'US',
    residential: false,
  },
  items: [
    {
      lineItemKey: '1',
      sku: 'SKU-1',
      name: 'One',
      quantity: 2,
      unitPrice: 5,
      weight: { value: 3, units: 'ounces' },
    },
    { name: 'DISCOUNT', quantity: 1, unitPrice: -2, adjustment: true },
  ],
  amountPaid: 8,
  weight: { value: 2, units: 'pounds' },
  advancedOptions: { storeId: 310001, warehouseId: 410001, customField1: 'PO-9' },
};

describe('V1 ⇄ V2 record mapping', () => {
  it('ids are the same number with the se- prefix', () => {
    assert.equal(v2Id(12345678), 'se-12345678');
    assert.equal(numberOfV2Id('se-12345678'), 12345678);
    assert.equal(numberOfV2Id('12345678'), null);
    assert.equal(numberOfV2Id(undefined), null);
  });

  it('maps an order body to a whole V2 shipment: keys, address, items without adjustments, money, ids', () => {
    const s = shipmentInputOf(order, { currency: 'usd' });
    assert.equal(s.external_shipment_id, 'EDU1:000123');
    assert.equal(s.shipment_number, '000123');
    assert.equal(s.ship_to.address_line1, '1 Main St');
    assert.equal(s.ship_to.email, 'a@example.com');
    assert.equal(s.ship_to.address_residential_indicator, 'no');
    assert.deepEqual(
      s.items.map((i) => [i.external_order_item_id, i.sku, i.quantity, i.weight]),
      [['1', 'SKU-1', 2, { value: 3, unit: 'ounce' }]],
    );
    assert.deepEqual(s.amount_paid, { amount: 8, currency: 'usd' });
    assert.equal(s.store_id, 'se-310001');
    assert.equal(s.warehouse_id, 'se-410001');
    assert.deepEqual(s.packages, [{ weight: { value: 2, unit: 'pound' } }]);
    assert.equal(s.advanced_options?.custom_field1, 'PO-9');
    // Pacific wall clock → an instant with its offset, the fall-back hour read as its earlier instant (PDT).
    assert.equal(s.ship_by_date, '2026-11-01T08:30:00.000Z');
  });

  it('numbers re-pushes with a suffix and recognises the taken-number and taken-key errors', () => {
    assert.equal(shipmentNumberFor('000123', 1), '000123');
    assert.equal(shipmentNumberFor('000123', 2), '000123-R2');
    assert.equal(shipmentInputOf(order, { generation: 3 }).shipment_number, '000123-R3');
    assert.ok(isShipmentNumberTaken("shipment_number '000123' is already used by another shipment."));
    assert.ok(!isShipmentNumberTaken("external_shipment_id 'x' is already used by another shipment."));
    assert.ok(isExternalIdTaken("external_shipment_id 'x' is already used by another shipment."));
  });

  it('reads a V2 shipment back as a V1 order with V1 statuses', () => {
    const shipment = {
      shipment_id: 'se-100000014',
      shipment_status: 'pending',
      created_at: '2026-11-20T17:00:00.000Z',
      modified_at: '2026-11-20T17:05:00.000Z',
      external_shipment_id: 'EDU1:000123',
      shipment_number: '000123',
      ship_to: { name: 'Ann', address_line1: '1 Main St' },
      items: [{ sku: 'SKU-1', quantity: 2, external_order_item_id: '1' }],
      store_id: 'se-310001',
    } as V2Shipment;
    const o = orderOfShipment(shipment);
    assert.equal(o.orderId, 100000014);
    assert.equal(o.orderKey, 'EDU1:000123');
    assert.equal(o.orderStatus, 'awaiting_shipment');
    assert.equal(o.shipTo.street1, '1 Main St');
    assert.equal(o.items?.[0]?.lineItemKey, '1');
    assert.equal(o.advancedOptions?.storeId, 310001);
    assert.equal(orderStatusOf({ shipment_status: 'label_purchased' }), 'shipped');
    assert.equal(orderStatusOf({ shipment_status: 'on_hold' }), 'on_hold');
    assert.equal(orderStatusOf({ shipment_status: 'pending', hold_until_date: '2026-12-01' }), 'on_hold');
    assert.equal(orderStatusOf({ shipment_status: 'cancelled' }), 'cancelled');
  });

  it('reads a label as a V1 shipment and a fulfillment as a V1 fulfillment, times as V2 wrote them', () => {
    const label = {
      label_id: 'se-500',
      status: 'voided',
      shipment_id: 'se-100000014',
      external_shipment_id: 'EDU1:000123',
      ship_date: '2026-11-20T00:00:00Z',
      created_at: '2026-11-20T17:00:00Z',
      tracking_number: '1Z1',
      voided: true,
      voided_at: '2026-11-20T18:00:00Z',
      shipment_cost: { amount: 7.5, currency: 'usd' },
    } as V2Label;
    const s = shipmentOfLabel(label, { shipment_number: '000123', items: [{ sku: 'SKU-1', quantity: 2 }] });
    assert.equal(s.shipmentId, 500);
    assert.equal(s.orderId, 100000014);
    assert.equal(s.orderKey, 'EDU1:000123');
    assert.equal(s.shipDate, '2026-11-20');
    assert.equal(s.createDate, '2026-11-20T17:00:00Z');
    assert.equal(s.voided, true);
    assert.equal(s.shipmentCost, 7.5);
    assert.equal(s.shipmentItems?.[0]?.sku, 'SKU-1');
    const f = fulfillmentOf({
      fulfillment_id: 'se-77',
      shipment_id: 'se-100000014',
      created_at: '2026-11-20T17:00:00Z',
      ship_date: '2026-11-20',
      tracking_number: '1Z2',
    });
    assert.equal(f.fulfillmentId, 77);
    assert.equal(f.orderId, 100000014);
    assert.equal(f.trackingNumber, '1Z2');
  });

  it('refuses a list filter V2 does not document (it would be ignored silently)', () => {
    assert.throws(
      () => onlyDocumented('GET /v2/shipments', { modified_date_start: 'x' }, LIST_SHIPMENTS_FILTERS),
      /no filter "modified_date_start"/,
    );
    assert.doesNotThrow(() =>
      onlyDocumented('GET /v2/shipments', { modified_at_start: 'x' }, LIST_SHIPMENTS_FILTERS),
    );
  });
});
