/**
 * The V1/V2 clients' HTTP behaviour at the edges, against small scripted HTTP servers on 127.0.0.1:
 * failure classification (what `ping` reports), timeouts, redirects never followed, and which calls
 * are repeated. The sandbox tests (v1-client.test.ts) cover the API itself.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { ShipStationError } from '../../src/shipstation/errors.js';
import { MemoryRateLimiter } from '../../src/shipstation/memory-rate-limiter.js';
import {
  createShipStationV1Client,
  type ShipStationV1ClientOptions,
} from '../../src/shipstation/v1/client.js';
import { createShipStationV2Client } from '../../src/shipstation/v2/client.js';
import { FakeClock } from '../helpers/clock.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Scripted {
  url: string;
  hits: Array<{ method: string; url: string; authorization?: string; apiKey?: string }>;
  close(): Promise<void>;
}

const servers: Server[] = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function scripted(handler: Handler): Promise<Scripted> {
  const hits: Scripted['hits'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      hits.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        apiKey: req.headers['api-key'] as string | undefined,
      });
      handler(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

function v1(baseUrl: string, extra: Partial<ShipStationV1ClientOptions> = {}) {
  const clock = new FakeClock();
  return createShipStationV1Client({
    baseUrl,
    apiKey: 'key-abc',
    apiSecret: 's3cret-xyz',
    limiter: new MemoryRateLimiter({ clock, limit: 40, windowMs: 60_000 }),
    clock,
    timeoutMs: 2_000,
    retry: { attempts: 3, baseMs: 100, maxMs: 1_000 },
    ...extra,
  });
}

async function failure(promise: Promise<unknown>): Promise<ShipStationError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ShipStationError, `expected a ShipStationError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

function assertNoSecret(error: ShipStationError) {
  const text = `${error.message} ${JSON.stringify(error)} ${error.stack ?? ''}`;
  assert.ok(!text.includes('s3cret-xyz'), 'secret leaked');
  assert.ok(!text.includes(Buffer.from('key-abc:s3cret-xyz').toString('base64')), 'auth header leaked');
}

describe('ShipStation clients over HTTP: failures an operator must tell apart', () => {
  it('401 and 403 are `auth`, not retried, and carry no credentials', async () => {
    const server = await scripted((_req, res) =>
      json(res, 401, { Message: 'Authorization has been denied for this request.' }),
    );
    const error = await failure(v1(server.url).listStores());
    assert.equal(error.kind, 'auth');
    assert.equal(error.status, 401);
    assert.equal(error.providerMessage, 'Authorization has been denied for this request.');
    assert.match(error.endpoint, /^GET http:\/\/127\.0\.0\.1:\d+\/stores$/);
    assert.equal(server.hits.length, 1);
    assert.equal(
      server.hits[0]?.authorization,
      `Basic ${Buffer.from('key-abc:s3cret-xyz').toString('base64')}`,
    );
    assertNoSecret(error);
  });

  it('connection refused is `unreachable`', async () => {
    const server = await scripted((_req, res) => json(res, 200, []));
    const url = server.url;
    await server.close();
    const error = await failure(v1(url, { retry: { attempts: 1 } }).listWarehouses());
    assert.equal(error.kind, 'unreachable');
    assert.match(error.message, /ECONNREFUSED/);
  });

  it('an unknown host name is `unreachable`', async () => {
    const error = await failure(v1('http://ssapi.invalid', { retry: { attempts: 1 } }).listWarehouses());
    assert.equal(error.kind, 'unreachable');
    assert.match(error.message, /ENOTFOUND|EAI_AGAIN/);
  });

  it('a TLS handshake failure is `tls`', async () => {
    const server = await scripted((_req, res) => json(res, 200, []));
    const error = await failure(
      v1(server.url.replace('http:', 'https:'), { retry: { attempts: 1 } }).listWarehouses(),
    );
    assert.equal(error.kind, 'tls');
  });

  it('no answer within timeoutMs is `timeout`, retried for GETs, sent once for a subscribe', async () => {
    const server = await scripted(() => {
      /* never answers */
    });
    const client = v1(server.url, { timeoutMs: 150, retry: { attempts: 2, baseMs: 1, maxMs: 1 } });
    const started = Date.now();
    const error = await failure(client.listWarehouses());
    assert.equal(error.kind, 'timeout');
    assert.equal(error.attempts, 2);
    assert.equal(server.hits.length, 2);
    assert.ok(Date.now() - started < 5_000);
    const subscribe = await failure(
      client.subscribeWebhook({ target_url: 'https://example.test/hook', event: 'SHIP_NOTIFY' }),
    );
    assert.equal(subscribe.kind, 'timeout');
    assert.equal(server.hits.length, 3, 'a subscribe is not repeated');
  });

  it('never follows a redirect (our credentials stay with ShipStation)', async () => {
    const elsewhere = await scripted((_req, res) => json(res, 200, []));
    const server = await scripted((_req, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/stores` });
      res.end();
    });
    const error = await failure(v1(server.url).listStores());
    assert.equal(error.kind, 'http');
    assert.equal(error.status, 302);
    assert.equal(elsewhere.hits.length, 0);
  });

  it('an HTML page instead of JSON is reported with its text', async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1><p>cloudflare</p></body></html>');
    });
    const error = await failure(v1(server.url, { retry: { attempts: 1 } }).listStores());
    assert.equal(error.kind, 'server');
    assert.equal(error.providerMessage, '502 Bad Gateway cloudflare');
    const ok = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>maintenance</html>');
    });
    const invalid = await failure(v1(ok.url).listStores());
    assert.equal(invalid.kind, 'invalid_response');
  });

  it('a 400 carries ModelState; a keyless createorder is not repeated after a 500', async () => {
    let calls = 0;
    const server = await scripted((req, res) => {
      calls += 1;
      if (req.url === '/orders/createorder' && calls === 1) {
        return json(res, 400, {
          Message: 'The request is invalid.',
          ModelState: { 'apiOrder.orderDate': ['The orderDate field is required.'] },
        });
      }
      json(res, 500, {
        Message: 'An error has occurred.',
        ExceptionMessage: 'Object reference not set to an instance of an object.',
      });
    });
    const client = v1(server.url);
    const order = {
      orderNumber: 'SO1',
      orderDate: '2026-01-15 04:00:00',
      orderStatus: 'awaiting_shipment' as const,
      billTo: { name: 'A' },
      shipTo: { name: 'A' },
    };
    const invalid = await failure(client.createOrUpdateOrder(order));
    assert.equal(invalid.kind, 'bad_request');
    assert.deepEqual(invalid.modelState, { 'apiOrder.orderDate': ['The orderDate field is required.'] });
    assert.match(invalid.message, /apiOrder\.orderDate: The orderDate field is required\./);
    const serverError = await failure(client.createOrUpdateOrder(order));
    assert.equal(serverError.kind, 'server');
    assert.equal(server.hits.length, 2, 'no orderKey: sent once');
    const keyed = await failure(client.createOrUpdateOrder({ ...order, orderKey: 'ACME:SO1' }));
    assert.equal(keyed.kind, 'server');
    assert.equal(keyed.attempts, 3);
    assert.equal(server.hits.length, 5, 'keyed upsert: retried');
  });

  it("writes ModelState's \\r\\n texts on one line in the message, and keeps them raw in modelState", async () => {
    const raw =
      "Error converting value \"soon\" to type 'System.DateTime'. Path 'orderDate', line 1, position 42.\r\n";
    const server = await scripted((_req, res) =>
      json(res, 400, {
        Message: 'The request is invalid.\r\n',
        ModelState: { 'apiOrder.orderDate': [raw, 'Second\r\nline.'] },
      }),
    );
    const invalid = await failure(
      v1(server.url).createOrUpdateOrder({
        orderNumber: 'SO1',
        orderDate: 'soon',
        orderStatus: 'awaiting_shipment',
        billTo: {},
        shipTo: {},
      }),
    );
    assert.equal(invalid.kind, 'bad_request');
    assert.doesNotMatch(invalid.message, /[\r\n]/);
    assert.match(
      invalid.message,
      /The request is invalid\. \[apiOrder\.orderDate: Error converting value "soon" to type 'System\.DateTime'\. Path 'orderDate', line 1, position 42\.; Second line\.\]$/,
    );
    assert.deepEqual(invalid.modelState, { 'apiOrder.orderDate': [raw, 'Second\r\nline.'] });
  });

  it('a 429 that keeps coming is `rate_limited` after rateLimitAttempts waits (0 for ping: at once)', async () => {
    const server = await scripted((_req, res) =>
      json(
        res,
        429,
        { message: 'Too Many Requests' },
        { 'x-rate-limit-limit': '40', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '12' },
      ),
    );
    const error = await failure(
      v1(server.url, { retry: { attempts: 3, baseMs: 1, maxMs: 1, rateLimitAttempts: 2 } }).listStores(),
    );
    assert.equal(error.kind, 'rate_limited');
    assert.equal(error.providerMessage, 'Too Many Requests');
    assert.equal(error.retryAfterMs, 12_000);
    assert.equal(server.hits.length, 3);
    const once = await failure(
      v1(server.url, { retry: { attempts: 3, baseMs: 1, maxMs: 1, rateLimitAttempts: 0 } }).listStores(),
    );
    assert.equal(once.kind, 'rate_limited');
    assert.equal(server.hits.length, 4);
  });

  it('refuses more than 100 orders in one createorders call before sending', async () => {
    const server = await scripted((_req, res) => json(res, 200, { hasErrors: false, results: [] }));
    const order = {
      orderNumber: 'SO',
      orderDate: '2026-01-15 04:00:00',
      orderStatus: 'awaiting_shipment' as const,
      billTo: {},
      shipTo: {},
    };
    await assert.rejects(
      v1(server.url).createOrUpdateOrders(
        Array.from({ length: 101 }, (_, i) => ({ ...order, orderKey: `K${i}` })),
      ),
      RangeError,
    );
    assert.equal(server.hits.length, 0);
  });

  it('createorders: matches results out of request order by key, id, unique number, then position', async () => {
    const base = {
      orderDate: '2026-01-15 04:00:00',
      orderStatus: 'awaiting_shipment' as const,
      billTo: {},
      shipTo: {},
    };
    const orders = [
      { ...base, orderNumber: 'A1', orderKey: 'K-A1' },
      { ...base, orderNumber: 'B2', orderId: 502 },
      { ...base, orderNumber: 'C3' },
      { ...base, orderNumber: 'DUP' },
      { ...base, orderNumber: 'DUP' },
    ];
    const result = (orderId: number, orderNumber: string, orderKey: string, success = true) => ({
      orderId,
      orderNumber,
      orderKey,
      success,
      errorMessage: success ? null : 'refused',
    });
    // Reversed except the two DUPs, which only their position can tell apart.
    const server = await scripted((_req, res) =>
      json(res, 200, {
        hasErrors: true,
        results: [
          result(503, 'C3', 'gen-c3'),
          result(502, 'B2', 'gen-b2', false),
          result(501, 'A1', 'K-A1'),
          result(504, 'DUP', 'gen-d4'),
          result(505, 'DUP', 'gen-d5'),
        ],
      }),
    );
    const outcome = await v1(server.url).createOrUpdateOrders(orders);
    assert.equal(outcome.hasErrors, true);
    assert.deepEqual(
      outcome.results.map((r) => [r.orderNumber, r.orderId, r.orderKey, r.success]),
      [
        ['A1', 501, 'K-A1', true],
        ['B2', 502, 'gen-b2', false],
        ['C3', 503, 'gen-c3', true],
        ['DUP', 504, 'gen-d4', true],
        ['DUP', 505, 'gen-d5', true],
      ],
    );
    assert.equal(outcome.results[1]?.errorMessage, 'refused');
  });

  it("createorders: keeps ShipStation's hasErrors false when a result is missing", async () => {
    const base = {
      orderDate: '2026-01-15 04:00:00',
      orderStatus: 'awaiting_shipment' as const,
      billTo: {},
      shipTo: {},
    };
    const server = await scripted((_req, res) =>
      json(res, 200, {
        hasErrors: false,
        results: [{ orderId: 601, orderNumber: 'E1', orderKey: 'K-E1', success: true, errorMessage: null }],
      }),
    );
    const outcome = await v1(server.url).createOrUpdateOrders([
      { ...base, orderNumber: 'E1', orderKey: 'K-E1' },
      { ...base, orderNumber: 'E2', orderKey: 'K-E2' },
    ]);
    assert.equal(outcome.hasErrors, false);
    assert.deepEqual(
      outcome.results.map((r) => [r.orderKey, r.orderId, r.success, r.errorMessage]),
      [
        ['K-E1', 601, true, null],
        ['K-E2', null, true, null],
      ],
    );
  });

  it('createorders: an order without a result fails when ShipStation reports errors', async () => {
    const base = {
      orderDate: '2026-01-15 04:00:00',
      orderStatus: 'awaiting_shipment' as const,
      billTo: {},
      shipTo: {},
    };
    const server = await scripted((_req, res) =>
      json(res, 200, {
        hasErrors: true,
        // A result naming another order's key is not taken by position.
        results: [{ orderId: 0, orderNumber: 'F2', orderKey: 'K-F2', success: false, errorMessage: 'x' }],
      }),
    );
    const outcome = await v1(server.url).createOrUpdateOrders([
      { ...base, orderNumber: 'F1', orderKey: 'K-F1' },
      { ...base, orderNumber: 'F2', orderKey: 'K-F2' },
    ]);
    assert.equal(outcome.hasErrors, true);
    assert.deepEqual(
      outcome.results.map((r) => [r.orderKey, r.success, r.errorMessage]),
      [
        ['K-F1', false, 'ShipStation returned no result for this order'],
        ['K-F2', false, 'x'],
      ],
    );
  });

  it('V2: sends API-Key, waits Retry-After on 429, and reads the errors[] body', async () => {
    let calls = 0;
    const server = await scripted((_req, res) => {
      calls += 1;
      if (calls === 1) {
        return json(
          res,
          429,
          {
            request_id: 'r-1',
            errors: [
              {
                error_source: 'shipstation',
                error_type: 'system',
                error_code: 'rate_limit_exceeded',
                message: 'Too many',
              },
            ],
          },
          { 'retry-after': '7' },
        );
      }
      if (calls === 2)
        return json(res, 200, {
          inventory_warehouses: [{ inventory_warehouse_id: 'se-1', name: 'Main' }],
          total: 1,
          page: 1,
          pages: 1,
        });
      json(res, 400, {
        request_id: 'r-3',
        errors: [
          {
            error_source: 'shipstation',
            error_type: 'validation',
            error_code: 'invalid_field_value',
            message: 'sku is required',
          },
        ],
      });
    });
    const clock = new FakeClock();
    const client = createShipStationV2Client({
      baseUrl: server.url,
      apiKey: 'v2-key-123',
      limiter: new MemoryRateLimiter({ clock, limit: 200, windowMs: 60_000 }),
      clock,
      timeoutMs: 2_000,
    });
    const start = clock.now();
    const warehouses = await client.listInventoryWarehouses();
    assert.deepEqual(
      warehouses.map((w) => w.name),
      ['Main'],
    );
    assert.ok(clock.now() - start >= 7_000, 'waited Retry-After on the fake clock');
    assert.equal(server.hits[0]?.apiKey, 'v2-key-123');
    assert.equal(server.hits[0]?.url, '/v2/inventory_warehouses?page=1&page_size=100');
    const error = await failure(
      client.modifyInventory({
        transaction_type: 'increment',
        sku: '',
        quantity: 1,
        inventory_location_id: 'se-1',
      }),
    );
    assert.equal(error.kind, 'bad_request');
    assert.equal(error.requestId, 'r-3');
    assert.equal(error.providerErrors?.[0]?.error_code, 'invalid_field_value');
    assert.ok(!JSON.stringify(error).includes('v2-key-123'));
  });
});
