/**
 * A backlog of follow-ups drains at the batch rate: when hundreds of orders leave the polled
 * statuses at once (the labels of a busy afternoon complete them in SYSPRO, some are cancelled),
 * each becomes a follow-up push that carries no body and reads its order again. Those reads are
 * made for the whole batch at once, so the backlog costs a few OData requests per 100 orders rather
 * than three per order (found by the chaos suite: after 5,000 labels, follow-ups drained at about
 * 1.5 a second). Counted from the sandboxes' own logs: SYSPRO's OData requests and ShipStation's
 * requests; the effects are checked in ShipStation's orders.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { ShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import type { SysproSandbox } from '../../src/sandbox/syspro/index.js';
import { MemoryRateLimiter } from '../../src/shipstation/memory-rate-limiter.js';
import { listAudit } from '../../src/store/audit.js';
import { ORDER_ENTITY, ORDERS_PUSH_KIND } from '../../src/sync/orders.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';
import { type OrdersFlow, startOrdersFlow } from '../helpers/orders-flow.js';

const ORDERS = 320;
const COMPLETED = 250;
const CANCELLED = 30;

forEachDialect('orders: a backlog of follow-ups is read and pushed in batches', (ctx) => {
  let flow: OrdersFlow;
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  const clock = new FakeClock(Date.parse('2026-11-20T15:00:00Z'));

  before(async () => {
    flow = await startOrdersFlow(ctx.store, clock, {
      shipstation: { seed: 21, rateLimit: { limit: 10_000, windowMs: 60_000 }, backgroundTimers: false },
      syspro: { seed: 21, orders: ORDERS },
      openEveryOrder: true,
      limiter: new MemoryRateLimiter({ clock, limit: 10_000, windowMs: 60_000 }),
    });
    ({ shipstation, syspro } = flow);
  });
  after(async () => {
    await flow?.close();
  });

  const poll = () => flow.poll();
  const byKey = (salesOrder: string) => flow.byKey(salesOrder);

  it('reads the follow-ups of a batch from SYSPRO together and calls ShipStation only for what changes there', async () => {
    await poll();
    const pushed = syspro.db.sorMaster.rows
      .map((r) => String(r.SalesOrder))
      .filter((so) => byKey(so)?.status === 'awaiting_shipment');
    assert.ok(pushed.length >= COMPLETED + CANCELLED, `open orders in ShipStation (${pushed.length})`);

    const completed = pushed.slice(0, COMPLETED);
    const cancelled = pushed.slice(COMPLETED, COMPLETED + CANCELLED);
    for (const so of completed) syspro.db.sorMaster.get(so)!.OrderStatus = '9';
    for (const so of cancelled) {
      const row = syspro.db.sorMaster.get(so)!;
      row.OrderStatus = '\\';
      row.CancelledFlag = 'Y';
    }
    const modified = new Map(completed.map((so) => [so, byKey(so)!.modifyDate]));

    const odataBefore = syspro.odataRequests.count();
    const shipstationBefore = shipstation.requests().length;
    // The poll no longer sees them (they left the polled statuses): one follow-up each.
    await poll();
    const odata = syspro.odataRequests.list().slice(odataBefore);
    const calls = shipstation.requests().slice(shipstationBefore);

    // Effects, from ShipStation's own orders: cancelled ones cancelled, completed ones left alone.
    for (const so of cancelled)
      assert.equal(byKey(so)!.status, 'cancelled', `${so} cancelled in ShipStation`);
    for (const so of completed) {
      assert.equal(byKey(so)!.status, 'awaiting_shipment');
      assert.equal(byKey(so)!.modifyDate, modified.get(so), `${so} not touched in ShipStation`);
    }
    // Every follow-up done, none dead, each with its audit row.
    const jobs = await ctx.store.db
      .selectFrom('jobs')
      .select(['state'])
      .where('kind', '=', ORDERS_PUSH_KIND)
      .where('state', '!=', 'succeeded')
      .execute();
    assert.deepEqual(jobs, []);
    for (const so of [...completed.slice(0, 5), ...cancelled.slice(0, 5)]) {
      const rows = await listAudit(ctx.store.db, {
        entityType: ORDER_ENTITY,
        entityKey: `${syspro.company}:${so}`,
      });
      assert.ok(rows.length >= 2, `${so} has its follow-up audit row`);
    }

    // SYSPRO: the follow-ups' SorMaster reads are key lists, a few per batch of 100, not one per
    // order (before: 280 SorMaster, 280 SorDetail and 280 ArCustomer requests).
    const sorMasterKeyReads = odata.filter(
      (r) => r.table === 'SorMaster' && (r.filter ?? '').includes('SalesOrder'),
    ).length;
    const batches = Math.ceil((COMPLETED + CANCELLED) / 100);
    assert.ok(
      sorMasterKeyReads <= batches * 3,
      `SorMaster reads by sales order for ${COMPLETED + CANCELLED} follow-ups: ${sorMasterKeyReads}`,
    );
    const detailReads = odata.filter((r) => r.table === 'SorDetail').length;
    assert.ok(detailReads <= batches * 6, `SorDetail reads: ${detailReads}`);
    const customerReads = odata.filter((r) => r.table === 'ArCustomer').length;
    assert.ok(customerReads <= batches * 6, `ArCustomer reads: ${customerReads}`);

    // ShipStation: nothing for the completed orders; for the cancelled ones one check (GET) each,
    // so a split order is never overwritten, and one createorders per batch.
    const posts = calls.filter((c) => c.method === 'POST' && c.url.startsWith('/orders/createorders'));
    const gets = calls.filter((c) => c.method === 'GET' && /^\/orders\/\d+/.test(c.url));
    assert.ok(posts.length >= 1 && posts.length <= batches, `createorders calls: ${posts.length}`);
    assert.equal(gets.length, CANCELLED, 'one check per order updated');
    assert.equal(calls.length, posts.length + gets.length, 'no other ShipStation call');
  });
});
