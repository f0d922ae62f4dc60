/**
 * An order ShipStation shipped as a whole gets no follow-up push once its shipment is written back
 * (found by the soak: after 4,000 labels, 4,640 follow-ups queued ahead of new orders, each ending
 * "skipped", and new orders waited 6-8 minutes). The write-back of a label that carries every line
 * last sent closes the order's link in the same transaction as it records the shipment as written;
 * a label of some items leaves it open, and that order still gets its follow-up when it leaves the
 * polled statuses. A label voided after its write-back closed the link opens it again, so that
 * order gets its follow-up back. Once per ShipStation API (V2: the label's shipment must be `label_purchased`)
 * and per store dialect, against both sandboxes over HTTP with the flows' own handlers on one
 * worker. Effects are counted in the sandboxes' own records: SYSPRO's dispatch notes and OData
 * request log, ShipStation's orders and request log.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Worker } from '../../src/engine/worker.js';
import { MemoryRateLimiter } from '../../src/shipstation/memory-rate-limiter.js';
import { listAudit } from '../../src/store/audit.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { findLink, saveLink } from '../../src/store/links.js';
import { CHANNEL_LINK_STATE } from '../../src/sync/channel-orders.js';
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import {
  closeShippedOrder,
  ORDER_ENTITY,
  ORDERS_POLL_KIND,
  ORDERS_PUSH_KIND,
  ordersHandlers,
} from '../../src/sync/orders.js';
import { SHIPMENT_ENTITY, shipmentLinkKey } from '../../src/sync/shipment-model.js';
import { SHIPMENTS_POLL_KIND, shipmentsHandlers } from '../../src/sync/shipments.js';
import { writebackHandlers } from '../../src/sync/writeback.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';
import { type OrdersFlow, startOrdersFlow } from '../helpers/orders-flow.js';
import { SHIPSTATION_APIS } from '../helpers/sandbox-connection.js';

for (const api of SHIPSTATION_APIS)
  forEachDialect(`${api}: an order shipped whole and written back gets no follow-up push`, (ctx) => {
    let flow: OrdersFlow;
    let worker: Worker;
    const clock = new FakeClock(Date.parse('2026-11-20T16:00:00Z'));
    let seq = 0;
    /** The order labelled whole in the first test, and its label. */
    let shippedWhole:
      | { orderKey: string; orderId: number; salesOrder: string; shipmentId: number }
      | undefined;

    before(async () => {
      flow = await startOrdersFlow(ctx.store, clock, {
        shipstation: { seed: 31, rateLimit: { limit: 10_000, windowMs: 60_000 }, backgroundTimers: false },
        syspro: { seed: 31, orders: 12 },
        openEveryOrder: true,
        api,
        limiter: new MemoryRateLimiter({ clock, limit: 10_000, windowMs: 60_000 }),
      });
      const { clients, ordersConnection } = flow;
      const connection = clients.connection;
      // The three flows on one worker, as `run` has them.
      worker = new Worker({
        store: ctx.store,
        clock,
        retry: { cadence: [60_000], perKind: {}, jitter: 0 },
        handlers: [
          ...ordersHandlers({ store: ctx.store, clock, connectionFor: async () => ordersConnection }),
          ...shipmentsHandlers({
            store: ctx.store,
            clock,
            connectionFor: async () => ({ connection, shipstation: clients.shipstationApi }),
          }),
          ...writebackHandlers({
            store: ctx.store,
            clock,
            connectionFor: async () => ({ connection, enet: clients.enet, odata: clients.odata }),
          }),
        ],
      });
    });
    after(async () => {
      await flow?.close();
    });

    async function runPoll(kind: string): Promise<void> {
      clock.advance(60_000);
      await enqueueJob(
        ctx.store,
        { kind, connection: 'main', idempotencyKey: `test-poll:${++seq}` },
        clock.now(),
      );
      await worker.runUntilIdle();
    }
    async function label(orderId: number, body: unknown = {}) {
      const res = await fetch(`${flow.shipstation.url}/_sandbox/orders/${orderId}/labels`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { shipments: Array<{ shipmentId: number }> }).shipments;
    }
    const notesOf = (shipmentId: number) =>
      flow.syspro.db.mdnMaster.rows.filter(
        (n) => n.DispatchComments1 === dispatchNoteReference(shipmentLinkKey('shipment', shipmentId)),
      );
    const pushJobs = async (orderKey: string, afterId: number) =>
      ctx.store.db
        .selectFrom('jobs')
        .select(['id', 'state'])
        .where('kind', '=', ORDERS_PUSH_KIND)
        .where('idempotency_key', '=', `${ORDERS_PUSH_KIND}:main:${orderKey}`)
        .where('id', '>', afterId)
        .execute();

    it('closes the link of the order labelled whole when it is written back; the partly labelled one keeps its follow-up', async () => {
      const { shipstation, syspro } = flow;
      await runPoll(ORDERS_POLL_KIND);
      const ours = [...shipstation.state.orders.values()].filter(
        (o) => o.orderKey.startsWith(`${syspro.company}:`) && o.status === 'awaiting_shipment',
      );
      const itemsOf = (o: (typeof ours)[number]) => (o.body().items ?? []).filter((i) => !i.adjustment);
      const partial = ours.find((o) => itemsOf(o).length >= 2);
      const whole = ours.find((o) => o !== partial && itemsOf(o).length >= 1);
      assert.ok(partial && whole, `two open orders in ShipStation, one of 2+ lines (${ours.length})`);
      const salesOrderOf = (o: typeof whole) => o.orderKey.slice(o.orderKey.indexOf(':') + 1);

      // The warehouse labels one order whole, and one line of the other.
      const [wholeLabel] = await label(whole.orderId);
      const firstLine = itemsOf(partial)[0]!;
      const [partLabel] = await label(partial.orderId, {
        items: [{ lineItemKey: firstLine.lineItemKey }],
      });
      assert.ok(wholeLabel && partLabel);
      assert.equal(shipstation.state.orders.get(whole.orderId)?.status, 'shipped');
      assert.equal(
        shipstation.state.orders.get(partial.orderId)?.status,
        'awaiting_shipment',
        'a label of one line leaves the order open in ShipStation',
      );
      const modified = shipstation.state.orders.get(whole.orderId)?.modifyDate;

      // The shipments poll finds both labels; both are written back as dispatch notes.
      await runPoll(SHIPMENTS_POLL_KIND);
      assert.equal(notesOf(wholeLabel.shipmentId).length, 1, 'the whole label is a dispatch note in SYSPRO');
      assert.equal(notesOf(partLabel.shipmentId).length, 1, 'the partial label is a dispatch note in SYSPRO');
      for (const [s, id] of [
        [wholeLabel, whole],
        [partLabel, partial],
      ] as const) {
        const written = await findLink(
          ctx.store.db,
          'main',
          SHIPMENT_ENTITY,
          shipmentLinkKey('shipment', s.shipmentId),
        );
        assert.equal(written?.state, 'written', `shipment of ${id.orderNumber} recorded as written`);
      }
      // Fully dispatched, SYSPRO completed the whole order (status 9): it left the polled statuses,
      // which used to give it a follow-up push. The other is completed in SYSPRO by hand.
      assert.equal(syspro.db.sorMaster.get(salesOrderOf(whole))?.OrderStatus, '9');
      syspro.db.sorMaster.get(salesOrderOf(partial))!.OrderStatus = '9';

      const wholeLink = await findLink(ctx.store.db, 'main', ORDER_ENTITY, whole.orderKey);
      assert.equal(wholeLink?.state, 'closed', 'the whole order is closed with its write-back');
      assert.equal(wholeLink?.shipstationId, String(whole.orderId), 'its ShipStation order is kept');
      const [closeRow] = await listAudit(ctx.store.db, {
        entityType: ORDER_ENTITY,
        entityKey: whole.orderKey,
        limit: 1,
      });
      assert.equal(closeRow?.outcome, 'skipped');
      assert.equal(closeRow?.action, 'update');
      const detail = JSON.parse(closeRow?.detail ?? '{}') as { reason?: string; closedBy?: string };
      assert.equal(
        detail.reason,
        `order ${whole.orderId} (${whole.orderNumber}) is shipped in ShipStation: not overwritten`,
      );
      assert.match(String(detail.closedBy), new RegExp(`shipment:${wholeLabel.shipmentId}`));
      assert.equal(
        (await findLink(ctx.store.db, 'main', ORDER_ENTITY, partial.orderKey))?.state,
        'open',
        'a partial shipment leaves the link open',
      );

      // The next orders poll: one follow-up, the partial order's; none for the whole one.
      const [last] = await ctx.store.db
        .selectFrom('jobs')
        .select((s) => s.fn.max('id').as('id'))
        .execute();
      const lastJob = Number(last?.id ?? 0);
      const odataBefore = syspro.odataRequests.count();
      const shipstationBefore = shipstation.requests().length;
      await runPoll(ORDERS_POLL_KIND);
      assert.deepEqual(
        await pushJobs(whole.orderKey, lastJob),
        [],
        'no follow-up push for the order shipped whole',
      );
      assert.deepEqual(
        (await pushJobs(partial.orderKey, lastJob)).map((j) => j.state),
        ['succeeded'],
        'the partly shipped order gets its follow-up',
      );
      // SYSPRO's own log: the follow-up read the partial order again, never the whole one.
      const reads = syspro.odataRequests
        .list()
        .slice(odataBefore)
        .filter((r) => r.table === 'SorMaster' && (r.filter ?? '').includes('SalesOrder'));
      assert.ok(
        reads.some((r) => (r.filter ?? '').includes(`'${salesOrderOf(partial)}'`)),
        `the follow-up read ${salesOrderOf(partial)}: ${reads.map((r) => r.filter).join(' | ')}`,
      );
      assert.ok(
        !reads.some((r) => (r.filter ?? '').includes(`'${salesOrderOf(whole)}'`)),
        `nothing read ${salesOrderOf(whole)} again: ${reads.map((r) => r.filter).join(' | ')}`,
      );
      // ShipStation's own log and orders: nothing asked about the whole order, which is untouched.
      const calls = shipstation.requests().slice(shipstationBefore);
      assert.ok(
        !calls.some((c) => c.url.includes(String(whole.orderId))),
        calls.map((c) => `${c.method} ${c.url}`).join(', '),
      );
      assert.equal(shipstation.state.orders.get(whole.orderId)?.status, 'shipped');
      assert.equal(shipstation.state.orders.get(whole.orderId)?.modifyDate, modified);
      // The follow-up left the partial order alone from now on (complete in SYSPRO).
      assert.equal((await findLink(ctx.store.db, 'main', ORDER_ENTITY, partial.orderKey))?.state, 'closed');
      shippedWhole = {
        orderKey: whole.orderKey,
        orderId: whole.orderId,
        salesOrder: salesOrderOf(whole),
        shipmentId: wholeLabel.shipmentId,
      };
      // And the poll after gives neither a push.
      const [again] = await ctx.store.db
        .selectFrom('jobs')
        .select((s) => s.fn.max('id').as('id'))
        .execute();
      await runPoll(ORDERS_POLL_KIND);
      assert.deepEqual(await pushJobs(whole.orderKey, Number(again?.id ?? 0)), []);
      assert.deepEqual(await pushJobs(partial.orderKey, Number(again?.id ?? 0)), []);
    });

    it('opens the link again when that label is voided: the next poll gives the order its follow-up', async () => {
      const { shipstation, syspro } = flow;
      assert.ok(shippedWhole, 'the first test labelled an order whole');
      const { orderKey, orderId, salesOrder, shipmentId } = shippedWhole;
      clock.advance(60_000);
      const res = await fetch(`${shipstation.url}/_sandbox/shipments/${shipmentId}/void`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(res.status, 200, await res.text());
      assert.notEqual(shipstation.state.orders.get(orderId)?.status, 'shipped', 'open again in ShipStation');
      // The void is found and flagged (a dispatch note is reversed by hand); the link is open again.
      await runPoll(SHIPMENTS_POLL_KIND);
      const voidRows = await listAudit(ctx.store.db, {
        entityType: SHIPMENT_ENTITY,
        entityKey: shipmentLinkKey('shipment', shipmentId),
        limit: 1,
      });
      assert.equal(voidRows[0]?.action, 'void');
      const link = await findLink(ctx.store.db, 'main', ORDER_ENTITY, orderKey);
      assert.equal(link?.state, 'open', 'a voided label opens the link its write-back closed');
      assert.equal(link?.shipstationId, String(orderId));
      const [reopen] = await listAudit(ctx.store.db, {
        entityType: ORDER_ENTITY,
        entityKey: orderKey,
        limit: 1,
      });
      assert.equal(reopen?.action, 'reopen');

      // The next orders poll gives it its follow-up again (the safety net), read from SYSPRO.
      const [last] = await ctx.store.db
        .selectFrom('jobs')
        .select((s) => s.fn.max('id').as('id'))
        .execute();
      const odataBefore = syspro.odataRequests.count();
      await runPoll(ORDERS_POLL_KIND);
      assert.deepEqual(
        (await pushJobs(orderKey, Number(last?.id ?? 0))).map((j) => j.state),
        ['succeeded'],
        'one follow-up push',
      );
      const reads = syspro.odataRequests
        .list()
        .slice(odataBefore)
        .filter((r) => r.table === 'SorMaster' && (r.filter ?? '').includes(`'${salesOrder}'`));
      assert.equal(reads.length, 1, 'the follow-up read the order again');
    });

    it('leaves alone a marketplace order link, a closed one, and one on another ShipStation order', async () => {
      const cases = [
        { key: 'T:CHANNEL', state: CHANNEL_LINK_STATE, shipstationId: '9001' },
        { key: 'T:CLOSED', state: 'closed', shipstationId: '9002' },
        { key: 'T:OTHER', state: 'open', shipstationId: '9999' },
      ];
      for (const c of cases)
        await saveLink(
          ctx.store.db,
          {
            connection: 'main',
            entityType: ORDER_ENTITY,
            sysproKey: c.key,
            shipstationId: c.shipstationId,
            lastHash: 'h',
            state: c.state,
          },
          clock.now(),
        );
      for (const [i, c] of cases.entries()) {
        const closed = await closeShippedOrder(ctx.store.db, {
          connection: 'main',
          orderKey: c.key,
          orderId: 9001 + i,
          orderNumber: c.key,
          jobId: 1,
          shipment: `shipment:${i}`,
          at: clock.now(),
        });
        assert.equal(closed, false, c.key);
        const link = await findLink(ctx.store.db, 'main', ORDER_ENTITY, c.key);
        assert.deepEqual(
          [link?.state, link?.shipstationId, link?.lastHash],
          [c.state, c.shipstationId, 'h'],
          c.key,
        );
        assert.deepEqual(
          await listAudit(ctx.store.db, { entityType: ORDER_ENTITY, entityKey: c.key }),
          [],
          c.key,
        );
      }
    });
  });
