/**
 * Problems clear themselves once the order is fixed, so the operator's list shows live problems
 * only: an order that cannot be mapped (an `order.problem` record) stops being one when it maps and
 * is pushed again, or maps back to what was last sent; a dead push stops being one when a newer
 * push of the same order succeeded, and a dead write-back when a newer write-back of the same
 * shipment did. A problem that comes back is shown again, even one dismissed before it cleared.
 * The orders run against both sandboxes over HTTP (effects checked in ShipStation's orders); the
 * Problems are read as the dashboard reads them (`listProblems`).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { PermanentError } from '../../src/engine/errors.js';
import { handleEachJob } from '../../src/engine/handler.js';
import { Worker } from '../../src/engine/worker.js';
import type { ShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import type { SysproSandbox } from '../../src/sandbox/syspro/index.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { dismissProblems, listProblems } from '../../src/store/problems.js';
import { ORDER_PROBLEM_ENTITY, ORDERS_PUSH_KIND, queueOrderSyncs } from '../../src/sync/orders.js';
import { SHIPMENT_WRITEBACK_KIND, shipmentKey } from '../../src/sync/shipment-model.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';
import { type OrdersFlow, startOrdersFlow } from '../helpers/orders-flow.js';

forEachDialect('orders: problems clear once the order is fixed', (ctx) => {
  let flow: OrdersFlow;
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  const clock = new FakeClock(Date.parse('2026-11-20T15:00:00Z'));
  /** Sales orders in ShipStation after the first poll, and their street lines as SYSPRO had them. */
  const pushed: Array<{ salesOrder: string; street: [unknown, unknown] }> = [];

  before(async () => {
    flow = await startOrdersFlow(ctx.store, clock, {
      shipstation: { seed: 41, backgroundTimers: false },
      syspro: { seed: 41, orders: 12 },
      openEveryOrder: true,
    });
    ({ shipstation, syspro } = flow);
    await flow.poll();
    for (const row of syspro.db.sorMaster.rows) {
      const salesOrder = String(row.SalesOrder).trim();
      if (flow.byKey(salesOrder)?.status === 'awaiting_shipment')
        pushed.push({ salesOrder, street: [row.ShipAddress1, row.ShipAddress2] });
    }
    assert.ok(pushed.length >= 6, `orders pushed (${pushed.length})`);
  });
  after(async () => {
    await flow?.close();
  });

  const row = (salesOrder: string) => syspro.db.sorMaster.get(salesOrder)!;
  /** No street line: the order cannot be mapped. */
  const breakAddress = (salesOrder: string) => {
    row(salesOrder).ShipAddress1 = '';
    row(salesOrder).ShipAddress2 = '';
  };
  const restoreAddress = (n: number) => {
    const { salesOrder, street } = pushed[n]!;
    row(salesOrder).ShipAddress1 = street[0] as string;
    row(salesOrder).ShipAddress2 = street[1] as string;
  };
  const recordProblems = async () =>
    (await listProblems(ctx.store, { connection: 'main', kind: 'record' })).map((p) => p.subject.salesOrder);
  const problemState = async (salesOrder: string) =>
    (
      await ctx.store.db
        .selectFrom('links')
        .select('state')
        .where('entity_type', '=', ORDER_PROBLEM_ENTITY)
        .where('syspro_key', '=', `${syspro.company}:${salesOrder}`)
        .executeTakeFirst()
    )?.state;

  it('an order that cannot be mapped is a Problem until it is pushed again, or maps back to what was sent', async () => {
    const changed = pushed[0]!.salesOrder;
    const back = pushed[1]!.salesOrder;
    breakAddress(changed);
    breakAddress(back);
    await flow.poll();
    assert.deepEqual((await recordProblems()).sort(), [changed, back].sort());

    // One is corrected with a new street (sent again), the other back to what ShipStation has.
    row(changed).ShipAddress1 = '12 New Street';
    restoreAddress(1);
    const modified = flow.byKey(back)!.modifyDate;
    await flow.poll();
    assert.equal(
      (flow.byKey(changed)!.body() as unknown as { shipTo: { street1: string } }).shipTo.street1,
      '12 New Street',
      'the corrected order is in ShipStation',
    );
    assert.equal(flow.byKey(back)!.modifyDate, modified, 'the order fixed back to what was sent is not sent');
    assert.deepEqual(await recordProblems(), [], 'no Problem left');
    assert.equal(await problemState(changed), 'resolved');
    assert.equal(await problemState(back), 'resolved');
  });

  it('a Problem that comes back is shown again, even the one dismissed before it cleared', async () => {
    const salesOrder = pushed[2]!.salesOrder;
    breakAddress(salesOrder);
    await flow.poll();
    const listed = await listProblems(ctx.store, { connection: 'main', kind: 'record' });
    assert.deepEqual(
      listed.map((p) => p.subject.salesOrder),
      [salesOrder],
    );
    clock.advance(1000);
    const dismissed = await dismissProblems(ctx.store, listed, clock.now(), 'ann', 'seen');
    assert.equal(dismissed.dismissed.length, 1);
    await flow.poll();
    assert.deepEqual(await recordProblems(), [], 'dismissed while it stays the same');

    restoreAddress(2);
    await flow.poll();
    assert.equal(await problemState(salesOrder), 'resolved');
    // The same problem again: a new occurrence, reported and listed.
    breakAddress(salesOrder);
    await flow.poll();
    assert.deepEqual(await recordProblems(), [salesOrder]);
    assert.equal(await problemState(salesOrder), 'invalid');
    restoreAddress(2);
    await flow.poll();
    assert.deepEqual(await recordProblems(), []);
  });

  it('a dead push is no longer a Problem once a newer push of the same order succeeded', async () => {
    const salesOrder = pushed[3]!.salesOrder;
    breakAddress(salesOrder);
    // A nudge reads the order, which cannot be mapped: the push job dies.
    await queueOrderSyncs(ctx.store, flow.ordersConnection.connection, [salesOrder], clock.now());
    await flow.worker.runUntilIdle();
    const pushProblems = async () =>
      (await listProblems(ctx.store, { connection: 'main', kind: ORDERS_PUSH_KIND })).map((p) => [
        p.state,
        p.subject.salesOrder,
      ]);
    assert.deepEqual(await pushProblems(), [['dead', salesOrder]]);

    row(salesOrder).ShipAddress1 = '7 Other Road';
    row(salesOrder).ShipAddress2 = '';
    await flow.poll();
    assert.equal(
      (flow.byKey(salesOrder)!.body() as unknown as { shipTo: { street1: string } }).shipTo.street1,
      '7 Other Road',
    );
    assert.deepEqual(await pushProblems(), [], 'the dead push was done since');
    assert.equal(shipstation.state.orders.size > 0, true);
  });

  it('a dead write-back is no longer a Problem once a newer write-back of the same shipment succeeded', async () => {
    let refuse = true;
    const worker = new Worker({
      store: ctx.store,
      clock,
      retry: { cadence: [60_000], perKind: {}, jitter: 0 },
      handlers: [
        handleEachJob(SHIPMENT_WRITEBACK_KIND, async () => {
          if (refuse) throw new PermanentError('SORTDN: posting period closed');
          return { written: true };
        }),
      ],
    });
    const job = (id: number) => ({
      kind: SHIPMENT_WRITEBACK_KIND,
      connection: 'main',
      idempotencyKey: shipmentKey('main', 'shipment', id),
      payload: { source: 'shipment', id, salesOrder: pushed[4]!.salesOrder, trackingNumbers: [`1Z${id}`] },
    });
    await enqueueJob(ctx.store, job(501), clock.now());
    await enqueueJob(ctx.store, job(502), clock.now());
    await worker.runUntilIdle();
    const writeProblems = async () =>
      (await listProblems(ctx.store, { connection: 'main', kind: SHIPMENT_WRITEBACK_KIND }))
        .map((p) => p.subject.shipment)
        .sort();
    assert.deepEqual(await writeProblems(), ['shipment:501', 'shipment:502']);

    // Shipment 501 is fetched again and written: its dead write-back is done; 502's stays.
    refuse = false;
    await enqueueJob(ctx.store, job(501), clock.now());
    await worker.runUntilIdle();
    assert.deepEqual(await writeProblems(), ['shipment:502']);
  });
});
