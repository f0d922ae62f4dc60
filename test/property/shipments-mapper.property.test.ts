/**
 * Properties of the shipments mapper (src/sync/shipments-mapper.ts) over generated V1 shipments and
 * fulfillments, including records with required fields missing, null or of the wrong type (what a
 * proxy or a changed API might send):
 * - it never throws: a record is written, skipped or invalid (one bad record must not fail the page
 *   it came in, which would hold back every other record of the batch);
 * - a written record keeps its tracking number, its carrier, its non-adjustment lines (one each,
 *   with the quantity ShipStation gave), and its times are UTC readings of the Pacific strings;
 * - the version is the creation for a live record and later than it for a voided one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { pacificToUtc } from '../../src/shipstation/pacific-time.js';
import type { V1Fulfillment, V1Shipment } from '../../src/shipstation/types.js';
import { mapFulfillment, mapShipment, type ShipmentMapOptions } from '../../src/sync/shipments-mapper.js';

const RUNS = { numRuns: 1000 };
const options: ShipmentMapOptions = { connection: 'main', company: 'EDU1', storeIds: [], via: 'poll' };

/** A Pacific wall time, sometimes in a DST edge hour, sometimes broken or missing. */
const pacificTime = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 23).replace('Z', '')),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '2024-11-03T01:30:00.0000000',
      '2024-03-10T02:30:00.0000000',
      '2024-11-03 01:59:59',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('', 'yesterday', '2024-02-30T10:00:00', '0000-00-00T00:00:00') },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, 12345, {}) },
);

const item = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        orderItemId: fc.integer({ min: 1, max: 1e6 }),
        lineItemKey: fc.oneof(fc.constantFrom('1', '2', ' 3 ', '', 'x'), fc.constant(null)),
        sku: fc.oneof(fc.constantFrom('A100', 'b&<"😀', ' '), fc.constant(null)),
        name: fc.string({ maxLength: 10 }),
        quantity: fc.oneof(fc.integer({ min: -3, max: 1e6 }), fc.constantFrom(null, 2.5, 1e12)),
        unitPrice: fc.double({ noNaN: true }),
        adjustment: fc.boolean(),
      },
      { requiredKeys: ['orderItemId', 'name', 'quantity'] },
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(null, 'item', 7) },
);

const shipment = fc.record(
  {
    shipmentId: fc.integer({ min: 1, max: 2 ** 31 }),
    orderId: fc.integer({ min: 1, max: 2 ** 31 }),
    orderKey: fc.oneof(
      fc.constantFrom('EDU1:000123', 'EDU1:', 'OTHER:1', ' EDU1:000124 '),
      fc.constant(null),
    ),
    orderNumber: fc.oneof(fc.string({ maxLength: 10 }), fc.constant(null)),
    createDate: pacificTime,
    shipDate: pacificTime,
    shipmentCost: fc.oneof(fc.double({ min: 0, max: 1e4, noNaN: true }), fc.constant(null)),
    insuranceCost: fc.constant(0),
    trackingNumber: fc.oneof(fc.stringMatching(/^[0-9A-Z]{8,30}$/), fc.constantFrom('', ' ', null)),
    carrierCode: fc.oneof(fc.constantFrom('ups', 'fedex', 'a&b<c>'), fc.constant(null)),
    serviceCode: fc.oneof(fc.constantFrom('ups_ground'), fc.constant(null)),
    voided: fc.boolean(),
    voidDate: pacificTime,
    advancedOptions: fc.oneof(fc.record({ storeId: fc.integer({ min: 1, max: 1e6 }) }), fc.constant(null)),
    shipmentItems: fc.oneof(fc.array(item, { maxLength: 6 }), fc.constant(null)),
  },
  { requiredKeys: ['shipmentId', 'orderId'] },
) as unknown as fc.Arbitrary<V1Shipment>;

const fulfillment = fc.record(
  {
    fulfillmentId: fc.integer({ min: 1, max: 2 ** 31 }),
    orderId: fc.integer({ min: 1, max: 2 ** 31 }),
    orderNumber: fc.oneof(fc.string({ maxLength: 10 }), fc.constant(null)),
    trackingNumber: fc.oneof(fc.stringMatching(/^[0-9A-Z]{8,30}$/), fc.constant(null)),
    createDate: pacificTime,
    shipDate: pacificTime,
    carrierCode: fc.oneof(fc.constantFrom('usps'), fc.constant(null)),
    voided: fc.boolean(),
    voidDate: pacificTime,
  },
  { requiredKeys: ['fulfillmentId', 'orderId'] },
) as unknown as fc.Arbitrary<V1Fulfillment>;

describe('shipments mapper properties', () => {
  it('a shipment is written, skipped or invalid, never an exception', () => {
    fc.assert(
      fc.property(shipment, fc.constantFrom(undefined, 'EDU1:000200'), (s, linked) => {
        const result = mapShipment(s, options, linked);
        assert.ok(['write', 'skip', 'invalid'].includes(result.action));
        assert.equal(result.id, s.shipmentId);
        if (result.action === 'invalid')
          assert.match(result.problem, new RegExp(`^shipment ${s.shipmentId}: `));
        if (result.action !== 'write') return;
        const w = result.write;
        assert.equal(w.createdAtUtc, pacificToUtc(s.createDate));
        assert.deepEqual(w.trackingNumbers, s.trackingNumber?.trim() ? [s.trackingNumber.trim()] : []);
        assert.equal(w.carrierCode, s.carrierCode ?? null);
        assert.ok(w.salesOrder !== null && w.orderKey?.startsWith('EDU1:'));
        if (Array.isArray(s.shipmentItems)) {
          const parcels = s.shipmentItems.filter(
            (i) => i !== null && typeof i === 'object' && i.adjustment !== true,
          );
          assert.equal(w.lines?.length, parcels.length);
          w.lines?.forEach((l, i) => {
            assert.equal(l.quantity, Number(parcels[i]?.quantity ?? 0));
            assert.ok(Number.isFinite(l.quantity));
          });
        } else assert.equal(w.lines, null);
        if (w.voided) assert.ok(w.version > w.createdAtUtc);
        else assert.equal(w.version, w.createdAtUtc);
      }),
      RUNS,
    );
  });

  it('a fulfillment is written, skipped or invalid, never an exception', () => {
    fc.assert(
      fc.property(fulfillment, fc.constantFrom(undefined, 'EDU1:000200', 'OTHER:1'), (f, linked) => {
        const result = mapFulfillment(f, options, linked);
        assert.ok(['write', 'skip', 'invalid'].includes(result.action));
        if (result.action !== 'write') return;
        assert.equal(result.write.lines, null);
        assert.deepEqual(result.write.trackingNumbers, f.trackingNumber ? [f.trackingNumber] : []);
        if (result.write.voided) assert.ok(result.write.version > result.write.createdAtUtc);
      }),
      RUNS,
    );
  });
});
