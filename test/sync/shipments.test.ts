/**
 * The shipments fetch and reconciling poll end to end: a worker runs `shipments.fetch` and
 * `shipments.poll` against the ShipStation sandbox over HTTP (labels, voids and mark-as-shipped made
 * with the sandbox's warehouse actions), and every assertion counts the `shipments.writeback` jobs
 * they enqueue. A stand-in write-back (a second worker, test only) records what the real one will:
 * the `shipment` link with `last_hash = v<version>`.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { type ConnectionConfig, configSchema } from '../../src/config/schema.js';
import type { JobHandler } from '../../src/engine/handler.js';
import { Worker } from '../../src/engine/worker.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { MemoryRateLimiter } from '../../src/shipstation/memory-rate-limiter.js';
import { formatPacificFilter, pacificToUtc } from '../../src/shipstation/pacific-time.js';
import type { RateLimiter } from '../../src/shipstation/rate-limit.js';
import { shipStationV1 } from '../../src/shipstation/v1/adapter.js';
import { createShipStationV1Client, type ShipStationV1Client } from '../../src/shipstation/v1/client.js';
import { listAudit } from '../../src/store/audit.js';
import { readCheckpoint } from '../../src/store/checkpoints.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import type { Job } from '../../src/store/jobs/job.js';
import { getJob, listJobs } from '../../src/store/jobs/queries.js';
import { saveLink } from '../../src/store/links.js';
import { ORDER_ENTITY } from '../../src/sync/orders.js';
import {
  SHIPMENT_ENTITY,
  SHIPMENT_WRITEBACK_KIND,
  type ShipmentWrite,
  shipmentKey,
  shipmentLinkKey,
} from '../../src/sync/shipment-model.js';
import {
  parseFetchPayload,
  pollPageSize,
  pollShipments,
  queueShipmentWrites,
  SHIPMENT_WINDOWS,
  SHIPMENTS_FETCH_KIND,
  SHIPMENTS_POLL_KIND,
  type ShipmentsFetchPayload,
  type ShipmentsFlowDeps,
  type ShipmentsSummary,
  shipmentsHandlers,
  withShipmentItems,
} from '../../src/sync/shipments.js';
import { versionHash } from '../../src/sync/shipments-mapper.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

const COMPANY = 'EDU1';

function emptySummary(): ShipmentsSummary {
  return { read: 0, queued: 0, coalesced: 0, unchanged: 0, skipped: 0, invalid: 0 };
}

forEachDialect('shipments fetch and poll against the ShipStation sandbox', (ctx) => {
  let sandbox: ShipStationSandbox;
  let client: ShipStationV1Client;
  let connection: ConnectionConfig;
  let deps: ShipmentsFlowDeps;
  let worker: Worker;
  let writeback: Worker;
  let requests = 0;
  const written: ShipmentWrite[] = [];
  const clock = new FakeClock(Date.parse('2026-11-20T18:00:00Z'));
  const orderIds: Record<string, number> = {};
  let jobSeq = 0;

  before(async () => {
    sandbox = await startShipStationSandbox({ port: 0, seed: 7, clock, backgroundTimers: false });
    const document = sandboxConfigDocument('main', {
      shipstation: { url: sandbox.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: {
        enetUrl: 'http://127.0.0.1:9/SYSPROWCFService/Rest',
        odataUrl: 'http://127.0.0.1:9/SYSPRO8Odata/SYSPROOData/EDU1',
        operator: 'ADMIN',
        operatorPassword: '',
        company: COMPANY,
        companyPassword: '',
      },
    });
    connection = configSchema.parse(document).connections[0]!;
    const inner = new MemoryRateLimiter({ clock, limit: 40, windowMs: 60_000 });
    const counting: RateLimiter = {
      acquire: (key, signal) => {
        requests++;
        return inner.acquire(key, signal);
      },
      observe: (key, o) => inner.observe(key, o),
      block: (key, until) => inner.block(key, until),
    };
    client = createShipStationV1Client({
      baseUrl: sandbox.url,
      apiKey: sandbox.apiKey,
      apiSecret: sandbox.apiSecret,
      limiter: counting,
      clock,
      allowedResourceHosts: connection.shipstation.allowedResourceHosts,
    });
    deps = {
      store: ctx.store,
      clock,
      connectionFor: async () => ({ connection, shipstation: shipStationV1(client) }),
    };
    const retry = { cadence: [60_000], perKind: {}, jitter: 0 };
    worker = new Worker({ store: ctx.store, clock, retry, handlers: shipmentsHandlers(deps) });
    // Stand-in for the write-back: records the link as agreed (`v<version>`), nothing else.
    const standIn: JobHandler = {
      kind: SHIPMENT_WRITEBACK_KIND,
      async run(jobs) {
        return jobs.map((job) => {
          const write = job.payload as ShipmentWrite;
          written.push(write);
          return {
            ok: true,
            record: async (db) => {
              await saveLink(
                db,
                {
                  connection: job.connection,
                  entityType: SHIPMENT_ENTITY,
                  sysproKey: shipmentLinkKey(write.source, write.id),
                  shipstationId: String(write.id),
                  lastHash: versionHash(write.version),
                },
                clock.now(),
              );
            },
          };
        });
      },
    };
    writeback = new Worker({ store: ctx.store, clock, retry, handlers: [standIn] });

    await client.subscribeWebhook({
      target_url: 'http://127.0.0.1:9/hooks/shipstation',
      event: 'SHIP_NOTIFY',
    });
    const orders = [
      { key: `${COMPANY}:100001`, number: '100001', items: 2 },
      { key: `${COMPANY}:100002`, number: '100002', items: 1 },
      { key: 'OTHER:555', number: 'X-555', items: 1 },
      { key: `${COMPANY}:100003`, number: '100003', items: 1 },
      { key: `${COMPANY}:100004`, number: '100004', items: 1 },
      // Ours, but its order link is stored only later (a push whose answer was in doubt).
      { key: `${COMPANY}:100005`, number: '100005', items: 1 },
    ];
    const outcome = await client.createOrUpdateOrders(
      orders.map((o) => ({
        orderNumber: o.number,
        orderKey: o.key,
        orderDate: '2026-11-20 09:00:00',
        orderStatus: 'awaiting_shipment',
        billTo: { name: 'A Customer' },
        shipTo: {
          name: 'A Customer',
          street1: '1 Main St',
          city: 'Austin',
          state: 'TX',
          postalCode: '78701',
          country: 'US',
        },
        items: Array.from({ length: o.items }, (_, i) => ({
          lineItemKey: String(i + 1),
          sku: `SKU-${i + 1}`,
          name: `Item ${i + 1}`,
          quantity: 2,
          unitPrice: 5,
        })),
      })),
    );
    for (const [i, r] of outcome.results.entries()) orderIds[orders[i]!.number] = r.orderId as number;
    // The orders flow's links (fulfillments carry no orderKey: they are ours by orderId).
    for (const o of orders.filter((o) => o.key.startsWith(`${COMPANY}:`) && o.number !== '100005')) {
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
    await sandbox?.close();
  });

  async function warehouse(path: string, body: unknown = {}): Promise<Record<string, unknown>> {
    const res = await fetch(`${sandbox.url}/_sandbox${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Record<string, unknown>;
  }

  /** The resource_url of the newest SHIP_NOTIFY the sandbox would deliver. */
  function lastResourceUrl(): string {
    const deliveries = sandbox.deliveries().filter((d) => d.event === 'SHIP_NOTIFY');
    return (JSON.parse(deliveries[deliveries.length - 1]!.body) as { resource_url: string }).resource_url;
  }

  async function fetchJob(
    resourceUrl: string,
    event: ShipmentsFetchPayload['event'] = 'SHIP_NOTIFY',
    extra: Pick<ShipmentsFetchPayload, 'api' | 'data'> = { api: 'v1' },
  ): Promise<Job> {
    const payload: ShipmentsFetchPayload = { event, resourceUrl, receivedAt: clock.now(), ...extra };
    const { id } = await enqueueJob(
      ctx.store,
      { kind: SHIPMENTS_FETCH_KIND, connection: 'main', idempotencyKey: `test-fetch:${++jobSeq}`, payload },
      clock.now(),
    );
    await worker.runUntilIdle();
    return (await getJob(ctx.store, id))!;
  }

  async function poll(): Promise<Job> {
    clock.advance(60_000);
    const { id } = await enqueueJob(
      ctx.store,
      { kind: SHIPMENTS_POLL_KIND, connection: 'main', idempotencyKey: `test-poll:${++jobSeq}` },
      clock.now(),
    );
    await worker.runUntilIdle();
    return (await getJob(ctx.store, id))!;
  }

  const writeJobs = async () =>
    (await listJobs(ctx.store, { kind: SHIPMENT_WRITEBACK_KIND, limit: 1000 })).sort((a, b) => a.id - b.id);

  let packages: number[] = [];

  it('turns a SHIP_NOTIFY resource into one write job per label, with items, keyed by shipmentId', async () => {
    clock.advance(5 * 60_000);
    // Two packages, one label each, in one label batch (one SHIP_NOTIFY).
    const labelled = await warehouse(`/orders/${orderIds['100001']}/labels`, {
      packages: [{ items: [{ lineItemKey: '1' }] }, { items: [{ lineItemKey: '2' }] }],
    });
    packages = (labelled.shipments as Array<{ shipmentId: number }>).map((s) => s.shipmentId);
    assert.equal(packages.length, 2);
    const url = lastResourceUrl();
    assert.match(url, /includeShipmentItems=False$/, 'SHIP_NOTIFY asks for no items');

    const job = await fetchJob(url);
    assert.equal(job.state, 'succeeded', job.lastError ?? '');
    const jobs = await writeJobs();
    assert.deepEqual(
      jobs.map((j) => j.idempotencyKey),
      packages.map((id) => shipmentKey('main', 'shipment', id)),
    );
    const payloads = jobs.map((j) => j.payload as ShipmentWrite);
    assert.deepEqual(
      payloads.map((p) => p.lines),
      [
        [{ salesOrderLine: '1', sku: 'SKU-1', quantity: 2 }],
        [{ salesOrderLine: '2', sku: 'SKU-2', quantity: 2 }],
      ],
      'items fetched although SHIP_NOTIFY said False',
    );
    const tracking = payloads.map((p) => p.trackingNumbers);
    assert.ok(tracking.every((t) => t.length === 1));
    assert.notEqual(tracking[0]![0], tracking[1]![0], 'each package keeps its own tracking number');
    for (const p of payloads) {
      assert.equal(p.orderKey, `${COMPANY}:100001`);
      assert.equal(p.salesOrder, '100001');
      assert.equal(p.via, 'webhook');
      assert.equal(p.voided, false);
      assert.equal(p.version, p.createdAtUtc);
      const record = sandbox.state.shipments.get(p.id)!;
      assert.equal(p.createdAtUtc, record.createDate, 'Pacific createDate read back as the same UTC instant');
    }
    assert.ok(
      jobs.every((j) => j.groupKey === null),
      'no group key: the write-back batches them',
    );
  });

  it('enqueues nothing more for the same shipments by webhook again and by poll', async () => {
    const before = (await writeJobs()).length;
    const again = await fetchJob(lastResourceUrl());
    assert.equal(again.state, 'succeeded');
    const polled = await poll();
    assert.equal(polled.state, 'succeeded', polled.lastError ?? '');
    assert.equal((await writeJobs()).length, before, 'one write job per shipment');
    // After the write-back ran, the poll reads them again and still queues nothing.
    await writeback.runUntilIdle();
    assert.equal(written.length, 2);
    await poll();
    assert.equal((await writeJobs()).length, before);
  });

  it('queues a second job with the voided state after a void, and a late older state changes nothing', async () => {
    const [first] = packages;
    const beforeVoid = (await writeJobs()).find(
      (j) => j.idempotencyKey === shipmentKey('main', 'shipment', first!),
    )!.payload as ShipmentWrite;
    clock.advance(10 * 60_000);
    await warehouse(`/shipments/${first}/void`);
    await poll();
    const jobs = (await writeJobs()).filter(
      (j) => j.idempotencyKey === shipmentKey('main', 'shipment', first!),
    );
    assert.equal(jobs.length, 2);
    const voided = jobs[1]!.payload as ShipmentWrite;
    assert.equal(jobs[1]!.state, 'queued');
    assert.equal(voided.voided, true);
    assert.equal(voided.voidedAtUtc, sandbox.state.shipments.get(first!)!.voidDate);
    assert.ok(voided.version > beforeVoid.version);
    assert.equal(voided.via, 'poll');

    // The state read before the void arrives late (a slow fetch) while the void job is still
    // queued: it must not replace the queued voided payload.
    const summary = emptySummary();
    await queueShipmentWrites(
      deps,
      'main',
      [{ action: 'write', source: 'shipment', id: first!, write: beforeVoid }],
      summary,
    );
    assert.deepEqual(summary, { ...emptySummary(), read: 1, unchanged: 1 });
    const still = (await getJob(ctx.store, jobs[1]!.id))!;
    assert.equal((still.payload as ShipmentWrite).voided, true);

    // Written, then the old state again: nothing.
    await writeback.runUntilIdle();
    const late = emptySummary();
    await queueShipmentWrites(
      deps,
      'main',
      [{ action: 'write', source: 'shipment', id: first!, write: beforeVoid }],
      late,
    );
    assert.equal(late.unchanged, 1);
    assert.equal((await writeJobs()).length, 3);
  });

  it('keeps the voided state in a queued job when the label state arrives after it', async () => {
    clock.advance(60_000);
    const labelled = await warehouse(`/orders/${orderIds['100004']}/labels`);
    const id = (labelled.shipments as Array<{ shipmentId: number }>)[0]!.shipmentId;
    await fetchJob(lastResourceUrl());
    const key = shipmentKey('main', 'shipment', id);
    const label = (await writeJobs()).find((j) => j.idempotencyKey === key)!;
    const labelState = label.payload as ShipmentWrite;
    assert.equal(labelState.voided, false);
    clock.advance(60_000);
    await warehouse(`/shipments/${id}/void`);
    await poll();
    let jobs = (await writeJobs()).filter((j) => j.idempotencyKey === key);
    assert.equal(jobs.length, 1, 'the void joined the queued job');
    assert.equal((jobs[0]!.payload as ShipmentWrite).voided, true);
    // The label state, read before the void by a slow fetch, is queued only now: nothing changes.
    const summary = emptySummary();
    await queueShipmentWrites(
      deps,
      'main',
      [{ action: 'write', source: 'shipment', id, write: labelState }],
      summary,
    );
    assert.equal(summary.unchanged, 1);
    jobs = (await writeJobs()).filter((j) => j.idempotencyKey === key);
    assert.equal(jobs.length, 1);
    assert.equal((jobs[0]!.payload as ShipmentWrite).voided, true, 'the queued job still carries the void');
    await writeback.runUntilIdle();
  });

  it('skips labels of orders that are not ours, with one audit row per state', async () => {
    clock.advance(60_000);
    const labelled = await warehouse(`/orders/${orderIds['X-555']}/labels`);
    const foreign = (labelled.shipments as Array<{ shipmentId: number }>)[0]!.shipmentId;
    const before = (await writeJobs()).length;
    const job = await fetchJob(lastResourceUrl());
    assert.equal(job.state, 'succeeded');
    await poll();
    await poll();
    assert.equal((await writeJobs()).length, before, 'no write for a foreign order');
    const audit = await listAudit(ctx.store.db, {
      entityType: SHIPMENT_ENTITY,
      entityKey: shipmentLinkKey('shipment', foreign),
    });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.outcome, 'skipped');
    assert.match(JSON.parse(audit[0]!.detail!).reason, /OTHER:555.*not one of this connection's \(EDU1:…\)/);
  });

  it('finds a mark-as-shipped order by polling fulfillments, ours through the order link', async () => {
    clock.advance(60_000);
    const res = await fetch(`${sandbox.url}/orders/markasshipped`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${sandbox.apiKey}:${sandbox.apiSecret}`).toString('base64')}`,
      },
      body: JSON.stringify({
        orderId: orderIds['100002'],
        carrierCode: 'ups',
        trackingNumber: '1ZMARKED0000000001',
      }),
    });
    assert.equal(res.status, 200);
    const fulfillment = [...sandbox.state.fulfillments.values()].find(
      (f) => f.orderId === orderIds['100002'],
    )!;
    // FULFILLMENT_SHIPPED points at the fulfillment's batch (the shape is our inference, as the
    // sandbox's): it meets the poll's job.
    const hooked = await fetchJob(
      `${sandbox.url}/fulfillments?batchId=${fulfillment.batchId}`,
      'FULFILLMENT_SHIPPED',
    );
    assert.equal(hooked.state, 'succeeded', hooked.lastError ?? '');
    await poll();
    const job = (await writeJobs()).find(
      (j) => j.idempotencyKey === shipmentKey('main', 'fulfillment', fulfillment.fulfillmentId),
    );
    assert.ok(job, 'a write job for the fulfillment');
    const p = job.payload as ShipmentWrite;
    assert.equal(p.source, 'fulfillment');
    assert.equal(p.orderKey, `${COMPANY}:100002`);
    assert.equal(p.salesOrder, '100002');
    assert.equal(p.lines, null);
    assert.deepEqual(p.trackingNumbers, ['1ZMARKED0000000001']);
    assert.equal(p.via, 'webhook', 'queued by the webhook; the poll found the same state and queued nothing');
    await poll();
    assert.equal(
      (await writeJobs()).filter((j) => j.idempotencyKey === job.idempotencyKey).length,
      1,
      'the next poll re-reads it and queues nothing',
    );
  });

  it('queues a fulfillment skipped for want of an order link once the link is there', async () => {
    clock.advance(60_000);
    const res = await fetch(`${sandbox.url}/orders/markasshipped`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${sandbox.apiKey}:${sandbox.apiSecret}`).toString('base64')}`,
      },
      body: JSON.stringify({ orderId: orderIds['100005'], carrierCode: 'fedex' }),
    });
    assert.equal(res.status, 200);
    const fulfillment = [...sandbox.state.fulfillments.values()].find(
      (f) => f.orderId === orderIds['100005'],
    )!;
    const key = shipmentKey('main', 'fulfillment', fulfillment.fulfillmentId);
    await poll();
    assert.equal((await writeJobs()).filter((j) => j.idempotencyKey === key).length, 0);
    const audit = await listAudit(ctx.store.db, {
      entityType: SHIPMENT_ENTITY,
      entityKey: shipmentLinkKey('fulfillment', fulfillment.fulfillmentId),
    });
    assert.equal(audit.length, 1);
    assert.match(JSON.parse(audit[0]!.detail!).reason, /not an order we pushed/);
    await saveLink(
      ctx.store.db,
      {
        connection: 'main',
        entityType: ORDER_ENTITY,
        sysproKey: `${COMPANY}:100005`,
        shipstationId: String(orderIds['100005']),
        state: 'open',
      },
      clock.now(),
    );
    await poll();
    const jobs = (await writeJobs()).filter((j) => j.idempotencyKey === key);
    assert.equal(jobs.length, 1, 'the same state, now ours, is queued');
    assert.equal((jobs[0]!.payload as ShipmentWrite).salesOrder, '100005');
    assert.deepEqual((jobs[0]!.payload as ShipmentWrite).trackingNumbers, []);
  });

  it('catches a label whose SHIP_NOTIFY was lost, and windows overlap from their checkpoints', async () => {
    const created = await readCheckpoint(ctx.store.db, 'main', SHIPMENT_WINDOWS.shipmentsCreated);
    assert.ok(created);
    clock.advance(60_000);
    const labelled = await warehouse(`/orders/${orderIds['100003']}/labels`);
    const lost = (labelled.shipments as Array<{ shipmentId: number }>)[0]!.shipmentId;
    clock.advance(60_000);
    const start = clock.now();
    const summary = await pollShipments(deps, 'main');
    assert.ok(summary.queued >= 1);
    assert.ok((await writeJobs()).some((j) => j.idempotencyKey === shipmentKey('main', 'shipment', lost)));
    for (const name of Object.values(SHIPMENT_WINDOWS)) {
      const window = summary.windows[name]!;
      assert.ok(window, name);
      // Up to now (the poll's clock), written as Pacific wall clock to the second.
      assert.ok(pacificToUtc(window.to) >= start - 999, `${name} ends at now`);
      const checkpoint = Date.parse((await readCheckpoint(ctx.store.db, 'main', name))!);
      assert.equal(formatPacificFilter(checkpoint), window.to, `${name} checkpoint at its end`);
    }
    // The created window starts at its last checkpoint minus the 2 h overlap, in Pacific wall clock.
    const latest = (await readCheckpoint(ctx.store.db, 'main', SHIPMENT_WINDOWS.shipmentsCreated))!;
    assert.ok(Date.parse(latest) >= Date.parse(created));
    assert.equal(
      summary.windows[SHIPMENT_WINDOWS.shipmentsCreated]!.from,
      formatPacificFilter(Date.parse(created) - connection.shipments.overlap),
    );
  });

  it('reads the V1 lists 500 a page, the largest, so re-reading the overlap costs few requests', async () => {
    assert.equal(pollPageSize('v1'), 500);
    assert.equal(pollPageSize('v2'), 100, 'V2: its largest page is not documented');
    const before = sandbox.requests().length;
    await pollShipments(deps, 'main');
    const lists = sandbox
      .requests()
      .slice(before)
      .filter((r) => /^\/(shipments|fulfillments)\?/.test(r.url));
    assert.equal(lists.length, 3, 'one page of each window');
    for (const r of lists)
      assert.equal(new URL(r.url, sandbox.url).searchParams.get('pageSize'), '500', r.url);
  });

  it('looks back shipments.lookback on the first poll of a connection', async () => {
    const fresh = { ...connection, name: 'fresh' };
    const summary = await pollShipments(
      { ...deps, connectionFor: async () => ({ connection: fresh, shipstation: shipStationV1(client) }) },
      'fresh',
    );
    assert.equal(connection.shipments.lookback, 2 * 86_400_000, 'default 2d');
    for (const name of Object.values(SHIPMENT_WINDOWS)) {
      const window = summary.windows[name]!;
      assert.equal(
        window.from,
        formatPacificFilter(pacificToUtc(window.to) - connection.shipments.lookback),
        name,
      );
    }
    assert.ok(
      summary.windows[SHIPMENT_WINDOWS.shipmentsCreated]!.read >= 5,
      'every label of the last two days',
    );
  });

  it('refuses a resource_url that is not a ShipStation webhook resource: dead, audited, never fetched', async () => {
    for (const url of [
      'https://evil.example.com/shipments?batchId=1',
      `${sandbox.url}/shipments?pageSize=500`,
      `${sandbox.url}/orders?importBatch=6c4f2d15-0000-4000-8000-000000000000`,
    ]) {
      const before = requests;
      const job = await fetchJob(url);
      assert.equal(job.state, 'dead', url);
      assert.match(job.lastError ?? '', /resource_url not fetched/);
      assert.equal(requests - before, 0, `nothing sent for ${url}`);
      const audit = await listAudit(ctx.store.db, { entityType: 'webhook', entityKey: url });
      assert.equal(audit.length, 1, url);
      assert.equal(audit[0]!.outcome, 'error');
    }
  });

  it('audits a V2 event that writes nothing, and refuses a V2 pointer on a V1 connection', async () => {
    const writesBefore = (await writeJobs()).length;
    const before = requests;
    const track = `${sandbox.url}/v2/labels/se-71/track`;
    const data = { tracking_number: '9400100000000000000001', status_code: 'IT' };
    const tracked = await fetchJob(track, 'TRACK_EVENT_V2', { api: 'v2', data });
    assert.equal(tracked.state, 'succeeded');
    const rows = await listAudit(ctx.store.db, { entityType: 'webhook', entityKey: track });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.action, 'track-event');
    assert.deepEqual(JSON.parse(String(rows[0]!.detail)).data, data, 'the inline data is kept');
    // This connection uses V1: a V2 label pointer cannot be read with its client.
    const label = `${sandbox.url}/v2/labels?batch_id=se-1`;
    const refused = await fetchJob(label, 'LABEL_CREATED_V2', { api: 'v2' });
    assert.equal(refused.state, 'dead');
    assert.match(refused.lastError ?? '', /a v2 webhook on a connection using v1/);
    assert.equal(requests - before, 0, 'nothing sent to ShipStation');
    assert.equal((await writeJobs()).length, writesBefore, 'no write queued');
  });

  it('takes exactly the agreed payload', async () => {
    assert.throws(
      () => parseFetchPayload({ event: 'ORDER_NOTIFY', resourceUrl: 'x', receivedAt: 1, api: 'v1' }),
      /event/,
    );
    // Each API with its own events: a V1 event sent as V2 (or the other way round) is refused.
    assert.throws(
      () => parseFetchPayload({ event: 'SHIP_NOTIFY', resourceUrl: 'x', receivedAt: 1, api: 'v2' }),
      /event/,
    );
    assert.throws(
      () => parseFetchPayload({ event: 'LABEL_CREATED_V2', resourceUrl: 'x', receivedAt: 1, api: 'v1' }),
      /event/,
    );
    assert.throws(
      () => parseFetchPayload({ event: 'SHIP_NOTIFY', resourceUrl: 'x', receivedAt: 1, api: 'v3' }),
      /api/,
    );
    assert.equal(
      parseFetchPayload({ event: 'LABEL_CREATED_V2', resourceUrl: 'x', receivedAt: 1, api: 'v2' }).event,
      'LABEL_CREATED_V2',
    );
    assert.throws(() => parseFetchPayload({ event: 'SHIP_NOTIFY', receivedAt: 1, api: 'v1' }), /resourceUrl/);
    assert.equal(
      withShipmentItems(
        'https://ssapi6.shipstation.com/shipments?batchId=190671332&includeShipmentItems=False',
      ),
      'https://ssapi6.shipstation.com/shipments?batchId=190671332&includeShipmentItems=True',
    );
    assert.equal(
      withShipmentItems('https://ssapi6.shipstation.com/shipments?storeID=1&batchId=2'),
      'https://ssapi6.shipstation.com/shipments?storeID=1&batchId=2&includeShipmentItems=True',
    );
    assert.equal(
      withShipmentItems('https://ssapi6.shipstation.com/shipments?batchId=2&includeshipmentitems=false'),
      'https://ssapi6.shipstation.com/shipments?batchId=2&includeshipmentitems=True',
    );
  });
});
