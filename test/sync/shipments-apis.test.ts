/**
 * The shipments reconciling poll end to end on each ShipStation API (`shipstation.api` v1 and v2,
 * one loop like the dialects): labels made, voided and orders marked shipped with the sandbox's
 * warehouse actions are found by the poll and become `shipments.writeback` jobs, counted in the
 * queue and checked against the sandbox's own labels and fulfillments. The orders are pushed by the
 * connection's own ShipStation (V1 createorders or V2 POST /v2/shipments); the V2 poll reads labels
 * by `created_at`, voids through shipments modified in the window, fulfillments by `create_date`.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Worker } from '../../src/engine/worker.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import type { ShipStation } from '../../src/shipstation/api.js';
import { MemoryRateLimiter } from '../../src/shipstation/memory-rate-limiter.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { listJobs } from '../../src/store/jobs/queries.js';
import { saveLink } from '../../src/store/links.js';
import type { ConnectionClients } from '../../src/sync/connection-clients.js';
import { ORDER_ENTITY } from '../../src/sync/orders.js';
import { SHIPMENT_WRITEBACK_KIND, type ShipmentWrite, shipmentKey } from '../../src/sync/shipment-model.js';
import { SHIPMENTS_POLL_KIND, shipmentsHandlers } from '../../src/sync/shipments.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';
import { connectToSandboxes, SHIPSTATION_APIS } from '../helpers/sandbox-connection.js';

for (const api of SHIPSTATION_APIS)
  forEachDialect(`${api}: shipments poll against the sandbox`, (ctx) => {
    let shipstation: ShipStationSandbox;
    let syspro: SysproSandbox;
    let clients: ConnectionClients;
    let ss: ShipStation;
    let worker: Worker;
    let company: string;
    const clock = new FakeClock(Date.parse('2026-11-20T18:00:00Z'));
    const orderIds: Record<string, number> = {};
    let seq = 0;

    before(async () => {
      shipstation = await startShipStationSandbox({ port: 0, seed: 9, clock, backgroundTimers: false });
      syspro = await startSysproSandbox({ port: 0, seed: 9, orders: 5, clock });
      company = syspro.company;
      const connected = await connectToSandboxes({
        shipstation,
        syspro,
        store: ctx.store,
        clock,
        limiter: new MemoryRateLimiter({ clock, limit: 200, windowMs: 60_000 }),
        api,
      });
      clients = connected.clients;
      ss = clients.shipstationApi;
      assert.equal(ss.api, api);
      const deps = {
        store: ctx.store,
        clock,
        connectionFor: async () => ({ connection: connected.connection, shipstation: ss }),
      };
      worker = new Worker({
        store: ctx.store,
        clock,
        retry: { cadence: [60_000], perKind: {}, jitter: 0 },
        handlers: shipmentsHandlers(deps),
      });
      const orders = [
        { key: `${company}:200001`, number: '200001' },
        { key: `${company}:200002`, number: '200002' },
        { key: 'OTHER:777', number: 'X-777' },
      ];
      const outcome = await ss.createOrUpdateOrders(
        orders.map((o) => ({
          orderNumber: o.number,
          orderKey: o.key,
          orderDate: '2026-11-20 09:00:00',
          orderStatus: 'awaiting_shipment' as const,
          billTo: { name: 'A Customer' },
          shipTo: {
            name: 'A Customer',
            street1: '1 Main St',
            city: 'Austin',
            state: 'TX',
            postalCode: '78701',
            country: 'US',
          },
          items: [{ lineItemKey: '1', sku: 'SKU-1', name: 'Item 1', quantity: 2, unitPrice: 5 }],
        })),
      );
      for (const [i, r] of outcome.results.entries()) {
        assert.ok(r.success, r.errorMessage ?? '');
        orderIds[orders[i]!.number] = r.orderId as number;
      }
      for (const o of orders.filter((o) => o.key.startsWith(`${company}:`))) {
        await saveLink(
          ctx.store.db,
          {
            connection: 'main',
            entityType: ORDER_ENTITY,
            sysproKey: o.key,
            shipstationId: String(orderIds[o.number]),
            state: 'open',
          },
          clock.now(),
        );
      }
    });
    after(async () => {
      await clients?.close();
      await shipstation?.close();
      await syspro?.close();
    });

    async function warehouse(path: string, body: unknown = {}): Promise<Record<string, unknown>> {
      const res = await fetch(`${shipstation.url}/_sandbox${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as Record<string, unknown>;
    }
    async function poll(): Promise<void> {
      clock.advance(60_000);
      await enqueueJob(
        ctx.store,
        { kind: SHIPMENTS_POLL_KIND, connection: 'main', idempotencyKey: `t-poll:${++seq}` },
        clock.now(),
      );
      await worker.runUntilIdle();
    }
    const writes = async () =>
      (await listJobs(ctx.store, { kind: SHIPMENT_WRITEBACK_KIND, limit: 1000 })).map(
        (j) => [j.idempotencyKey, j.payload as ShipmentWrite] as const,
      );
    const labelsOf = (orderId: number) =>
      [...shipstation.state.shipments.values()].filter((s) => s.orderId === orderId);

    it('queues one write per label made, with its items and tracking, and nothing for a label not ours', async () => {
      clock.advance(60_000);
      await warehouse(`/orders/${orderIds['200001']}/labels`);
      await warehouse(`/orders/${orderIds['X-777']}/labels`);
      await poll();
      const label = labelsOf(orderIds['200001']!)[0]!;
      const jobs = await writes();
      const job = jobs.find(([key]) => key === shipmentKey('main', 'shipment', label.shipmentId));
      assert.ok(job, `a write job for label ${label.shipmentId}: ${jobs.map(([k]) => k).join(', ')}`);
      const p = job[1];
      assert.equal(p.orderKey, `${company}:200001`);
      assert.equal(p.orderId, orderIds['200001']);
      assert.deepEqual(p.trackingNumbers, [label.trackingNumber]);
      assert.deepEqual(
        p.lines?.map((l) => [l.salesOrderLine, l.sku, l.quantity]),
        [['1', 'SKU-1', 2]],
      );
      assert.equal(p.voided, false);
      assert.ok(Math.abs(p.createdAtUtc - clock.now()) < 5 * 60_000, 'created at, in UTC, not 7-8 h off');
      const other = labelsOf(orderIds['X-777']!)[0]!;
      assert.ok(!jobs.some(([key]) => key === shipmentKey('main', 'shipment', other.shipmentId)));
      const before = jobs.length;
      await poll();
      assert.equal((await writes()).length, before, 'the next poll re-reads it and queues nothing');
    });

    it('queues the voided state of a label after a void', async () => {
      const label = labelsOf(orderIds['200001']!)[0]!;
      clock.advance(2 * 60_000);
      await warehouse(`/shipments/${label.shipmentId}/void`);
      await poll();
      const job = (await writes()).find(([key]) => key === shipmentKey('main', 'shipment', label.shipmentId));
      assert.ok(job);
      assert.equal(job[1].voided, true, 'the queued job carries the voided state');
      assert.ok(job[1].voidedAtUtc !== null && job[1].voidedAtUtc > job[1].createdAtUtc);
    });

    it('finds an order marked shipped without a label, ours through the order link', async () => {
      clock.advance(60_000);
      const res = await fetch(`${shipstation.url}/orders/markasshipped`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${shipstation.apiKey}:${shipstation.apiSecret}`).toString('base64')}`,
        },
        body: JSON.stringify({
          orderId: orderIds['200002'],
          carrierCode: 'ups',
          trackingNumber: '1ZAPIS0000000001',
        }),
      });
      assert.equal(res.status, 200, await res.text());
      await poll();
      const fulfillment = [...shipstation.state.fulfillments.values()].find(
        (f) => f.orderId === orderIds['200002'],
      )!;
      const job = (await writes()).find(
        ([key]) => key === shipmentKey('main', 'fulfillment', fulfillment.fulfillmentId),
      );
      assert.ok(job, 'a write job for the fulfillment');
      assert.equal(job[1].orderKey, `${company}:200002`);
      assert.deepEqual(job[1].trackingNumbers, ['1ZAPIS0000000001']);
      assert.equal(job[1].lines, null);
    });
  });
