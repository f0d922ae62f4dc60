/**
 * Properties of the orders mapper (src/sync/orders-mapper.ts) over generated SYSPRO orders: lines
 * of every type with negative, zero, fractional, huge and missing quantities, and text fields full
 * of `&`, `<`, quotes, emoji and controls.
 * - it never throws: an order is pushed, skipped or invalid, and invalid names a field;
 * - every merchandise line with a whole positive ship quantity and a stock code maps to exactly one
 *   item (lineItemKey = its SalesOrderLine), with that quantity, a whole number ShipStation's
 *   Int32 can hold; nothing else becomes a parcel; no quantity is ever zero or negative;
 * - text fields reach the ShipStation body as SYSPRO has them (whitespace collapsed, nothing
 *   escaped or dropped), and the body survives JSON with the same hash (what the links compare).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_ORDER_MAP_OPTIONS,
  hashOrder,
  mapSalesOrder,
  type OrderMapOptions,
  type SorDetailRow,
  type SorMasterRow,
} from '../../src/sync/orders-mapper.js';

const RUNS = { numRuns: 1000 };
const INT32_MAX = 2_147_483_647;

const options: OrderMapOptions = {
  ...DEFAULT_ORDER_MAP_OPTIONS,
  company: 'EDU1',
  sysproTimezone: 'America/Chicago',
  warehouses: { FG: 501 },
  storeId: 77,
};

const hostile = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc
    .array(
      fc.constantFrom('&', '<', '>', '"', "'", '&amp;', '<b>', '😀', '€', 'é', '\t', '  ', 'Z', '\u0000'),
      {
        maxLength: 10,
      },
    )
    .map((p) => p.join('')),
);
/** Never blank after cleaning (a blank name or street is a different, already-tested problem). */
const hostileNonBlank = hostile.map((s) => `X${s}`);

const quantity = fc.oneof(
  fc.integer({ min: -5, max: 50 }),
  fc.constantFrom(0, -0, 0.5, 2.25, 1e10, 3e9, INT32_MAX, INT32_MAX + 1, 1e21, Number.NaN, null),
);

const detail = (n: number): fc.Arbitrary<SorDetailRow> =>
  fc.record({
    SalesOrder: fc.constant('000123'),
    SalesOrderLine: fc.constant(n),
    LineType: fc.constantFrom('1', '7', '4', '5', '6', '1 ', 'X'),
    MStockCode: fc.oneof(hostile, fc.constant(null)),
    MStockDes: fc.oneof(hostile, fc.constant(null)),
    MWarehouse: fc.constantFrom('FG', 'ZZ', null),
    MBin: hostile,
    MOrderQty: quantity,
    MShipQty: quantity,
    MBackOrderQty: quantity,
    MPrice: fc.oneof(fc.double({ min: -1000, max: 1e6, noNaN: true }), fc.constant(null)),
    MDiscPct1: fc.constantFrom(0, 10, null),
    MDiscPct2: fc.constant(0),
    MDiscPct3: fc.constant(0),
    MStockUnitMass: fc.oneof(fc.double({ min: -1, max: 100, noNaN: true }), fc.constant(null)),
    NComment: hostile,
    NMscChargeValue: fc.oneof(fc.double({ min: -100, max: 100, noNaN: true }), fc.constant(null)),
  });

const order = fc.integer({ min: 0, max: 12 }).chain((count) =>
  fc.record({
    lines: fc.tuple(...Array.from({ length: count }, (_, i) => detail(i + 1))),
    header: fc.record({
      SalesOrder: fc.constant('000123'),
      OrderStatus: fc.constantFrom('1', '2', '3', '4', 'S', 'F', '8', '9', '0', '\\', '*'),
      CancelledFlag: fc.constantFrom(' ', 'Y', null),
      Customer: hostile,
      CustomerName: hostileNonBlank,
      CustomerPoNumber: hostile,
      OrderDate: fc.constantFrom('2026-03-08T00:00:00Z', '2026-11-01', '2026-03-04T00:00:00Z'),
      EntrySystemDate: fc.constant('2026-03-04T00:00:00Z'),
      ReqShipDate: fc.constantFrom('2026-03-08T00:00:00Z', null, ''),
      ShippingInstrs: hostile,
      ShippingInstrsCod: hostile,
      SpecialInstrs: hostile,
      Warehouse: fc.constantFrom('FG', 'ZZ', '', null),
      ShipAddress1: hostileNonBlank,
      ShipAddress2: hostile,
      ShipAddress3: fc.constant('Boston'),
      ShipAddress4: fc.constant('MA'),
      ShipAddress5: fc.constant('USA'),
      ShipAddress3Loc: fc.constant(''),
      ShipPostalCode: fc.constant('02134'),
      State: fc.constant('MA'),
      Email: fc.constantFrom('JANE@EXAMPLE.COM', 'a&b@x.com', '<x>', null),
    }) as fc.Arbitrary<SorMasterRow>,
  }),
);

const clean = (v: string | null | undefined) => (v ?? '').replace(/\s+/g, ' ').trim();
const isItemLine = (l: SorDetailRow) => ['1', '7'].includes(l.LineType.trim());

describe('orders mapper properties', () => {
  it('never throws, and an invalid order names its fields', () => {
    fc.assert(
      fc.property(order, ({ header, lines }) => {
        const result = mapSalesOrder({ header, lines }, options);
        assert.equal(result.orderKey, 'EDU1:000123');
        if (result.action === 'invalid') {
          assert.ok(result.problems.length > 0);
          for (const p of result.problems) assert.ok(p.field && p.message, JSON.stringify(p));
        }
      }),
      RUNS,
    );
  });

  it('every shippable line maps to exactly one item, with a whole Int32 quantity above zero', () => {
    fc.assert(
      fc.property(order, ({ header, lines }) => {
        const result = mapSalesOrder({ header, lines }, options);
        const shippable = lines.filter(
          (l) => isItemLine(l) && Number.isFinite(Number(l.MShipQty ?? 0)) && Number(l.MShipQty ?? 0) > 0,
        );
        if (result.action !== 'push') {
          if (result.action === 'invalid') {
            // A line that cannot ship as it is is named (no stock code, part or huge quantity).
            for (const l of shippable) {
              const q = Number(l.MShipQty);
              if (!clean(l.MStockCode) || !Number.isInteger(q) || q > INT32_MAX)
                assert.ok(
                  result.problems.some((p) => p.field.startsWith(`items[line ${l.SalesOrderLine}]`)),
                  `line ${l.SalesOrderLine} (${q}) is named: ${JSON.stringify(result.problems)}`,
                );
            }
          }
          return;
        }
        const items = result.order.items ?? [];
        for (const item of items) {
          assert.ok(Number.isInteger(item.quantity) && item.quantity > 0, `quantity ${item.quantity}`);
          assert.ok(item.quantity <= INT32_MAX, `quantity ${item.quantity} is beyond Int32`);
        }
        for (const l of shippable) {
          const mapped = items.filter((i) => i.lineItemKey === String(l.SalesOrderLine));
          assert.equal(mapped.length, 1, `line ${l.SalesOrderLine} maps to one item`);
          assert.equal(mapped[0]?.quantity, Number(l.MShipQty));
          assert.equal(mapped[0]?.sku, clean(l.MStockCode));
          assert.equal(mapped[0]?.name, clean(l.MStockDes) || clean(l.MStockCode));
          assert.equal(mapped[0]?.warehouseLocation, clean(l.MBin) || null);
        }
        const parcels = items.filter((i) => !i.adjustment);
        assert.equal(parcels.length, shippable.length, 'nothing else is a parcel');
        for (const i of items.filter((x) => x.adjustment)) {
          const l = lines.find((x) => String(x.SalesOrderLine) === i.lineItemKey);
          assert.equal(l?.LineType.trim(), '5', 'an adjustment is a misc charge line');
        }
      }),
      RUNS,
    );
  });

  it('text fields arrive as SYSPRO has them, and the body keeps its hash through JSON', () => {
    fc.assert(
      fc.property(order, ({ header, lines }) => {
        const result = mapSalesOrder({ header, lines }, options);
        if (result.action !== 'push') return;
        const o = result.order;
        assert.equal(o.shipTo.name, clean(header.CustomerName));
        assert.equal(o.shipTo.street1, clean(header.ShipAddress1));
        assert.equal(o.shipTo.street2, clean(header.ShipAddress2) || null);
        assert.equal(o.customerNotes, clean(header.SpecialInstrs) || null);
        assert.equal(o.requestedShippingService, clean(header.ShippingInstrs) || null);
        assert.equal(o.customerUsername, clean(header.Customer) || null);
        assert.equal(o.advancedOptions?.customField1, clean(header.CustomerPoNumber) || null);
        const comments = lines
          .filter((l) => l.LineType.trim() === '6')
          .map((l) => clean(l.NComment))
          .filter(Boolean);
        assert.equal(o.internalNotes, comments.length > 0 ? comments.join('\n') : null);
        const wire = JSON.parse(JSON.stringify(o));
        assert.equal(hashOrder(wire), result.hash, 'the hash is the hash of what is sent');
        assert.deepEqual(mapSalesOrder({ header, lines }, options), result, 'mapping is deterministic');
      }),
      RUNS,
    );
  });
});
