/**
 * Bad-input corpus, mapped fields: `&`, `<`, quotes, emoji and Windows-1252 characters in every
 * field the connector maps, through the real flows and both sandboxes:
 * - order → ShipStation: SYSPRO sandbox orders carry the text in every mapped column; the orders
 *   flow (worker, OData, V1 client) pushes them, and each row reads ShipStation's own stored order:
 *   the text arrives exactly (whitespace collapsed), never escaped twice, never dropped;
 * - shipment → SYSPRO XML: shipments with the text in carrier, service and tracking numbers are
 *   written back as dispatch notes (SORTDN XmlIn over e.net); each row reads the SYSPRO sandbox's
 *   MdnMaster: the text as Windows-1252 can carry it (emoji → `?`), no markup leaking into a value.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { type ConnectionConfig, configSchema } from '../../src/config/schema.js';
import { Worker } from '../../src/engine/worker.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { type Row, SOR_DETAIL_DEFAULTS } from '../../src/sandbox/syspro/tables.js';
import { enqueueJob, enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { listJobs } from '../../src/store/jobs/queries.js';
import type { ConnectionClients } from '../../src/sync/connection-clients.js';
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import { ORDERS_POLL_KIND, type OrdersConnection, ordersHandlers } from '../../src/sync/orders.js';
import {
  SHIPMENT_WRITEBACK_KIND,
  type ShipmentWrite,
  shipmentKey,
  shipmentLinkKey,
} from '../../src/sync/shipment-model.js';
import { type WritebackConnection, writebackHandlers } from '../../src/sync/writeback.js';
import { createEnetClient, type EnetClient } from '../../src/syspro/enet-client.js';
import { createODataReader } from '../../src/syspro/odata-reader.js';
import { toWindows1252Text } from '../../src/syspro/windows-1252.js';
import { FakeClock } from '../helpers/clock.js';
import { createTestStore } from '../helpers/dialects.js';
import { connectToSandboxes } from '../helpers/sandbox-connection.js';

/** The hostile texts; each goes into every field of one order (and one shipment). */
const TEXTS = [
  'Ben & Jerry',
  'A<B> & <script>x</script>',
  `"Quoted" 'single' \`back\``,
  'Box 📦 fast 🚚',
  'Müller – “Söhne” €5 &amp; &lt;',
];

const retry = { cadence: [60_000], perKind: {}, jitter: 0 };
const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

describe(`bad-input corpus: hostile text in every mapped field (${TEXTS.length} texts)`, () => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let clients: ConnectionClients;
  let cleanup: () => Promise<void>;
  let company: string;
  const clock = new FakeClock(Date.parse('2026-11-20T15:00:00Z'));
  const orderOf = new Map<string, string>(); // text → sales order
  // biome-ignore lint/suspicious/noExplicitAny: ShipStation's stored order body, read field by field.
  const pushed = new Map<string, any>();

  before(async () => {
    const created = await createTestStore('sqlite');
    cleanup = created.cleanup;
    const store = created.store;
    shipstation = await startShipStationSandbox({ port: 0, seed: 3, clock, backgroundTimers: false });
    syspro = await startSysproSandbox({ port: 0, seed: 3, orders: 60, clock, logger: false });
    const connected = await connectToSandboxes({ shipstation, syspro, store, clock });
    clients = connected.clients;
    company = connected.connection.syspro.company;
    const ordersConnection: OrdersConnection = {
      connection: connected.connection,
      odata: clients.odata,
      shipstation: clients.shipstationApi,
    };
    // One open, shippable order per text, every mapped column carrying it.
    const candidates = syspro.db.sorMaster.rows.filter(
      (o) =>
        ['1', '2', '3', '4'].includes(String(o.OrderStatus)) &&
        syspro.db
          .linesOf(String(o.SalesOrder))
          .some((l) => (l.LineType === '1' || l.LineType === '7') && Number(l.MShipQty) > 0),
    );
    // Distinct customers, since the customer's telephone is one of the fields.
    const customers = new Set<string>();
    const open = candidates.filter((o) => {
      const c = String(o.Customer);
      if (customers.has(c)) return false;
      customers.add(c);
      return true;
    });
    assert.ok(open.length >= TEXTS.length);
    for (const [i, text] of TEXTS.entries()) {
      const header = open[i] as Row;
      const so = String(header.SalesOrder);
      orderOf.set(text, so);
      Object.assign(header, {
        CustomerName: text,
        ShipAddress1: `1 ${text} St`,
        ShipAddress2: text,
        SpecialInstrs: text,
        ShippingInstrs: text,
        CustomerPoNumber: text.slice(0, 30),
        ShipAddress3: 'Boston',
        ShipAddress4: 'MA',
        ShipAddress5: 'USA',
        ShipAddress3Loc: '',
        ShipPostalCode: '02134',
        State: 'MA',
      });
      // Billed to the ship-to (no sold-to address): the seed's own addresses are not under test.
      const customer = syspro.db.arCustomer.get(String(header.Customer));
      if (customer) Object.assign(customer, { Telephone: text, SoldToAddr1: '' });
      const lines = syspro.db.linesOf(so);
      for (const l of lines.filter((x) => x.LineType === '1' || x.LineType === '7')) {
        Object.assign(l, { MStockDes: text, MBin: text, MStockCode: `SKU-${text}`.slice(0, 30) });
      }
      const last = Math.max(...lines.map((l) => Number(l.SalesOrderLine)));
      syspro.db.sorDetail.insert({
        ...SOR_DETAIL_DEFAULTS,
        SalesOrder: so,
        SalesOrderLine: last + 1,
        LineType: '6',
        NComment: text,
      });
      syspro.db.touch(header);
    }
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
    for (const [text, so] of orderOf) {
      const id = shipstation.state.orderIdByKey.get(`${company}:${so}`);
      const record = id === undefined ? undefined : shipstation.state.orders.get(id);
      if (record) pushed.set(text, record.body());
    }
  });
  after(async () => {
    await clients?.close();
    await shipstation?.close();
    await syspro?.close();
    await cleanup?.();
  });

  // biome-ignore lint/suspicious/noExplicitAny: the stored body.
  const ORDER_FIELDS: Array<[string, (body: any) => unknown, (text: string) => unknown]> = [
    ['CustomerName → shipTo.name', (b) => b.shipTo.name, (t) => collapse(t)],
    ['ShipAddress1 → shipTo.street1', (b) => b.shipTo.street1, (t) => collapse(`1 ${t} St`)],
    ['ShipAddress2 → shipTo.street2', (b) => b.shipTo.street2, (t) => collapse(t)],
    ['SpecialInstrs → customerNotes', (b) => b.customerNotes, (t) => collapse(t)],
    ['ShippingInstrs → requestedShippingService', (b) => b.requestedShippingService, (t) => collapse(t)],
    [
      'CustomerPoNumber → advancedOptions.customField1',
      (b) => b.advancedOptions.customField1,
      (t) => collapse(t.slice(0, 30)),
    ],
    ['ArCustomer.Telephone → shipTo.phone', (b) => b.shipTo.phone, (t) => collapse(t)],
    [
      'MStockDes → items[].name',
      (b) => b.items.filter((i: { adjustment: boolean }) => !i.adjustment)[0]?.name,
      (t) => collapse(t),
    ],
    [
      'MStockCode → items[].sku',
      (b) => b.items.filter((i: { adjustment: boolean }) => !i.adjustment)[0]?.sku,
      (t) => collapse(`SKU-${t}`.slice(0, 30)),
    ],
    [
      'MBin → items[].warehouseLocation',
      (b) => b.items.filter((i: { adjustment: boolean }) => !i.adjustment)[0]?.warehouseLocation,
      (t) => collapse(t),
    ],
    [
      'comment line NComment → internalNotes',
      (b) =>
        String(b.internalNotes ?? '')
          .split('\n')
          .at(-1),
      (t) => collapse(t),
    ],
  ];

  for (const [field, read, expected] of ORDER_FIELDS) {
    it(`order → ShipStation: ${field} arrives exactly, for each text`, () => {
      for (const text of TEXTS) {
        const body = pushed.get(text);
        assert.ok(body, `the order carrying ${JSON.stringify(text)} is in ShipStation`);
        assert.equal(read(body), expected(text), `${field} of ${JSON.stringify(text)}`);
      }
    });
  }

  describe('shipment → SYSPRO dispatch note', () => {
    let enet: EnetClient;
    const written = new Map<string, { shipment: ShipmentWrite; note: Row | undefined }>();

    before(async () => {
      const created = await createTestStore('sqlite');
      const store = created.store;
      const document = sandboxConfigDocument('main', {
        shipstation: { url: 'http://127.0.0.1:1', apiKey: '', apiSecret: '', v2ApiKey: '' },
        syspro: { ...syspro, enetUrl: syspro.enetUrl },
      }) as { connections: Array<Record<string, unknown>> };
      const connection = configSchema.parse(document).connections[0] as ConnectionConfig;
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
      const wb: WritebackConnection = { connection, enet, odata };
      const worker = new Worker({
        store,
        clock,
        retry,
        handlers: writebackHandlers({ store, clock, connectionFor: async () => wb }),
      });
      const shipments: ShipmentWrite[] = [];
      for (const [i, text] of TEXTS.entries()) {
        const so = orderOf.get(text) as string;
        const line = syspro.db
          .linesOf(so)
          .find(
            (l) =>
              (l.LineType === '1' || l.LineType === '7') && Number(l.MOrderQty) > Number(l.MQtyDispatched),
          );
        assert.ok(line, `order ${so} has an open line`);
        const id = 70_000 + i;
        shipments.push({
          source: 'shipment',
          id,
          connection: 'main',
          orderKey: `${company}:${so}`,
          salesOrder: so,
          orderId: id,
          orderNumber: so,
          carrierCode: text.slice(0, 12),
          serviceCode: text.slice(0, 10),
          trackingNumbers: [`${text.replace(/\s+/g, '')}`.slice(0, 20), `T2${i}&<"x"`],
          shipDate: '2026-11-20',
          shipDateUtc: Date.parse('2026-11-20T08:00:00Z'),
          createdAtUtc: Date.parse('2026-11-20T14:30:00Z'),
          lines: [{ salesOrderLine: String(line.SalesOrderLine), sku: null, quantity: 1 }],
          shipmentCost: null,
          insuranceCost: null,
          voided: false,
          voidedAtUtc: null,
          version: Date.parse('2026-11-20T14:30:00Z'),
          via: 'webhook',
        });
      }
      await enqueueJobs(
        store,
        shipments.map((s) => ({
          kind: SHIPMENT_WRITEBACK_KIND,
          connection: 'main',
          payload: s,
          idempotencyKey: shipmentKey('main', s.source, s.id),
        })),
        clock.now(),
      );
      await worker.runUntilIdle();
      const jobs = await listJobs(store, { kind: SHIPMENT_WRITEBACK_KIND, limit: 100 });
      for (const job of jobs) assert.equal(job.state, 'succeeded', job.lastError ?? '');
      for (const [i, text] of TEXTS.entries()) {
        const s = shipments[i] as ShipmentWrite;
        const reference = dispatchNoteReference(shipmentLinkKey(s.source, s.id));
        const notes = syspro.db.mdnMaster.rows.filter((n) => n.DispatchComments1 === reference);
        assert.equal(notes.length, 1, `one dispatch note for ${JSON.stringify(text)}`);
        written.set(text, { shipment: s, note: notes[0] });
      }
      await enet.close();
      await created.cleanup();
    });

    const SYSPRO_FIELDS: Array<[string, (note: Row) => unknown, (s: ShipmentWrite) => unknown]> = [
      [
        'carrier → UserField1',
        (n) => n.UserField1,
        (s) => toWindows1252Text(String(s.carrierCode).toUpperCase()).trim(),
      ],
      [
        'carrier and service → DispatchComments2',
        (n) => n.DispatchComments2,
        (s) =>
          toWindows1252Text(
            `Shipped 2026-11-20 14:30Z ${String(s.carrierCode).toUpperCase()} ${s.serviceCode}`,
          )
            .slice(0, 50)
            .trim(),
      ],
      [
        'first tracking number → UserField2',
        (n) => String(n.UserField2).split(' +')[0],
        (s) => toWindows1252Text(s.trackingNumbers[0] as string),
      ],
      [
        'every tracking number → DispatchComments3',
        (n) => n.DispatchComments3,
        (s) => toWindows1252Text(s.trackingNumbers.join(' ')),
      ],
    ];

    for (const [field, read, expected] of SYSPRO_FIELDS) {
      it(`shipment → SYSPRO XML: ${field} is stored as Windows-1252 carries it, for each text`, () => {
        for (const text of TEXTS) {
          const entry = written.get(text);
          assert.ok(entry?.note, `the note of ${JSON.stringify(text)}`);
          assert.equal(read(entry.note), expected(entry.shipment), `${field} of ${JSON.stringify(text)}`);
        }
      });
    }
  });
});
