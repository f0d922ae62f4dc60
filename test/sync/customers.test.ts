/**
 * Customer changes at the engine level: the worker runs `orders.poll` once (everything pushed),
 * then only `customers.poll` and the push jobs it queues, against both sandboxes over HTTP. A
 * customer edited in the SYSPRO sandbox has its open orders in ShipStation carry the change; other
 * customers' orders are untouched (ShipStation's modifyDate), and a first pass only records hashes.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Worker } from '../../src/engine/worker.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { listAudit } from '../../src/store/audit.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import type { ConnectionClients } from '../../src/sync/connection-clients.js';
import { CUSTOMERS_POLL_KIND, customerHash, customersHandlers } from '../../src/sync/customers.js';
import { ORDERS_POLL_KIND, type OrdersConnection, ordersHandlers } from '../../src/sync/orders.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';
import { connectToSandboxes } from '../helpers/sandbox-connection.js';

forEachDialect('customer changes re-push open orders', (ctx) => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let clients: ConnectionClients;
  let worker: Worker;
  const clock = new FakeClock(Date.parse('2026-11-20T15:00:00Z'));

  before(async () => {
    shipstation = await startShipStationSandbox({ port: 0, seed: 17, clock });
    syspro = await startSysproSandbox({ port: 0, seed: 17, orders: 150, clock });
    const connected = await connectToSandboxes({ shipstation, syspro, store: ctx.store, clock });
    const { connection } = connected;
    clients = connected.clients;
    const ordersConnection: OrdersConnection = {
      connection,
      odata: clients.odata,
      shipstation: clients.shipstationApi,
    };
    // Small pages, so the poll's per-page bookkeeping is exercised across pages.
    const deps = { store: ctx.store, clock, connectionFor: async () => ordersConnection, pageSize: 7 };
    worker = new Worker({
      store: ctx.store,
      clock,
      retry: { cadence: [60_000], perKind: {}, jitter: 0 },
      handlers: [...ordersHandlers(deps), ...customersHandlers(deps)],
    });
  });
  after(async () => {
    await clients?.close();
    await shipstation?.close();
    await syspro?.close();
  });

  async function run(kind: string): Promise<void> {
    clock.advance(60_000);
    await enqueueJob(
      ctx.store,
      { kind, connection: 'main', idempotencyKey: `test:${kind}:${clock.now()}` },
      clock.now(),
    );
    await worker.runUntilIdle();
  }
  const byKey = (salesOrder: string) => {
    const id = shipstation.state.orderIdByKey.get(`${syspro.company}:${salesOrder}`);
    return id === undefined ? undefined : shipstation.state.orders.get(id);
  };
  const ours = () =>
    [...shipstation.state.orders.values()].filter((r) => r.orderKey.startsWith(`${syspro.company}:`));
  const pushedOrdersOf = (customer: string) =>
    syspro.db.sorMaster.rows
      .filter((r) => r.Customer === customer && byKey(String(r.SalesOrder))?.status === 'awaiting_shipment')
      .map((r) => String(r.SalesOrder));
  const modifyDates = () => new Map(ours().map((r) => [r.orderKey, r.modifyDate]));

  /** The customer with the most open, shippable orders; its orders carry no e-mail of their own. */
  let customer = '';

  it('records every customer on its first pass and re-pushes nothing', async () => {
    const open = syspro.db.sorMaster.rows.filter(
      (r) =>
        ['1', '2', '3', '4'].includes(String(r.OrderStatus)) &&
        syspro.db.linesOf(String(r.SalesOrder)).some((l) => Number(l.MShipQty) > 0),
    );
    const counts = new Map<string, number>();
    for (const r of open) counts.set(String(r.Customer), (counts.get(String(r.Customer)) ?? 0) + 1);
    customer = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    assert.ok((counts.get(customer) ?? 0) >= 2, 'a customer with several open orders');
    // Orders entered without an e-mail of their own take the customer's (the order's wins).
    for (const r of syspro.db.sorMaster.rows) if (r.Customer === customer) r.Email = '';

    await run(ORDERS_POLL_KIND);
    assert.ok(pushedOrdersOf(customer).length >= 2, 'its open orders are in ShipStation');
    const before = modifyDates();
    await run(CUSTOMERS_POLL_KIND);
    assert.deepEqual(modifyDates(), before, 'the first pass changes nothing in ShipStation');
    const links = await ctx.store.db
      .selectFrom('links')
      .select(['syspro_key', 'last_hash'])
      .where('entity_type', '=', 'customer')
      .execute();
    assert.equal(links.length, syspro.db.arCustomer.rows.length, 'one link per customer');
    const row = syspro.db.arCustomer.get(customer)!;
    assert.equal(
      links.find((l) => l.syspro_key === customer.trim())?.last_hash,
      customerHash(row as unknown as Parameters<typeof customerHash>[0]),
    );
    assert.equal((await listAudit(ctx.store.db, { flow: 'customers' })).length, 0);
  });

  it("re-pushes a changed customer's open orders with the new e-mail and bill-to, and nothing else", async () => {
    const row = syspro.db.arCustomer.get(customer)!;
    row.Email = 'Orders.New@Example.COM';
    row.SoldToAddr1 = '99 New Billing Road';
    // Another customer changes only what the orders do not carry: nothing is re-pushed for it.
    const other = syspro.db.arCustomer.rows.find(
      (r) => r.Customer !== customer && pushedOrdersOf(String(r.Customer)).length > 0,
    )!;
    other.CreditLimit = Number(other.CreditLimit) + 1000;
    const orders = pushedOrdersOf(customer);
    const before = modifyDates();

    await run(CUSTOMERS_POLL_KIND);
    for (const salesOrder of orders) {
      const body = byKey(salesOrder)!.body() as { customerEmail?: string; billTo?: { street1?: string } };
      assert.equal(body.customerEmail, 'orders.new@example.com', `sales order ${salesOrder}`);
      assert.equal(body.billTo?.street1, '99 New Billing Road', `sales order ${salesOrder}`);
    }
    const after = modifyDates();
    const changed = [...after.entries()]
      .filter(([key, date]) => before.get(key) !== date)
      .map(([key]) => key);
    assert.deepEqual(
      changed.sort(),
      orders.map((so) => `${syspro.company}:${so}`).sort(),
      "only that customer's orders were updated",
    );
    const audit = await listAudit(ctx.store.db, { flow: 'customers' });
    assert.equal(audit.length, 1, 'one audit row for the one changed customer');
    assert.equal(audit[0]?.entity_key, customer.trim());
    const detail = JSON.parse(audit[0]!.detail!) as { salesOrders: string[]; queued: number };
    for (const so of orders) assert.ok(detail.salesOrders.includes(so), `${so} was queued`);
  });

  it('queues nothing on the next pass when no customer changed', async () => {
    const before = modifyDates();
    const jobsBefore = await ctx.store.db.selectFrom('jobs').select('id').execute();
    await run(CUSTOMERS_POLL_KIND);
    const jobsAfter = await ctx.store.db.selectFrom('jobs').select('id').execute();
    assert.equal(jobsAfter.length, jobsBefore.length + 1, 'only the poll job itself');
    assert.deepEqual(modifyDates(), before);
    assert.equal((await listAudit(ctx.store.db, { flow: 'customers' })).length, 1);
  });
});
