/**
 * Bad-input corpus, webhook surface: hostile requests to the webhook receiver of the `run` server
 * (`startService`, real HTTP on 127.0.0.1), one table row per case with its expected outcome: the
 * HTTP status, the error text, the audit row it leaves (action) and how many jobs it stores. The
 * signed V2 cases are signed by the ShipStation sandbox (its own key, its own clock). After every
 * row the server still answers (no crash), and nothing refused ever reaches the sandbox (no
 * forged resource_url is fetched on receipt). SQLite, and PostgreSQL when `TEST_DATABASE_URL` is set.
 *
 * The service and the sandbox share a fake clock, moved on a minute before each row, so each
 * row's refusal gets its own audit row (refusals are audited at most 60 a minute).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { type Service, startService } from '../../src/cli/commands/run.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { openStore, type Store } from '../../src/store/open.js';
import { FakeClock } from '../helpers/clock.js';
import { createPgDatabase, PG_URL } from '../helpers/dialects.js';

const SECRET = 'whsec-corpus-0123456789abcdef0123456789';
const GUID = '6c4f2d15-0f1b-4d3e-9a55-1c2d3e4f5a6b';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Sent {
  status: number;
  body: Record<string, unknown> | undefined;
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Sent> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed };
}

/** Sends raw bytes over a socket (for bodies fetch cannot send: lying lengths, cut connections). */
function rawRequest(port: number, bytes: string, endAfterMs = 50): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString();
    });
    socket.on('error', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.write(bytes);
    setTimeout(() => socket.end(), endAfterMs);
  });
}

/** Receives what the sandbox signs and sends, as raw text (some bodies here are not JSON). */
async function startCapture() {
  const received: { headers: IncomingHttpHeaders; raw: string }[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Case {
  name: string;
  /** Sends the request; `ctx` gives the addresses. */
  send(ctx: Ctx): Promise<Sent>;
  status: number;
  /** The error text of the answer. */
  error?: RegExp;
  /** The audit action of the one row this case adds (`null`: none). */
  audit: string | null;
  /** Jobs stored (default 0). */
  stored?: number;
}

interface Ctx {
  v1: string;
  v2: string;
  sandboxUrl: string;
  sandboxHost: string;
  port: number;
  signed(
    payload: unknown,
    options?: { at?: number },
  ): Promise<{ raw: string; headers: Record<string, string> }>;
}

const json = (value: unknown) => JSON.stringify(value);
const v1Body = (resourceUrl: string, type = 'ITEM_SHIP_NOTIFY') =>
  json({ resource_url: resourceUrl, resource_type: type });

/** A forged resource_url for a V1 event: 400, audited as refused-resource-url, nothing stored. */
function forged(name: string, url: (ctx: Ctx) => string, type = 'ITEM_SHIP_NOTIFY'): Case {
  return {
    name: `forged resource_url: ${name}`,
    send: (ctx) => post(ctx.v1, v1Body(url(ctx), type)),
    status: 400,
    error: /^resource_url refused: /,
    audit: 'refused-resource-url',
  };
}

const CASES: Case[] = [
  // ---- malformed, truncated, oversized bodies ----
  {
    name: 'truncated JSON',
    send: (ctx) => post(ctx.v1, '{"resource_url":"http://x/shipments?batchId=1","resource_ty'),
    status: 400,
    error: /not JSON/,
    audit: 'refused-malformed',
  },
  {
    name: 'empty body with a JSON content type',
    send: (ctx) => post(ctx.v1, ''),
    status: 400,
    error: /not JSON/,
    audit: 'refused-malformed',
  },
  {
    name: 'a JSON array',
    send: (ctx) => post(ctx.v1, '[{"resource_url":"x"}]'),
    status: 400,
    error: /not a JSON object/,
    audit: 'refused-malformed',
  },
  {
    name: 'JSON null',
    send: (ctx) => post(ctx.v1, 'null'),
    status: 400,
    error: /not a JSON object/,
    audit: 'refused-malformed',
  },
  {
    name: 'missing resource_url',
    send: (ctx) => post(ctx.v1, json({ resource_type: 'SHIP_NOTIFY' })),
    status: 400,
    error: /resource_url is missing/,
    audit: 'refused-malformed',
  },
  {
    name: 'missing resource_type',
    send: (ctx) => post(ctx.v1, json({ resource_url: `${ctx.sandboxUrl}/shipments?batchId=1` })),
    status: 400,
    error: /resource_type is missing/,
    audit: 'refused-malformed',
  },
  {
    name: 'resource_url of the wrong type (a number)',
    send: (ctx) => post(ctx.v1, json({ resource_url: 42, resource_type: 'SHIP_NOTIFY' })),
    status: 400,
    error: /resource_url is missing/,
    audit: 'refused-malformed',
  },
  {
    name: 'unknown resource_type',
    send: (ctx) => post(ctx.v1, v1Body(`${ctx.sandboxUrl}/shipments?batchId=1`, 'LABEL_MADE')),
    status: 400,
    error: /is not a V1 event/,
    audit: 'refused-malformed',
  },
  {
    name: 'resource_url over 2,000 characters',
    send: (ctx) => post(ctx.v1, v1Body(`${ctx.sandboxUrl}/shipments?batchId=1&${'a'.repeat(2100)}`)),
    status: 400,
    error: /too long/,
    audit: 'refused-malformed',
  },
  {
    name: 'oversized body (70 KiB)',
    send: (ctx) => post(ctx.v1, v1Body(`${ctx.sandboxUrl}/shipments?batchId=${'1'.repeat(70 * 1024)}`)),
    status: 413,
    error: /larger than 65536 bytes/,
    audit: 'refused-too-large',
  },
  {
    name: 'oversized chunked body (no Content-Length)',
    async send(ctx) {
      const chunk = 'x'.repeat(16 * 1024);
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 6; i++) controller.enqueue(new TextEncoder().encode(chunk));
          controller.close();
        },
      });
      const res = await fetch(ctx.v1, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    status: 413,
    audit: 'refused-too-large',
  },
  {
    name: 'a body cut short (Content-Length larger than what comes, then the connection closes)',
    async send(ctx) {
      const body = v1Body(`${ctx.sandboxUrl}/shipments?batchId=77`);
      const path = new URL(ctx.v1).pathname + new URL(ctx.v1).search;
      const answer = await rawRequest(
        ctx.port,
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 100}\r\n\r\n${body}`,
      );
      const status = answer === '' ? 0 : Number(answer.split(' ')[1]);
      const text = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      return {
        status,
        body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : undefined,
      };
    },
    // Fastify sees the body end short of its length and answers before the socket closes.
    status: 400,
    audit: 'refused-malformed',
  },
  {
    name: 'invalid UTF-8 bytes inside the JSON strings',
    send: (ctx) =>
      post(
        ctx.v1,
        Buffer.concat([
          Buffer.from(`{"resource_url":"${ctx.sandboxUrl}/shipments?batchId=1`),
          Buffer.from([0xff, 0xfe, 0xc3]),
          Buffer.from('","resource_type":"SHIP_NOTIFY"}'),
        ]),
      ),
    status: 400,
    error: /resource_url refused/,
    audit: 'refused-resource-url',
  },
  {
    name: 'Windows-1252 text declared as such (é as 0xE9) in resource_type',
    send: (ctx) =>
      post(
        ctx.v1,
        Buffer.concat([
          Buffer.from(`{"resource_url":"${ctx.sandboxUrl}/shipments?batchId=1","resource_type":"SHIP_NOTIFY`),
          Buffer.from([0xe9]),
          Buffer.from('"}'),
        ]),
        { 'content-type': 'application/json; charset=windows-1252' },
      ),
    status: 400,
    error: /is not a V1 event/,
    audit: 'refused-malformed',
  },
  {
    name: 'a UTF-8 byte-order mark before the JSON',
    send: (ctx) => post(ctx.v1, `\ufeff${v1Body(`${ctx.sandboxUrl}/shipments?batchId=5`)}`),
    status: 400,
    audit: 'refused-malformed',
  },
  {
    name: 'deeply nested JSON (10,000 levels)',
    send: (ctx) => post(ctx.v1, `${'['.repeat(10_000)}${']'.repeat(10_000)}`),
    status: 400,
    error: /not a JSON object/,
    audit: 'refused-malformed',
  },
  // ---- wrong content types ----
  {
    name: 'text/plain',
    send: (ctx) =>
      post(ctx.v1, v1Body(`${ctx.sandboxUrl}/shipments?batchId=1`), { 'content-type': 'text/plain' }),
    status: 415,
    error: /must be JSON/,
    audit: 'refused-content-type',
  },
  {
    name: 'form-encoded',
    send: (ctx) =>
      post(ctx.v1, 'resource_url=x&resource_type=SHIP_NOTIFY', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
    status: 415,
    audit: 'refused-content-type',
  },
  {
    name: 'XML',
    send: (ctx) => post(ctx.v1, '<webhook/>', { 'content-type': 'application/xml' }),
    status: 415,
    audit: 'refused-content-type',
  },
  {
    name: 'no content type at all',
    async send(ctx) {
      const res = await fetch(ctx.v1, { method: 'POST', body: new Uint8Array(Buffer.from('{}')) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    status: 415,
    audit: 'refused-content-type',
  },
  // ---- authentication ----
  {
    name: 'no token',
    send: (ctx) => post(ctx.v1.replace(/\?token=.*/, ''), v1Body(`${ctx.sandboxUrl}/shipments?batchId=1`)),
    status: 401,
    error: /no token/,
    audit: 'refused-unauthenticated',
  },
  {
    name: 'the token twice (?token=a&token=b)',
    send: (ctx) => post(`${ctx.v1}&token=${SECRET}`, v1Body(`${ctx.sandboxUrl}/shipments?batchId=1`)),
    status: 401,
    audit: 'refused-unauthenticated',
  },
  {
    name: 'unknown connection',
    send: (ctx) => post(ctx.v1.replace('/main?', '/nope?'), v1Body(`${ctx.sandboxUrl}/shipments?batchId=1`)),
    status: 404,
    audit: null,
  },
  // ---- forged resource_url ----
  forged('another host', () => 'https://evil.example.com/shipments?batchId=1'),
  forged('loopback, another port', () => 'http://127.0.0.1:1/shipments?batchId=1'),
  forged('localhost', () => 'http://localhost/shipments?batchId=1'),
  forged('IPv6 loopback', () => 'http://[::1]/shipments?batchId=1'),
  forged('loopback written as a decimal number', () => 'http://2130706433/shipments?batchId=1'),
  forged('link-local metadata address', () => 'http://169.254.169.254/latest/meta-data/'),
  forged('link-local metadata address, webhook path', () => 'http://169.254.169.254/shipments?batchId=1'),
  forged('IPv6 link-local', () => 'http://[fe80::1]/shipments?batchId=1'),
  forged(
    'userinfo making ShipStation the user name',
    () => 'https://ssapi.shipstation.com@evil.example/shipments?batchId=1',
  ),
  forged(
    'userinfo on the ShipStation host',
    () => 'https://user:pw@ssapi.shipstation.com/shipments?batchId=1',
  ),
  forged('userinfo on the allowed host', (c) => `http://x@${c.sandboxHost}/shipments?batchId=1`),
  forged(
    'look-alike: ShipStation host as a subdomain',
    () => 'https://ssapi.shipstation.com.evil.example/shipments?batchId=1',
  ),
  forged('look-alike: hyphen for the dot', () => 'https://ssapi-shipstation.com/shipments?batchId=1'),
  forged('look-alike: Cyrillic о (punycode)', () => 'https://ssapi.shipstatiоn.com/shipments?batchId=1'),
  forged('look-alike: trailing dot', () => 'https://ssapi.shipstation.com./shipments?batchId=1'),
  forged('ShipStation host over plain http', () => 'http://ssapi.shipstation.com/shipments?batchId=1'),
  forged('ShipStation host on another port', () => 'https://ssapi.shipstation.com:8443/shipments?batchId=1'),
  forged('not http(s)', () => 'file:///etc/passwd'),
  forged('allowed host, a whole-account listing', (c) => `${c.sandboxUrl}/shipments?pageSize=500`),
  forged(
    'allowed host, a date filter added',
    (c) => `${c.sandboxUrl}/shipments?batchId=1&shipDateStart=2020-01-01`,
  ),
  forged('allowed host, batchId twice', (c) => `${c.sandboxUrl}/shipments?batchId=1&BatchID=2`),
  forged('allowed host, batchId not digits', (c) => `${c.sandboxUrl}/shipments?batchId=1%20or%201`),
  forged('allowed host, another path', (c) => `${c.sandboxUrl}/accounts/listtags?batchId=1`),
  forged('allowed host, dot segments', (c) => `${c.sandboxUrl}/orders/../shipments?batchId=1`),
  forged('allowed host, encoded dot segments', (c) => `${c.sandboxUrl}/%2e%2e/shipments?batchId=1`),
  forged('allowed host, backslash', (c) => `${c.sandboxUrl}\\shipments?batchId=1`),
  forged('allowed host, a fragment', (c) => `${c.sandboxUrl}/shipments?batchId=1#x`),
  forged(
    'allowed host, the path of another event',
    (c) => `${c.sandboxUrl}/orders?importBatch=${GUID}`,
    'SHIP_NOTIFY',
  ),
  forged('not a URL', () => 'shipments?batchId=1'),
  forged('CR LF in the URL (header injection)', (c) => `${c.sandboxUrl}/shipments?batchId=1\r\nX-Evil: 1`),
  // ---- accepted, for contrast (and a redelivery that coalesces) ----
  {
    name: 'a good ITEM_SHIP_NOTIFY is stored',
    send: (ctx) => post(ctx.v1, v1Body(`${ctx.sandboxUrl}/shipments?batchId=901&includeShipmentItems=True`)),
    status: 200,
    audit: null,
    stored: 1,
  },
  {
    name: 'the same event delivered again coalesces into its job',
    send: (ctx) => post(ctx.v1, v1Body(`${ctx.sandboxUrl}/shipments?batchId=901&includeShipmentItems=True`)),
    status: 200,
    audit: null,
    stored: 0,
  },
  // ---- V2 signatures ----
  {
    name: 'V2: a signed event is stored',
    async send(ctx) {
      const s = await ctx.signed({
        resource_url: `${ctx.sandboxUrl}/v2/labels/se-71/track`,
        resource_type: 'TRACK_EVENT_V2',
      });
      return post(ctx.v2, s.raw, s.headers);
    },
    status: 200,
    audit: null,
    stored: 1,
  },
  {
    name: 'V2: the same signed request replayed within the window coalesces (nothing new stored)',
    async send(ctx) {
      const s = await ctx.signed({
        resource_url: `${ctx.sandboxUrl}/v2/labels/se-72/track`,
        resource_type: 'TRACK_EVENT_V2',
      });
      const first = await post(ctx.v2, s.raw, s.headers);
      assert.equal(first.status, 200);
      const replay = await post(ctx.v2, s.raw, s.headers);
      assert.equal(replay.body?.status, 'stored', 'stored again: the inbox move coalesces it into one job');
      return replay;
    },
    status: 200,
    audit: null,
    stored: 1,
  },
  {
    name: 'V2: a stale signature (signed 10 minutes ago)',
    async send(ctx) {
      const s = await ctx.signed(
        { resource_url: `${ctx.sandboxUrl}/v2/labels/se-73/track`, resource_type: 'TRACK_EVENT_V2' },
        { at: -10 * 60_000 },
      );
      return post(ctx.v2, s.raw, s.headers);
    },
    status: 400,
    error: /s old/,
    audit: 'refused-signature',
  },
  {
    name: 'V2: a signature from the future (10 minutes ahead)',
    async send(ctx) {
      const s = await ctx.signed(
        { resource_url: `${ctx.sandboxUrl}/v2/labels/se-74/track`, resource_type: 'TRACK_EVENT_V2' },
        { at: 10 * 60_000 },
      );
      return post(ctx.v2, s.raw, s.headers);
    },
    status: 400,
    error: /in the future/,
    audit: 'refused-signature',
  },
  {
    name: 'V2: a replay with a fresh timestamp over the old signature',
    async send(ctx) {
      const s = await ctx.signed({
        resource_url: `${ctx.sandboxUrl}/v2/labels/se-75/track`,
        resource_type: 'TRACK_EVENT_V2',
      });
      const t = Number.isNaN(Number(s.headers['x-shipengine-timestamp']))
        ? new Date(Date.parse(s.headers['x-shipengine-timestamp']!) + 1000).toISOString()
        : String(Number(s.headers['x-shipengine-timestamp']) + 1);
      return post(ctx.v2, s.raw, { ...s.headers, 'x-shipengine-timestamp': t });
    },
    status: 401,
    error: /does not match/,
    audit: 'refused-signature',
  },
  {
    name: 'V2: a body changed under a good signature',
    async send(ctx) {
      const s = await ctx.signed({
        resource_url: `${ctx.sandboxUrl}/v2/labels/se-76/track`,
        resource_type: 'TRACK_EVENT_V2',
      });
      return post(ctx.v2, s.raw.replace('se-76', 'se-77'), s.headers);
    },
    status: 401,
    audit: 'refused-signature',
  },
  {
    name: 'V2: an unknown key id',
    async send(ctx) {
      const s = await ctx.signed({
        resource_url: `${ctx.sandboxUrl}/v2/labels/se-78/track`,
        resource_type: 'TRACK_EVENT_V2',
      });
      return post(ctx.v2, s.raw, { ...s.headers, 'x-shipengine-rsa-sha256-key-id': 'forged-key' });
    },
    status: 401,
    error: /no signing key/,
    audit: 'refused-signature',
  },
  {
    name: 'V2: an unreadable timestamp',
    async send(ctx) {
      const s = await ctx.signed({
        resource_url: `${ctx.sandboxUrl}/v2/labels/se-79/track`,
        resource_type: 'TRACK_EVENT_V2',
      });
      return post(ctx.v2, s.raw, { ...s.headers, 'x-shipengine-timestamp': 'yesterday' });
    },
    status: 400,
    error: /unreadable/,
    audit: 'refused-signature',
  },
  {
    name: 'V2: unsigned',
    send: (ctx) =>
      post(
        ctx.v2,
        json({ resource_url: `${ctx.sandboxUrl}/v2/labels/se-80/track`, resource_type: 'TRACK_EVENT_V2' }),
      ),
    status: 404,
    audit: 'refused-signature',
  },
  {
    name: 'V2: signed, but the resource_url is on another host',
    async send(ctx) {
      const s = await ctx.signed({
        resource_url: 'https://evil.example/v2/labels/se-81/track',
        resource_type: 'TRACK_EVENT_V2',
      });
      return post(ctx.v2, s.raw, s.headers);
    },
    status: 400,
    error: /resource_url refused/,
    audit: 'refused-resource-url',
  },
  {
    name: 'V2: signed, the resource_url outside /v2/',
    async send(ctx) {
      const s = await ctx.signed({
        resource_url: `${ctx.sandboxUrl}/shipments?batchId=1`,
        resource_type: 'TRACK_EVENT_V2',
      });
      return post(ctx.v2, s.raw, s.headers);
    },
    status: 400,
    error: /not a V2 resource/,
    audit: 'refused-resource-url',
  },
  {
    name: 'V2: signed, the body a JSON string, not an object',
    async send(ctx) {
      const s = await ctx.signed('not json at all');
      return post(ctx.v2, s.raw, s.headers);
    },
    status: 400,
    error: /resource_url or resource_type is missing/,
    audit: 'refused-malformed',
  },
];

function suite(dialect: 'sqlite' | 'postgres') {
  describe(`bad-input corpus: webhooks (${dialect}, ${CASES.length} cases)`, {
    skip: dialect === 'postgres' && !PG_URL,
  }, () => {
    let sandbox: ShipStationSandbox;
    let service: Service;
    let store: Store;
    let ctx: Ctx;
    let drop: (() => Promise<void>) | undefined;
    let capture: Awaited<ReturnType<typeof startCapture>>;
    const clock = new FakeClock(Date.parse('2026-11-01T08:00:00Z'), { autoAdvance: false });

    before(async () => {
      let storeUrl: string;
      if (dialect === 'postgres') {
        const db = await createPgDatabase(PG_URL as string);
        storeUrl = db.url;
        drop = db.drop;
      } else {
        storeUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), 'mlc-corpus-')), 'c.db')}`;
      }
      sandbox = await startShipStationSandbox({ clock, backgroundTimers: false, webhookDelayMs: 0 });
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'mlc-corpus-'));
      const file = join(dir, 'ml-connector.yaml');
      writeFileSync(
        file,
        stringify({
          store: { url: storeUrl },
          http: { host: '127.0.0.1', port },
          log: { level: 'warn' },
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
      const logger = createLogger({ level: 'silent' });
      service = await startService({ config, env, logger, clock, handlers: () => [] });
      store = openStore(storeUrl);
      capture = await startCapture();
      let captured = 0;
      ctx = {
        v1: `${service.address}/webhooks/shipstation/main?token=${SECRET}`,
        v2: `${service.address}/webhooks/shipstation-v2/main`,
        sandboxUrl: sandbox.url,
        sandboxHost: new URL(sandbox.url).host,
        port,
        async signed(payload, options = {}) {
          // The sandbox signs with its clock: move it for a stale or future timestamp, then back.
          const now = clock.now();
          if (options.at) clock.set(now + options.at);
          try {
            const res = await fetch(`${sandbox.url}/_sandbox/v2/webhooks/send`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ url: `${capture.url}/x`, event: 'track', payload }),
            });
            await res.text();
          } finally {
            if (options.at) clock.set(now);
          }
          const got = capture.received[captured++];
          assert.ok(got, 'the sandbox signed and sent the request');
          const headers: Record<string, string> = {};
          for (const name of [
            'x-shipengine-rsa-sha256-key-id',
            'x-shipengine-rsa-sha256-signature',
            'x-shipengine-timestamp',
          ])
            headers[name] = String(got.headers[name]);
          return { raw: got.raw, headers };
        },
      };
    });
    after(async () => {
      await capture?.close();
      await service?.stop(5_000);
      await store?.close();
      await sandbox?.close();
      await drop?.();
    });

    // Counted once the receiver's inbox has been moved into jobs.
    const counts = async () => ({
      jobs: await service
        .settleWebhooks()
        .then(async () => (await store.db.selectFrom('jobs').select('id').execute()).length),
      audit: await store.db
        .selectFrom('audit')
        .selectAll()
        .where('flow', '=', 'webhooks')
        .orderBy('id')
        .execute(),
    });

    for (const c of CASES) {
      it(`${c.name} → ${c.status}${c.audit ? ` + audit ${c.audit}` : ''}`, async () => {
        clock.advance(61_000);
        const before = await counts();
        const requestsBefore = sandbox.requests().length;
        const res = await c.send(ctx);
        assert.equal(res.status, c.status, JSON.stringify(res.body));
        if (c.error) assert.match(String(res.body?.error), c.error);
        if (c.status >= 400 && c.status !== 0)
          assert.equal(typeof res.body?.error, 'string', 'a clear error');
        const after = await counts();
        assert.equal(after.jobs - before.jobs, c.stored ?? 0, 'jobs stored');
        const added = after.audit
          .slice(before.audit.length)
          .filter((a) => a.action !== 'refusals-not-recorded');
        if (c.audit === null) {
          assert.deepEqual(
            added.filter((a) => a.outcome === 'error').map((a) => a.action),
            [],
          );
        } else {
          assert.deepEqual(
            added.map((a) => [a.action, a.outcome, a.connection]),
            [[c.audit, 'error', 'main']],
          );
          assert.ok(added[0]?.error, 'the audit row says why');
          assert.ok(!`${added[0]?.detail}${added[0]?.error}`.includes(SECRET), 'no secret in the audit row');
        }
        // Nothing is fetched on receipt (the sandbox logs every API request it serves).
        assert.deepEqual(sandbox.requests().slice(requestsBefore), []);
        // The server is still up.
        assert.equal((await fetch(`${service.address}/healthz`)).status, 200);
      });
    }
  });
}

suite('sqlite');
suite('postgres');
