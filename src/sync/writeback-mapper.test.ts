import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pacificToUtc } from '../shipstation/pacific-time.js';
import type { ShipmentWrite } from './shipment-model.js';
import {
  carrierText,
  dispatchTexts,
  mergeTrackingField,
  type OpenLine,
  packWords,
  planShipmentLines,
  sysproDate,
  toDispatchNote,
  trackingFieldHolds,
} from './writeback-mapper.js';

const options = { carriers: { ups_walleted: 'UPS', fedex: 'FEDEX GROUND' }, sysproTimezone: 'UTC' };

function shipment(over: Partial<ShipmentWrite> = {}): ShipmentWrite {
  return {
    source: 'shipment',
    id: 9001,
    connection: 'main',
    orderKey: 'SANDBOX:000201',
    salesOrder: '000201',
    orderId: 55,
    orderNumber: '000201',
    carrierCode: 'ups_walleted',
    serviceCode: 'ups_ground',
    trackingNumbers: ['1Z999AA10123456784'],
    shipDate: '2026-01-15',
    shipDateUtc: Date.parse('2026-01-15T08:00:00Z'),
    createdAtUtc: Date.parse('2026-01-15T18:42:10Z'),
    lines: [{ salesOrderLine: '1', sku: 'CAB0100', quantity: 2 }],
    shipmentCost: 9.5,
    insuranceCost: null,
    voided: false,
    voidedAtUtc: null,
    version: Date.parse('2026-01-15T18:42:10Z'),
    via: 'webhook',
    ...over,
  };
}

const lines: OpenLine[] = [
  { salesOrderLine: 1, stockCode: 'CAB0100', lineType: '1', orderQty: 5, dispatchedQty: 1, shipQty: 4 },
  { salesOrderLine: 2, stockCode: 'F0101', lineType: '1', orderQty: 2, dispatchedQty: 0, shipQty: 2 },
  { salesOrderLine: 3, stockCode: '', lineType: '4', orderQty: 0, dispatchedQty: 0, shipQty: 0 },
  { salesOrderLine: 4, stockCode: 'CAB0100', lineType: '1', orderQty: 3, dispatchedQty: 0, shipQty: 3 },
];

describe('planShipmentLines', () => {
  it('takes the named line and quantity', () => {
    const plan = planShipmentLines(shipment(), lines);
    assert.deepEqual(plan.lines, [{ salesOrderLine: 1, stockCode: 'CAB0100', quantity: 2 }]);
    assert.deepEqual(plan.notes, []);
  });

  it('caps at what is open and spreads a SKU over its lines', () => {
    const plan = planShipmentLines(shipment({ lines: [{ sku: 'cab0100', quantity: 9 }] }), lines);
    assert.deepEqual(plan.lines, [
      { salesOrderLine: 1, stockCode: 'CAB0100', quantity: 4 },
      { salesOrderLine: 4, stockCode: 'CAB0100', quantity: 3 },
    ]);
    assert.match(plan.notes[0] ?? '', /2 more than is open/);
  });

  it('counts what earlier shipments of the same call take (several shipments per order)', () => {
    const taken = new Map<number, number>();
    const first = planShipmentLines(
      shipment({ lines: [{ salesOrderLine: '1', sku: 'CAB0100', quantity: 3 }] }),
      lines,
      taken,
    );
    const second = planShipmentLines(
      shipment({ lines: [{ salesOrderLine: '1', sku: 'CAB0100', quantity: 3 }] }),
      lines,
      taken,
    );
    assert.equal(first.lines[0]?.quantity, 3);
    // Line 1 has 1 left; the rest of the SKU is not taken from line 4 because the line was named.
    assert.deepEqual(second.lines, [{ salesOrderLine: 1, stockCode: 'CAB0100', quantity: 1 }]);
    assert.match(second.notes[0] ?? '', /2 more than is open/);
  });

  it('a shipment without lines ships every open merchandise line', () => {
    const plan = planShipmentLines(shipment({ lines: null }), lines);
    assert.deepEqual(
      plan.lines.map((l) => [l.salesOrderLine, l.quantity]),
      [
        [1, 4],
        [2, 2],
        [4, 3],
      ],
    );
  });

  it('reports an item the order does not have', () => {
    const plan = planShipmentLines(shipment({ lines: [{ sku: 'NOPE', quantity: 1 }] }), lines);
    assert.equal(plan.lines.length, 0);
    assert.match(plan.notes[0] ?? '', /no such merchandise line/);
  });
});

describe('texts and dates', () => {
  it('maps the carrier, else upper-cases the code', () => {
    assert.equal(carrierText('fedex', options.carriers), 'FEDEX GROUND');
    assert.equal(carrierText('stamps_com', options.carriers), 'STAMPS_COM');
    assert.equal(carrierText(null, options.carriers), '');
  });

  it('writes the reference, the UTC time and the tracking number', () => {
    const t = dispatchTexts(shipment(), options);
    assert.equal(t.userDefined1, 'UPS');
    assert.equal(t.userDefined2, '1Z999AA10123456784');
    assert.deepEqual(t.comments, ['ml-connector shipment:9001', 'Shipped 2026-01-15 18:42Z UPS ups_ground']);
    assert.deepEqual(t.overflow, []);
    for (const c of t.comments) assert.ok(c.length <= 50);
    const long = dispatchTexts(shipment({ trackingNumbers: ['9'.repeat(34)] }), options);
    assert.equal(long.userDefined2, '', 'a number over 30 characters is not cut into UserDefined2');
    assert.deepEqual(long.comments.slice(2), ['9'.repeat(34)]);
  });

  it('packs several packages and marks the overflow', () => {
    const tracking = Array.from({ length: 12 }, (_, i) => `1Z999AA1012345${String(i).padStart(4, '0')}`);
    const t = dispatchTexts(shipment({ trackingNumbers: tracking }), options);
    assert.equal(t.comments.length, 4);
    for (const c of t.comments) assert.ok(c.length <= 50, c);
    const written = t.comments.slice(2).join(' ').split(' ');
    const marker = written.indexOf('more');
    assert.ok(marker > 0, 'a +N more marker');
    const shown = written.slice(0, marker - 1);
    assert.equal(written[marker - 1], `+${t.overflow.length}`);
    assert.deepEqual(
      [...shown, ...t.overflow],
      tracking,
      'every number is either written or in the overflow',
    );
    assert.equal(t.userDefined2, `${tracking[0]} +11 more`);
  });

  it('two packages fit on one line', () => {
    const t = dispatchTexts(shipment({ trackingNumbers: ['1Z1', '1Z2'] }), options);
    assert.deepEqual(t.comments.slice(2), ['1Z1 1Z2']);
    assert.equal(t.userDefined2, '1Z1 +1 more');
  });

  it('packWords keeps lines within the width', () => {
    assert.deepEqual(packWords(['aaaa', 'bbbb', 'cccc'], 9, 2), { lines: ['aaaa bbbb', 'cccc'], left: [] });
    assert.deepEqual(packWords(['aaaa', 'bbbb', 'cccc'], 4, 2), { lines: ['aaaa', 'bbbb'], left: ['cccc'] });
  });

  it('the dispatch date is the ship date in SYSPRO zone; times stay UTC across both DST changes', () => {
    // Spring forward 2026-03-08 02:30 Pacific does not exist: read with the pre-change offset (10:30Z).
    const spring = pacificToUtc('2026-03-08 02:30:00');
    const springShip = shipment({
      createdAtUtc: spring,
      shipDate: '2026-03-08',
      shipDateUtc: pacificToUtc('2026-03-08 00:00:00'),
    });
    assert.equal(dispatchTexts(springShip, options).comments[1], 'Shipped 2026-03-08 10:30Z UPS ups_ground');
    // Fall back 2026-11-01 01:30 Pacific happens twice: the earlier (PDT) instant, 08:30Z.
    const fall = pacificToUtc('2026-11-01 01:30:00');
    const fallShip = shipment({
      createdAtUtc: fall,
      shipDate: '2026-11-01',
      shipDateUtc: pacificToUtc('2026-11-01 00:00:00'),
    });
    assert.equal(dispatchTexts(fallShip, options).comments[1], 'Shipped 2026-11-01 08:30Z UPS ups_ground');
    const note = toDispatchNote(
      fallShip,
      '000201',
      { lines: [{ salesOrderLine: 1, stockCode: 'X', quantity: 1 }], notes: [] },
      options,
    );
    assert.equal(note.note.plannedDispatchDate, '2026-11-01');
    assert.equal(sysproDate(pacificToUtc('2026-11-01 00:00:00'), 'America/Los_Angeles'), '2026-11-01');
    assert.equal(
      sysproDate(pacificToUtc('2026-11-01 23:30:00'), 'UTC'),
      '2026-11-02',
      'a UTC SYSPRO is a day ahead late in the Pacific evening',
    );
  });
});

describe('order-update tracking field', () => {
  it('adds numbers, keeps the old ones and marks what does not fit', () => {
    assert.deepEqual(mergeTrackingField('', ['A1', 'B2']), { value: 'A1 B2', overflow: [] });
    assert.deepEqual(mergeTrackingField('A1', ['A1', 'C3']), { value: 'A1 C3', overflow: [] });
    const merged = mergeTrackingField('', ['AAAA', 'BBBB', 'CCCC', 'DDDD'], 16);
    assert.deepEqual(merged, { value: 'AAAA +3 more', overflow: ['BBBB', 'CCCC', 'DDDD'] });
    // The numbers an earlier overflow left out stay counted when another is added.
    assert.deepEqual(mergeTrackingField('AAAA +3 more', ['EEEE'], 16), {
      value: 'AAAA +4 more',
      overflow: ['EEEE'],
    });
    assert.deepEqual(mergeTrackingField('AAAA +3 more', ['EE'], 16), {
      value: 'AAAA EE +3 more',
      overflow: [],
    });
    assert.ok(trackingFieldHolds('A1 C3', ['C3']));
    assert.ok(!trackingFieldHolds('A1 C3', ['D4']));
  });
});
