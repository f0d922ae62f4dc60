/**
 * `ml-connector shipments show`, run as a user would (the real binary), after the write-back has
 * written a shipment into the SYSPRO sandbox through the store file the command reads.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { systemClock } from '../../src/clock.js';
import { type ConnectionConfig, configSchema } from '../../src/config/schema.js';
import { Worker } from '../../src/engine/worker.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/open.js';
import { SHIPMENT_WRITEBACK_KIND, type ShipmentWrite, shipmentKey } from '../../src/sync/shipment-model.js';
import { writebackHandlers } from '../../src/sync/writeback.js';
import { createEnetClient } from '../../src/syspro/enet-client.js';
import { createODataReader } from '../../src/syspro/odata-reader.js';
import { runCli } from '../helpers/cli.js';

describe('shipments show', () => {
  let syspro: SysproSandbox;
  let cwd: string;
  let env: NodeJS.ProcessEnv;
  let shipment: ShipmentWrite;

  before(async () => {
    syspro = await startSysproSandbox({ port: 0, seed: 5, orders: 120, logger: false });
    cwd = mkdtempSync(join(tmpdir(), 'mlc-shipments-show-'));
    const document = sandboxConfigDocument('main', {
      shipstation: { url: 'http://127.0.0.1:1', apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as { connections: Array<Record<string, unknown>> };
    writeFileSync(join(cwd, 'ml-connector.yaml'), stringify(document));
    env = {
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_OPERATORPASSWORD: syspro.operatorPassword,
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_COMPANYPASSWORD: syspro.companyPassword,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: 'unused',
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: 'unused',
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_V2APIKEY: 'unused',
    };
    const connection = configSchema.parse(document).connections[0] as ConnectionConfig;

    const order = syspro.db.sorMaster.rows.find(
      (o) =>
        ['1', '2', '3', '4', '8'].includes(o.OrderStatus as string) &&
        syspro.db
          .linesOf(o.SalesOrder as string)
          .some((l) => l.LineType === '1' && (l.MOrderQty as number) - (l.MQtyDispatched as number) >= 1),
    );
    const salesOrder = order?.SalesOrder as string;
    const line = syspro.db
      .linesOf(salesOrder)
      .find((l) => l.LineType === '1' && (l.MOrderQty as number) - (l.MQtyDispatched as number) >= 1);
    const created = Date.parse('2026-01-15T18:42:00Z');
    shipment = {
      source: 'shipment',
      id: 777001,
      connection: 'main',
      orderKey: `SANDBOX:${salesOrder}`,
      salesOrder,
      orderId: 1,
      orderNumber: salesOrder,
      carrierCode: 'fedex',
      serviceCode: 'fedex_ground',
      trackingNumbers: ['794600000001', '794600000002'],
      shipDate: '2026-01-15',
      shipDateUtc: Date.parse('2026-01-15T08:00:00Z'),
      createdAtUtc: created,
      lines: [{ salesOrderLine: String(line?.SalesOrderLine), sku: line?.MStockCode as string, quantity: 1 }],
      shipmentCost: null,
      insuranceCost: null,
      voided: false,
      voidedAtUtc: null,
      version: created,
      via: 'webhook',
    };

    mkdirSync(join(cwd, 'data'), { recursive: true });
    const store = openStore(`sqlite:${join(cwd, 'data', 'ml-connector.db')}`);
    try {
      await migrateToLatest(store);
      await enqueueJobs(
        store,
        [
          {
            kind: SHIPMENT_WRITEBACK_KIND,
            connection: 'main',
            payload: shipment,
            idempotencyKey: shipmentKey('main', 'shipment', shipment.id),
          },
        ],
        Date.now(),
      );
      const enet = createEnetClient({
        baseUrl: syspro.enetUrl,
        operator: syspro.operator,
        operatorPassword: syspro.operatorPassword,
        company: syspro.company,
        companyPassword: syspro.companyPassword,
      });
      const odata = createODataReader({
        serviceUrl: syspro.odataUrl,
        username: syspro.operator,
        password: syspro.operatorPassword,
      });
      const worker = new Worker({
        store,
        clock: systemClock,
        retry: { cadence: [60_000], perKind: {}, jitter: 0 },
        handlers: writebackHandlers({
          store,
          clock: systemClock,
          connectionFor: async () => ({ connection, enet, odata }),
        }),
      });
      await worker.runUntilIdle();
      await enet.close();
    } finally {
      await store.close();
    }
  });
  after(async () => {
    await syspro?.close();
  });

  it('by shipment id: the job, the link, the audit and the dispatch note SYSPRO has now', async () => {
    const result = await runCli(['shipments', 'show', String(shipment.id)], { cwd, env });
    assert.equal(result.code, 0, result.stderr);
    const note = syspro.db.mdnMaster.rows.find(
      (n) => n.DispatchComments1 === `ml-connector shipment:${shipment.id}`,
    );
    assert.ok(note);
    assert.match(
      result.stdout,
      new RegExp(`Shipment shipment:${shipment.id} \\(sales order ${shipment.salesOrder}\\)`),
    );
    assert.match(result.stdout, /succeeded {2}attempts 1/);
    assert.match(result.stdout, /state written, v\d+ written/);
    assert.match(result.stdout, /tracking 794600000001 794600000002/);
    assert.match(result.stdout, new RegExp(`"dispatchNote":"${note.DispatchNote}"`));
    assert.match(
      result.stdout,
      /SYSPRO now\n {2}\{"dispatchNote":\{.*"comments":\["ml-connector shipment:777001"/,
    );
  });

  it('by tracking number, as JSON', async () => {
    const result = await runCli(['shipments', 'show', '794600000002', '--json'], { cwd, env });
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout) as { shipments: Array<{ key: string; link: { state: string } }> };
    assert.deepEqual(
      body.shipments.map((s) => [s.key, s.link.state]),
      [[`shipment:${shipment.id}`, 'written']],
    );
  });

  it('an unknown shipment is said so', async () => {
    const result = await runCli(['shipments', 'show', 'NOPE123'], { cwd, env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /No shipment NOPE123/);
  });
});
