/**
 * Shipment write-back throughput against the SYSPRO sandbox (in process, real HTTP on 127.0.0.1):
 * 5,000 `shipments.writeback` jobs queued at once (one shipment of one unit per sales order, the
 * dispatch-note strategy), run by one worker on a SQLite store in a temp directory. Prints how many
 * shipments went per SORTDN post, per e.net request (logons and logoffs included) and per SYSPRO
 * request of any kind (OData reads of the open lines included), and the wall time.
 *
 *   npm run bench:writeback            (BENCH_SHIPMENTS=5000, BENCH_MAX_URL=16000,
 *                                       BENCH_KEY_LIST=or|in: how the OData key lists are written,
 *                                       BENCH_RANGE_READS=false: open lines by key list only,
 *                                       BENCH_DEBUG=1: each SorDetail request, rows and filter)
 *
 * Goal: at least 20 shipments per SYSPRO call with 5,000 queued.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxConfigDocument } from '../src/cli/commands/sandbox.js';
import { systemClock } from '../src/clock.js';
import { type ConnectionConfig, configSchema } from '../src/config/schema.js';
import { Worker } from '../src/engine/worker.js';
import { startSysproSandbox } from '../src/sandbox/syspro/index.js';
import { enqueueJobs } from '../src/store/jobs/enqueue.js';
import { countJobsByKindAndState } from '../src/store/jobs/queries.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { openStore } from '../src/store/open.js';
import { SHIPMENT_WRITEBACK_KIND, type ShipmentWrite, shipmentKey } from '../src/sync/shipment-model.js';
import { writebackHandlers } from '../src/sync/writeback.js';
import { createEnetClient } from '../src/syspro/enet-client.js';
import { createODataReader } from '../src/syspro/odata-reader.js';

const SHIPMENTS = Number(process.env.BENCH_SHIPMENTS ?? 5000);
const MAX_URL = Number(process.env.BENCH_MAX_URL ?? 16_000);
const GOAL = 20;
const KEY_LIST = process.env.BENCH_KEY_LIST === 'in' ? 'in' : 'or';
const RANGE_READS = process.env.BENCH_RANGE_READS !== 'false';

async function main(): Promise<void> {
  const clock = systemClock;
  const syspro = await startSysproSandbox({
    port: 0,
    seed: 7,
    orders: Math.max(2000, SHIPMENTS * 10),
    clock,
    logger: false,
  });
  const dir = mkdtempSync(join(tmpdir(), 'mlc-bench-writeback-'));
  const store = openStore(`sqlite:${join(dir, 'bench.db')}`);
  try {
    await migrateToLatest(store);
    const document = sandboxConfigDocument('main', {
      shipstation: { url: 'http://127.0.0.1:1', apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as { connections: Array<{ syspro: Record<string, unknown> }> };
    const sysproSection = (document.connections[0] as { syspro: Record<string, unknown> }).syspro;
    sysproSection.maxUrlLength = MAX_URL;
    sysproSection.odata = { keyList: KEY_LIST, rangeReads: RANGE_READS };
    const connection = configSchema.parse(document).connections[0] as ConnectionConfig;

    const shipments: ShipmentWrite[] = [];
    const created = Date.now() - 3_600_000;
    for (const order of syspro.db.sorMaster.rows) {
      if (!['1', '2', '3', '4', '8'].includes(order.OrderStatus as string)) continue;
      const so = order.SalesOrder as string;
      const line = syspro.db
        .linesOf(so)
        .find((l) => l.LineType === '1' && (l.MOrderQty as number) - (l.MQtyDispatched as number) >= 1);
      if (!line) continue;
      const id = 100_000_000 + shipments.length;
      shipments.push({
        source: 'shipment',
        id,
        connection: 'main',
        orderKey: `SANDBOX:${so}`,
        salesOrder: so,
        orderId: id,
        orderNumber: so,
        carrierCode: 'ups_walleted',
        serviceCode: 'ups_ground',
        trackingNumbers: [`1Z999AA1${String(id).slice(-10)}`],
        shipDate: '2026-01-15',
        shipDateUtc: Date.parse('2026-01-15T08:00:00Z'),
        createdAtUtc: created,
        lines: [{ salesOrderLine: String(line.SalesOrderLine), sku: line.MStockCode as string, quantity: 1 }],
        shipmentCost: 8.25,
        insuranceCost: null,
        voided: false,
        voidedAtUtc: null,
        version: created,
        via: 'poll',
      });
      if (shipments.length === SHIPMENTS) break;
    }
    if (shipments.length < SHIPMENTS)
      throw new Error(`only ${shipments.length} dispatchable orders in the seed`);
    for (let i = 0; i < shipments.length; i += 1000) {
      await enqueueJobs(
        store,
        shipments.slice(i, i + 1000).map((s) => ({
          kind: SHIPMENT_WRITEBACK_KIND,
          connection: 'main',
          payload: s,
          idempotencyKey: shipmentKey('main', s.source, s.id),
        })),
        clock.now(),
      );
    }

    const enet = createEnetClient({
      baseUrl: syspro.enetUrl,
      operator: syspro.operator,
      operatorPassword: syspro.operatorPassword,
      company: syspro.company,
      companyPassword: syspro.companyPassword,
      clock,
      maxUrlLength: MAX_URL,
    });
    const odata = createODataReader({
      serviceUrl: syspro.odataUrl,
      username: syspro.operator,
      password: syspro.operatorPassword,
      keyList: KEY_LIST,
      clock,
    });
    const worker = new Worker({
      store,
      clock,
      retry: { cadence: [60_000], perKind: {}, jitter: 0 },
      handlers: writebackHandlers({
        store,
        clock,
        connectionFor: async () => ({ connection, enet, odata }),
      }),
    });
    syspro.calls.clear();
    syspro.odataRequests.clear();
    const started = performance.now();
    await worker.runUntilIdle();
    const seconds = (performance.now() - started) / 1000;
    await enet.close();

    const states = await countJobsByKindAndState(store);
    const succeeded = states.find((s) => s.state === 'succeeded')?.count ?? 0;
    const posts = syspro.calls.count({ businessObject: 'SORTDN' });
    const enetCalls = syspro.calls.count();
    const odataRequests = odata.stats.requests;
    const sorDetail = syspro.odataRequests.list({ table: 'SorDetail' });
    if (process.env.BENCH_DEBUG)
      for (const r of sorDetail)
        console.error(r.rows, (r.filter ?? '').length, (r.filter ?? '').slice(0, 120));
    const rangeRequests = sorDetail.filter((r) => / ge '/.test(r.filter ?? '')).length;
    const perPost = succeeded / posts;
    const perEnet = succeeded / enetCalls;
    const perAny = succeeded / (enetCalls + odataRequests);
    const verdict = (n: number) => (n >= GOAL ? 'ok' : `BELOW GOAL of ${GOAL}`);
    const row = (what: string, value: string, extra = '') =>
      console.log(`${what.padEnd(52)} ${value.padStart(10)}  ${extra}`);
    row(
      `shipments written (of ${SHIPMENTS} queued)`,
      String(succeeded),
      states.map((s) => `${s.state} ${s.count}`).join(', '),
    );
    row('SORTDN posts', String(posts), `URL limit ${MAX_URL}`);
    row('e.net requests (posts, logons, logoffs)', String(enetCalls));
    row(
      'OData requests (open lines)',
      String(odataRequests),
      `${rangeRequests} by range, ${sorDetail.length - rangeRequests} by key list (written with ${KEY_LIST}); rangeReads ${RANGE_READS}`,
    );
    row('rows the SYSPRO sandbox sent for them', String(sorDetail.reduce((n, r) => n + r.rows, 0)));
    row('shipments per SORTDN post', perPost.toFixed(1), verdict(perPost));
    row('shipments per e.net request', perEnet.toFixed(1), verdict(perEnet));
    row('shipments per SYSPRO request (e.net + OData)', perAny.toFixed(1), verdict(perAny));
    row('wall time', `${seconds.toFixed(2)} s`, `${Math.round(succeeded / seconds)} shipments/s`);
  } finally {
    await store.close();
    await syspro.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
