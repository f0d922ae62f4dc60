/**
 * Bad-input corpus, hostile answers met by the flows (worker, store, real clients), one row per
 * case: what the job ends as, the audit row it leaves, and what the target system holds.
 * - A webhook's resource_url on an allowed host (a tiny local server standing in for a ShipStation
 *   host, or a proxy in front of it) that answers a redirect, an HTML page or cut-off JSON: the
 *   follow-up GET never follows the redirect (the redirect target is never contacted), and the
 *   `shipments.fetch` job ends dead with the reason and an audit row; nothing is queued.
 * - SYSPRO behind a proxy that forwards the SORTDN post to the sandbox (so it takes effect) and
 *   answers an HTML page instead of the XmlOut: the job is in doubt, the next attempt checks
 *   SYSPRO and finds the note; SYSPRO holds exactly one note (nothing lost, nothing doubled).
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { type ConnectionConfig, configSchema } from '../../src/config/schema.js';
import { Worker } from '../../src/engine/worker.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import type { Row } from '../../src/sandbox/syspro/tables.js';
import { MemoryRateLimiter } from '../../src/shipstation/memory-rate-limiter.js';
import { shipStationV1 } from '../../src/shipstation/v1/adapter.js';
import { createShipStationV1Client } from '../../src/shipstation/v1/client.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { getJob, listJobs } from '../../src/store/jobs/queries.js';
import type { Store } from '../../src/store/open.js';
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import {
  SHIPMENT_WRITEBACK_KIND,
  type ShipmentWrite,
  shipmentKey,
  shipmentLinkKey,
} from '../../src/sync/shipment-model.js';
import {
  SHIPMENTS_FETCH_KIND,
  type ShipmentsFetchPayload,
  shipmentsHandlers,
} from '../../src/sync/shipments.js';
import { type WritebackConnection, writebackHandlers } from '../../src/sync/writeback.js';
import { createEnetClient } from '../../src/syspro/enet-client.js';
import { createODataReader } from '../../src/syspro/odata-reader.js';
import { FakeClock } from '../helpers/clock.js';
import { createTestStore } from '../helpers/dialects.js';

const retry = { cadence: [60_000, 60_000, 60_000], perKind: {}, jitter: 0 };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

interface FetchCase {
  name: string;
  /** What the allowed host answers to the resource GET. */
  answer: { status: number; contentType?: string; headers?: Record<string, string>; body: string };
  /** The job's last error. */
  error: RegExp;
}

const HTML = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>';

const FETCH_CASES: FetchCase[] = [
  {
    name: 'a redirect to another host (302)',
    answer: { status: 302, headers: { location: 'http://TARGET/shipments?batchId=1' }, body: '' },
    error: /302/,
  },
  {
    name: 'a redirect to the same host, another path (307)',
    answer: { status: 307, headers: { location: '/accounts/listtags' }, body: '' },
    error: /307/,
  },
  {
    name: 'an HTML page with HTTP 200',
    answer: { status: 200, contentType: 'text/html', body: HTML },
    error: /unexpected response body \(HTTP 200\)/,
  },
  {
    name: 'cut-off JSON with HTTP 200',
    answer: {
      status: 200,
      contentType: 'application/json',
      body: '{"shipments":[{"shipmentId":1,"orderKey":"SAN',
    },
    error: /unexpected response body \(HTTP 200\)/,
  },
];

describe(`bad-input corpus: hostile answers met by the flows (${FETCH_CASES.length + 2} cases)`, () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const clock = new FakeClock(Date.parse('2026-11-20T18:00:00Z'));

  before(async () => {
    const created = await createTestStore('sqlite');
    store = created.store;
    cleanup = created.cleanup;
  });
  after(async () => {
    await cleanup?.();
  });

  describe('a resource_url host that answers badly', () => {
    let sandbox: ShipStationSandbox;
    let hostile: Server;
    let target: Server;
    let hostileHost: string;
    let targetHost: string;
    let targetHits = 0;
    let current: FetchCase | undefined;
    let worker: Worker;

    before(async () => {
      sandbox = await startShipStationSandbox({ port: 0, seed: 9, clock, backgroundTimers: false });
      target = createServer((_req, res) => {
        targetHits++;
        res.end('{"shipments":[],"total":0,"page":1,"pages":0}');
      });
      targetHost = await listen(target);
      hostile = createServer((_req, res) => {
        const a = current?.answer ?? { status: 500, body: '' };
        res.statusCode = a.status;
        if (a.contentType) res.setHeader('content-type', a.contentType);
        for (const [k, v] of Object.entries(a.headers ?? {}))
          res.setHeader(k, v.replace('TARGET', targetHost));
        res.end(a.body);
      });
      hostileHost = await listen(hostile);
      const document = sandboxConfigDocument('main', {
        shipstation: { url: sandbox.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
        syspro: {
          enetUrl: 'http://127.0.0.1:9/SYSPROWCFService/Rest',
          odataUrl: 'http://127.0.0.1:9/SYSPRO8Odata/SYSPROOData/EDU1',
          operator: 'ADMIN',
          operatorPassword: '',
          company: 'EDU1',
          companyPassword: '',
        },
      }) as { connections: Array<Record<string, Record<string, unknown>>> };
      const first = document.connections[0] as Record<string, Record<string, unknown>>;
      // Both are "allowed": the hostile host (as a proxy would be) and the redirect target.
      first.shipstation = { ...first.shipstation, allowedResourceHosts: [hostileHost, targetHost] };
      const connection = configSchema.parse(document).connections[0] as ConnectionConfig;
      const client = createShipStationV1Client({
        baseUrl: sandbox.url,
        apiKey: sandbox.apiKey,
        apiSecret: sandbox.apiSecret,
        limiter: new MemoryRateLimiter({ clock, limit: 40, windowMs: 60_000 }),
        clock,
        allowedResourceHosts: connection.shipstation.allowedResourceHosts,
      });
      const deps = {
        store,
        clock,
        connectionFor: async () => ({ connection, shipstation: shipStationV1(client) }),
      };
      worker = new Worker({ store, clock, retry, handlers: shipmentsHandlers(deps) });
    });
    after(async () => {
      await closeServer(hostile);
      await closeServer(target);
      await sandbox?.close();
    });

    for (const [i, c] of FETCH_CASES.entries()) {
      it(`resource_url: ${c.name} → dead + audit, nothing followed or queued`, async () => {
        current = c;
        const hitsBefore = targetHits;
        const resourceUrl = `http://${hostileHost}/shipments?batchId=${700 + i}`;
        const payload: ShipmentsFetchPayload = {
          event: 'SHIP_NOTIFY',
          resourceUrl,
          receivedAt: clock.now(),
          api: 'v1',
        };
        const { id } = await enqueueJob(
          store,
          { kind: SHIPMENTS_FETCH_KIND, connection: 'main', idempotencyKey: `corpus-fetch:${i}`, payload },
          clock.now(),
        );
        for (let n = 0; n < 6; n++) {
          await worker.runUntilIdle();
          const job = await getJob(store, id);
          if (job?.state === 'dead' || job?.state === 'succeeded') break;
          clock.advance(61_000);
        }
        const job = await getJob(store, id);
        assert.equal(job?.state, 'dead', `dead, visible with its reason (${job?.state}: ${job?.lastError})`);
        assert.match(String(job?.lastError), c.error);
        assert.equal(targetHits, hitsBefore, 'the redirect target was never contacted');
        assert.deepEqual(
          await listJobs(store, { kind: SHIPMENT_WRITEBACK_KIND, limit: 10 }),
          [],
          'nothing queued',
        );
        const audit = await store.db
          .selectFrom('audit')
          .selectAll()
          .where('flow', '=', 'shipments')
          .where('job_id', '=', id)
          .execute();
        assert.equal(audit.filter((a) => a.outcome === 'error').length, 1, 'one error audit row');
        assert.match(String(audit[0]?.error), c.error);
      });
    }
  });

  describe('SYSPRO answering an HTML page after the post took effect', () => {
    let syspro: SysproSandbox;
    let proxy: Server;
    let proxyUrl: string;
    let mode: { status: number; body: string } | undefined;
    let posts = 0;

    before(async () => {
      syspro = await startSysproSandbox({ port: 0, seed: 13, orders: 80, clock, logger: false });
      const upstream = new URL(syspro.enetUrl);
      proxy = createServer((req, res) => {
        const forward = httpRequest(
          {
            host: upstream.hostname,
            port: upstream.port,
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          (up) => {
            const chunks: Buffer[] = [];
            up.on('data', (c: Buffer) => chunks.push(c));
            up.on('end', () => {
              const isPost = (req.url ?? '').includes('/Transaction/Post');
              if (isPost) posts++;
              if (isPost && mode) {
                const answer = mode;
                mode = undefined; // once
                res.statusCode = answer.status;
                res.setHeader('content-type', 'text/html');
                res.end(answer.body);
                return;
              }
              res.statusCode = up.statusCode ?? 200;
              for (const [k, v] of Object.entries(up.headers)) if (v !== undefined) res.setHeader(k, v);
              res.end(Buffer.concat(chunks));
            });
          },
        );
        req.pipe(forward);
      });
      const host = await listen(proxy);
      proxyUrl = `http://${host}${upstream.pathname}`;
    });
    after(async () => {
      await closeServer(proxy);
      await syspro?.close();
    });

    const CASES = [
      {
        name: 'an ASP.NET error page with HTTP 200',
        answer: {
          status: 200,
          body: "<html><head><title>Runtime Error</title></head><body>Server Error in '/' Application.</body></html>",
        },
      },
      {
        name: 'an IIS 502 page',
        answer: {
          status: 502,
          body: '<html><head><title>502 - Web server received an invalid response</title></head><body/></html>',
        },
      },
    ];

    for (const [i, c] of CASES.entries()) {
      it(`SORTDN post answered with ${c.name} → in doubt, checked, one dispatch note`, async () => {
        const order = syspro.db.sorMaster.rows.find((o) => {
          if (!['1', '2', '3', '4'].includes(String(o.OrderStatus))) return false;
          const lines = syspro.db
            .linesOf(String(o.SalesOrder))
            .filter((l) => l.LineType === '1' || l.LineType === '7');
          return (
            lines.length > 0 &&
            lines.every((l) => Number(l.MOrderQty) - Number(l.MQtyDispatched) >= 1) &&
            !used.has(String(o.SalesOrder))
          );
        }) as Row;
        assert.ok(order);
        const so = String(order.SalesOrder);
        used.add(so);
        const line = syspro.db.linesOf(so).find((l) => l.LineType === '1' || l.LineType === '7') as Row;
        const dispatchedBefore = Number(line.MQtyDispatched);
        const document = sandboxConfigDocument('main', {
          shipstation: { url: 'http://127.0.0.1:1', apiKey: '', apiSecret: '', v2ApiKey: '' },
          syspro: { ...syspro, enetUrl: proxyUrl },
        }) as { connections: Array<Record<string, unknown>> };
        const connection = configSchema.parse(document).connections[0] as ConnectionConfig;
        const enet = createEnetClient({
          baseUrl: proxyUrl,
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
        const id = 60_000 + i;
        const created = clock.now() - 600_000;
        const write: ShipmentWrite = {
          source: 'shipment',
          id,
          connection: 'main',
          orderKey: `${connection.syspro.company}:${so}`,
          salesOrder: so,
          orderId: id,
          orderNumber: so,
          carrierCode: 'ups',
          serviceCode: 'ups_ground',
          trackingNumbers: [`1ZPROXY${id}`],
          shipDate: '2026-11-20',
          shipDateUtc: Date.parse('2026-11-20T08:00:00Z'),
          createdAtUtc: created,
          lines: [{ salesOrderLine: String(line.SalesOrderLine), sku: null, quantity: 1 }],
          shipmentCost: null,
          insuranceCost: null,
          voided: false,
          voidedAtUtc: null,
          version: created,
          via: 'webhook',
        };
        mode = c.answer;
        const postsBefore = posts;
        const { id: jobId } = await enqueueJob(
          store,
          {
            kind: SHIPMENT_WRITEBACK_KIND,
            connection: 'main',
            payload: write,
            idempotencyKey: shipmentKey('main', 'shipment', id),
          },
          clock.now(),
        );
        await worker.runUntilIdle();
        const first = await getJob(store, jobId);
        assert.notEqual(first?.state, 'dead', `not dead on an unreadable answer: ${first?.lastError}`);
        for (let n = 0; n < 4 && (await getJob(store, jobId))?.state !== 'succeeded'; n++) {
          clock.advance(61_000);
          await worker.runUntilIdle();
        }
        await enet.close();
        const job = await getJob(store, jobId);
        assert.equal(job?.state, 'succeeded', String(job?.lastError));
        const reference = dispatchNoteReference(shipmentLinkKey('shipment', id));
        const notes = syspro.db.mdnMaster.rows.filter((n) => n.DispatchComments1 === reference);
        assert.equal(notes.length, 1, 'exactly one dispatch note in SYSPRO');
        assert.equal(Number(line.MQtyDispatched), dispatchedBefore + 1, 'dispatched once');
        assert.equal(posts - postsBefore, 1, 'posted once: the retry checked instead of posting again');
        const audit = await store.db
          .selectFrom('audit')
          .selectAll()
          .where('flow', '=', 'shipments')
          .where('entity_key', '=', shipmentLinkKey('shipment', id))
          .orderBy('id')
          .execute();
        assert.ok(
          audit.some((a) => a.outcome === 'error' && /HTML page|HTTP 502/.test(String(a.error))),
          'the bad answer is audited',
        );
        assert.equal(audit.at(-1)?.outcome, 'ok');
      });
    }
    const used = new Set<string>();
  });
});
