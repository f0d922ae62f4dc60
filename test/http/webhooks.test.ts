/**
 * The webhook receiver on the `run` server (`startService`, in-process, real HTTP on 127.0.0.1)
 * with the ShipStation sandbox delivering real webhooks to it: subscriptions made through our CLI
 * (`ml-connector webhooks subscribe`, run in-process), a label and a mark-as-shipped in the sandbox,
 * then `flushWebhooks`. Effects are counted in the store's jobs and audit tables and in the
 * sandbox's own records (deliveries, subscriptions, request log). SQLite, and PostgreSQL when
 * `TEST_DATABASE_URL` is set.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { type Service, startService } from '../../src/cli/commands/run.js';
import { runProgram } from '../../src/cli/program.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { openStore, type Store } from '../../src/store/open.js';
import { FakeClock } from '../helpers/clock.js';
import { createPgDatabase, PG_URL } from '../helpers/dialects.js';
import { orderBody, startReceiver, v1 } from '../sandbox/shipstation/helpers.js';

const SECRET = 'whsec0123456789abcdef0123456789abcdef';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Harness {
  sandbox: ShipStationSandbox;
  service: Service;
  store: Store;
  dir: string;
  env: NodeJS.ProcessEnv;
  base: string;
  logs: string[];
  cli(...args: string[]): Promise<{ code: number; out: string; err: string }>;
  close(): Promise<void>;
}

async function startHarness(storeUrl: string, dropStore?: () => Promise<void>): Promise<Harness> {
  // The sandbox's clock only dates things (deliveries are flushed by hand); V2 timestamps must be
  // near real time because the receiver checks them against the service's clock.
  const clock = new FakeClock(Date.now(), { autoAdvance: false });
  const sandbox = await startShipStationSandbox({
    clock,
    backgroundTimers: false,
    webhookDelayMs: 0,
    rateLimit: { limit: 1000, windowMs: 60_000 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'mlc-webhooks-'));
  const port = await freePort();
  const address = `http://127.0.0.1:${port}`;
  const file = join(dir, 'ml-connector.yaml');
  writeFileSync(
    file,
    stringify({
      store: { url: storeUrl },
      http: { host: '127.0.0.1', port, publicUrl: address },
      log: { level: 'info' },
      shutdownTimeout: '5s',
      connections: [
        {
          name: 'main',
          syspro: {
            enetUrl: 'http://127.0.0.1:1/SYSPROWCFService/Rest',
            odataUrl: 'http://127.0.0.1:1/SYSPRO8/OData',
            operator: 'ADMIN',
            company: 'EDU1',
          },
          shipstation: {
            v1Url: sandbox.url,
            v2Url: sandbox.url,
            apiKey: 'secret:shipstation.apiKey',
            apiSecret: 'secret:shipstation.apiSecret',
            webhookSecret: 'secret:shipstation.webhookSecret',
            allowedResourceHosts: [new URL(sandbox.url).host],
          },
        },
      ],
    }),
  );
  const env: NodeJS.ProcessEnv = {
    ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: sandbox.apiKey,
    ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: sandbox.apiSecret,
    ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_WEBHOOKSECRET: SECRET,
    ML_CONNECTOR_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
  };
  const { config } = loadConfig({ file, env });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'debug' }, sink);
  const service = await startService({ config, env, logger, handlers: () => [] });
  settle = () => service.settleWebhooks();
  const store = openStore(storeUrl);
  return {
    sandbox,
    service,
    store,
    dir,
    env,
    base: `${address}/webhooks/shipstation/main`,
    logs,
    async cli(...args) {
      let out = '';
      let err = '';
      const code = await runProgram(['node', 'ml-connector', '--config', file, ...args], {
        stdout: (line) => {
          out += `${line}\n`;
        },
        stderr: (line) => {
          err += `${line}\n`;
        },
        readStdin: async () => '',
        env,
      });
      return { code, out, err };
    },
    async close() {
      await service.stop(5_000);
      await store.close();
      await sandbox.close();
      await dropStore?.();
    },
  };
}

/** The running service's `settleWebhooks` (the inbox moved into jobs before they are counted). */
let settle: () => Promise<void> = async () => {};

async function jobs(store: Store, kind?: string) {
  await settle();
  let q = store.db.selectFrom('jobs').selectAll();
  if (kind) q = q.where('kind', '=', kind);
  const rows = await q.orderBy('id').execute();
  return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as Record<string, unknown> }));
}

async function audits(store: Store) {
  return store.db.selectFrom('audit').selectAll().where('flow', '=', 'webhooks').orderBy('id').execute();
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

function suite(dialect: 'sqlite' | 'postgres') {
  describe(`webhook receiver on the run server (${dialect})`, {
    skip: dialect === 'postgres' && !PG_URL,
  }, () => {
    let h: Harness;
    let target: string;

    before(async () => {
      if (dialect === 'postgres') {
        const db = await createPgDatabase(PG_URL as string);
        h = await startHarness(db.url, db.drop);
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'mlc-webhooks-db-'));
        h = await startHarness(`sqlite:${join(dir, 'ml-connector.db')}`);
      }
      target = `${h.base}?token=${SECRET}`;
    });
    after(async () => {
      await h?.close();
    });

    it('`webhooks subscribe` subscribes each needed event once, however often it runs', async () => {
      const first = await h.cli('webhooks', 'subscribe');
      assert.equal(first.code, 0, first.err);
      assert.match(first.out, /subscribed ITEM_SHIP_NOTIFY/);
      assert.match(first.out, /subscribed FULFILLMENT_SHIPPED/);
      assert.ok(!first.out.includes(SECRET), 'the secret is not printed');
      const second = await h.cli('webhooks', 'subscribe', '--connection', 'main');
      assert.equal(second.code, 0, second.err);
      assert.match(second.out, /main: nothing to change\./);
      const hooks = [...h.sandbox.state.webhooks.values()];
      assert.deepEqual(hooks.map((w) => [w.event, w.targetUrl]).sort(), [
        ['FULFILLMENT_SHIPPED', target],
        ['ITEM_SHIP_NOTIFY', target],
      ]);
    });

    it('stores one job per delivered event (a label batch, a mark-as-shipped) and fetches nothing', async () => {
      const call = v1(h.sandbox);
      const a = await call('POST', '/orders/createorder', orderBody('WH-100'));
      const b = await call('POST', '/orders/createorder', orderBody('WH-101'));
      const requestsBefore = h.sandbox.requests().length;
      const label = await fetch(`${h.sandbox.url}/_sandbox/orders/${a.body.orderId}/labels`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(label.status, 200);
      await call('POST', '/orders/markasshipped', { orderId: b.body.orderId, carrierCode: 'ups' });
      const deliveries = await h.sandbox.flushWebhooks({ all: true });
      const mine = deliveries.filter((d) => d.targetUrl === target);
      assert.equal(mine.length, 2);
      for (const d of mine) assert.equal(d.status, 'delivered', JSON.stringify(d.attempts));
      assert.deepEqual(
        mine.map((d) => d.attempts[0]?.statusCode),
        [200, 200],
      );

      const stored = await jobs(h.store, 'shipments.fetch');
      assert.deepEqual(stored.map((j) => [j.payload.event, j.state, j.connection]).sort(), [
        ['FULFILLMENT_SHIPPED', 'queued', 'main'],
        ['ITEM_SHIP_NOTIFY', 'queued', 'main'],
      ]);
      for (const j of stored) {
        const delivered = mine.find((d) => d.event === j.payload.event);
        assert.equal(j.payload.resourceUrl, JSON.parse(delivered?.body ?? '{}').resource_url);
        assert.equal(j.payload.api, 'v1');
        assert.equal(typeof j.payload.receivedAt, 'number');
        assert.match(String(j.idempotency_key), /^webhook:main:/);
      }
      const after = h.sandbox.requests().slice(requestsBefore);
      assert.deepEqual(
        after.filter((r) => r.method === 'GET'),
        [],
        'acknowledging fetched nothing from ShipStation',
      );
      assert.ok(!h.logs.join('').includes(SECRET), 'the secret never reaches the log');
    });

    it('a redelivered event coalesces into its job', async () => {
      const before = await jobs(h.store, 'shipments.fetch');
      const job = before[0];
      const body = { resource_url: job?.payload.resourceUrl, resource_type: job?.payload.event };
      const again = await post(target, body);
      assert.equal(again.status, 200);
      assert.equal(again.body?.status, 'stored');
      assert.equal(typeof again.body?.inboxId, 'number');
      const afterRedelivery = await jobs(h.store, 'shipments.fetch');
      assert.deepEqual(
        afterRedelivery.map((j) => j.id),
        before.map((j) => j.id),
        'no new job: the redelivery coalesced into the queued one',
      );
      const merged = afterRedelivery.find((j) => j.id === job?.id);
      assert.ok(Number(merged?.payload.receivedAt) >= Number(job?.payload.receivedAt), 'the newer event won');
    });

    it('ORDER_NOTIFY is stored for the channel-orders flow', async () => {
      const guid = '6c4f2d15-0f1b-4d3e-9a55-1c2d3e4f5a6b';
      const res = await post(target, {
        resource_url: `${h.sandbox.url}/orders?importBatch=${guid}`,
        resource_type: 'ORDER_NOTIFY',
      });
      assert.equal(res.status, 200);
      const stored = await jobs(h.store, 'channel-orders.fetch');
      assert.equal(stored.length, 1);
      assert.equal(stored[0]?.payload.event, 'ORDER_NOTIFY');
    });

    it('a wrong or missing token is 401, audited without the token, and stores nothing', async () => {
      const before = (await jobs(h.store)).length;
      const auditsBefore = (await audits(h.store)).length;
      const body = {
        resource_url: `${h.sandbox.url}/shipments?batchId=42&includeShipmentItems=True`,
        resource_type: 'ITEM_SHIP_NOTIFY',
      };
      const wrongToken = 'not-the-secret-but-long-enough-0000';
      assert.equal((await post(`${h.base}?token=${wrongToken}`, body)).status, 401);
      assert.equal((await post(h.base, body)).status, 401);
      assert.equal((await post(`${h.base}?token=${SECRET.slice(0, -1)}`, body)).status, 401);
      assert.equal((await jobs(h.store)).length, before);
      const rows = (await audits(h.store)).slice(auditsBefore);
      assert.equal(rows.length, 3);
      for (const row of rows) {
        assert.equal(row.action, 'refused-unauthenticated');
        assert.equal(row.outcome, 'error');
        assert.equal(row.connection, 'main');
        assert.ok(!`${row.detail}${row.error}`.includes(wrongToken));
      }
      assert.equal(
        (await post(`${h.service.address}/webhooks/shipstation/nope?token=${SECRET}`, body)).status,
        404,
      );
      assert.ok(!h.logs.join('').includes(wrongToken), 'the presented token is never logged');
    });

    it('a malformed body is 400, a body that is not JSON 415, a large one 413', async () => {
      const before = (await jobs(h.store)).length;
      assert.equal((await post(target, '{"resource_url":')).status, 400);
      assert.equal((await post(target, { resource_type: 'SHIP_NOTIFY' })).status, 400);
      assert.equal((await post(target, [1, 2])).status, 400);
      assert.equal(
        (
          await post(target, {
            resource_url: `${h.sandbox.url}/shipments?batchId=1`,
            resource_type: 'LABEL_MADE',
          })
        ).status,
        400,
      );
      assert.equal((await post(target, 'resource_url=x', { 'content-type': 'text/plain' })).status, 415);
      const big = JSON.stringify({ resource_url: 'x'.repeat(70 * 1024), resource_type: 'SHIP_NOTIFY' });
      assert.equal((await post(target, big)).status, 413);
      assert.equal((await jobs(h.store)).length, before);
    });

    it('a forged resource_url (other host, loopback, a whole-account listing) is refused, audited, never fetched', async () => {
      const before = (await jobs(h.store)).length;
      const auditsBefore = (await audits(h.store)).length;
      const requestsBefore = h.sandbox.requests().length;
      const forged = [
        ['https://evil.example.com/shipments?batchId=1&includeShipmentItems=True', 'ITEM_SHIP_NOTIFY'],
        ['http://127.0.0.1:1/shipments?batchId=1', 'SHIP_NOTIFY'],
        ['http://localhost/fulfillments?batchId=1', 'FULFILLMENT_SHIPPED'],
        [`${h.sandbox.url}/shipments?pageSize=1`, 'SHIP_NOTIFY'],
        [`${h.sandbox.url}/shipments?batchId=1&page=2`, 'SHIP_NOTIFY'],
        [`${h.sandbox.url}/orders?importBatch=6c4f2d15-0f1b-4d3e-9a55-1c2d3e4f5a6b`, 'SHIP_NOTIFY'],
        ['https://ssapi6.shipstation.com.evil.example/shipments?batchId=1', 'SHIP_NOTIFY'],
      ];
      for (const [url, event] of forged) {
        const res = await post(target, { resource_url: url, resource_type: event });
        assert.equal(res.status, 400, url);
        assert.match(String(res.body?.error), /^resource_url refused/);
      }
      assert.equal((await jobs(h.store)).length, before);
      const rows = (await audits(h.store)).slice(auditsBefore);
      assert.equal(rows.length, forged.length);
      for (const row of rows) assert.equal(row.action, 'refused-resource-url');
      assert.deepEqual(h.sandbox.requests().slice(requestsBefore), [], 'the sandbox saw no request at all');
    });

    it('FULFILLMENT_REJECTED is acknowledged and audited, not stored', async () => {
      const before = (await jobs(h.store)).length;
      const res = await post(target, {
        resource_url: `${h.sandbox.url}/fulfillments?batchId=77`,
        resource_type: 'FULFILLMENT_REJECTED',
      });
      assert.equal(res.status, 200);
      assert.equal(res.body?.status, 'ignored');
      assert.equal((await jobs(h.store)).length, before);
      const last = (await audits(h.store)).at(-1);
      assert.equal(last?.entity_key, 'FULFILLMENT_REJECTED');
      assert.equal(last?.outcome, 'skipped');
    });

    it('a signed V2 event is stored; a tampered, unsigned or foreign-key one is refused', async () => {
      // A V2 `track` subscription through the sandbox's V2 API, fired by a label.
      const v2Url = `${h.service.address}/webhooks/shipstation-v2/main`;
      const created = await fetch(`${h.sandbox.url}/v2/environment/webhooks`, {
        method: 'POST',
        headers: { 'api-key': h.sandbox.v2ApiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ event: 'track', url: v2Url }),
      });
      assert.equal(created.status, 201);
      const order = await v1(h.sandbox)('POST', '/orders/createorder', orderBody('WH-V2'));
      await fetch(`${h.sandbox.url}/_sandbox/orders/${order.body.orderId}/labels`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      const deliveries = await h.sandbox.flushWebhooks({ all: true });
      const v2 = deliveries.filter((d) => d.targetUrl === v2Url);
      assert.equal(v2.length, 1);
      assert.equal(v2[0]?.attempts[0]?.statusCode, 200, JSON.stringify(v2[0]?.attempts));
      const stored = (await jobs(h.store, 'shipments.fetch')).filter((j) => j.payload.api === 'v2');
      assert.equal(stored.length, 1);
      assert.equal(stored[0]?.payload.event, 'TRACK_EVENT_V2');
      assert.ok(stored[0]?.payload.data, 'the tracking data is kept');

      // Capture a correctly signed request, then replay it as is and tampered.
      const capture = await startReceiver();
      try {
        const payload = {
          resource_url: `${h.sandbox.url}/v2/labels/se-1/track`,
          resource_type: 'TRACK_EVENT_V2',
        };
        await fetch(`${h.sandbox.url}/_sandbox/v2/webhooks/send`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ url: `${capture.url}/x`, event: 'track', payload }),
        });
        const signed = capture.received[0];
        assert.ok(signed);
        const headers: Record<string, string> = {};
        for (const name of [
          'x-shipengine-rsa-sha256-key-id',
          'x-shipengine-rsa-sha256-signature',
          'x-shipengine-timestamp',
        ])
          headers[name] = String(signed.headers[name]);
        const before = (await jobs(h.store)).length;
        assert.equal((await post(v2Url, signed.raw, headers)).status, 200, 'the untouched one is accepted');
        assert.equal((await jobs(h.store)).length, before + 1);
        const tampered = signed.raw.replace('se-1', 'se-2');
        assert.equal((await post(v2Url, tampered, headers)).status, 401);
        assert.equal((await post(v2Url, signed.raw)).status, 404, 'unsigned');
        assert.equal(
          (await post(v2Url, signed.raw, { ...headers, 'x-shipengine-rsa-sha256-key-id': 'other-key' }))
            .status,
          401,
        );
        assert.equal((await jobs(h.store)).length, before + 1);
        const refused = (await audits(h.store)).filter((a) => a.action === 'refused-signature');
        assert.ok(refused.length >= 3);
      } finally {
        await capture.close();
      }
    });

    it('V2 label and fulfillment events are stored for fetching; one pointing elsewhere is refused', async () => {
      const v2Url = `${h.service.address}/webhooks/shipstation-v2/main`;
      const send = async (resourceType: string, resourceUrl: string) => {
        const res = await fetch(`${h.sandbox.url}/_sandbox/v2/webhooks/send`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            url: v2Url,
            event: resourceType.toLowerCase(),
            payload: { resource_url: resourceUrl, resource_type: resourceType },
          }),
        });
        return ((await res.json()) as { attempts: Array<{ statusCode?: number }> }).attempts.at(-1)
          ?.statusCode;
      };
      const before = (await jobs(h.store, 'shipments.fetch')).length;
      assert.equal(await send('LABEL_CREATED_V2', `${h.sandbox.url}/v2/labels?batch_id=se-9001`), 200);
      assert.equal(
        await send('FULFILLMENT_SHIPPED_V2', `${h.sandbox.url}/v2/fulfillments?fulfillment_id=se-9002`),
        200,
      );
      assert.equal(await send('LABEL_CREATED_V2', `${h.sandbox.url}/v2/labels?batch_id=se-9001`), 200);
      const stored = (await jobs(h.store, 'shipments.fetch')).slice(before);
      assert.deepEqual(
        stored.map((j) => [j.payload.api, j.payload.event]),
        [
          ['v2', 'LABEL_CREATED_V2'],
          ['v2', 'FULFILLMENT_SHIPPED_V2'],
        ],
        'a redelivery coalesces into the queued job',
      );
      // A label event pointing at the shipments list is not what it says it is.
      assert.equal(await send('LABEL_CREATED_V2', `${h.sandbox.url}/v2/shipments?batch_id=se-9001`), 400);
      assert.equal((await jobs(h.store, 'shipments.fetch')).length, before + 2);
      assert.equal((await audits(h.store)).at(-1)?.action, 'refused-resource-url');
    });

    it('refusals are audited at most 60 a minute per connection', async () => {
      const body = {
        resource_url: `${h.sandbox.url}/shipments?batchId=43&includeShipmentItems=True`,
        resource_type: 'ITEM_SHIP_NOTIFY',
      };
      const auditsBefore = (await audits(h.store)).length;
      const statuses = [];
      for (let i = 0; i < 80; i++) statuses.push((await post(`${h.base}?token=flood-${i}`, body)).status);
      assert.ok(statuses.every((s) => s === 401));
      const added = (await audits(h.store)).length - auditsBefore;
      assert.ok(added < 80, `${added} audit rows for 80 refusals`);
    });

    it('after a secret rotation, `webhooks subscribe` moves the subscriptions to the new URL', async () => {
      const name = 'ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_WEBHOOKSECRET';
      const rotated = 'rotated0123456789abcdef0123456789abcdef';
      h.env[name] = rotated;
      try {
        const moved = await h.cli('webhooks', 'subscribe');
        assert.equal(moved.code, 0, moved.err);
        assert.match(moved.out, /subscribed ITEM_SHIP_NOTIFY/);
        assert.match(moved.out, /removed ITEM_SHIP_NOTIFY \d+ .*\(old secret\)/);
        assert.match(moved.out, /main: 2 subscribed, 2 removed\./);
        assert.ok(!moved.out.includes(rotated) && !moved.out.includes(SECRET));
        assert.deepEqual([...h.sandbox.state.webhooks.values()].map((w) => [w.event, w.targetUrl]).sort(), [
          ['FULFILLMENT_SHIPPED', `${h.base}?token=${rotated}`],
          ['ITEM_SHIP_NOTIFY', `${h.base}?token=${rotated}`],
        ]);
      } finally {
        h.env[name] = SECRET;
      }
      const back = await h.cli('webhooks', 'subscribe');
      assert.equal(back.code, 0, back.err);
      assert.deepEqual(
        [...h.sandbox.state.webhooks.values()].map((w) => w.targetUrl),
        [target, target],
      );
    });

    it('`webhooks list` marks ours, `unsubscribe` removes only ours', async () => {
      const call = v1(h.sandbox);
      await call('POST', '/webhooks/subscribe', {
        target_url: 'https://other-app.example.com/hook?token=theirs',
        event: 'SHIP_NOTIFY',
      });
      const list = await h.cli('webhooks', 'list');
      assert.equal(list.code, 0, list.err);
      assert.match(list.out, /ITEM_SHIP_NOTIFY\s+.*token=\[redacted\]\s+\[ours\]/);
      assert.match(
        list.out,
        /SHIP_NOTIFY\s+https:\/\/other-app\.example\.com\/hook\?token=\[redacted\]\s+\[other\]/,
      );
      assert.ok(!list.out.includes(SECRET));
      const gone = await h.cli('webhooks', 'unsubscribe');
      assert.equal(gone.code, 0, gone.err);
      assert.match(gone.out, /main: 2 removed\./);
      assert.deepEqual(
        [...h.sandbox.state.webhooks.values()].map((w) => w.targetUrl),
        ['https://other-app.example.com/hook?token=theirs'],
      );
    });
  });
}

suite('sqlite');
suite('postgres');
