/**
 * Properties of the shipment write-back mapper (src/sync/writeback-mapper.ts) over generated
 * orders and shipments:
 * - planned quantities are positive, never above what is open on a line (also across the
 *   shipments of one call, sharing `taken`), only on merchandise lines, one planned line per
 *   SalesOrderLine; what was asked and not planned is named in a note;
 * - a shipment without lines ships every open merchandise line in full;
 * - every tracking number is kept: in UserDefined2 or the comments, whole, or in the overflow
 *   (never cut, never dropped); comments fit SYSPRO's widths;
 * - the order-update tracking field keeps every number, in the field or the overflow, within width.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ShipmentLine, ShipmentWrite } from '../../src/sync/shipment-model.js';
import {
  COMMENT_LINES,
  COMMENT_WIDTH,
  dispatchTexts,
  mergeTrackingField,
  type OpenLine,
  openQuantity,
  planShipmentLines,
  TRACKING_FIELD_WIDTH,
  USER_FIELD_WIDTH,
} from '../../src/sync/writeback-mapper.js';

const RUNS = { numRuns: 1000 };
const CODES = ['CAB0100', 'F0101', 'A-1', 'bolt&nut', 'Ünï'];

const quantity = fc.oneof(
  fc.integer({ min: 0, max: 20 }),
  fc.double({ min: 0, max: 20, noNaN: true }).map((n) => Math.round(n * 1000) / 1000),
);

const openLines = fc
  .uniqueArray(
    fc.record({
      salesOrderLine: fc.integer({ min: 1, max: 30 }),
      stockCode: fc.constantFrom(...CODES),
      lineType: fc.constantFrom('1', '7', '4', '5', '6'),
      orderQty: quantity,
      dispatchedQty: quantity,
      shipQty: quantity,
    }),
    { selector: (l) => l.salesOrderLine, maxLength: 12 },
  )
  .map((lines) => lines as OpenLine[]);

const shipmentLine = (open: readonly OpenLine[]): fc.Arbitrary<ShipmentLine> =>
  fc.record(
    {
      salesOrderLine: fc.oneof(
        fc.constantFrom(...open.map((l) => String(l.salesOrderLine)), '999', 'x', ' 1 '),
        fc.constant(undefined),
      ),
      sku: fc.oneof(
        fc.constantFrom(...CODES.map((c) => c.toLowerCase()), ...CODES, 'NOPE', ''),
        fc.constant(null),
      ),
      quantity: fc.oneof(
        quantity,
        fc.constantFrom(-5, 0, Number.NaN, Number.POSITIVE_INFINITY, 1e12, -0.001),
      ),
    },
    { requiredKeys: ['sku', 'quantity'] },
  );

const orderAndShipments = openLines.chain((open) =>
  fc.record({
    open: fc.constant(open),
    shipments: fc.array(
      fc.oneof(
        fc.constant(null),
        fc.array(shipmentLine(open.length > 0 ? open : [{ salesOrderLine: 1 } as OpenLine]), {
          maxLength: 8,
        }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  }),
);

const MERCHANDISE = new Set(['1', '7']);

describe('write-back mapper properties', () => {
  it('planned quantities are positive and never above what is open, across one call', () => {
    fc.assert(
      fc.property(orderAndShipments, ({ open, shipments }) => {
        const taken = new Map<number, number>();
        const total = new Map<number, number>();
        for (const lines of shipments) {
          const plan = planShipmentLines({ lines }, open, taken);
          const seen = new Set<number>();
          for (const p of plan.lines) {
            const line = open.find((l) => l.salesOrderLine === p.salesOrderLine);
            assert.ok(line, `planned line ${p.salesOrderLine} is on the order`);
            assert.ok(MERCHANDISE.has(line.lineType), `line ${p.salesOrderLine} is merchandise`);
            assert.equal(p.stockCode, line.stockCode);
            assert.ok(Number.isFinite(p.quantity) && p.quantity > 0, `quantity ${p.quantity}`);
            assert.ok(!seen.has(p.salesOrderLine), `line ${p.salesOrderLine} planned once`);
            seen.add(p.salesOrderLine);
            total.set(p.salesOrderLine, (total.get(p.salesOrderLine) ?? 0) + p.quantity);
          }
          if (lines === null || lines.length === 0) {
            // The whole open order: every merchandise line with something left, in full.
            for (const l of open.filter((x) => MERCHANDISE.has(x.lineType))) {
              const planned = plan.lines.find((p) => p.salesOrderLine === l.salesOrderLine)?.quantity ?? 0;
              assert.ok(planned <= openQuantity(l) + 1e-9);
            }
          } else {
            // Asked for and not planned: a note says so.
            const asked = lines.filter((i) => Math.round(i.quantity * 1000) / 1000 > 0).length;
            if (asked > 0 && plan.lines.length === 0) assert.ok(plan.notes.length > 0, 'a note explains');
          }
        }
        for (const [n, qty] of total) {
          const line = open.find((l) => l.salesOrderLine === n)!;
          assert.ok(
            qty <= openQuantity(line) + 1e-9,
            `line ${n}: ${qty} planned, ${openQuantity(line)} open`,
          );
        }
      }),
      RUNS,
    );
  });

  it('a shipment without lines ships every open merchandise line in full', () => {
    fc.assert(
      fc.property(openLines, (open) => {
        const plan = planShipmentLines({ lines: null }, open);
        const want = open
          .filter((l) => MERCHANDISE.has(l.lineType) && openQuantity(l) > 0)
          .map((l) => [l.salesOrderLine, openQuantity(l)])
          .sort((a, b) => (a[0] as number) - (b[0] as number));
        assert.deepEqual(
          plan.lines.map((p) => [p.salesOrderLine, p.quantity]),
          want,
        );
      }),
      RUNS,
    );
  });

  const trackingNumber = fc.oneof(
    fc.stringMatching(/^1Z[0-9A-Z]{16}$/),
    fc.stringMatching(/^[0-9]{12,22}$/),
    fc.stringMatching(/^[0-9A-Z]{1,70}$/),
    // Long references (freight bills, some postal services): over a comment line's 50 characters.
    fc.stringMatching(/^[0-9A-Z]{25,30}$/).map((s) => s.repeat(2)),
  );

  function shipment(trackingNumbers: string[], carrierCode: string | null): ShipmentWrite {
    return {
      source: 'shipment',
      id: 42,
      connection: 'main',
      orderKey: 'EDU1:000201',
      salesOrder: '000201',
      orderId: 1,
      orderNumber: '000201',
      carrierCode,
      serviceCode: 'ups_ground',
      trackingNumbers,
      shipDate: '2026-01-15',
      shipDateUtc: Date.parse('2026-01-15T08:00:00Z'),
      createdAtUtc: Date.parse('2026-01-15T18:42:10Z'),
      lines: null,
      shipmentCost: null,
      insuranceCost: null,
      voided: false,
      voidedAtUtc: null,
      version: 1,
      via: 'webhook',
    };
  }

  it('every tracking number is kept on the dispatch note or in the overflow, whole', () => {
    fc.assert(
      fc.property(
        fc.array(trackingNumber, { maxLength: 20 }),
        fc.oneof(fc.constant(null), fc.constantFrom('ups_walleted', 'fedex', 'x'.repeat(60))),
        (tracking, carrier) => {
          const texts = dispatchTexts(shipment(tracking, carrier), { carriers: {}, sysproTimezone: 'UTC' });
          assert.ok(texts.comments.length <= COMMENT_LINES, `${texts.comments.length} comment lines`);
          for (const c of texts.comments) assert.ok(c.length <= COMMENT_WIDTH, `comment ${c.length} long`);
          assert.ok(texts.userDefined1.length <= USER_FIELD_WIDTH);
          assert.ok(texts.userDefined2.length <= USER_FIELD_WIDTH);
          const written = new Set(
            [texts.userDefined2, ...texts.comments.slice(2)].flatMap((t) => t.split(' ')).filter(Boolean),
          );
          for (const t of new Set(tracking)) {
            assert.ok(
              written.has(t) || texts.overflow.includes(t),
              `${t} is neither written whole nor in the overflow (${JSON.stringify(texts)})`,
            );
          }
          for (const t of texts.overflow) assert.ok(tracking.includes(t), `overflow ${t} is a number`);
        },
      ),
      RUNS,
    );
  });

  it('the order-update tracking field keeps every number in the field or the overflow', () => {
    fc.assert(
      fc.property(
        fc.array(trackingNumber, { maxLength: 6 }),
        fc.array(trackingNumber, { maxLength: 12 }),
        (before, added) => {
          const first = mergeTrackingField(undefined, before);
          const merged = mergeTrackingField(first.value, added);
          assert.ok(merged.value.length <= TRACKING_FIELD_WIDTH);
          const inField = new Set(merged.value.split(' '));
          for (const t of new Set([...before, ...added])) {
            assert.ok(
              inField.has(t) || merged.overflow.includes(t) || first.overflow.includes(t),
              `${t} lost (${JSON.stringify({ first, merged })})`,
            );
          }
        },
      ),
      RUNS,
    );
  });
});
