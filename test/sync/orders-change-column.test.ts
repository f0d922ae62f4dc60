/**
 * A site that exposes a change column (`syspro.changeColumn`, here SorMaster's `TimeStamp`
 * rowversion through the SYSPRO sandbox's OData) polls only the orders past the last value seen,
 * in any status, and ShipStation's orders follow.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Worker } from '../../src/engine/worker.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import type { ConnectionClients } from '../../src/sync/connection-clients.js';
import { ORDERS_POLL_KIND, ordersHandlers, pollOrders } from '../../src/sync/orders.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';
import { connectToSandboxes } from '../helpers/sandbox-connection.js';

forEachDialect('orders poll with a change column', (ctx) => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let clients: ConnectionClients;
  const clock = new FakeClock(Date.parse('2026-11-20T15:00:00Z'));
  let deps: Parameters<typeof pollOrders>[0];
  let worker: Worker;

  before(async () => {
    shipstation = await startShipStationSandbox({ port: 0, seed: 4, clock });
    syspro = await startSysproSandbox({ port: 0, seed: 4, orders: 300, clock, odataTimeStamp: true });
    const connected = await connectToSandboxes({
      shipstation,
      syspro,
      store: ctx.store,
      clock,
      sysproConfig: { changeColumn: 'TimeStamp' },
    });
    const { connection } = connected;
    clients = connected.clients;
    deps = {
      store: ctx.store,
      clock,
      connectionFor: async () => ({ connection, odata: clients.odata, shipstation: clients.shipstationApi }),
    };
    worker = new Worker({
      store: ctx.store,
      clock,
      retry: { cadence: [60_000], perKind: {}, jitter: 0 },
      handlers: ordersHandlers(deps),
    });
  });
  after(async () => {
    await clients?.close();
    await shipstation?.close();
    await syspro?.close();
  });

  async function poll() {
    clock.advance(60_000);
    await enqueueJob(
      ctx.store,
      { kind: ORDERS_POLL_KIND, connection: 'main', idempotencyKey: `poll:${clock.now()}` },
      clock.now(),
    );
    await worker.runUntilIdle();
  }
  it('reads every order once, then only the rows past the last change value', async () => {
    const first = await pollOrders(deps, 'main');
    assert.equal(
      first.read,
      syspro.db.sorMaster.rows.length,
      'the first poll reads every order (any status)',
    );
    await worker.runUntilIdle();
    const pushed = [...shipstation.state.orders.values()].length;
    assert.ok(pushed > 10);

    await poll();
    const quiet = await pollOrders(deps, 'main');
    assert.equal(quiet.read, 0, 'nothing changed: no SorMaster row is read');

    // An operator suspends one order: its rowversion moves on (a view that also covers the lines
    // would move it for a line change too; see docs/decisions.md).
    const row = syspro.db.sorMaster.rows.find((r) => {
      const id = shipstation.state.orderIdByKey.get(`${syspro.company}:${String(r.SalesOrder).trim()}`);
      return id !== undefined && shipstation.state.orders.get(id)?.status === 'awaiting_shipment';
    })!;
    row.OrderStatus = 'S';
    row.TimeStamp = syspro.db.counters.rowVersion++;
    const changed = await pollOrders(deps, 'main');
    assert.equal(changed.read, 1);
    assert.equal(changed.followUps, 0, 'no follow-ups: the change column shows every status');
    await worker.runUntilIdle();
    const id = shipstation.state.orderIdByKey.get(`${syspro.company}:${String(row.SalesOrder).trim()}`)!;
    assert.equal(shipstation.state.orders.get(id)!.status, 'on_hold');
  });
});
