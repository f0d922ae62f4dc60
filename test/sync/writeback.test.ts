/**
 * Shipment write-back end to end: `shipments.writeback` jobs (ShipmentWrite payloads built here, as
 * the producer will) run by the worker against the SYSPRO sandbox over HTTP, on a fake clock.
 * Effects are counted in the sandbox's own records: MdnMaster/MdnDetail rows, SorDetail
 * quantities, AdmFormData, and its call log (posts, checks, logons).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, it } from 'node:test';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import {
  describeShipmentPath,
  findShipmentKeys,
  printShipmentPath,
} from '../../src/cli/commands/shipments.js';
import { type ConnectionConfig, configSchema } from '../../src/config/schema.js';
import type { JobHandler } from '../../src/engine/handler.js';
import { Worker } from '../../src/engine/worker.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import type { Row } from '../../src/sandbox/syspro/tables.js';
import { pacificToUtc } from '../../src/shipstation/pacific-time.js';
import { listAudit } from '../../src/store/audit.js';
import { enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { listJobs } from '../../src/store/jobs/queries.js';
import { replayJobs } from '../../src/store/jobs/replay.js';
import { findLink } from '../../src/store/links.js';
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import {
  SHIPMENT_ENTITY,
  SHIPMENT_WRITEBACK_KIND,
  type ShipmentWrite,
  shipmentKey,
  shipmentLinkKey,
} from '../../src/sync/shipment-model.js';
import { type WritebackConnection, writebackHandlers } from '../../src/sync/writeback.js';
import { createEnetClient, type EnetClient } from '../../src/syspro/enet-client.js';
import { createODataReader } from '../../src/syspro/odata-reader.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

const MIN = 60_000;
const retry = { cadence: [1 * MIN, 5 * MIN, 15 * MIN], perKind: {}, jitter: 0 };

forEachDialect('shipment write-back against the SYSPRO sandbox', (ctx) => {
  const clock = new FakeClock(Date.parse('2026-01-15T20:00:00Z'));
  let syspro: SysproSandbox;
  let enet: EnetClient;
  let nextId = 1000;
  const usedOrders = new Set<string>();

  before(async () => {
    syspro = await startSysproSandbox({ port: 0, seed: 21, orders: 3000, clock, logger: false });
  });
  after(async () => {
    await enet?.close();
    await syspro?.close();
  });
  beforeEach(async () => {
    await ctx.store.db.deleteFrom('job_attempts').execute();
    await ctx.store.db.deleteFrom('jobs').execute();
    syspro.setFaults({});
    await syspro.setMaintenance('off');
    syspro.calls.clear();
    syspro.odataRequests.clear();
  });

  function connection(over: { syspro?: Record<string, unknown>; shipments?: Record<string, unknown> } = {}) {
    const document = sandboxConfigDocument('main', {
      shipstation: { url: 'http://127.0.0.1:1', apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as { connections: Array<Record<string, unknown>> };
    const conn = document.connections[0] as Record<string, Record<string, unknown>>;
    conn.syspro = { ...conn.syspro, ...over.syspro };
    conn.mappings = { carriers: { ups_walleted: 'UPS', fedex: 'FEDEX' } };
    if (over.shipments) conn.shipments = over.shipments;
    return configSchema.parse(document).connections[0] as ConnectionConfig;
  }

  function worker(conn: ConnectionConfig, wrap?: (h: JobHandler) => JobHandler) {
    enet = createEnetClient({
      baseUrl: syspro.enetUrl,
      operator: syspro.operator,
      operatorPassword: syspro.operatorPassword,
      company: syspro.company,
      companyPassword: syspro.companyPassword,
      clock,
      timeoutMs: 5000,
    });
    const odata = createODataReader({
      serviceUrl: syspro.odataUrl,
      username: syspro.operator,
      password: syspro.operatorPassword,
      clock,
    });
    const wb: WritebackConnection = { connection: conn, enet, odata };
    const handlers = writebackHandlers({ store: ctx.store, clock, connectionFor: async () => wb });
    return new Worker({ store: ctx.store, clock, retry, handlers: wrap ? handlers.map(wrap) : handlers });
  }

  /** Open orders (status 1) with at least `lines` merchandise lines of at least `qty` open each, not used before. */
  function openOrders(count: number, lines = 1, qty = 2, status = ['1', '2', '3', '4', '8']): string[] {
    const out: string[] = [];
    for (const order of syspro.db.sorMaster.rows) {
      const so = order.SalesOrder as string;
      if (usedOrders.has(so) || !status.includes(order.OrderStatus as string)) continue;
      const all = syspro.db.linesOf(so).filter((l) => l.LineType === '1' || l.LineType === '7');
      const open = all.filter((l) => (l.MOrderQty as number) - (l.MQtyDispatched as number) >= qty);
      if (open.length < lines || open.length !== all.length) continue;
      usedOrders.add(so);
      out.push(so);
      if (out.length === count) return out;
    }
    throw new Error(`only ${out.length} orders fit, ${count} wanted`);
  }

  function lineOf(salesOrder: string, n = 0): Row {
    return syspro.db.linesOf(salesOrder).filter((l) => l.LineType === '1' || l.LineType === '7')[n] as Row;
  }

  function shipment(salesOrder: string, over: Partial<ShipmentWrite> = {}): ShipmentWrite {
    const line = lineOf(salesOrder);
    const id = nextId++;
    const created = clock.now() - 10 * MIN;
    return {
      source: 'shipment',
      id,
      connection: 'main',
      orderKey: `SANDBOX:${salesOrder}`,
      salesOrder,
      orderId: 50_000 + id,
      orderNumber: salesOrder,
      carrierCode: 'ups_walleted',
      serviceCode: 'ups_ground',
      trackingNumbers: [`1Z999AA1${String(id).padStart(10, '0')}`],
      shipDate: '2026-01-15',
      shipDateUtc: Date.parse('2026-01-15T08:00:00Z'),
      createdAtUtc: created,
      lines: [{ salesOrderLine: String(line.SalesOrderLine), sku: line.MStockCode as string, quantity: 1 }],
      shipmentCost: 8.25,
      insuranceCost: null,
      voided: false,
      voidedAtUtc: null,
      version: created,
      via: 'webhook',
      ...over,
    };
  }

  async function enqueue(shipments: ShipmentWrite[]) {
    return enqueueJobs(
      ctx.store,
      shipments.map((s) => ({
        kind: SHIPMENT_WRITEBACK_KIND,
        connection: 'main',
        payload: s,
        idempotencyKey: shipmentKey('main', s.source, s.id),
      })),
      clock.now(),
    );
  }

  function notesOf(s: ShipmentWrite): Row[] {
    const reference = dispatchNoteReference(shipmentLinkKey(s.source, s.id));
    return syspro.db.mdnMaster.rows.filter((n) => n.DispatchComments1 === reference);
  }

  function detailOf(note: Row): Row[] {
    return syspro.db.mdnDetail.rows.filter((d) => d.DispatchNote === note.DispatchNote);
  }

  async function jobs() {
    return listJobs(ctx.store, { kind: SHIPMENT_WRITEBACK_KIND, limit: 10_000 });
  }

  it('a shipment becomes a dispatch note with tracking, carrier, quantity and UTC time', async () => {
    const [so] = openOrders(1) as [string];
    const line = lineOf(so);
    const dispatchedBefore = line.MQtyDispatched as number;
    const s = shipment(so, { createdAtUtc: Date.parse('2026-01-15T18:42:00Z') });
    await enqueue([s]);
    await worker(connection()).runUntilIdle();

    const [job] = await jobs();
    assert.equal(job?.state, 'succeeded', job?.lastError ?? '');
    const notes = notesOf(s);
    assert.equal(notes.length, 1);
    const note = notes[0] as Row;
    assert.equal(note.SalesOrder, so);
    assert.equal(note.UserField1, 'UPS');
    assert.equal(note.UserField2, s.trackingNumbers[0]);
    assert.equal(note.DispatchComments2, 'Shipped 2026-01-15 18:42Z UPS ups_ground');
    assert.equal(note.DispatchComments3, '', 'one package: its number is in UserField2');
    assert.equal(note.PlannedDeliverDate, '2026-01-15');
    assert.deepEqual(
      detailOf(note).map((d) => [d.SalesOrderLine, d.MDispatchQty]),
      [[line.SalesOrderLine, 1]],
    );
    assert.equal(line.MQtyDispatched, dispatchedBefore + 1);

    const link = await findLink(ctx.store.db, 'main', SHIPMENT_ENTITY, shipmentLinkKey('shipment', s.id));
    assert.equal(link?.lastHash, `v${s.version}`);
    assert.equal(link?.state, 'written');
    const [audit] = await listAudit(ctx.store.db, { entityKey: shipmentLinkKey('shipment', s.id) });
    const detail = JSON.parse(audit?.detail ?? '{}');
    assert.equal(audit?.outcome, 'ok');
    assert.deepEqual(detail.received.trackingNumbers, s.trackingNumbers);
    assert.equal(detail.posted.salesOrder, so);
    assert.equal(detail.answer.dispatchNote, note.DispatchNote);
    assert.equal(syspro.calls.count({ method: 'Logon' }), syspro.calls.count({ method: 'Logoff' }));

    // `shipments show`: found by id and by tracking number, with what SYSPRO has now.
    const conn = connection();
    assert.deepEqual(await findShipmentKeys(ctx.store.db, 'main', String(s.id)), [`shipment:${s.id}`]);
    assert.deepEqual(await findShipmentKeys(ctx.store.db, 'main', s.trackingNumbers[0] as string), [
      `shipment:${s.id}`,
    ]);
    const path = await describeShipmentPath(ctx.store.db, conn, `shipment:${s.id}`, { enet });
    assert.equal(path.dispatchNote, note.DispatchNote);
    assert.equal(path.jobs[0]?.state, 'succeeded');
    const now = (path.syspro as { dispatchNote: { comments: string[]; salesOrder: string } }).dispatchNote;
    assert.equal(now.salesOrder, so);
    assert.ok(now.comments.includes(dispatchNoteReference(`shipment:${s.id}`)));
    const lines: string[] = [];
    printShipmentPath(path, (l = '') => lines.push(l));
    assert.ok(lines.some((l) => l.includes(`tracking ${s.trackingNumbers[0]}`)));
    assert.ok(lines.some((l) => l.startsWith('  state written')));
  });

  it('times across both DST changes are written in UTC', async () => {
    const [a, b] = openOrders(2) as [string, string];
    const spring = shipment(a, {
      createdAtUtc: pacificToUtc('2026-03-08 02:30:00'),
      shipDate: '2026-03-08',
      shipDateUtc: pacificToUtc('2026-03-08 00:00:00'),
    });
    const fall = shipment(b, {
      createdAtUtc: pacificToUtc('2026-11-01 01:30:00'),
      shipDate: '2026-11-01',
      shipDateUtc: pacificToUtc('2026-11-01 00:00:00'),
    });
    await enqueue([spring, fall]);
    await worker(connection()).runUntilIdle();
    assert.equal(notesOf(spring)[0]?.DispatchComments2, 'Shipped 2026-03-08 10:30Z UPS ups_ground');
    assert.equal(notesOf(spring)[0]?.PlannedDeliverDate, '2026-03-08');
    assert.equal(notesOf(fall)[0]?.DispatchComments2, 'Shipped 2026-11-01 08:30Z UPS ups_ground');
    assert.equal(notesOf(fall)[0]?.PlannedDeliverDate, '2026-11-01');
  });

  it('multi-package, partial and several shipments per order: every number kept, quantities capped', async () => {
    const [so] = openOrders(1, 2, 2) as [string];
    const first = lineOf(so, 0);
    const second = lineOf(so, 1);
    const open1 = (first.MOrderQty as number) - (first.MQtyDispatched as number);
    const open2 = (second.MOrderQty as number) - (second.MQtyDispatched as number);
    const tracking = ['1Z999AA10000000001', '1Z999AA10000000002', '1Z999AA10000000003'];
    // Shipment 1: part of line 1, three packages.
    const partial = shipment(so, {
      trackingNumbers: tracking,
      lines: [{ salesOrderLine: String(first.SalesOrderLine), sku: first.MStockCode as string, quantity: 1 }],
    });
    // Shipment 2 (same order, same batch): the rest of line 1 and more than is open of line 2.
    const rest = shipment(so, {
      createdAtUtc: partial.createdAtUtc + 1000,
      version: partial.version + 1000,
      lines: [
        {
          salesOrderLine: String(first.SalesOrderLine),
          sku: first.MStockCode as string,
          quantity: open1 - 1,
        },
        { sku: second.MStockCode as string, quantity: open2 + 5 },
      ],
    });
    await enqueue([partial, rest]);
    await worker(connection()).runUntilIdle();
    assert.deepEqual(
      (await jobs()).map((j) => j.state),
      ['succeeded', 'succeeded'],
    );
    const [n1] = notesOf(partial);
    const [n2] = notesOf(rest);
    assert.ok(n1 && n2);
    assert.equal(n1.UserField2, `${tracking[0]} +2 more`);
    assert.equal(n1.DispatchComments3, `${tracking[0]} ${tracking[1]}`);
    assert.equal(n1.DispatchComments4, tracking[2]);
    assert.deepEqual(
      detailOf(n1).map((d) => [d.SalesOrderLine, d.MDispatchQty]),
      [[first.SalesOrderLine, 1]],
    );
    assert.deepEqual(
      detailOf(n2).map((d) => [d.SalesOrderLine, d.MDispatchQty]),
      [
        [first.SalesOrderLine, open1 - 1],
        [second.SalesOrderLine, open2],
      ],
    );
    assert.equal(first.MQtyDispatched, first.MOrderQty, 'never more than the order quantity');
    assert.equal(second.MQtyDispatched, second.MOrderQty);
    assert.equal(
      syspro.calls.count({ businessObject: 'SORTDN' }),
      2,
      'two notes of one order never share a post',
    );
    const [audit] = await listAudit(ctx.store.db, { entityKey: shipmentLinkKey('shipment', rest.id) });
    assert.match(JSON.parse(audit?.detail ?? '{}').posted.notes[0], /5 more than is open/);
  });

  it('the same shipment twice is written once', async () => {
    const [so] = openOrders(1) as [string];
    const s = shipment(so);
    await enqueue([s]);
    const w = worker(connection());
    await w.runUntilIdle();
    await enqueue([s]);
    await w.runUntilIdle();
    await enqueue([{ ...s, version: s.version - 5, via: 'poll' }]);
    await w.runUntilIdle();
    assert.equal(notesOf(s).length, 1);
    assert.equal(syspro.calls.count({ businessObject: 'SORTDN' }), 1);
    const rows = await listAudit(ctx.store.db, { entityKey: shipmentLinkKey('shipment', s.id) });
    assert.deepEqual(rows.map((r) => r.outcome).sort(), ['ok', 'skipped', 'skipped']);
    assert.ok(rows.some((r) => /superseded/.test(r.detail ?? '')));
  });

  it('a backlog goes in few posts, and a refused note does not fail its neighbours', async () => {
    const orders = openOrders(60);
    const [suspended] = openOrders(1, 1, 1, ['S']) as [string];
    const batch = orders.map((so) => shipment(so));
    const refused = shipment(suspended);
    await enqueue([...batch.slice(0, 30), refused, ...batch.slice(30)]);
    await worker(connection()).runUntilIdle();
    const all = await jobs();
    const byId = new Map(all.map((j) => [(j.payload as ShipmentWrite).id, j]));
    for (const s of batch) {
      assert.equal(byId.get(s.id)?.state, 'succeeded');
      assert.equal(notesOf(s).length, 1);
    }
    assert.equal(byId.get(refused.id)?.state, 'dead');
    assert.match(byId.get(refused.id)?.lastError ?? '', /SYSPRO refused the dispatch note .*status 'S'/);
    const posts = syspro.calls.count({ businessObject: 'SORTDN' });
    assert.ok(posts <= 6, `61 shipments in ${posts} posts`);
    assert.ok(syspro.calls.list({ businessObject: 'SORTDN' }).every((c) => c.xmlIn.length > 0));
    const [audit] = await listAudit(ctx.store.db, { entityKey: shipmentLinkKey('shipment', refused.id) });
    assert.equal(audit?.outcome, 'error');
  });

  it('a dense backlog reads its open lines by range in one request; rangeReads false reads key lists', async () => {
    // The last 60 dispatchable orders of the seed: none used before, as close together as it has them.
    const dense: string[] = [];
    for (const order of [...syspro.db.sorMaster.rows].reverse()) {
      const so = order.SalesOrder as string;
      if (usedOrders.has(so) || !['1', '2', '3', '4', '8'].includes(order.OrderStatus as string)) continue;
      const all = syspro.db.linesOf(so).filter((l) => l.LineType === '1' || l.LineType === '7');
      if (all.length === 0 || all.some((l) => (l.MOrderQty as number) - (l.MQtyDispatched as number) < 1))
        continue;
      usedOrders.add(so);
      dense.push(so);
      if (dense.length === 60) break;
    }
    const batch = dense.map((so) => shipment(so));
    await enqueue(batch);
    await worker(connection()).runUntilIdle();
    for (const s of batch) assert.equal(notesOf(s).length, 1, `one note for ${s.salesOrder}`);
    const reads = syspro.odataRequests.list({ table: 'SorDetail' });
    assert.equal(reads.length, 1, JSON.stringify(reads.map((r) => r.filter)));
    assert.match(reads[0]?.filter ?? '', /SalesOrder ge '\d+'\) and \(SalesOrder le '\d+'/);

    syspro.odataRequests.clear();
    const more = openOrders(60, 1, 1).map((so) => shipment(so));
    await enqueue(more);
    await worker(connection({ syspro: { odata: { rangeReads: false } } })).runUntilIdle();
    for (const s of more) assert.equal(notesOf(s).length, 1);
    const keyReads = syspro.odataRequests.list({ table: 'SorDetail' });
    assert.ok(keyReads.length >= 2, `${keyReads.length} key-list reads`);
    assert.ok(keyReads.every((r) => / eq '/.test(r.filter ?? '') && !/ ge '/.test(r.filter ?? '')));
  });

  it('SYSPRO in maintenance for the whole test: writes wait as dead jobs, replay writes them once', async () => {
    const orders = openOrders(5);
    const batch = orders.map((so) => shipment(so));
    await enqueue(batch);
    await syspro.setMaintenance('down');
    const w = worker(connection());
    await w.runUntilIdle();
    for (const delay of retry.cadence) {
      clock.advance(delay);
      await w.runUntilIdle();
    }
    let all = await jobs();
    assert.ok(
      all.every((j) => j.state === 'dead'),
      all.map((j) => j.state).join(),
    );
    assert.ok(
      all.every((j) => /503|unavailable|maintenance/i.test(j.lastError ?? '')),
      all[0]?.lastError ?? '',
    );
    for (const s of batch) assert.equal(notesOf(s).length, 0);

    await syspro.setMaintenance('off');
    const replayed = await replayJobs(ctx.store, { kind: SHIPMENT_WRITEBACK_KIND }, clock.now());
    assert.equal(replayed.replayed.length, 5);
    await w.runUntilIdle();
    all = await jobs();
    assert.ok(all.every((j) => j.state === 'succeeded'));
    for (const s of batch) assert.equal(notesOf(s).length, 1);
  });

  it('answers lost after posting: the check finds the notes, nothing is posted twice', async () => {
    const orders = openOrders(20);
    const batch = orders.map((so) => shipment(so));
    await enqueue(batch);
    syspro.setFaults({ failures: [{ target: 'SORTDN', rate: 1, kind: 'lost' }] });
    const w = worker(connection());
    await w.runUntilIdle();
    const postsAfterFirst = syspro.calls.count({ businessObject: 'SORTDN' });
    assert.ok((await jobs()).every((j) => j.state === 'queued' && j.inDoubt !== null));
    clock.advance(retry.cadence[0] as number);
    await w.runUntilIdle();
    const all = await jobs();
    assert.ok(
      all.every((j) => j.state === 'succeeded'),
      all.map((j) => j.lastError).join('\n'),
    );
    for (const s of batch) assert.equal(notesOf(s).length, 1);
    assert.equal(syspro.calls.count({ businessObject: 'SORTDN' }), postsAfterFirst, 'no second post');
    assert.equal(syspro.calls.count({ businessObject: 'SORQDN' }), 20, 'one SORQDN check each');
  });

  it('a record that fails after the post (a kill before bookkeeping) does not post twice', async () => {
    const orders = openOrders(4);
    const batch = orders.map((so) => shipment(so));
    await enqueue(batch);
    let crash = true;
    const w = worker(connection(), (handler) => ({
      ...handler,
      async run(js, context) {
        const outcomes = (await handler.run(js, context)) ?? [];
        if (!crash) return outcomes;
        crash = false;
        return outcomes.map((o) =>
          o.ok
            ? {
                ...o,
                record: async () => {
                  throw new Error('simulated crash before the bookkeeping');
                },
              }
            : o,
        );
      },
    }));
    await w.runUntilIdle();
    clock.advance(retry.cadence[0] as number);
    await w.runUntilIdle();
    const all = await jobs();
    assert.ok(
      all.every((j) => j.state === 'succeeded'),
      all.map((j) => j.lastError).join('\n'),
    );
    for (const s of batch) assert.equal(notesOf(s).length, 1);
    assert.equal(syspro.calls.count({ businessObject: 'SORTDN' }), 1);
    for (const s of batch) {
      const link = await findLink(ctx.store.db, 'main', SHIPMENT_ENTITY, shipmentLinkKey('shipment', s.id));
      assert.equal(link?.state, 'written');
    }
  });

  it('a voided label after the write is flagged for the operator; a re-ship is written as new', async () => {
    const [so, early] = openOrders(2) as [string, string];
    const s = shipment(so);
    await enqueue([s]);
    const w = worker(connection());
    await w.runUntilIdle();
    const [note] = notesOf(s);
    const voidedAt = clock.now();
    await enqueue([{ ...s, voided: true, voidedAtUtc: voidedAt, version: voidedAt }]);
    // Voided before it was ever written: nothing to undo.
    const neverWritten = shipment(early, { voided: true, voidedAtUtc: voidedAt, version: voidedAt });
    await enqueue([neverWritten]);
    await w.runUntilIdle();
    const all = await jobs();
    const voidJob = all.find(
      (j) => (j.payload as ShipmentWrite).id === s.id && (j.payload as ShipmentWrite).voided,
    );
    assert.equal(voidJob?.state, 'dead');
    assert.equal(
      voidJob?.lastError?.includes(
        `label voided in ShipStation after it was written to SYSPRO: reverse dispatch note ${note?.DispatchNote} of sales order ${so} by hand`,
      ),
      true,
      voidJob?.lastError ?? '',
    );
    const rows = await listAudit(ctx.store.db, { entityKey: shipmentLinkKey('shipment', s.id) });
    assert.equal(rows[0]?.action, 'void');
    assert.equal(rows[0]?.outcome, 'error');
    assert.equal(all.find((j) => (j.payload as ShipmentWrite).id === neverWritten.id)?.state, 'succeeded');
    assert.equal(notesOf(neverWritten).length, 0);

    const reship = shipment(so, { createdAtUtc: voidedAt + 1, version: voidedAt + 1 });
    await enqueue([reship]);
    await w.runUntilIdle();
    assert.equal(notesOf(reship).length, 1);
  });

  it('validateOnly posts with ValidateOnly=Y and records nothing as written', async () => {
    const [so] = openOrders(1) as [string];
    const s = shipment(so);
    await enqueue([s]);
    await worker(connection({ syspro: { validateOnly: true } })).runUntilIdle();
    assert.equal((await jobs())[0]?.state, 'succeeded');
    assert.equal(notesOf(s).length, 0);
    const [call] = syspro.calls.list({ businessObject: 'SORTDN' });
    assert.equal(call?.validateOnly, true);
    assert.equal(
      await findLink(ctx.store.db, 'main', SHIPMENT_ENTITY, shipmentLinkKey('shipment', s.id)),
      undefined,
    );
    const [audit] = await listAudit(ctx.store.db, { entityKey: shipmentLinkKey('shipment', s.id) });
    assert.equal(audit?.outcome, 'info');
  });

  it('order-update: ship quantities, tracking custom field, status; a void is reversed', async () => {
    const [so] = openOrders(1, 1, 2) as [string];
    const line = lineOf(so);
    const open = (line.MOrderQty as number) - (line.MQtyDispatched as number);
    const conn = connection({ syspro: { writeback: 'order-update' }, shipments: { voids: 'reverse' } });
    const first = shipment(so, {
      lines: [{ salesOrderLine: String(line.SalesOrderLine), sku: null, quantity: 1 }],
    });
    const w = worker(conn);
    await enqueue([first]);
    await w.runUntilIdle();
    assert.equal((await jobs())[0]?.state, 'succeeded', (await jobs())[0]?.lastError ?? '');
    assert.equal(line.MShipQty, 1);
    const field = (name: string) =>
      syspro.db.admFormData.rows.find(
        (r) => r.FormType === 'ORD' && r.KeyField === so && r.FieldName === name,
      );
    assert.equal(field('TRACKNO')?.AlphaValue, first.trackingNumbers[0]);
    assert.equal(field('CARRIER')?.AlphaValue, 'UPS');
    assert.equal(syspro.calls.count({ businessObject: 'SORTOS' }), open > 1 ? 0 : 1);

    const second = shipment(so, {
      createdAtUtc: first.createdAtUtc + 1,
      version: first.version + 1,
      lines: [{ salesOrderLine: String(line.SalesOrderLine), sku: null, quantity: open }],
    });
    await enqueue([second]);
    await w.runUntilIdle();
    assert.equal(line.MShipQty, open, 'capped at what is open');
    assert.equal(field('TRACKNO')?.AlphaValue, `${first.trackingNumbers[0]} ${second.trackingNumbers[0]}`);
    const order = syspro.db.sorMaster.rows.find((r) => r.SalesOrder === so) as Row;
    assert.equal(order.OrderStatus, '8', 'released for invoicing once fully shipped');
    const sortos = syspro.calls.list({ businessObject: 'SORTOS' }).at(-1);
    assert.match(sortos?.xmlParameters ?? '', /<ValidateOnly>N<\/ValidateOnly>/);

    const voidedAt = clock.now();
    await enqueue([{ ...first, voided: true, voidedAtUtc: voidedAt, version: voidedAt }]);
    await w.runUntilIdle();
    const voidJob = (await jobs()).find((j) => (j.payload as ShipmentWrite).voided);
    assert.equal(voidJob?.state, 'succeeded', voidJob?.lastError ?? '');
    assert.equal(line.MShipQty, open - 1, 'the voided shipment is taken back');
    assert.equal(field('TRACKNO')?.AlphaValue, second.trackingNumbers[0]);
    const link = await findLink(ctx.store.db, 'main', SHIPMENT_ENTITY, shipmentLinkKey('shipment', first.id));
    assert.equal(link?.state, 'reversed');
  });
});
