/**
 * Bad-input corpus, quantities, SKUs, warehouses, dates and size: one row per case with its expected
 * outcome, through the real flows and both sandboxes (counted in their own records):
 * - orders (SYSPRO sandbox order edited → orders flow → ShipStation sandbox): negative, zero,
 *   fractional, huge and Int32-edge quantities; a blank stock code; an unknown SKU and warehouse;
 *   missing required fields; order and ship dates on the DST edges; 100- and 1,000-line orders.
 *   Outcome: pushed as expected, or not pushed with an `error` audit row naming the field.
 * - write-back (V1 shipment JSON → shipments mapper → write-back job → SYSPRO sandbox): negative,
 *   zero and huge shipped quantities, an unknown SKU, an unknown sales order, a label created in
 *   the repeated fall-back hour, a 100-line shipment. Outcome: the dispatch note SYSPRO holds, or a
 *   dead job whose audit row says why. No job is left running or lost.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { type ConnectionConfig, configSchema } from '../../src/config/schema.js';
import { Worker } from '../../src/engine/worker.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { type Row, SOR_DETAIL_DEFAULTS } from '../../src/sandbox/syspro/tables.js';
import { formatPacificDateTime } from '../../src/shipstation/pacific-time.js';
import type { V1Shipment } from '../../src/shipstation/types.js';
import { enqueueJob, enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { listJobs } from '../../src/store/jobs/queries.js';
import type { Store } from '../../src/store/open.js';
import type { ConnectionClients } from '../../src/sync/connection-clients.js';
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import { ORDERS_POLL_KIND, type OrdersConnection, ordersHandlers } from '../../src/sync/orders.js';
import { SHIPMENT_WRITEBACK_KIND, shipmentKey, shipmentLinkKey } from '../../src/sync/shipment-model.js';
import { mapShipment } from '../../src/sync/shipments-mapper.js';
import { type WritebackConnection, writebackHandlers } from '../../src/sync/writeback.js';
import { createEnetClient, type EnetClient } from '../../src/syspro/enet-client.js';
import { createODataReader } from '../../src/syspro/odata-reader.js';
import { FakeClock } from '../helpers/clock.js';
import { createTestStore } from '../helpers/dialects.js';
import { connectToSandboxes } from '../helpers/sandbox-connection.js';

const retry = { cadence: [60_000], perKind: {}, jitter: 0 };
const isItem = (l: Row) => l.LineType === '1' || l.LineType === '7';

interface OrderCase {
  name: string;
  /** Changes the order in the SYSPRO sandbox (header, its merchandise lines, the sandbox). */
  edit(header: Row, items: Row[], syspro: SysproSandbox): void;
  expect: // biome-ignore lint/suspicious/noExplicitAny: ShipStation's stored body.
  { pushed: (body: any, header: Row, items: Row[]) => void } | { invalid: RegExp } | { notPushed: true };
}

function addLines(syspro: SysproSandbox, header: Row, template: Row, count: number) {
  const so = String(header.SalesOrder);
  const lines = syspro.db.linesOf(so);
  let next = Math.max(...lines.map((l) => Number(l.SalesOrderLine))) + 1;
  for (let i = 0; i < count; i++) {
    syspro.db.sorDetail.insert({
      ...SOR_DETAIL_DEFAULTS,
      ...template,
      SalesOrder: so,
      SalesOrderLine: next++,
      MOrderQty: 3,
      MShipQty: 3,
      MBackOrderQty: 0,
      MQtyDispatched: 0,
    });
  }
}

const ORDER_CASES: OrderCase[] = [
  {
    name: 'a negative ship quantity on one line: that line is left out, the others go',
    edit: (_h, items) => Object.assign(items[0] as Row, { MShipQty: -4 }),
    expect: {
      pushed: (body, _h, items) => {
        const keys = body.items.map((i: { lineItemKey: string }) => i.lineItemKey);
        assert.ok(!keys.includes(String(items[0]?.SalesOrderLine)));
      },
    },
  },
  {
    name: 'zero ship quantity on every line: nothing to ship yet, not pushed',
    edit: (_h, items) => {
      for (const l of items) Object.assign(l, { MShipQty: 0 });
    },
    expect: { notPushed: true },
  },
  {
    name: 'a fractional ship quantity (2.5): invalid, the line named',
    edit: (_h, items) => Object.assign(items[0] as Row, { MShipQty: 2.5, MOrderQty: 5 }),
    expect: { invalid: /items\[line \d+\]\.quantity: .*ships 2\.5/ },
  },
  {
    name: 'a huge ship quantity (10,000,000,000): invalid, never sent to break the batch',
    edit: (_h, items) => Object.assign(items[0] as Row, { MShipQty: 1e10, MOrderQty: 1e10 }),
    expect: { invalid: /items\[line \d+\]\.quantity: .*more than ShipStation's quantity field holds/ },
  },
  {
    name: 'the largest quantity ShipStation holds (2,147,483,647) is sent',
    edit: (_h, items) =>
      Object.assign(items[0] as Row, { MShipQty: 2_147_483_647, MOrderQty: 2_147_483_647 }),
    expect: {
      pushed: (body, _h, items) => {
        const item = body.items.find(
          (i: { lineItemKey: string }) => i.lineItemKey === String(items[0]?.SalesOrderLine),
        );
        assert.equal(item?.quantity, 2_147_483_647);
      },
    },
  },
  {
    name: 'a blank stock code on a merchandise line: invalid, the line named',
    edit: (_h, items) => Object.assign(items[0] as Row, { MStockCode: '   ' }),
    expect: { invalid: /items\[line \d+\]\.sku: the line has no stock code/ },
  },
  {
    name: 'an unknown SKU (not in InvMaster) is sent as SYSPRO has it',
    edit: (_h, items) => Object.assign(items[0] as Row, { MStockCode: 'NO-SUCH-SKU-999' }),
    expect: {
      pushed: (body) => assert.ok(body.items.some((i: { sku: string }) => i.sku === 'NO-SUCH-SKU-999')),
    },
  },
  {
    name: 'an unknown warehouse: sent with no ShipStation warehouse (the default ship-from)',
    edit: (h, items) => {
      Object.assign(h, { Warehouse: 'ZZ' });
      for (const l of items) Object.assign(l, { MWarehouse: 'ZZ' });
    },
    expect: { pushed: (body) => assert.equal(body.advancedOptions.warehouseId, null) },
  },
  {
    name: 'no customer name anywhere: invalid shipTo.name',
    edit: (h, _i, syspro) => {
      Object.assign(h, { CustomerName: '  ' });
      const c = syspro.db.arCustomer.get(String(h.Customer));
      if (c) Object.assign(c, { Name: '' });
    },
    expect: { invalid: /shipTo\.name: the name is blank/ },
  },
  {
    name: 'no street line: invalid shipTo.street1',
    edit: (h) => Object.assign(h, { ShipAddress1: '', ShipAddress2: '' }),
    expect: { invalid: /shipTo\.street1: no street line/ },
  },
  {
    name: 'no postal code: invalid shipTo.postalCode',
    edit: (h) => Object.assign(h, { ShipPostalCode: '' }),
    expect: { invalid: /shipTo\.postalCode: the postal code is blank/ },
  },
  {
    name: 'no order date at all: invalid orderDate',
    edit: (h) => Object.assign(h, { OrderDate: null, EntrySystemDate: null }),
    expect: { invalid: /orderDate: SYSPRO has no order date/ },
  },
  {
    name: 'order dated on the spring-forward day (2026-03-08): the instant of SYSPRO midnight',
    edit: (h) => Object.assign(h, { OrderDate: '2026-03-08', ReqShipDate: '2026-03-08' }),
    expect: {
      pushed: (body) => {
        const midnight = DateTime.fromISO('2026-03-08', { zone: SYSPRO_ZONE }).toMillis();
        // ShipStation holds the instant it read from our Pacific wall clock: SYSPRO's midnight.
        assert.equal(body.orderDate, midnight, formatPacificDateTime(midnight));
      },
    },
  },
  {
    name: 'order and ship-by dated on the fall-back day (2026-11-01)',
    edit: (h) => Object.assign(h, { OrderDate: '2026-11-01', ReqShipDate: '2026-11-01' }),
    expect: {
      pushed: (body) => {
        const midnight = DateTime.fromISO('2026-11-01', { zone: SYSPRO_ZONE }).toMillis();
        // ShipStation holds the instant it read from our Pacific wall clock: SYSPRO's midnight.
        assert.equal(body.orderDate, midnight, formatPacificDateTime(midnight));
        assert.equal(body.shipByDate, midnight);
      },
    },
  },
  {
    name: 'a 100-line order: every line is one item',
    edit: (h, items, syspro) => addLines(syspro, h, items[0] as Row, 100 - items.length),
    expect: {
      pushed: (body, h, _i) => {
        assert.equal(
          body.items.filter((i: { adjustment: boolean }) => !i.adjustment).length,
          shippableCount(h),
        );
        assert.ok(shippableCount(h) >= 100);
      },
    },
  },
  {
    name: 'a 1,000-line order: every line is one item',
    edit: (h, items, syspro) => addLines(syspro, h, items[0] as Row, 1000 - items.length),
    expect: {
      pushed: (body, h) => {
        assert.equal(
          body.items.filter((i: { adjustment: boolean }) => !i.adjustment).length,
          shippableCount(h),
        );
        assert.ok(shippableCount(h) >= 1000);
        assert.equal(
          new Set(body.items.map((i: { lineItemKey: string }) => i.lineItemKey)).size,
          body.items.length,
        );
      },
    },
  },
];

let SYSPRO_ZONE = 'UTC';
let sysproRef: SysproSandbox;
function shippableCount(h: Row): number {
  return sysproRef.db.linesOf(String(h.SalesOrder)).filter((l) => isItem(l) && Number(l.MShipQty) > 0).length;
}

describe(`bad-input corpus: quantities, SKUs, warehouses, dates, size (${ORDER_CASES.length} order cases)`, () => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let clients: ConnectionClients;
  let store: Store;
  let cleanup: () => Promise<void>;
  let company: string;
  let connection: ConnectionConfig;
  const clock = new FakeClock(Date.parse('2026-11-20T15:00:00Z'));
  const orderOf = new Map<string, Row>();

  before(async () => {
    const created = await createTestStore('sqlite');
    cleanup = created.cleanup;
    store = created.store;
    shipstation = await startShipStationSandbox({ port: 0, seed: 5, clock, backgroundTimers: false });
    syspro = await startSysproSandbox({ port: 0, seed: 5, orders: 300, clock, logger: false });
    sysproRef = syspro;
    const connected = await connectToSandboxes({ shipstation, syspro, store, clock });
    clients = connected.clients;
    connection = connected.connection;
    company = connection.syspro.company;
    SYSPRO_ZONE = connection.syspro.timezone;
    const ordersConnection: OrdersConnection = {
      connection,
      odata: clients.odata,
      shipstation: clients.shipstationApi,
    };
    // Open orders with merchandise lines, each line made plain (5 ordered, 3 to ship, none dispatched).
    const usable = syspro.db.sorMaster.rows.filter((o) => {
      if (!['1', '2', '3', '4'].includes(String(o.OrderStatus))) return false;
      return syspro.db.linesOf(String(o.SalesOrder)).filter(isItem).length >= 1;
    });
    for (const o of usable) {
      const items = syspro.db.linesOf(String(o.SalesOrder)).filter(isItem);
      if (items.length === 1) addLines(syspro, o, items[0] as Row, 1);
      for (const l of syspro.db.linesOf(String(o.SalesOrder)).filter(isItem)) {
        Object.assign(l, { MOrderQty: 5, MShipQty: 3, MBackOrderQty: 2, MQtyDispatched: 0 });
      }
    }
    assert.ok(usable.length >= ORDER_CASES.length + 9, `${usable.length} usable orders`);
    for (const [i, c] of ORDER_CASES.entries()) {
      const header = usable[i] as Row;
      Object.assign(header, {
        CustomerName: `Corpus ${i}`,
        ShipAddress1: '1 Main St',
        ShipAddress2: '',
        ShipAddress3: 'Boston',
        ShipAddress4: 'MA',
        ShipAddress5: 'USA',
        ShipAddress3Loc: '',
        ShipPostalCode: '02134',
        State: 'MA',
      });
      const customer = syspro.db.arCustomer.get(String(header.Customer));
      if (customer) Object.assign(customer, { SoldToAddr1: '' });
      c.edit(header, syspro.db.linesOf(String(header.SalesOrder)).filter(isItem), syspro);
      syspro.db.touch(header);
      orderOf.set(c.name, header);
    }
    // The write-back cases use other orders of the same seed.
    writebackOrders.push(...usable.slice(ORDER_CASES.length, ORDER_CASES.length + 9));
    const worker = new Worker({
      store,
      clock,
      retry,
      handlers: ordersHandlers({ store, clock, connectionFor: async () => ordersConnection }),
    });
    await enqueueJob(
      store,
      { kind: ORDERS_POLL_KIND, connection: 'main', idempotencyKey: 'corpus-poll' },
      clock.now(),
    );
    await worker.runUntilIdle();
  });
  after(async () => {
    await clients?.close();
    await shipstation?.close();
    await syspro?.close();
    await cleanup?.();
  });

  for (const c of ORDER_CASES) {
    const outcome =
      'pushed' in c.expect ? 'pushed' : 'invalid' in c.expect ? 'invalid + audit' : 'not pushed';
    it(`order: ${c.name} → ${outcome}`, async () => {
      const header = orderOf.get(c.name) as Row;
      const key = `${company}:${header.SalesOrder}`;
      const id = shipstation.state.orderIdByKey.get(key);
      const record = id === undefined ? undefined : shipstation.state.orders.get(id);
      const errors = await store.db
        .selectFrom('audit')
        .selectAll()
        .where('entity_key', '=', key)
        .where('outcome', '=', 'error')
        .execute();
      if ('pushed' in c.expect) {
        assert.ok(record, `in ShipStation (audit: ${errors.map((e) => e.error).join(' | ')})`);
        assert.deepEqual(errors, []);
        c.expect.pushed(record.body(), header, syspro.db.linesOf(String(header.SalesOrder)).filter(isItem));
      } else if ('invalid' in c.expect) {
        assert.equal(record, undefined, 'not in ShipStation');
        assert.equal(errors.length, 1, 'one audit row');
        assert.match(String(errors[0]?.error), c.expect.invalid);
        assert.match(String(errors[0]?.error), new RegExp(`Sales order ${header.SalesOrder} cannot be sent`));
      } else {
        assert.equal(record, undefined, 'not in ShipStation');
        assert.deepEqual(errors, []);
      }
    });
  }

  it('no order job is left queued, running or dead', async () => {
    const jobs = await listJobs(store, { limit: 1000 });
    assert.deepEqual(
      jobs.filter((j) => j.state !== 'succeeded').map((j) => [j.kind, j.state, j.lastError]),
      [],
    );
  });

  // ---------- write-back ----------

  const writebackOrders: Row[] = [];

  interface ShipmentCase {
    name: string;
    /** The V1 shipment (as GET /shipments returns it) for the given order and its merchandise lines. */
    shipment(order: Row, lines: Row[], id: number): Partial<V1Shipment>;
    /** Lines to add to the order first (for the size cases). */
    addLines?: number;
    expect:
      | { written: (note: Row, detail: Row[], lines: Row[], audit: { detail: string }) => void }
      | { dead: RegExp };
  }

  const item = (l: Row, quantity: number, sku?: string) => ({
    orderItemId: Number(l.SalesOrderLine),
    lineItemKey: String(l.SalesOrderLine),
    sku: sku ?? String(l.MStockCode),
    name: 'x',
    quantity,
    unitPrice: 1,
  });
  const open = (l: Row) => Number(l.MOrderQty) - Number(l.MQtyDispatched);

  const SHIPMENT_CASES: ShipmentCase[] = [
    {
      name: 'a negative quantity on one item: that item is not written, the other is',
      shipment: (_o, lines) => ({
        shipmentItems: [item(lines[0] as Row, -2), item(lines[1] ?? (lines[0] as Row), 1)],
      }),
      expect: {
        written: (_n, detail, lines) =>
          assert.ok(!detail.some((d) => d.SalesOrderLine === lines[0]?.SalesOrderLine && lines[1])),
      },
    },
    {
      name: 'every quantity zero: nothing to dispatch, dead with the reason',
      shipment: (_o, lines) => ({ shipmentItems: lines.map((l) => item(l, 0)) }),
      expect: { dead: /nothing is left open on sales order \d+ to dispatch/ },
    },
    {
      name: 'a huge quantity (1e9): capped at what is open, the cap audited',
      shipment: (_o, lines) => ({ shipmentItems: [item(lines[0] as Row, 1e9)] }),
      expect: {
        written: (_n, detail, lines, audit) => {
          assert.deepEqual(
            detail.map((d) => [d.SalesOrderLine, d.MDispatchQty]),
            [[lines[0]?.SalesOrderLine, Number(lines[0]?.MOrderQty)]],
          );
          assert.equal(open(lines[0] as Row), 0, 'the whole line is dispatched, no more');
          assert.match(audit.detail, /more than is open on the order, not written/);
        },
      },
    },
    {
      name: 'an unknown SKU: no such line, dead with the reason',
      shipment: () => ({
        shipmentItems: [
          { orderItemId: 1, lineItemKey: null, sku: 'NO-SUCH-SKU', name: 'x', quantity: 1, unitPrice: 1 },
        ],
      }),
      expect: { dead: /NO-SUCH-SKU/ },
    },
    {
      name: 'a sales order SYSPRO does not have: dead with the reason',
      shipment: (_o, _l, id) => ({ orderKey: `${company}:999999`, orderNumber: '999999', orderId: id }),
      expect: { dead: /999999/ },
    },
    {
      name: 'a label created in the repeated fall-back hour (2026-11-01 01:30 Pacific): the earlier instant',
      shipment: (_o, lines) => ({
        createDate: '2026-11-01T01:30:00.0000000',
        shipDate: '2026-11-01',
        shipmentItems: [item(lines[0] as Row, 1)],
      }),
      expect: {
        written: (note) => {
          assert.match(String(note.DispatchComments2), /^Shipped 2026-11-01 08:30Z /);
          assert.equal(
            note.PlannedDeliverDate,
            DateTime.fromISO('2026-11-01T07:00:00Z').setZone(SYSPRO_ZONE).toISODate(),
          );
        },
      },
    },
    {
      name: 'a label dated in the skipped spring-forward hour (2026-03-08 02:30 Pacific): read forward',
      shipment: (_o, lines) => ({
        createDate: '2026-03-08T02:30:00.0000000',
        shipDate: '2026-03-08',
        shipmentItems: [item(lines[0] as Row, 1)],
      }),
      expect: {
        written: (note) => assert.match(String(note.DispatchComments2), /^Shipped 2026-03-08 10:30Z /),
      },
    },
    {
      name: 'a 100-line shipment: one dispatch note with every line',
      addLines: 100,
      shipment: (_o, lines) => ({ shipmentItems: lines.map((l) => item(l, 1)) }),
      expect: {
        written: (_n, detail, lines) => {
          assert.ok(lines.length >= 100);
          assert.equal(detail.length, lines.length);
        },
      },
    },
    {
      // e.net's REST interface takes the XmlIn in the URL (16 KB under HTTP.sys): one dispatch note
      // of 1,000 lines cannot be sent. It is refused before sending (nothing half-posted), dead
      // with the reason and audited, for an operator to dispatch by hand.
      name: 'a 1,000-line shipment: too large for one e.net request, refused before sending',
      addLines: 1000,
      shipment: (_o, lines) => ({ shipmentItems: lines.map((l) => item(l, 1)) }),
      expect: { dead: /the request is \d+ characters, over the 16000 a URL may have/ },
    },
  ];

  describe(`write-back (${SHIPMENT_CASES.length} cases)`, () => {
    let enet: EnetClient;
    const results = new Map<
      string,
      { jobState: string; lastError: string | null; reference: string; order: Row }
    >();

    before(async () => {
      const document = sandboxConfigDocument('main', {
        shipstation: { url: 'http://127.0.0.1:1', apiKey: '', apiSecret: '', v2ApiKey: '' },
        syspro: { ...syspro, enetUrl: syspro.enetUrl },
      }) as { connections: Array<Record<string, unknown>> };
      const conn = configSchema.parse(document).connections[0] as ConnectionConfig;
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
      const worker = new Worker({
        store,
        clock,
        retry,
        handlers: writebackHandlers({ store, clock, connectionFor: async () => wb }),
      });
      const payloads = [];
      for (const [i, c] of SHIPMENT_CASES.entries()) {
        const order = writebackOrders[i] as Row;
        const so = String(order.SalesOrder);
        let lines = syspro.db.linesOf(so).filter(isItem);
        if (c.addLines) {
          addLines(syspro, order, lines[0] as Row, c.addLines - lines.length);
          lines = syspro.db.linesOf(so).filter(isItem);
        }
        const id = 80_000 + i;
        const v1: V1Shipment = {
          shipmentId: id,
          orderId: 90_000 + i,
          orderKey: `${company}:${so}`,
          orderNumber: so,
          createDate: '2026-11-20T06:00:00.0000000',
          shipDate: '2026-11-20',
          shipmentCost: 5,
          insuranceCost: 0,
          trackingNumber: `1ZCORPUS${String(id).padStart(10, '0')}`,
          carrierCode: 'ups',
          serviceCode: 'ups_ground',
          voided: false,
          voidDate: null,
          advancedOptions: {},
          shipmentItems: lines.map((l) => item(l, 1)),
          ...c.shipment(order, lines, id),
        } as V1Shipment;
        const mapped = mapShipment(v1, { connection: 'main', company, storeIds: [], via: 'webhook' });
        assert.equal(mapped.action, 'write', JSON.stringify(mapped));
        if (mapped.action !== 'write') continue;
        payloads.push({
          kind: SHIPMENT_WRITEBACK_KIND,
          connection: 'main',
          payload: mapped.write,
          idempotencyKey: shipmentKey('main', 'shipment', id),
        });
        results.set(c.name, {
          jobState: '',
          lastError: null,
          reference: dispatchNoteReference(shipmentLinkKey('shipment', id)),
          order,
        });
      }
      await enqueueJobs(store, payloads, clock.now());
      await worker.runUntilIdle();
      const jobs = await listJobs(store, { kind: SHIPMENT_WRITEBACK_KIND, limit: 100 });
      for (const [i, c] of SHIPMENT_CASES.entries()) {
        const job = jobs.find((j) => j.idempotencyKey === shipmentKey('main', 'shipment', 80_000 + i));
        const r = results.get(c.name);
        if (r && job) Object.assign(r, { jobState: job.state, lastError: job.lastError });
      }
      await enet.close();
    });

    for (const [i, c] of SHIPMENT_CASES.entries()) {
      const outcome = 'written' in c.expect ? 'dispatch note' : 'dead + audit';
      it(`shipment: ${c.name} → ${outcome}`, async () => {
        const r = results.get(c.name);
        assert.ok(r, 'the job ran');
        const key = shipmentLinkKey('shipment', 80_000 + i);
        const audit = await store.db
          .selectFrom('audit')
          .selectAll()
          .where('flow', '=', 'shipments')
          .where('entity_key', '=', key)
          .orderBy('id')
          .execute();
        const notes = syspro.db.mdnMaster.rows.filter((n) => n.DispatchComments1 === r.reference);
        if ('written' in c.expect) {
          assert.equal(r.jobState, 'succeeded', r.lastError ?? '');
          assert.equal(notes.length, 1, 'one dispatch note in SYSPRO');
          const note = notes[0] as Row;
          const detail = syspro.db.mdnDetail.rows.filter((d) => d.DispatchNote === note.DispatchNote);
          const lines = syspro.db.linesOf(String(r.order.SalesOrder)).filter(isItem);
          const row = audit.find((a) => a.outcome === 'ok');
          assert.ok(row, `an ok audit row (${audit.map((a) => a.outcome).join(',')})`);
          c.expect.written(note, detail, lines, { detail: String(row.detail) });
        } else {
          assert.equal(r.jobState, 'dead', 'dead, visible with its reason');
          assert.match(String(r.lastError), c.expect.dead);
          assert.equal(notes.length, 0, 'nothing in SYSPRO');
          const errors = audit.filter((a) => a.outcome === 'error');
          assert.equal(errors.length, 1, 'one error audit row');
          assert.match(String(errors[0]?.error), c.expect.dead);
        }
      });
    }
  });
});
