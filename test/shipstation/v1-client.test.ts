/**
 * The V1 client against the ShipStation sandbox over real HTTP, with the SAME fake clock on both
 * sides: rate-limit windows and retry backoffs pass instantly.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { ShipStationError } from '../../src/shipstation/errors.js';
import { formatPacificDate, formatPacificFilter, pacificToUtc } from '../../src/shipstation/pacific-time.js';
import type { V1Order, V1Shipment } from '../../src/shipstation/types.js';
import { createShipStationV1Client, type ShipStationV1Client } from '../../src/shipstation/v1/client.js';
import { FakeClock } from '../helpers/clock.js';
import { CountingLimiter, type Receiver, startReceiver, testOrder } from './helpers.js';

async function collect<T>(pages: AsyncIterable<{ items: T[] }>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...page.items);
  return all;
}

describe('ShipStation V1 client against the sandbox', () => {
  let clock: FakeClock;
  let sandbox: ShipStationSandbox;
  let limiter: CountingLimiter;
  let client: ShipStationV1Client;
  let receiver: Receiver;

  before(async () => {
    clock = new FakeClock(Date.parse('2026-01-15T20:00:00Z'));
    sandbox = await startShipStationSandbox({
      port: 0,
      clock,
      seed: 11,
      rateLimit: { limit: 40, windowMs: 60_000 },
      backgroundTimers: false,
      webhookDelayMs: 0,
    });
    receiver = await startReceiver();
  });
  after(async () => {
    await sandbox.close();
    await receiver.close();
  });
  beforeEach(() => {
    sandbox.faults.clear();
    limiter = new CountingLimiter(clock);
    client = createShipStationV1Client({
      baseUrl: sandbox.url,
      apiKey: sandbox.apiKey,
      apiSecret: sandbox.apiSecret,
      limiter,
      clock,
      timeoutMs: 5_000,
      retry: { attempts: 4, baseMs: 500, maxMs: 30_000 },
      allowedResourceHosts: [new URL(sandbox.url).host],
    });
  });

  it('reads the account: stores and warehouses', async () => {
    const stores = await client.listStores();
    assert.ok(stores.length > 0);
    assert.ok(stores.every((s) => typeof s.storeId === 'number' && typeof s.storeName === 'string'));
    const warehouses = await client.listWarehouses();
    assert.ok(warehouses.some((w) => w.warehouseName === 'Main Warehouse'));
  });

  it('upserts an order by orderKey and reads it back with Pacific times', async () => {
    const orderDate = Date.parse('2026-01-14T18:30:00Z'); // 10:30 PST
    const created = await client.createOrUpdateOrder(testOrder(5001, orderDate));
    assert.equal(created.orderKey, 'ACME:SO5001');
    assert.equal(pacificToUtc(created.orderDate), orderDate);
    const updated = await client.createOrUpdateOrder(
      testOrder(5001, orderDate, { orderId: created.orderId, internalNotes: 'Smith & <Sons> "Ltd"' }),
    );
    assert.equal(updated.orderId, created.orderId, 'same order, not a duplicate');
    const read = await client.getOrder(created.orderId);
    assert.equal(read.internalNotes, 'Smith & <Sons> "Ltd"');
    const missing = await client.getOrder(999_999_999).catch((e: unknown) => e);
    assert.ok(missing instanceof ShipStationError);
    assert.equal(missing.kind, 'not_found');
  });

  it('creates many orders in one call and reports each one', async () => {
    const at = clock.now() - 3_600_000;
    const shipped = await client.createOrUpdateOrder(testOrder(5100, at));
    sandbox.state.createLabelBatch([{ orderId: shipped.orderId }]);
    const outcome = await client.createOrUpdateOrders([
      testOrder(5101, at),
      testOrder(5100, at, { orderId: shipped.orderId, internalNotes: 'too late' }),
      testOrder(5102, at),
    ]);
    assert.equal(outcome.hasErrors, true);
    assert.deepEqual(
      outcome.results.map((r) => [r.orderKey, r.success]),
      [
        ['ACME:SO5101', true],
        ['ACME:SO5100', false],
        ['ACME:SO5102', true],
      ],
    );
    assert.ok(outcome.results[1]?.errorMessage);
    assert.equal(typeof outcome.results[0]?.orderId, 'number');
  });

  it('matches createorders results to orders sent without orderKey, or with only orderId', async () => {
    const at = clock.now() - 3_600_000;
    const existing = await client.createOrUpdateOrder(testOrder(5200, at));
    const keyless = testOrder(5201, at, { orderKey: undefined });
    const byIdOnly = testOrder(5200, at, {
      orderKey: undefined,
      orderId: existing.orderId,
      internalNotes: 'updated by orderId',
    });
    const outcome = await client.createOrUpdateOrders([keyless, byIdOnly, testOrder(5202, at)]);
    assert.equal(outcome.hasErrors, false, JSON.stringify(outcome));
    assert.deepEqual(
      outcome.results.map((r) => [r.index, r.orderNumber, r.success, r.errorMessage]),
      [
        [0, 'SO5201', true, null],
        [1, 'SO5200', true, null],
        [2, 'SO5202', true, null],
      ],
    );
    // The keyless order comes back with the key ShipStation generated for it.
    const generated = outcome.results[0]?.orderKey;
    assert.ok(generated, JSON.stringify(outcome.results[0]));
    const created = await client.getOrder(outcome.results[0]?.orderId as number);
    assert.equal(created.orderKey, generated);
    assert.equal(created.orderNumber, 'SO5201');
    assert.equal(outcome.results[1]?.orderId, existing.orderId);
    assert.equal(outcome.results[1]?.orderKey, 'ACME:SO5200');
    assert.equal((await client.getOrder(existing.orderId)).internalNotes, 'updated by orderId');
  });

  it('pages through orders with an async iterator, and orderNumber is a prefix search', async () => {
    const at = clock.now() - 7_200_000;
    const orders = Array.from({ length: 12 }, (_, i) => testOrder(`77${String(i).padStart(2, '0')}`, at));
    await client.createOrUpdateOrders(orders);
    const pages: number[] = [];
    const found: V1Order[] = [];
    for await (const page of client.listOrders({ orderNumber: 'SO77', pageSize: 5, sortBy: 'CreateDate' })) {
      pages.push(page.page);
      found.push(...page.items);
    }
    assert.deepEqual(pages, [1, 2, 3]);
    assert.equal(found.length, 12);
    assert.equal(new Set(found.map((o) => o.orderId)).size, 12);
    const exact = (await collect(client.listOrders({ orderNumber: 'SO7703' }))).filter(
      (o) => o.orderNumber === 'SO7703',
    );
    assert.equal(exact.length, 1);
  });

  it('filters orders by a Pacific modify-date window', async () => {
    const before = clock.now();
    clock.advance(60_000);
    const order = await client.createOrUpdateOrder(testOrder(7800, clock.now()));
    clock.advance(60_000);
    const inWindow = await collect(
      client.listOrders({
        modifyDateStart: formatPacificFilter(before),
        modifyDateEnd: formatPacificFilter(clock.now()),
      }),
    );
    assert.ok(inWindow.some((o) => o.orderId === order.orderId));
    const later = await collect(client.listOrders({ modifyDateStart: formatPacificFilter(clock.now()) }));
    assert.ok(!later.some((o) => o.orderId === order.orderId));
  });

  it('lists shipments with items, by batch and by void date, and fulfillments', async () => {
    const a = await client.createOrUpdateOrder(testOrder(7900, clock.now()));
    const b = await client.createOrUpdateOrder(testOrder(7901, clock.now()));
    const { batchId, shipments } = sandbox.state.createLabelBatch([{ orderId: a.orderId }]);
    const withItems = await collect(client.listShipments({ orderId: a.orderId, includeShipmentItems: true }));
    assert.equal(withItems.length, 1);
    assert.equal(withItems[0]?.shipmentItems?.[0]?.sku, 'WID-100');
    const withoutItems = await collect(client.listShipments({ orderId: a.orderId }));
    assert.equal(withoutItems[0]?.shipmentItems ?? null, null);
    const byBatch = await collect(client.listShipments({ batchId }));
    assert.deepEqual(
      byBatch.map((s) => s.shipmentId),
      shipments.map((s) => s.shipmentId),
    );
    clock.advance(60_000);
    const voidFrom = clock.now();
    sandbox.state.voidLabel(shipments[0]!.shipmentId);
    const voided = await collect(
      client.listShipments({ voidDateStart: formatPacificFilter(voidFrom - 1000) }),
    );
    assert.ok(voided.some((s) => s.shipmentId === shipments[0]!.shipmentId && s.voided));
    sandbox.state.markAsShipped({ orderId: b.orderId, carrierCode: 'ups', trackingNumber: '1Z999' });
    const fulfillments = await collect(client.listFulfillments({ orderId: b.orderId }));
    assert.equal(fulfillments.length, 1);
    assert.equal(fulfillments[0]?.trackingNumber, '1Z999');
    assert.equal(
      await collect(client.listShipments({ orderId: b.orderId })).then((s) => s.length),
      0,
      'a mark-as-shipped is not a shipment',
    );
    assert.match(withItems[0]!.shipDate, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(withItems[0]!.shipDate.slice(0, 10), formatPacificDate(clock.now() - 60_000));
  });

  it('subscribes, lists and deletes webhooks; follows a SHIP_NOTIFY resource_url', async () => {
    const { webhookId } = await client.subscribeWebhook({
      target_url: `${receiver.url}/hooks/shipstation?token=t`,
      event: 'SHIP_NOTIFY',
      friendly_name: 'ml-connector',
    });
    const hooks = await client.listWebhooks();
    assert.ok(hooks.some((h) => h.WebHookID === webhookId && h.HookType === 'SHIP_NOTIFY'));

    const order = await client.createOrUpdateOrder(testOrder(8000, clock.now()));
    const { shipments } = sandbox.state.createLabelBatch([{ orderId: order.orderId }]);
    await sandbox.flushWebhooks({ all: true });
    const delivery = receiver.requests.find((r) => r.url.startsWith('/hooks/shipstation'));
    assert.ok(delivery, 'the sandbox delivered SHIP_NOTIFY');
    const payload = JSON.parse(delivery.body.toString('utf8')) as {
      resource_url: string;
      resource_type: string;
    };
    assert.equal(payload.resource_type, 'SHIP_NOTIFY');
    const resource = await client.fetchResource(payload.resource_url);
    assert.deepEqual(
      resource.shipments?.map((s) => s.shipmentId),
      shipments.map((s) => s.shipmentId),
    );
    const viaPages = await collect(client.listResourcePages<V1Shipment>(payload.resource_url));
    assert.equal(viaPages.length, shipments.length);

    assert.equal(await client.deleteWebhook(webhookId), true);
    assert.ok(!(await client.listWebhooks()).some((h) => h.WebHookID === webhookId));
    assert.equal(await client.deleteWebhook(webhookId), false, 'already gone');
  });

  it('refuses a forged resource_url before any request leaves', async () => {
    const forged = await startReceiver();
    try {
      const acquiredBefore = limiter.acquired;
      for (const url of [
        `${forged.url}/shipments?batchId=1`,
        `https://ssapi.shipstation.com.${new URL(forged.url).hostname}.nip.io/shipments`,
        `http://ssapi.shipstation.com/shipments?batchId=1`,
        // An allowed host, but not a webhook resource: a forged SHIP_NOTIFY paging the account.
        `${sandbox.url}/shipments?pageSize=1`,
        `${sandbox.url}/shipments?batchId=1&pageSize=500`,
        `${sandbox.url}/shipments/../orders?storeID=1`,
        `${sandbox.url}/orders`,
      ]) {
        const error = await client.fetchResource(url).catch((e: unknown) => e);
        assert.ok(error instanceof ShipStationError, url);
        assert.equal(error.kind, 'refused_host');
        assert.throws(() => client.listResourcePages(url), ShipStationError);
      }
      assert.equal(forged.requests.length, 0, 'nothing reached the forged host');
      assert.equal(limiter.acquired, acquiredBefore, 'not even a rate-limit slot was taken');
      // Without the explicit entry, even the sandbox's own host is refused.
      const strict = createShipStationV1Client({
        baseUrl: sandbox.url,
        apiKey: sandbox.apiKey,
        apiSecret: sandbox.apiSecret,
        limiter,
        clock,
      });
      const refused = await strict
        .fetchResource(`${sandbox.url}/shipments?batchId=1`)
        .catch((e: unknown) => e);
      assert.ok(refused instanceof ShipStationError && refused.kind === 'refused_host');
    } finally {
      await forged.close();
    }
  });

  it('runs 2,000 calls through the limiter against a limit of 40 per window with no 429', async () => {
    const fakeStart = clock.now();
    const realStart = performance.now();
    for (let i = 0; i < 2000; i++) await client.listWarehouses();
    const realMs = performance.now() - realStart;
    const windows = (clock.now() - fakeStart) / 60_000;
    assert.equal(limiter.blocks, 0, 'no 429 came back');
    assert.equal(limiter.acquired, 2000);
    // 2,000 / 40 = 50 windows; each waits for the reset plus the 1 s safety margin.
    assert.ok(windows >= 49 && windows <= 52, `fake time spent: ${windows} windows`);
    console.log(`# 2000 V1 calls: ${realMs.toFixed(0)} ms real, ${windows.toFixed(1)} fake windows`);
  });

  it('waits out injected 429s and retries injected 500s until the call succeeds', async () => {
    sandbox.faults.add({ route: '/warehouses', rateLimited: 1, times: 2 });
    const start = clock.now();
    const warehouses = await client.listWarehouses();
    assert.ok(warehouses.length > 0);
    assert.equal(limiter.blocks, 2);
    assert.ok(clock.now() - start >= 2_000, 'waited X-Rate-Limit-Reset on the fake clock');

    sandbox.faults.add({ route: '/orders/createorders', method: 'POST', error: 1, times: 2 });
    const outcome = await client.createOrUpdateOrders([testOrder(8100, clock.now())]);
    assert.equal(outcome.hasErrors, false);
    const copies = (await collect(client.listOrders({ orderNumber: 'SO8100' }))).filter(
      (o) => o.orderNumber === 'SO8100',
    );
    assert.equal(copies.length, 1, 'retried upsert by orderKey made no duplicate');

    // A random mix, seeded: every call still succeeds.
    sandbox.faults.add({ error: 0.2 });
    sandbox.faults.add({ rateLimited: 0.1 });
    for (let i = 0; i < 100; i++) await client.listStores();
    assert.ok(limiter.blocks > 2);
  });

  it('gives up with a typed error when the faults outlast the retries', async () => {
    sandbox.faults.add({ route: '/stores', error: 1 });
    const error = await client.listStores().catch((e: unknown) => e);
    assert.ok(error instanceof ShipStationError);
    assert.equal(error.kind, 'server');
    assert.equal(error.status, 500);
    assert.equal(error.attempts, 4);
    assert.match(error.message, /An error has occurred/);
  });

  it('reports wrong credentials and a hanging server in terms ping can use', async () => {
    const wrong = createShipStationV1Client({
      baseUrl: sandbox.url,
      apiKey: sandbox.apiKey,
      apiSecret: 'not-the-secret',
      limiter,
      clock,
    });
    const denied = await wrong.listStores().catch((e: unknown) => e);
    assert.ok(denied instanceof ShipStationError);
    assert.equal(denied.kind, 'auth');
    assert.ok(!denied.message.includes('not-the-secret'));

    sandbox.faults.add({ route: '/warehouses', hang: 1, times: 1 });
    const slow = createShipStationV1Client({
      baseUrl: sandbox.url,
      apiKey: sandbox.apiKey,
      apiSecret: sandbox.apiSecret,
      limiter,
      clock,
      timeoutMs: 200,
      retry: { attempts: 1 },
    });
    const timeout = await slow.listWarehouses().catch((e: unknown) => e);
    assert.ok(timeout instanceof ShipStationError);
    assert.equal(timeout.kind, 'timeout');
  });
});
