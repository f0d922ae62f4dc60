/**
 * Shipments back to SYSPRO with the `dispatch-note` strategy, end to end: `ml-connector run` as a
 * child process against both sandboxes over HTTP, webhooks subscribed with our own command and
 * delivered by the ShipStation sandbox. The ShipStation sandbox runs on a fake clock set by the test
 * (labels made on both DST days without waiting for them); effects are counted in the SYSPRO
 * sandbox's own dispatch notes, lines and call log, and in the ShipStation sandbox's request log.
 *
 * One run process and one sandbox pair for the file; each test takes orders no other test touches.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Row } from '../../src/sandbox/syspro/index.js';
import { openStore, type Store } from '../../src/store/open.js';
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import { shipmentLinkKey } from '../../src/sync/shipment-model.js';
import { FakeClock } from '../helpers/clock.js';
import { type RunChild, type RunSetup, salesOrderOfKey, setupRun, waitFor } from '../helpers/run-process.js';

interface Label {
  shipmentId: number;
  orderId: number;
  trackingNumber: string;
  carrierCode: string;
  serviceCode: string;
  shipmentItems: Array<{ lineItemKey: string; sku: string; quantity: number }> | null;
}

describe('ml-connector run: shipments written back as dispatch notes', () => {
  const clock = new FakeClock(Date.now(), { autoAdvance: false });
  let run: RunSetup;
  let child: RunChild;
  let store: Store;
  const used = new Set<number>();

  before(async () => {
    run = await setupRun({
      prefix: 'shipments-dispatch',
      seed: 21,
      orders: 200,
      shipstation: { clock },
      configure: (document, connection) => {
        connection.mappings = { carriers: { fedex: 'FedEx' } };
        connection.shipments = { voids: 'flag' };
        // Flagged voids and refused writes go dead at once: no retry cadence to wait through.
        document.retry = { perKind: { 'shipments.writeback': ['1s'] }, jitter: 0 };
      },
    });
    child = run.start();
    await waitFor(() => ours().length >= 18, 'orders in ShipStation', child.output);
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
  /** An order of ours no other test has taken, whose physical items pass `fits`. */
  function takeOrder(
    fits: (items: Array<{ lineItemKey: string; quantity: number }>) => boolean = () => true,
  ) {
    const record = ours().find((r) => {
      if (used.has(r.orderId)) return false;
      const items = (r.body().items ?? []).filter((i) => i.adjustment !== true) as Array<{
        lineItemKey: string;
        quantity: number;
      }>;
      return items.length > 0 && fits(items);
    });
    assert.ok(record, 'a fitting order of ours in ShipStation');
    used.add(record.orderId);
    const items = (record.body().items ?? []).filter((i) => i.adjustment !== true) as Array<{
      lineItemKey: string;
      sku: string;
      quantity: number;
    }>;
    return { orderId: record.orderId, salesOrder: salesOrderOfKey(record.orderKey), items };
  }
  let lastBatchId = 0;
  const label = async (orderId: number, body: Record<string, unknown> = {}) => {
    const made = await run.sandboxPost<{ batchId: number; shipments: Label[] }>(
      `/_sandbox/orders/${orderId}/labels`,
      body,
    );
    lastBatchId = made.batchId;
    return made.shipments;
  };
  const notesOf = (shipmentId: number) =>
    run.syspro.db.mdnMaster.rows.filter(
      (n) => n.DispatchComments1 === dispatchNoteReference(shipmentLinkKey('shipment', shipmentId)),
    );
  const linesOf = (note: Row) =>
    run.syspro.db.mdnDetail.rows.filter((d) => d.DispatchNote === note.DispatchNote);
  const sortdnPostsOf = (shipmentId: number) =>
    run.syspro.calls.list({
      businessObject: 'SORTDN',
      contains: dispatchNoteReference(shipmentLinkKey('shipment', shipmentId)),
    });
  const sysproLine = (salesOrder: string, line: string | number) =>
    run.syspro.db.linesOf(salesOrder).find((l) => l.SalesOrderLine === Number(line)) as Row;
  const pollsDone = () => (child.output().match(/"msg":"shipments poll done"/g) ?? []).length;
  const writebackJobs = (state?: string) => {
    let q = store.db.selectFrom('jobs').selectAll().where('kind', '=', 'shipments.writeback');
    if (state) q = q.where('state', '=', state as never);
    return q.execute();
  };
  const jobOf = async (shipmentId: number) =>
    (await writebackJobs()).filter(
      (j) => j.idempotency_key === `shipments.writeback:main:shipment:${shipmentId}`,
    );

  it('labels on both DST days become one dispatch note each, with tracking, carrier, quantities and UTC times', async () => {
    // Pacific wall clock of each label → the UTC minute SYSPRO must read.
    const cases = [
      {
        at: '2026-03-08T09:45:00Z',
        pacificDate: '2026-03-08',
        carrier: 'ups',
        note: '01:45 PST, before spring-forward',
      },
      {
        at: '2026-03-08T10:15:00Z',
        pacificDate: '2026-03-08',
        carrier: 'fedex',
        note: '03:15 PDT, after it',
      },
      {
        at: '2026-11-01T07:30:00Z',
        pacificDate: '2026-11-01',
        carrier: 'usps',
        note: '00:30 PDT, before fall-back',
      },
      {
        at: '2026-11-01T08:30:00Z',
        pacificDate: '2026-11-01',
        carrier: 'ups',
        note: '01:30 PDT, first 01:30',
      },
      {
        at: '2026-11-01T10:15:00Z',
        pacificDate: '2026-11-01',
        carrier: 'fedex',
        note: '02:15 PST, after it',
      },
      {
        at: '2026-11-02T07:30:00Z',
        pacificDate: '2026-11-01',
        carrier: 'ups',
        note: '23:30 PST, the UTC date is the next',
      },
    ];
    const made: Array<
      {
        label: Label;
        salesOrder: string;
        items: Array<{ lineItemKey: string; quantity: number }>;
      } & (typeof cases)[number]
    > = [];
    for (const c of cases) {
      clock.set(c.at);
      const order = takeOrder();
      const [shipment] = await label(order.orderId, { carrierCode: c.carrier });
      assert.ok(shipment);
      made.push({ ...c, label: shipment, salesOrder: order.salesOrder, items: order.items });
    }
    await waitFor(
      () => made.every((m) => notesOf(m.label.shipmentId).length > 0),
      'six dispatch notes',
      child.output,
    );
    for (const m of made) {
      const notes = notesOf(m.label.shipmentId);
      assert.equal(notes.length, 1, `${m.note}: one note`);
      const note = notes[0] as Row;
      assert.equal(note.SalesOrder, m.salesOrder, m.note);
      const utc = `${m.at.slice(0, 10)} ${m.at.slice(11, 16)}Z`;
      const carrier = m.carrier === 'fedex' ? 'FedEx' : m.carrier.toUpperCase();
      assert.equal(note.DispatchComments2, `Shipped ${utc} ${carrier} ${m.label.serviceCode}`, m.note);
      assert.equal(note.UserField1, carrier, m.note);
      assert.equal(note.UserField2, m.label.trackingNumber, m.note);
      assert.equal(note.PlannedDeliverDate, m.pacificDate, `${m.note}: the Pacific ship date`);
      const shipped = new Map(linesOf(note).map((l) => [String(l.SalesOrderLine), Number(l.MDispatchQty)]));
      const expected = new Map(m.items.map((i) => [String(i.lineItemKey), i.quantity]));
      assert.deepEqual(shipped, expected, `${m.note}: every item, its quantity`);
      assert.equal(sortdnPostsOf(m.label.shipmentId).length, 1, `${m.note}: posted once`);
    }
  });

  it('a label made in the repeated fall-back hour is read as its earlier instant (the documented rule)', async () => {
    // 09:30Z is 01:30 PST, the second 01:30: ShipStation's offset-less "01:30" cannot say which.
    clock.set('2026-11-01T09:30:00Z');
    const order = takeOrder();
    const [shipment] = await label(order.orderId, { carrierCode: 'ups' });
    assert.ok(shipment);
    await waitFor(() => notesOf(shipment.shipmentId).length > 0, 'the dispatch note', child.output);
    assert.match(
      String(notesOf(shipment.shipmentId)[0]?.DispatchComments2),
      /^Shipped 2026-11-01 08:30Z UPS /,
    );
  });

  it('a multi-package label, a partial shipment and a line short in SYSPRO are written right', async () => {
    clock.set(Date.now());
    // Two packages of one line (its quantity split) plus a package of the rest.
    const multi = takeOrder((items) => items.some((i) => i.quantity >= 2));
    const split = multi.items.find((i) => i.quantity >= 2)!;
    const half = Math.floor(split.quantity / 2);
    const packages = [
      { items: [{ lineItemKey: split.lineItemKey, quantity: half }] },
      { items: [{ lineItemKey: split.lineItemKey, quantity: split.quantity - half }] },
    ];
    const rest = multi.items.filter((i) => i !== split);
    if (rest.length > 0)
      packages.push({ items: rest.map((i) => ({ lineItemKey: i.lineItemKey, quantity: i.quantity })) });
    const multiLabels = await label(multi.orderId, { carrierCode: 'ups', packages });
    assert.equal(multiLabels.length, packages.length);
    assert.equal(
      new Set(multiLabels.map((l) => l.trackingNumber)).size,
      packages.length,
      'a tracking number per package',
    );

    // A partial shipment: the first item only (another label of the rest follows).
    const partial = takeOrder((items) => items.length >= 2);
    const [first, ...others] = partial.items;
    const [partialLabel] = await label(partial.orderId, {
      carrierCode: 'fedex',
      items: [{ lineItemKey: first!.lineItemKey, quantity: first!.quantity }],
    });

    // A line of which SYSPRO has dispatched part by hand since the order went to ShipStation.
    const short = takeOrder((items) => items.some((i) => i.quantity >= 2));
    const shortItem = short.items.find((i) => i.quantity >= 2)!;
    const shortLine = sysproLine(short.salesOrder, shortItem.lineItemKey);
    const open = Number(shortLine.MOrderQty) - Number(shortLine.MQtyDispatched);
    shortLine.MQtyDispatched = Number(shortLine.MQtyDispatched) + (open - 1);
    const [shortLabel] = await label(short.orderId, { carrierCode: 'usps' });

    await waitFor(
      () => [...multiLabels, partialLabel!, shortLabel!].every((l) => notesOf(l.shipmentId).length > 0),
      'a dispatch note per package, the partial and the short line',
      child.output,
    );
    // Multi-package: one note per package (V1 has one shipment per package), each with its own
    // tracking number; the split line's quantities add up to what it ordered.
    const dispatchedOfSplit = multiLabels.reduce((sum, l) => {
      const notes = notesOf(l.shipmentId);
      assert.equal(notes.length, 1);
      assert.equal(notes[0]!.UserField2, l.trackingNumber, 'each package keeps its tracking number');
      return (
        sum +
        linesOf(notes[0]!)
          .filter((d) => String(d.SalesOrderLine) === split.lineItemKey)
          .reduce((s, d) => s + Number(d.MDispatchQty), 0)
      );
    }, 0);
    assert.equal(dispatchedOfSplit, split.quantity);
    const splitLine = sysproLine(multi.salesOrder, split.lineItemKey);
    assert.ok(Number(splitLine.MQtyDispatched) <= Number(splitLine.MOrderQty), 'never more than ordered');

    // Partial: only the first item is dispatched; the others stay open.
    const partialNote = notesOf(partialLabel!.shipmentId)[0]!;
    assert.deepEqual(
      linesOf(partialNote).map((d) => [String(d.SalesOrderLine), Number(d.MDispatchQty)]),
      [[first!.lineItemKey, first!.quantity]],
    );
    for (const item of others) {
      const line = sysproLine(partial.salesOrder, item.lineItemKey);
      assert.ok(
        Number(line.MOrderQty) - Number(line.MQtyDispatched) >= item.quantity,
        `line ${item.lineItemKey} still open`,
      );
    }
    // The rest of the partial order ships later: a second note, nothing shipped twice.
    const [restLabel] = await label(partial.orderId, { carrierCode: 'fedex' });
    await waitFor(
      () => notesOf(restLabel!.shipmentId).length > 0,
      'the second note of the partial order',
      child.output,
    );
    const restLines = linesOf(notesOf(restLabel!.shipmentId)[0]!);
    assert.deepEqual(
      restLines.map((d) => String(d.SalesOrderLine)).sort(),
      others.map((i) => i.lineItemKey).sort(),
    );

    // Short: capped at the one unit still open in SYSPRO, and the audit says what was not written.
    const shortNote = notesOf(shortLabel!.shipmentId)[0]!;
    const shortDispatched = linesOf(shortNote).find(
      (d) => String(d.SalesOrderLine) === shortItem.lineItemKey,
    );
    assert.equal(Number(shortDispatched?.MDispatchQty), 1, 'capped at what is open');
    assert.ok(Number(shortLine.MQtyDispatched) <= Number(shortLine.MOrderQty));
    const audit = await store.db
      .selectFrom('audit')
      .selectAll()
      .where('entity_key', '=', shipmentLinkKey('shipment', shortLabel!.shipmentId))
      .where('action', '=', 'dispatch-note')
      .where('outcome', '=', 'ok')
      .execute();
    assert.equal(audit.length, 1);
    assert.match(String(audit[0]!.detail), /more than is open on the order, not written/);
  });

  it('the same shipment by webhook twice and by the poll once is written once', async () => {
    clock.set(Date.now());
    const order = takeOrder();
    const before = pollsDone();
    const [shipment] = await label(order.orderId, { carrierCode: 'ups' });
    const batchPath = `batchId=${lastBatchId}&`;
    await waitFor(() => notesOf(shipment!.shipmentId).length > 0, 'the dispatch note', child.output);
    // ShipStation delivers the same ITEM_SHIP_NOTIFY again (its retries, or a second subscription).
    const delivery = run.shipstation
      .deliveries()
      .find((d) => d.status === 'delivered' && d.event === 'ITEM_SHIP_NOTIFY' && d.body.includes(batchPath));
    assert.ok(delivery, 'the sandbox delivered the ITEM_SHIP_NOTIFY');
    const again = await fetch(delivery.targetUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: delivery.body,
    });
    assert.equal(again.status, 200);
    await waitFor(
      () => run.shipstation.requests().filter((r) => r.url.includes(batchPath)).length >= 2,
      'both webhooks followed',
      child.output,
    );
    // The poll has read the shipment too (its window covers the label) after both fetches.
    await waitFor(() => pollsDone() >= before + 2, 'two shipments polls', child.output);
    assert.equal(notesOf(shipment!.shipmentId).length, 1, 'one dispatch note');
    assert.equal(sortdnPostsOf(shipment!.shipmentId).length, 1, 'posted once');
    assert.equal((await jobOf(shipment!.shipmentId)).filter((j) => j.state === 'succeeded').length, 1);
  });

  it('a forged webhook reaches no host', async () => {
    let trapped = 0;
    const trap: Server = createServer((_req, res) => {
      trapped++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"shipments":[],"total":0,"page":1,"pages":0}');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}`;
    const sandboxHost = new URL(run.shipstation.url).host;
    const requestsBefore = run.shipstation.requests().length;
    const receiver = `${run.address}/webhooks/shipstation/main`;
    const post = (body: unknown, token = run.webhookSecret) =>
      fetch(`${receiver}?token=${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    try {
      const forged = [
        {
          resource_url: `${trapUrl}/shipments?batchId=1&includeShipmentItems=False`,
          resource_type: 'SHIP_NOTIFY',
        },
        { resource_url: `${trapUrl}/fulfillments?batchId=1`, resource_type: 'FULFILLMENT_SHIPPED' },
        {
          resource_url: `${trapUrl.replace('127.0.0.1', 'localhost')}/shipments?batchId=1`,
          resource_type: 'SHIP_NOTIFY',
        },
        {
          resource_url: `http://${sandboxHost}@${new URL(trapUrl).host}/shipments?batchId=1`,
          resource_type: 'SHIP_NOTIFY',
        },
        { resource_url: `${run.shipstation.url}/shipments?pageSize=500`, resource_type: 'SHIP_NOTIFY' },
        {
          resource_url: `${run.shipstation.url}/shipments/../orders?importBatch=1`,
          resource_type: 'SHIP_NOTIFY',
        },
      ];
      for (const body of forged) {
        const res = await post(body);
        assert.equal(res.status, 400, `${body.resource_url}: ${await res.text()}`);
      }
      const wrongToken = await post(forged[0], 'not-the-secret');
      assert.equal(wrongToken.status, 401);
      // A genuine label after them: once its note is in SYSPRO, the worker has run past them all.
      clock.set(Date.now());
      const order = takeOrder();
      const [shipment] = await label(order.orderId, { carrierCode: 'ups' });
      await waitFor(
        () => notesOf(shipment!.shipmentId).length > 0,
        'the genuine label written',
        child.output,
      );
      assert.equal(trapped, 0, 'no forged resource_url was fetched');
      const later = run.shipstation.requests().slice(requestsBefore);
      assert.ok(
        !later.some((r) => /pageSize=500|orders\?importBatch/.test(r.url)),
        'nor a forged path on the sandbox',
      );
      const refused = await store.db
        .selectFrom('audit')
        .select(['action', 'outcome'])
        .where('flow', 'like', 'webhook%')
        .where('outcome', '=', 'error')
        .execute();
      assert.ok(refused.length >= forged.length + 1, `refusals audited (${refused.length})`);
      const fetchJobs = await store.db
        .selectFrom('jobs')
        .select('payload')
        .where('kind', '=', 'shipments.fetch')
        .execute();
      assert.ok(
        !fetchJobs.some((j) => j.payload.includes(new URL(trapUrl).host)),
        'nothing forged was stored',
      );
    } finally {
      await new Promise<void>((resolve) => trap.close(() => resolve()));
    }
  });

  it('a voided label is flagged for the operator, audited, and the re-shipped order is written as the new shipment', async () => {
    clock.set(Date.now());
    const order = takeOrder();
    const statusBefore = run.syspro.db.sorMaster.rows.find(
      (r) => r.SalesOrder === order.salesOrder,
    )?.OrderStatus;
    const [shipment] = await label(order.orderId, { carrierCode: 'ups' });
    await waitFor(() => notesOf(shipment!.shipmentId).length > 0, 'the dispatch note', child.output);
    const note = notesOf(shipment!.shipmentId)[0]!;
    clock.set(Date.now());
    await run.sandboxPost(`/_sandbox/shipments/${shipment!.shipmentId}/void`);
    // Voids come by the poll's void-date window only (ShipStation sends no webhook for them).
    const voidJob = async () =>
      (await jobOf(shipment!.shipmentId)).find(
        (j) => j.state === 'dead' && /voided/.test(j.last_error ?? ''),
      );
    await waitFor(
      async () => (await voidJob()) !== undefined,
      'the void flagged (a dead job with its reason)',
      child.output,
    );
    const flagged = (await voidJob())!;
    assert.match(flagged.last_error ?? '', new RegExp(`dispatch note ${String(note.DispatchNote)}`));
    assert.match(flagged.last_error ?? '', new RegExp(shipment!.trackingNumber));
    const audit = await store.db
      .selectFrom('audit')
      .selectAll()
      .where('entity_key', '=', shipmentLinkKey('shipment', shipment!.shipmentId))
      .where('action', '=', 'void')
      .execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.outcome, 'error');
    assert.match(String(audit[0]!.detail), /"flagged":true/);
    const shown = await run.cli(['shipments', 'show', String(shipment!.shipmentId)]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /voided/);
    // SYSPRO is not changed by a flag: the note stays, posted once.
    assert.equal(notesOf(shipment!.shipmentId).length, 1);
    assert.equal(sortdnPostsOf(shipment!.shipmentId).length, 1);

    // Re-shipped: SYSPRO still has the voided label's note, so nothing is open: the new shipment
    // waits dead with what to do; once the operator has reversed the note, a replay writes it.
    clock.set(Date.now());
    const [reship] = await label(order.orderId, { carrierCode: 'fedex' });
    const reshipDead = async () => (await jobOf(reship!.shipmentId)).find((j) => j.state === 'dead');
    await waitFor(
      async () => (await reshipDead()) !== undefined,
      'the re-shipment waiting for the operator',
      child.output,
    );
    assert.match((await reshipDead())!.last_error ?? '', /nothing is left open.*reverse it and replay/);
    // The operator reverses the voided note in SYSPRO (by hand: SORTDC is not supported).
    for (const d of linesOf(note)) {
      const line = sysproLine(order.salesOrder, String(d.SalesOrderLine));
      line.MQtyDispatched = Number(line.MQtyDispatched) - Number(d.MDispatchQty);
    }
    const salesOrderRow = run.syspro.db.sorMaster.rows.find((r) => r.SalesOrder === order.salesOrder);
    if (salesOrderRow) salesOrderRow.OrderStatus = statusBefore;
    const replayed = await run.cli(['replay', String((await reshipDead())!.id)]);
    assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
    await waitFor(() => notesOf(reship!.shipmentId).length > 0, 'the re-shipment written', child.output);
    const reshipNote = notesOf(reship!.shipmentId)[0]!;
    assert.equal(reshipNote.UserField2, reship!.trackingNumber);
    assert.equal(reshipNote.UserField1, 'FedEx');
    assert.equal(notesOf(reship!.shipmentId).length, 1);
  });
});
