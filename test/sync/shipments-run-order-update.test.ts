/**
 * Shipments back to SYSPRO with the `order-update` strategy, end to end: `ml-connector run` as a
 * child process against both sandboxes over HTTP (webhooks delivered by the ShipStation sandbox,
 * on a fake clock set by the test). Effects are counted in the SYSPRO sandbox's own order lines
 * (SORTOI ship quantities), custom form fields (COMSFM), order status (SORTOS) and call log.
 * Voids are reversed (`shipments.voids: reverse`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Row } from '../../src/sandbox/syspro/index.js';
import { openStore, type Store } from '../../src/store/open.js';
import { shipmentLinkKey } from '../../src/sync/shipment-model.js';
import { FakeClock } from '../helpers/clock.js';
import { type RunChild, type RunSetup, salesOrderOfKey, setupRun, waitFor } from '../helpers/run-process.js';

interface Label {
  shipmentId: number;
  trackingNumber: string;
  carrierCode: string;
}
type Item = { lineItemKey: string; quantity: number };

const TRACKING_WIDTH = 40;

describe('ml-connector run: shipments written back as order updates', () => {
  const clock = new FakeClock(Date.now(), { autoAdvance: false });
  let run: RunSetup;
  let child: RunChild;
  let store: Store;
  const used = new Set<number>();

  before(async () => {
    run = await setupRun({
      prefix: 'shipments-order-update',
      seed: 22,
      orders: 200,
      shipstation: { clock },
      configure: (document, connection) => {
        connection.syspro = { ...connection.syspro, writeback: 'order-update' };
        connection.mappings = { carriers: { fedex: 'FedEx' } };
        connection.shipments = { voids: 'reverse', orderUpdate: { trackingWidth: TRACKING_WIDTH } };
        document.retry = { perKind: { 'shipments.writeback': ['1s'] }, jitter: 0 };
      },
    });
    child = run.start();
    await waitFor(() => ours().length >= 10, 'orders in ShipStation', child.output);
    const subscribed = await run.cli(['webhooks', 'subscribe']);
    assert.equal(subscribed.code, 0, subscribed.stdout + subscribed.stderr);
    store = openStore(run.storeUrl);
  });
  after(async () => {
    await store?.close();
    if (child) assert.equal(await child.stop(), 0, child.output().slice(-2000));
    await run?.close();
  });

  const ours = () =>
    [...run.shipstation.state.orders.values()].filter(
      (r) => r.orderKey.startsWith(`${run.syspro.company}:`) && r.status === 'awaiting_shipment',
    );
  function takeOrder(fits: (items: Item[], salesOrder: string) => boolean = () => true) {
    const itemsOf = (r: ReturnType<typeof ours>[number]) =>
      (r.body().items ?? []).filter((i) => i.adjustment !== true) as unknown as Item[];
    const record = ours().find(
      (r) => !used.has(r.orderId) && itemsOf(r).length > 0 && fits(itemsOf(r), salesOrderOfKey(r.orderKey)),
    );
    assert.ok(record, 'a fitting order of ours in ShipStation');
    used.add(record.orderId);
    return { orderId: record.orderId, salesOrder: salesOrderOfKey(record.orderKey), items: itemsOf(record) };
  }
  /** Whether the ShipStation order's items are everything SYSPRO has open (no back order left). */
  const wholeOrder = (salesOrder: string, items: Item[]) =>
    run.syspro.db
      .linesOf(String(order(salesOrder).SalesOrder))
      .filter((l) => l.LineType === '1' || l.LineType === '7')
      .every((l) => {
        const open = Number(l.MOrderQty) - Number(l.MQtyDispatched);
        return open <= 0 || items.find((i) => Number(i.lineItemKey) === l.SalesOrderLine)?.quantity === open;
      });
  const label = async (orderId: number, body: Record<string, unknown> = {}) =>
    (await run.sandboxPost<{ shipments: Label[] }>(`/_sandbox/orders/${orderId}/labels`, body)).shipments;
  const sameOrder = (a: unknown, b: string) =>
    String(a).trim().replace(/^0+/, '') === b.trim().replace(/^0+/, '');
  const formField = (salesOrder: string, name: string) =>
    run.syspro.db.admFormData.rows.find(
      (r) => r.FormType === 'ORD' && r.FieldName === name && sameOrder(r.KeyField, salesOrder),
    );
  const order = (salesOrder: string) =>
    run.syspro.db.sorMaster.rows.find((r) => sameOrder(r.SalesOrder, salesOrder)) as Row;
  const shipQty = (salesOrder: string, line: string) =>
    Number(
      run.syspro.db
        .linesOf(String(order(salesOrder).SalesOrder))
        .find((l) => l.SalesOrderLine === Number(line))?.MShipQty,
    );
  const tracking = (salesOrder: string) => String(formField(salesOrder, 'TRACKNO')?.AlphaValue ?? '');
  const callsFor = (bo: string, salesOrder: string) =>
    run.syspro.calls
      .list({
        businessObject: bo,
        contains: `<SalesOrder>${String(order(salesOrder).SalesOrder)}</SalesOrder>`,
      })
      .filter((c) => c.outcome === 'ok');
  const written = (shipmentId: number) =>
    store.db
      .selectFrom('links')
      .select(['state', 'last_hash'])
      .where('entity_type', '=', 'shipment')
      .where('syspro_key', '=', shipmentLinkKey('shipment', shipmentId))
      .executeTakeFirst();
  const isWritten = async (shipmentId: number, state = 'written') =>
    (await written(shipmentId))?.state === state;

  it('labels on both DST days become order updates: ship quantities, tracking, carrier, Pacific ship date, status', async () => {
    const cases = [
      // 23:30 PST on the 7th: the UTC date is already the 8th, the ship date is not.
      { at: '2026-03-08T07:30:00Z', shipDate: '2026-03-07', carrier: 'ups' },
      { at: '2026-03-08T10:15:00Z', shipDate: '2026-03-08', carrier: 'fedex' },
      { at: '2026-11-01T08:30:00Z', shipDate: '2026-11-01', carrier: 'usps' },
      { at: '2026-11-02T07:30:00Z', shipDate: '2026-11-01', carrier: 'ups' },
    ];
    const made: Array<(typeof cases)[number] & ReturnType<typeof takeOrder> & { shipment: Label }> = [];
    for (const c of cases) {
      clock.set(c.at);
      const o = takeOrder((items, so) => wholeOrder(so, items));
      const [shipment] = await label(o.orderId, { carrierCode: c.carrier });
      made.push({ ...c, ...o, shipment: shipment! });
    }
    await waitFor(
      async () => {
        for (const m of made) if (!(await isWritten(m.shipment.shipmentId))) return false;
        return true;
      },
      'four order updates',
      child.output,
    );
    for (const m of made) {
      const carrier = m.carrier === 'fedex' ? 'FedEx' : m.carrier.toUpperCase();
      for (const item of m.items)
        assert.equal(
          shipQty(m.salesOrder, item.lineItemKey),
          item.quantity,
          `${m.at} line ${item.lineItemKey}`,
        );
      assert.equal(tracking(m.salesOrder), m.shipment.trackingNumber, m.at);
      assert.equal(formField(m.salesOrder, 'CARRIER')?.AlphaValue, carrier, m.at);
      assert.match(
        String(formField(m.salesOrder, 'SHIPDATE')?.DateValue),
        new RegExp(`^${m.shipDate}`),
        `${m.at}: the Pacific ship date`,
      );
      assert.equal(order(m.salesOrder).OrderStatus, '8', `${m.at}: every line shipped → status 8`);
      const sortos = callsFor('SORTOS', m.salesOrder);
      assert.equal(sortos.length, 1, `${m.at}: one SORTOS`);
      assert.match(sortos[0]!.xmlParameters, /<ValidateOnly>N<\/ValidateOnly>/);
      assert.equal(sortos[0]!.validateOnly, false);
      const sortoi = callsFor('SORTOI', m.salesOrder);
      assert.equal(sortoi.length, 1, `${m.at}: one SORTOI\n${sortoi.map((c) => c.xmlIn).join('\n')}`);
    }
  });

  it('a multi-package label and a partial shipment: ship quantities add up, every tracking number kept (overflow as documented)', async () => {
    clock.set(Date.now());
    // Four packages out of the order's units (a line's quantity split), in one label batch.
    const multi = takeOrder(
      (items, so) => wholeOrder(so, items) && items.reduce((s, i) => s + i.quantity, 0) >= 4,
    );
    const units = multi.items.flatMap((i) => Array.from({ length: i.quantity }, () => i.lineItemKey));
    const packages = [units.slice(0, 1), units.slice(1, 2), units.slice(2, 3), units.slice(3)].map((keys) => {
      const counts = new Map<string, number>();
      for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
      return { items: [...counts].map(([lineItemKey, quantity]) => ({ lineItemKey, quantity })) };
    });
    const labels = await label(multi.orderId, { carrierCode: 'ups', packages });
    assert.equal(labels.length, 4);
    // A partial shipment: the first item only.
    const partial = takeOrder((items, so) => wholeOrder(so, items) && items.length >= 2);
    const [first, ...others] = partial.items;
    const [partialLabel] = await label(partial.orderId, {
      carrierCode: 'fedex',
      items: [{ lineItemKey: first!.lineItemKey, quantity: first!.quantity }],
    });
    await waitFor(
      async () => {
        for (const l of [...labels, partialLabel!]) if (!(await isWritten(l.shipmentId))) return false;
        return true;
      },
      'the packages and the partial written',
      child.output,
    );

    for (const item of multi.items) {
      assert.equal(
        shipQty(multi.salesOrder, item.lineItemKey),
        item.quantity,
        `line ${item.lineItemKey}: the packages add up`,
      );
    }
    assert.equal(order(multi.salesOrder).OrderStatus, '8');
    // 18-character UPS numbers: two fit in 40 characters; past that the field counts the rest (`+N more`).
    const field = tracking(multi.salesOrder);
    assert.ok(field.length <= TRACKING_WIDTH, field);
    const shown = field.split(' ').filter((w) => /^1Z/.test(w));
    const more = Number(/\+(\d+) more$/.exec(field)?.[1] ?? 0);
    assert.equal(shown.length + more, 4, `every package counted in the field: ${field}`);
    for (const w of shown) assert.ok(labels.some((l) => l.trackingNumber === w));
    // The audit keeps every number.
    const audit = await store.db
      .selectFrom('audit')
      .select('detail')
      .where('action', '=', 'order-update')
      .where('outcome', '=', 'ok')
      .where(
        'entity_key',
        'in',
        labels.map((l) => shipmentLinkKey('shipment', l.shipmentId)),
      )
      .execute();
    for (const l of labels)
      assert.ok(
        audit.some((a) => String(a.detail).includes(l.trackingNumber)),
        l.trackingNumber,
      );

    assert.equal(shipQty(partial.salesOrder, first!.lineItemKey), first!.quantity);
    assert.notEqual(order(partial.salesOrder).OrderStatus, '8', 'not complete yet');
    assert.equal(callsFor('SORTOS', partial.salesOrder).length, 0);
    const [restLabel] = await label(partial.orderId, { carrierCode: 'fedex' });
    await waitFor(() => isWritten(restLabel!.shipmentId), 'the rest of the partial order', child.output);
    for (const item of partial.items)
      assert.equal(shipQty(partial.salesOrder, item.lineItemKey), item.quantity);
    assert.equal(
      tracking(partial.salesOrder),
      `${partialLabel!.trackingNumber} ${restLabel!.trackingNumber}`,
    );
    assert.equal(order(partial.salesOrder).OrderStatus, '8');
    void others;
  });

  it('a voided label is reversed in SYSPRO, audited, and the re-shipped order is written as the new shipment', async () => {
    clock.set(Date.now());
    const o = takeOrder();
    const [shipment] = await label(o.orderId, { carrierCode: 'ups' });
    await waitFor(() => isWritten(shipment!.shipmentId), 'the order update', child.output);
    for (const item of o.items) assert.equal(shipQty(o.salesOrder, item.lineItemKey), item.quantity);
    clock.set(Date.now());
    await run.sandboxPost(`/_sandbox/shipments/${shipment!.shipmentId}/void`);
    await waitFor(() => isWritten(shipment!.shipmentId, 'reversed'), 'the void reversed', child.output);
    for (const item of o.items)
      assert.equal(shipQty(o.salesOrder, item.lineItemKey), 0, `line ${item.lineItemKey} taken back`);
    assert.equal(tracking(o.salesOrder), '', 'the voided tracking number is gone');
    const audit = await store.db
      .selectFrom('audit')
      .selectAll()
      .where('entity_key', '=', shipmentLinkKey('shipment', shipment!.shipmentId))
      .where('action', '=', 'void')
      .execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.outcome, 'ok');

    clock.set(Date.now());
    const [reship] = await label(o.orderId, { carrierCode: 'fedex' });
    await waitFor(() => isWritten(reship!.shipmentId), 'the re-shipment written', child.output);
    for (const item of o.items) assert.equal(shipQty(o.salesOrder, item.lineItemKey), item.quantity);
    assert.equal(tracking(o.salesOrder), reship!.trackingNumber);
    assert.equal(formField(o.salesOrder, 'CARRIER')?.AlphaValue, 'FedEx');
  });
});
