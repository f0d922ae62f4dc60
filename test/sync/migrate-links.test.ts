/**
 * `migrate-links` from V1 to V2 against the sandbox: orders pushed on V1 are found on V2 under the
 * same number with our key; a dry run records nothing; the real run records the links' API; a
 * link whose order is gone is reported, not invented.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { MemoryRateLimiter } from '../../src/shipstation/memory-rate-limiter.js';
import { readCheckpoint } from '../../src/store/checkpoints.js';
import { saveLink } from '../../src/store/links.js';
import type { ConnectionClients } from '../../src/sync/connection-clients.js';
import { LINKS_API_CHECKPOINT, linksApi, migrateLinks } from '../../src/sync/migrate-links.js';
import { ORDER_ENTITY } from '../../src/sync/orders.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';
import { connectToSandboxes } from '../helpers/sandbox-connection.js';

forEachDialect('migrate-links v1 → v2', (ctx) => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let v1: ConnectionClients;
  let v2: ConnectionClients;
  const clock = new FakeClock(Date.parse('2026-11-20T18:00:00Z'));
  const keys = ['EDU1:300001', 'EDU1:300002'];

  before(async () => {
    shipstation = await startShipStationSandbox({ port: 0, seed: 3, clock, backgroundTimers: false });
    syspro = await startSysproSandbox({ port: 0, seed: 3, orders: 3, clock });
    const limiter = new MemoryRateLimiter({ clock, limit: 200, windowMs: 60_000 });
    v1 = (await connectToSandboxes({ shipstation, syspro, store: ctx.store, clock, limiter })).clients;
    v2 = (await connectToSandboxes({ shipstation, syspro, store: ctx.store, clock, limiter, api: 'v2' }))
      .clients;
    const outcome = await v1.shipstationApi.createOrUpdateOrders(
      keys.map((key) => ({
        orderNumber: key.slice(5),
        orderKey: key,
        orderDate: '2026-11-20 09:00:00',
        orderStatus: 'awaiting_shipment' as const,
        billTo: { name: 'A' },
        shipTo: {
          name: 'A',
          street1: '1 Main St',
          city: 'Austin',
          state: 'TX',
          postalCode: '78701',
          country: 'US',
        },
        items: [{ sku: 'S', name: 'S', quantity: 1 }],
      })),
    );
    for (const [i, r] of outcome.results.entries()) {
      await saveLink(ctx.store.db, {
        connection: 'main',
        entityType: ORDER_ENTITY,
        sysproKey: keys[i]!,
        shipstationId: String(r.orderId),
        state: 'open',
      });
    }
    // A link whose order ShipStation never had.
    await saveLink(ctx.store.db, {
      connection: 'main',
      entityType: ORDER_ENTITY,
      sysproKey: 'EDU1:399999',
      shipstationId: '987654321',
      state: 'open',
    });
  });
  after(async () => {
    await v1?.close();
    await v2?.close();
    await shipstation?.close();
    await syspro?.close();
  });

  it('checks every open link on V2 by the shared number; a dry run records nothing', async () => {
    const dry = await migrateLinks({
      store: ctx.store,
      clock,
      connection: 'main',
      target: v2.shipstationApi,
      dryRun: true,
    });
    assert.equal(dry.from, 'v1');
    assert.equal(dry.to, 'v2');
    assert.equal(dry.checked, 3);
    assert.equal(dry.ok, 2);
    assert.deepEqual(dry.missing, ['EDU1:399999']);
    assert.equal(await readCheckpoint(ctx.store.db, 'main', LINKS_API_CHECKPOINT), undefined);
    assert.equal(await linksApi(ctx.store, 'main'), 'v1');
  });

  it('records the links API on a real run', async () => {
    const report = await migrateLinks({
      store: ctx.store,
      clock,
      connection: 'main',
      target: v2.shipstationApi,
    });
    assert.equal(report.ok, 2);
    assert.equal(await linksApi(ctx.store, 'main'), 'v2');
  });
});
