import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Order, V1OrderInput } from '../shipstation/types.js';
import { linesTakenAway, shippedAsAWhole, splitInShipStation } from './split-check.js';

const item = (lineItemKey: string, quantity: number, extra: Record<string, unknown> = {}) => ({
  lineItemKey,
  sku: `SKU${lineItemKey}`,
  name: `Item ${lineItemKey}`,
  quantity,
  ...extra,
});

const sent = {
  orderNumber: '000100',
  orderKey: 'EDU1:000100',
  orderDate: '2026-01-01T00:00:00.0000000',
  orderStatus: 'awaiting_shipment',
  billTo: {},
  shipTo: {},
  items: [item('1', 5), item('2', 1), item('9', 1, { adjustment: true, sku: null })],
} as unknown as V1OrderInput;

const current = (items: unknown[], advancedOptions: Record<string, unknown> = {}) =>
  ({ ...sent, orderId: 42, items, advancedOptions }) as unknown as V1Order;

describe('split-check', () => {
  it('finds nothing when ShipStation has every line as sent, or more (SYSPRO may have added)', () => {
    assert.deepEqual(linesTakenAway(current([item('1', 5), item('2', 1)]), sent), []);
    assert.deepEqual(linesTakenAway(current([item('1', 6), item('2', 1), item('3', 1)]), sent), []);
    assert.equal(splitInShipStation(current([item('1', 5), item('2', 1)]), sent), undefined);
    // Nothing sent on record: nothing to compare.
    assert.deepEqual(linesTakenAway(current([]), undefined), []);
  });

  it('finds a line moved out (V2 split) and units moved out of a line, not adjustment lines', () => {
    assert.deepEqual(linesTakenAway(current([item('1', 5)]), sent), [
      { lineItemKey: '2', sku: 'SKU2', sent: 1, now: 0 },
    ]);
    assert.deepEqual(linesTakenAway(current([item('1', 3), item('2', 1)]), sent), [
      { lineItemKey: '1', sku: 'SKU1', sent: 5, now: 3 },
    ]);
    const found = splitInShipStation(current([item('1', 5)]), sent);
    assert.match(
      found?.reason ?? '',
      /order 42 \(000100\) no longer has what was sent of line\(s\) 2 \(SKU2\) 0\/1/,
    );
    assert.match(found?.reason ?? '', /not re-pushed whole/);
  });

  it('does not count units our own later write took (the body about to be sent has no more than ShipStation)', () => {
    // SYSPRO lowered line 1 from 5 to 3; that update reached ShipStation but its answer was lost.
    const next = { ...sent, items: [item('1', 3), item('2', 1)] } as unknown as V1OrderInput;
    assert.deepEqual(linesTakenAway(current([item('1', 3), item('2', 1)]), sent, next), []);
    // A split that moved line 2 out still counts: the next body would add it back.
    assert.deepEqual(linesTakenAway(current([item('1', 3)]), sent, next), [
      { lineItemKey: '2', sku: 'SKU2', sent: 1, now: 0 },
    ]);
  });

  it("takes V1's mergedOrSplit as a split even with every line there", () => {
    const found = splitInShipStation(current([item('1', 5), item('2', 1)], { mergedOrSplit: true }), sent);
    assert.match(found?.reason ?? '', /was split or merged in ShipStation/);
    assert.deepEqual(found?.lines, []);
  });

  it('shippedAsAWhole: a label with every line last sent, at least the units sent; anything less or unknown is not', () => {
    const line = (salesOrderLine: string | undefined, quantity: number) => ({
      salesOrderLine,
      sku: `SKU${salesOrderLine}`,
      quantity,
    });
    // The adjustment line (9) is not a parcel: not looked for.
    assert.equal(shippedAsAWhole(sent, [line('1', 5), line('2', 1)]), true);
    assert.equal(
      shippedAsAWhole(sent, [line('1', 3), line('1', 2), line('2', 1)]),
      true,
      'units summed per line',
    );
    assert.equal(shippedAsAWhole(sent, [line('1', 5)]), false, 'a line missing: partial');
    assert.equal(shippedAsAWhole(sent, [line('1', 4), line('2', 1)]), false, 'fewer units: partial');
    assert.equal(
      shippedAsAWhole(sent, [line(undefined, 5), line(undefined, 1)]),
      false,
      'lines without our key',
    );
    assert.equal(shippedAsAWhole(sent, null), false, 'no lines (a fulfillment)');
    assert.equal(
      shippedAsAWhole(undefined, [line('1', 5), line('2', 1)]),
      false,
      'nothing on record as sent',
    );
    const keyless = {
      ...sent,
      items: [item('1', 5), { ...item('2', 1), lineItemKey: null }],
    } as V1OrderInput;
    assert.equal(shippedAsAWhole(keyless, [line('1', 5), line('2', 1)]), false, 'a line sent without a key');
    const onlyCharges = { ...sent, items: [item('9', 1, { adjustment: true })] } as V1OrderInput;
    assert.equal(shippedAsAWhole(onlyCharges, [line('9', 1)]), false, 'no parcel line sent');
    assert.equal(shippedAsAWhole(sent, [line('1', Number.NaN), line('2', 1)]), false);
  });
});
