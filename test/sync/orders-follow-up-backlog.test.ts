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
import { Worker } from '../../src/engine/worker.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { openEveryOrder, type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { MemoryRateLimiter } from '../../src/shipstation/memory-rate-limiter.js';
import { listAudit } from '../../src/store/audit.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import type { ConnectionClients } from '../../src/sync/connection-clients.js';
import {
  ORDER_ENTITY,
  ORDERS_POLL_KIND,
  ORDERS_PUSH_KIND,
  type OrdersConnection,
  ordersHandlers,
} from '../../src/sync/orders.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';
import { connectToSandboxes } from '../helpers/sandbox-connection.js';

const ORDERS = 320;
const COMPLETED = 250;
const CANCELLED = 30;

forEachDialect('orders: a backlog of follow-ups is read and pushed in batches', (ctx) => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let clients: ConnectionClients;
  let worker: Worker;
  const clock = new FakeClock(Date.parse('2026-11-20T15:00:00Z'));

  before(async () => {
    shipstation = await startShipStationSandbox({
      port: 0,
      seed: 21,
      clock,
      rateLimit: { limit: 10_000, windowMs: 60_000 },
      backgroundTimers: false,
    });
    syspro = await startSysproSandbox({ port: 0, seed: 21, orders: ORDERS, clock });
    openEveryOrder(syspro.db);
    const connected = await connectToSandboxes({
      shipstation,
      syspro,
      store: ctx.store,
      clock,
      limiter: new MemoryRateLimiter({ clock, limit: 10_000, windowMs: 60_000 }),
    });
    clients = connected.clients;
    const ordersConnection: OrdersConnection = {
      connection: connected.connection,
      odata: clients.odata,
      shipstation: clients.shipstationApi,
    };
    worker = new Worker({
      store: ctx.store,
      clock,
      retry: { cadence: [60_000], perKind: {}, jitter: 0 },
      handlers: ordersHandlers({ store: ctx.store, clock, connectionFor: async () => ordersConnection }),
    });
  });
  after(async () => {
    await clients?.close();
    await shipstation?.close();
    await syspro?.close();
  });

  async function poll(): Promise<void> {
    clock.advance(60_000);
    await enqueueJob(
      ctx.store,
      { kind: ORDERS_POLL_KIND, connection: 'main', idempotencyKey: `test-poll:${clock.now()}` },
      clock.now(),
    );
    await worker.runUntilIdle();
  }

  const byKey = (salesOrder: string) => {
    const id = shipstation.state.orderIdByKey.get(`${syspro.company}:${salesOrder}`);
    return id === undefined ? undefined : shipstation.state.orders.get(id);
  };

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
