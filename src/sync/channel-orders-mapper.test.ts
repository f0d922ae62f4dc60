import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Order } from '../shipstation/types.js';
import {
  type ChannelMapOptions,
  changeDocument,
  channelIntent,
  mapChannelOrder,
  notChangeable,
  sourceHash,
} from './channel-orders-mapper.js';

const options: ChannelMapOptions = {
  poPrefix: 'SH-',
  taxProductClass: 'TAX',
  discountProductClass: 'DISC',
  addressLayout: { city: 3, state: 4, country: 5 },
  sysproTimezone: 'UTC',
};

function order(overrides: Partial<V1Order> = {}): V1Order {
  return {
    orderId: 77,
    orderKey: 'shopify-1',
    orderNumber: '#1001',
    orderDate: '2026-11-30T17:30:00.0000000',
    createDate: '2026-11-30T17:30:00.0000000',
    modifyDate: '2026-11-30T17:30:00.0000000',
    orderStatus: 'awaiting_shipment',
    customerEmail: 'ada@example.com',
    billTo: { name: 'Ada' },
    shipTo: {
      name: 'Ada Lovelace',
      street1: '1 Main St',
      street2: 'Apt 2',
      city: 'Austin',
      state: 'TX',
      postalCode: '78701',
      country: 'US',
    },
    items: [
      { sku: 'WID-100', name: 'Widget', quantity: 2, unitPrice: 4.5 },
      { sku: null, name: 'DISCOUNT CODE', quantity: 1, unitPrice: -1.25, adjustment: true },
    ],
    taxAmount: 0.66,
    shippingAmount: 5.95,
    advancedOptions: { storeId: 310002 },
    ...overrides,
  } as V1Order;
}

describe('mapChannelOrder', () => {
  it('maps lines, discount, tax, shipping and the ship-to as the marketplace charged them', () => {
    const result = mapChannelOrder(order(), 'CASH', new Set(['WID-100']), options);
    assert.equal(result.action, 'import');
    if (result.action !== 'import') return;
    assert.equal(result.customerPo, 'SH-#1001');
    const input = result.input;
    assert.equal(input.customer, 'CASH');
    assert.equal(input.orderDate, '2026-12-01');
    assert.deepEqual(input.shipAddress, ['1 Main St', 'Apt 2', 'Austin', 'TX', 'US']);
    assert.equal(input.shipPostalCode, '78701');
    assert.deepEqual(
      input.lines?.map((l) => [
        l.kind,
        'price' in l
          ? l.price
          : 'miscChargeValue' in l
            ? l.miscChargeValue
            : 'freightValue' in l
              ? l.freightValue
              : null,
      ]),
      [
        ['stock', 4.5],
        ['misc-charge', -1.25],
        ['misc-charge', 0.66],
        ['freight', 5.95],
      ],
    );
  });

  it('an unknown SKU is the order problem, with nothing to enter', () => {
    const result = mapChannelOrder(order(), 'CASH', new Set(), options);
    assert.equal(result.action, 'invalid');
    if (result.action === 'invalid')
      assert.match(result.problems[0]!.message, /WID-100 is not a SYSPRO stock code/);
  });

  it('a customer PO over 30 characters is a problem', () => {
    const result = mapChannelOrder(
      order({ orderNumber: 'X'.repeat(29) }),
      'CASH',
      new Set(['WID-100']),
      options,
    );
    assert.equal(result.action, 'invalid');
  });

  it('the source hash ignores our own write-back but sees an edit', () => {
    const a = sourceHash(order());
    assert.equal(sourceHash(order({ internalNotes: 'SYSPRO sales order 000123' })), a);
    assert.equal(sourceHash(order({ orderStatus: 'shipped' })), a, 'shipping is no edit');
    assert.notEqual(sourceHash(order({ orderStatus: 'cancelled' })), a);
    assert.notEqual(
      sourceHash(order({ items: [{ sku: 'WID-100', name: 'Widget', quantity: 3, unitPrice: 4.5 }] })),
      a,
    );
  });

  it('intents, changeability and the change document', () => {
    assert.equal(channelIntent('cancelled'), 'cancel');
    assert.equal(channelIntent('awaiting_payment'), 'wait');
    assert.equal(channelIntent('on_hold'), 'enter');
    assert.equal(notChangeable('1', [{ salesOrderLine: 1, lineType: '1', dispatchedQty: 0 }]), undefined);
    assert.match(notChangeable('4', []) ?? '', /status 4/);
    assert.match(
      notChangeable('1', [{ salesOrderLine: 2, lineType: '1', dispatchedQty: 1 }]) ?? '',
      /line\(s\) 2/,
    );
    const doc = changeDocument(
      '000123',
      [
        { salesOrderLine: 1, lineType: '1', dispatchedQty: 0 },
        { salesOrderLine: 2, lineType: '4', dispatchedQty: 0 },
      ],
      undefined,
      'CASH',
      'SH-#1001',
    );
    assert.equal(doc.action, 'change');
    assert.deepEqual(
      doc.lines?.map((l) => [l.kind, l.action, l.salesOrderLine]),
      [
        ['stock', 'delete', 1],
        ['freight', 'delete', 2],
      ],
    );
  });
});
