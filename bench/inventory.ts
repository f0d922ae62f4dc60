/**
 * Inventory push SYSPRO → ShipStation V2 against both sandboxes (in process, real HTTP on
 * 127.0.0.1): 10,000 stock codes in one warehouse, a first full pass (every level sent with
 * `adjust`), then 1% of the levels changed in SYSPRO and a second pass. Prints the V2 calls of each
 * pass (counted in the ShipStation sandbox's own request log) and the time of the full pass. The
 * sandbox's V2 budget is raised so the time is our path's; at ShipStation's default 200/min a full
 * pass of N changed levels takes N / 200 minutes (V2 takes one inventory transaction per request).
 *
 *   npm run bench:inventory            (BENCH_STOCK_CODES=10000, BENCH_CHANGED=0.01)
 *
 * Goal: the second pass sends only the changed levels (100 calls for 10,000 codes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxConfigDocument } from '../src/cli/commands/sandbox.js';
import { systemClock } from '../src/clock.js';
import { type ConnectionConfig, configSchema } from '../src/config/schema.js';
import { startShipStationSandbox } from '../src/sandbox/shipstation/index.js';
import { startSysproSandbox } from '../src/sandbox/syspro/index.js';
import { INV_WAREHOUSE_DEFAULTS } from '../src/sandbox/syspro/tables.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { openStore } from '../src/store/open.js';
import { openConnectionClients } from '../src/sync/connection-clients.js';
import { pushInventory } from '../src/sync/inventory-push.js';

const CODES = Number(process.env.BENCH_STOCK_CODES ?? 10_000);
const CHANGED = Number(process.env.BENCH_CHANGED ?? 0.01);

async function main(): Promise<void> {
  const clock = systemClock;
  const shipstation = await startShipStationSandbox({
    port: 0,
    seed: 3,
    v2RateLimit: { limit: 1_000_000, windowMs: 60_000 },
  });
  const syspro = await startSysproSandbox({ port: 0, seed: 3, orders: 50, logger: false });
  const dir = mkdtempSync(join(tmpdir(), 'mlc-bench-inventory-'));
  const store = openStore(`sqlite:${join(dir, 'bench.db')}`);
  try {
    await migrateToLatest(store);
    for (let i = 0; i < CODES; i++) {
      syspro.db.invWarehouse.insert({
        ...INV_WAREHOUSE_DEFAULTS,
        StockCode: `BENCH-${String(i).padStart(6, '0')}`,
        Warehouse: 'BW',
        QtyOnHand: 100 + (i % 50),
        QtyAllocated: i % 7,
        DefaultBin: 'BW',
      });
    }
    const location = [...shipstation.inventory.locations.values()][0]?.inventory_location_id as string;
    const document = sandboxConfigDocument('main', {
      shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as { connections: Array<Record<string, Record<string, unknown>>> };
    const first = document.connections[0] as Record<string, Record<string, unknown>>;
    first.inventory = { enabled: true, locations: { BW: location } };
    first.shipstation = { ...first.shipstation, v2RateLimit: { limit: 1_000_000 } };
    first.syspro = { ...first.syspro, odata: { pageSize: 5000 } };
    const connection = configSchema.parse(document).connections[0] as ConnectionConfig;
    const clients = await openConnectionClients({
      connection,
      store,
      masterKey: () => {
        throw new Error('secrets come from the environment');
      },
      env: {
        ML_CONNECTOR_SECRET_MAIN_SYSPRO_OPERATORPASSWORD: syspro.operatorPassword,
        ML_CONNECTOR_SECRET_MAIN_SYSPRO_COMPANYPASSWORD: syspro.companyPassword,
        ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: shipstation.apiKey,
        ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: shipstation.apiSecret,
        ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_V2APIKEY: shipstation.v2ApiKey,
      },
      clock,
    });
    const deps = { store, clock, connectionFor: async () => clients };
    // The sandbox's log keeps the last 10,000 requests: count those since a pass began.
    const v2PostsSince = (at: number) =>
      shipstation
        .requests()
        .filter((r) => r.at >= at && r.method === 'POST' && r.url.startsWith('/v2/inventory')).length;

    let started = Date.now();
    const full = await pushInventory(deps, 'main');
    const fullMs = Date.now() - started;
    const fullPosts = full.v2Requests;

    const rows = syspro.db.invWarehouse.rows.filter((r) => r.Warehouse === 'BW');
    const step = Math.max(1, Math.round(1 / CHANGED));
    let changed = 0;
    for (let i = 0; i < rows.length; i += step) {
      (rows[i] as Record<string, unknown>).QtyOnHand =
        Number((rows[i] as Record<string, unknown>).QtyOnHand) + 3;
      changed++;
    }
    started = Date.now();
    const second = await pushInventory(deps, 'main');
    const secondMs = Date.now() - started;
    const secondPosts = v2PostsSince(started);
    await clients.close();

    console.log(
      JSON.stringify(
        {
          stockCodes: CODES,
          fullPass: { v2Calls: fullPosts, pushed: full.pushed, ms: fullMs },
          changed,
          secondPass: {
            v2Calls: secondPosts,
            pushed: second.pushed,
            unchanged: second.unchanged,
            ms: secondMs,
          },
          goal: secondPosts === changed ? 'met: only the changed levels were sent' : 'NOT met',
          atDefaultV2Budget: `${(fullPosts / 200).toFixed(0)} min for a full first pass at 200 requests/min`,
        },
        null,
        2,
      ),
    );
    if (secondPosts !== changed) process.exitCode = 1;
  } finally {
    await store.close();
    await shipstation.close();
    await syspro.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
