/**
 * Sandbox scale: how long seeding 100,000 orders takes and how much memory the sandboxes hold, how
 * fast ShipStation list filters answer over 100,000 orders, and how fast OData pages through every
 * SYSPRO order line. Prints figures; asserts nothing (the goals are in the README).
 *
 *   npm run bench:sandboxes            (node --expose-gc, so heap figures are after a collection)
 *
 * Goals: SYSPRO seeding 100,000 orders < 10 s and the process < 1 GB; ShipStation holds 100,000 orders.
 */
import { startShipStationSandbox } from '../src/sandbox/shipstation/index.js';
import { seedCompany, startSysproSandbox } from '../src/sandbox/syspro/index.js';
import { createODataReader } from '../src/syspro/odata-reader.js';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

function report(what: string, value: string): void {
  console.log(`${what.padEnd(58)} ${value}`);
}

async function syspro(): Promise<void> {
  gc();
  let t = performance.now();
  const db = seedCompany({ seed: 42, orders: ORDERS, now: Date.parse('2026-01-15T12:00:00Z') });
  const seedMs = performance.now() - t;
  gc();
  const memory = process.memoryUsage();
  report(
    `syspro: seed ${ORDERS.toLocaleString('en')} orders`,
    `${(seedMs / 1000).toFixed(2)} s (${db.sorDetail.rows.length.toLocaleString('en')} lines, ${db.mdnMaster.rows.length.toLocaleString('en')} dispatch notes)  goal < 10 s ${seedMs < 10_000 ? 'ok' : 'MISSED'}`,
  );
  report(
    'syspro: memory after seeding',
    `heap ${mb(memory.heapUsed)}, rss ${mb(memory.rss)}  goal rss < 1 GB ${memory.rss < 2 ** 30 ? 'ok' : 'MISSED'}`,
  );

  const sandbox = await startSysproSandbox({ port: 0, db, odataNextLink: true });
  try {
    const reader = createODataReader({
      serviceUrl: sandbox.odataUrl,
      username: sandbox.operator,
      password: sandbox.operatorPassword,
      pageSize: 5000,
    });
    t = performance.now();
    let rows = 0;
    let peakRss = 0;
    for await (const page of reader.pages('SorDetail', {
      select: ['SalesOrder', 'SalesOrderLine', 'MStockCode', 'MOrderQty'],
      orderBy: ['SalesOrder', 'SalesOrderLine'],
    })) {
      rows += page.length;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    const ms = performance.now() - t;
    report(
      'syspro: OData read of every SorDetail row (pages of 5,000)',
      `${rows.toLocaleString('en')} rows in ${(ms / 1000).toFixed(2)} s = ${Math.round(rows / (ms / 1000)).toLocaleString('en')} rows/s, peak rss ${mb(peakRss)}`,
    );
  } finally {
    await sandbox.close();
  }
}

async function shipstation(): Promise<void> {
  gc();
  const before = process.memoryUsage().heapUsed;
  let t = performance.now();
  const sandbox = await startShipStationSandbox({ port: 0, orders: ORDERS, backgroundTimers: false });
  const startMs = performance.now() - t;
  try {
    gc();
    report(
      `shipstation: start with ${ORDERS.toLocaleString('en')} orders`,
      `${(startMs / 1000).toFixed(2)} s, heap +${mb(process.memoryUsage().heapUsed - before)} (${sandbox.state.orders.size.toLocaleString('en')} orders held)`,
    );
    const auth = `Basic ${Buffer.from(`${sandbox.apiKey}:${sandbox.apiSecret}`).toString('base64')}`;
    for (const [name, query] of [
      ['orderNumber prefix', '/orders?orderNumber=SEED-1999&pageSize=500'],
      ['itemKeyword', '/orders?itemKeyword=gadget&pageSize=500'],
      [
        'createDate range, sorted desc',
        '/orders?createDateStart=2026-01-01&createDateEnd=2026-01-05&sortBy=CreateDate&sortDir=DESC&pageSize=500',
      ],
      [
        'status + modifyDate sort, page 3',
        '/orders?orderStatus=shipped&sortBy=ModifyDate&pageSize=500&page=3',
      ],
      ['shipments with items, page 5', '/shipments?pageSize=500&includeShipmentItems=true&page=5'],
    ] as const) {
      t = performance.now();
      const res = await fetch(`${sandbox.url}${query}`, { headers: { authorization: auth } });
      await res.arrayBuffer();
      report(`shipstation: GET ${name}`, `${Math.round(performance.now() - t)} ms (HTTP ${res.status})`);
    }
  } finally {
    await sandbox.close();
  }
}

await syspro();
await shipstation();
