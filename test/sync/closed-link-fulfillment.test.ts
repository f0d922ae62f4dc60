/**
 * An order marked as shipped in ShipStation, then changed in SYSPRO before the shipments poll has
 * read its fulfillment: the push finds it shipped and closes its link (never overwritten). The
 * fulfillment carries no orderKey and is ours only through that link's ShipStation orderId, so the
 * close must keep it: the next `run` writes the fulfillment back to SYSPRO, once (before, the close
 * cleared the id and the fulfillment was skipped as "not an order we pushed": SYSPRO never learned
 * of the shipment). And one of an order completed in SYSPRO (its link closed by the orders poll) is
 * tried and refused by SYSPRO with its reason, a dead job for the operator, not skipped as not ours.
 * Counted from the SYSPRO sandbox (its dispatch notes and SORTDN posts) with the real CLI over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { changeOrder } from '../../src/sandbox/syspro/order-entry.js';
import { findLink } from '../../src/store/links.js';
import { openStore, type Store } from '../../src/store/open.js';
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import { ORDER_ENTITY } from '../../src/sync/orders.js';
import { shipmentLinkKey } from '../../src/sync/shipment-model.js';
import { type RunSetup, setupRun, waitFor } from '../helpers/run-process.js';

describe('a fulfillment of an order whose link the push closed', () => {
  let run: RunSetup;
  let store: Store;

  before(async () => {
    run = await setupRun({ prefix: 'closed-link', seed: 12, orders: 6, shipstation: { autoShip: false } });
    store = openStore(run.storeUrl);
  });
  after(async () => {
    await store?.close();
    await run?.close();
  });

  const ours = () =>
    [...run.shipstation.state.orders.values()].filter((o) => o.orderKey.startsWith(`${run.syspro.company}:`));

  it('is written back to SYSPRO once', async () => {
    const pushed = await run.cli(['sync', 'orders', '--once']);
    assert.equal(pushed.code, 0, pushed.stderr);
    const order = ours()[0];
    assert.ok(order, 'an order of ours in ShipStation');
    const salesOrder = order.orderKey.slice(run.syspro.company.length + 1);

    // Marked as shipped in ShipStation (no label: a fulfillment, with no orderKey on it).
    const marked = await run.sandboxPost<{ fulfillmentId: number }>(
      `/_sandbox/orders/${order.orderId}/mark-shipped`,
      { carrierCode: 'ups', trackingNumber: '1ZCLOSEDLINK000001' },
    );
    // Changed in SYSPRO before any shipments poll: the next push finds it shipped and closes it.
    changeOrder(run.syspro.db, salesOrder, { fields: { ShippingInstrs: 'Leave at the back door' } });
    const again = await run.cli(['sync', 'orders', '--once']);
    assert.equal(again.code, 0, again.stderr);
    const link = await findLink(store.db, 'main', ORDER_ENTITY, order.orderKey);
    assert.equal(link?.state, 'closed', 'the push closed the link: shipped in ShipStation');
    assert.equal(link?.shipstationId, String(order.orderId), 'the close keeps the ShipStation orderId');

    const reference = dispatchNoteReference(shipmentLinkKey('fulfillment', marked.fulfillmentId));
    const notes = () => run.syspro.db.mdnMaster.rows.filter((n) => n.DispatchComments1 === reference);
    const child = run.start();
    await waitFor(() => notes().length > 0, 'the fulfillment written back to SYSPRO', child.output);
    assert.equal(await child.stop(), 0, child.output().slice(-3000));
    assert.equal(notes().length, 1, 'one dispatch note');
    assert.equal(
      run.syspro.calls.list({ businessObject: 'SORTDN', contains: reference }).length,
      1,
      'one SORTDN post',
    );
  });

  it('of an order completed in SYSPRO since: SYSPRO refuses it, a dead job with its reason, not skipped as not ours', async () => {
    const order = ours()[1];
    assert.ok(order);
    const salesOrder = order.orderKey.slice(run.syspro.company.length + 1);
    changeOrder(run.syspro.db, salesOrder, { fields: { OrderStatus: '9' } });
    const again = await run.cli(['sync', 'orders', '--once']);
    assert.equal(again.code, 0, again.stderr);
    const link = await findLink(store.db, 'main', ORDER_ENTITY, order.orderKey);
    assert.equal(link?.state, 'closed', 'complete in SYSPRO: left alone from now on');
    assert.equal(link?.shipstationId, String(order.orderId));
    // Then someone marks it as shipped in ShipStation: ours, so it is tried, and SYSPRO says why not.
    const marked = await run.sandboxPost<{ fulfillmentId: number }>(
      `/_sandbox/orders/${order.orderId}/mark-shipped`,
      { carrierCode: 'ups', trackingNumber: '1ZCLOSEDLINK000002' },
    );
    const key = `shipments.writeback:main:${shipmentLinkKey('fulfillment', marked.fulfillmentId)}`;
    const job = () =>
      store.db
        .selectFrom('jobs')
        .select(['state', 'last_error'])
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
    const child = run.start();
    await waitFor(
      async () => (await job())?.state === 'dead',
      'the write-back refused by SYSPRO',
      child.output,
    );
    assert.equal(await child.stop(), 0, child.output().slice(-3000));
    assert.match((await job())?.last_error ?? '', /status '9' and cannot be dispatched/);
    const reference = dispatchNoteReference(shipmentLinkKey('fulfillment', marked.fulfillmentId));
    assert.equal(run.syspro.db.mdnMaster.rows.filter((n) => n.DispatchComments1 === reference).length, 0);
  });
});
