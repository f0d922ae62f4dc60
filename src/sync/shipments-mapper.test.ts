import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Settings } from 'luxon';
import type { V1Fulfillment, V1Shipment } from '../shipstation/types.js';
import type { ShipmentWrite } from './shipment-model.js';
import {
  mapFulfillment,
  mapShipment,
  type ShipmentMapOptions,
  type ShipmentMapResult,
  salesOrderOf,
  stateVersion,
  versionHash,
  versionOfHash,
} from './shipments-mapper.js';

const at = (iso: string) => Date.parse(iso);
const options: ShipmentMapOptions = { connection: 'main', company: 'EDU1', storeIds: [], via: 'poll' };

function shipment(overrides: Partial<V1Shipment> = {}): V1Shipment {
  return {
    shipmentId: 5001,
    orderId: 9001,
    orderKey: 'EDU1:000123',
    orderNumber: '000123',
    createDate: '2024-07-16T14:00:34.8230000',
    shipDate: '2024-07-16',
    shipmentCost: 8.5,
    insuranceCost: 0,
    trackingNumber: '1Z999AA10123456784',
    carrierCode: 'ups',
    serviceCode: 'ups_ground',
    voided: false,
    voidDate: null,
    advancedOptions: { storeId: 310001 },
    shipmentItems: [
      { orderItemId: 1, lineItemKey: '1', sku: 'A100', name: 'Widget', quantity: 2, unitPrice: 3 },
      { orderItemId: 2, lineItemKey: '3', sku: 'B200', name: 'Gadget', quantity: 1, unitPrice: 4 },
    ],
    ...overrides,
  };
}

function fulfillment(overrides: Partial<V1Fulfillment> = {}): V1Fulfillment {
  return {
    fulfillmentId: 400000001,
    orderId: 9002,
    orderNumber: '000124',
    trackingNumber: '9400111899223100000000',
    createDate: '2024-01-16T09:15:00.0000000',
    shipDate: '2024-01-16T00:00:00.0000000',
    carrierCode: 'stamps_com',
    voided: false,
    voidDate: null,
    ...overrides,
  };
}

function written(result: ShipmentMapResult): ShipmentWrite {
  assert.equal(result.action, 'write', JSON.stringify(result));
  return (result as Extract<ShipmentMapResult, { action: 'write' }>).write;
}

function skipped(result: ShipmentMapResult): string {
  assert.equal(result.action, 'skip', JSON.stringify(result));
  return (result as Extract<ShipmentMapResult, { action: 'skip' }>).reason;
}

// luxon resolves ambiguous times by the zone's offset "today": results must not depend on it.
for (const today of ['2026-07-01T12:00:00Z', '2026-12-01T12:00:00Z']) {
  describe(`shipments mapper (as if today were ${today})`, () => {
    const realNow = Settings.now;
    before(() => {
      Settings.now = () => Date.parse(today);
    });
    after(() => {
      Settings.now = realNow;
    });

    it('maps a label to one write, Pacific times to UTC', () => {
      const w = written(mapShipment(shipment(), options));
      assert.deepEqual(w, {
        source: 'shipment',
        id: 5001,
        connection: 'main',
        orderKey: 'EDU1:000123',
        salesOrder: '000123',
        orderId: 9001,
        orderNumber: '000123',
        carrierCode: 'ups',
        serviceCode: 'ups_ground',
        trackingNumbers: ['1Z999AA10123456784'],
        shipDate: '2024-07-16',
        // Pacific midnight of the ship date, PDT.
        shipDateUtc: at('2024-07-16T07:00:00Z'),
        createdAtUtc: at('2024-07-16T21:00:34.823Z'),
        lines: [
          { salesOrderLine: '1', sku: 'A100', quantity: 2 },
          { salesOrderLine: '3', sku: 'B200', quantity: 1 },
        ],
        shipmentCost: 8.5,
        insuranceCost: 0,
        voided: false,
        voidedAtUtc: null,
        version: at('2024-07-16T21:00:34.823Z'),
        via: 'poll',
      } satisfies ShipmentWrite);
      // Winter: PST.
      const winter = written(
        mapShipment(shipment({ createDate: '2024-01-16T14:00:34.823', shipDate: '2024-01-16' }), options),
      );
      assert.equal(winter.createdAtUtc, at('2024-01-16T22:00:34.823Z'));
      assert.equal(winter.shipDateUtc, at('2024-01-16T08:00:00Z'));
    });

    it('reads the repeated fall-back hour as its earlier instant, and a void there never before its label', () => {
      // Label at 01:50 PDT (08:50Z), voided at 01:10 PST (09:10Z): both print as 01:xx.
      const w = written(
        mapShipment(
          shipment({
            createDate: '2024-11-03T01:50:00.0000000',
            shipDate: '2024-11-03',
            voided: true,
            voidDate: '2024-11-03T01:10:00.0000000',
          }),
          options,
        ),
      );
      assert.equal(w.createdAtUtc, at('2024-11-03T08:50:00Z'));
      assert.equal(w.voidedAtUtc, at('2024-11-03T09:10:00Z'));
      assert.equal(w.version, at('2024-11-03T09:10:00Z'));
      assert.ok(w.version > w.createdAtUtc);
      assert.equal(w.shipDateUtc, at('2024-11-03T07:00:00Z'), 'midnight before the change is PDT');
      // A void in the same hour after the label stays the earlier reading.
      const later = written(
        mapShipment(
          shipment({
            createDate: '2024-11-03T01:10:00.0000000',
            voided: true,
            voidDate: '2024-11-03T01:40:00.0000000',
          }),
          options,
        ),
      );
      assert.equal(later.voidedAtUtc, at('2024-11-03T08:40:00Z'));
    });

    it('reads a time in the skipped spring-forward hour with the offset before the change', () => {
      const w = written(
        mapShipment(shipment({ createDate: '2024-03-10T02:30:00.0000000', shipDate: '2024-03-10' }), options),
      );
      assert.equal(w.createdAtUtc, at('2024-03-10T10:30:00Z'));
      assert.equal(w.shipDateUtc, at('2024-03-10T08:00:00Z'), 'midnight before the change is PST');
      const after = written(mapShipment(shipment({ createDate: '2024-03-10T03:30:00.0000000' }), options));
      assert.equal(after.createdAtUtc, at('2024-03-10T10:30:00Z'), '03:30 PDT is the same instant');
    });
  });
}

describe('shipments mapper: records and lines', () => {
  it('keeps each label its own tracking number (a multi-package batch is one shipment per package)', () => {
    const packages = [
      shipment({ shipmentId: 1, trackingNumber: ' 1Z0000000000000001 ' }),
      shipment({ shipmentId: 2, trackingNumber: '1Z0000000000000002' }),
    ].map((s) => written(mapShipment(s, options)));
    assert.deepEqual(
      packages.map((w) => [w.id, w.trackingNumbers]),
      [
        [1, ['1Z0000000000000001']],
        [2, ['1Z0000000000000002']],
      ],
    );
    assert.deepEqual(written(mapShipment(shipment({ trackingNumber: null }), options)).trackingNumbers, []);
  });

  it('maps lineItemKey to salesOrderLine, leaves out adjustments, and null items as null lines', () => {
    const w = written(
      mapShipment(
        shipment({
          shipmentItems: [
            { lineItemKey: '2', sku: 'A100 ', quantity: 4 },
            { lineItemKey: null, sku: 'X', quantity: 1 },
            { lineItemKey: '5', sku: null, quantity: 1, adjustment: true },
          ],
        }),
        options,
      ),
    );
    assert.deepEqual(w.lines, [
      { salesOrderLine: '2', sku: 'A100', quantity: 4 },
      { sku: 'X', quantity: 1 },
    ]);
    assert.equal(written(mapShipment(shipment({ shipmentItems: null }), options)).lines, null);
  });

  it('skips records that are not ours, with a reason', () => {
    assert.match(
      skipped(mapShipment(shipment({ orderKey: 'OTHER:000123' }), options)),
      /not one of this connection's \(EDU1:…\)/,
    );
    assert.match(
      skipped(mapShipment(shipment({ orderKey: 'EDU10:000123' }), options)),
      /not one of this connection's/,
    );
    assert.match(
      skipped(mapShipment(shipment({ orderKey: 'EDU1:' }), options)),
      /not one of this connection's/,
    );
    assert.match(skipped(mapShipment(shipment({ orderKey: null }), options)), /no orderKey/);
    assert.match(
      skipped(mapShipment(shipment(), { ...options, storeIds: [310002] })),
      /store 310001 is not one of this connection's stores \(310002\)/,
    );
    assert.equal(mapShipment(shipment(), { ...options, storeIds: [310001] }).action, 'write');
    const skip = mapShipment(shipment({ orderKey: 'OTHER:1' }), options);
    assert.equal(
      (skip as { version: number }).version,
      at('2024-07-16T21:00:34.823Z'),
      'a skip carries its version',
    );
  });

  it('takes the orderKey of our order link when ShipStation sends none', () => {
    const w = written(mapShipment(shipment({ orderKey: null }), options, 'EDU1:000777'));
    assert.equal(w.orderKey, 'EDU1:000777');
    assert.equal(w.salesOrder, '000777');
    // Our own orderKey wins over a link.
    assert.equal(
      written(mapShipment(shipment({ orderKey: 'EDU1:000778' }), options, 'EDU1:000777')).salesOrder,
      '000778',
    );
    // A foreign orderKey (a marketplace order entered in SYSPRO) is ours through its link, whatever its store.
    const marketplace = shipment({ orderKey: 'shopify-1', advancedOptions: { storeId: 999 } } as never);
    assert.equal(written(mapShipment(marketplace, options, 'EDU1:000777')).salesOrder, '000777');
    assert.equal(mapShipment(shipment({ orderKey: 'OTHER:1' }), options).action, 'skip');
  });

  it('maps a fulfillment by its order link, with no lines, its ship date a calendar date', () => {
    const w = written(mapFulfillment(fulfillment(), options, 'EDU1:000124'));
    assert.equal(w.source, 'fulfillment');
    assert.equal(w.id, 400000001);
    assert.equal(w.salesOrder, '000124');
    assert.equal(w.shipDate, '2024-01-16');
    assert.equal(w.shipDateUtc, at('2024-01-16T08:00:00Z'));
    assert.equal(w.createdAtUtc, at('2024-01-16T17:15:00Z'));
    assert.equal(w.lines, null);
    assert.deepEqual(w.trackingNumbers, ['9400111899223100000000']);
    assert.equal(w.shipmentCost, null);
    assert.match(skipped(mapFulfillment(fulfillment(), options)), /not an order we pushed/);
    const voided = written(
      mapFulfillment(
        fulfillment({ voided: true, voidDate: '2024-01-17T10:00:00.0000000' }),
        options,
        'EDU1:000124',
      ),
    );
    assert.equal(voided.version, at('2024-01-17T18:00:00Z'));
  });

  it('reports a date it cannot read as invalid, not as a write', () => {
    const result = mapShipment(shipment({ createDate: 'yesterday' }), options);
    assert.equal(result.action, 'invalid');
    assert.match((result as { problem: string }).problem, /shipment 5001: not a ShipStation date\/time/);
  });

  it('orders states: a void is newer than its label, even without a void date', () => {
    assert.equal(stateVersion(100, false, null), 100);
    assert.equal(stateVersion(100, true, 500), 500);
    assert.equal(stateVersion(100, true, null), 101);
    assert.equal(stateVersion(100, true, 50), 101);
    const noDate = written(mapShipment(shipment({ voided: true, voidDate: null }), options));
    assert.equal(noDate.version, noDate.createdAtUtc + 1);
    assert.equal(noDate.voidedAtUtc, null);
  });

  it('reads our orderKeys and version hashes', () => {
    assert.equal(salesOrderOf('EDU1:000123', 'EDU1'), '000123');
    assert.equal(salesOrderOf('EDU1:000123', ' EDU1 '), '000123');
    assert.equal(salesOrderOf('EDU2:000123', 'EDU1'), null);
    assert.equal(salesOrderOf(null, 'EDU1'), null);
    assert.equal(versionHash(1731), 'v1731');
    assert.equal(versionOfHash('v1731'), 1731);
    assert.equal(versionOfHash('abc'), null);
    assert.equal(versionOfHash(null), null);
  });
});
