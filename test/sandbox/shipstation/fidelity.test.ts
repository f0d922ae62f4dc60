/**
 * Contract tests for behaviours a review found unfaithful: body media types (415), wrong methods
 * (405), framework-level errors, refused createorders results, seeded data, V2 link hrefs and the
 * case of the `orderNumber` filter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ShipStationSandbox } from '../../../src/sandbox/shipstation/index.js';
import {
  basicAuth,
  type CallResult,
  control,
  orderBody,
  rawRequest,
  startTestSandbox,
  v1,
  v2,
} from './helpers.js';

function assertRateHeaders(result: CallResult): void {
  for (const name of ['x-rate-limit-limit', 'x-rate-limit-remaining', 'x-rate-limit-reset']) {
    assert.match(result.headers.get(name) ?? '', /^\d+$/, `${name} on a ${result.status}`);
  }
}

function assertV2ErrorShape(result: CallResult): void {
  assert.equal(typeof result.body.request_id, 'string');
  assert.ok(Array.isArray(result.body.errors) && result.body.errors.length > 0);
  for (const e of result.body.errors) {
    assert.equal(typeof e.error_source, 'string');
    assert.equal(typeof e.error_type, 'string');
    assert.equal(typeof e.error_code, 'string');
    assert.equal(typeof e.message, 'string');
  }
  assert.deepEqual(Object.keys(result.body).sort(), ['errors', 'request_id']);
}

/** A V1 datetime (7-digit or trimmed fraction, Pacific wall-clock) as comparable milliseconds. */
function wallMs(text: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(text);
  assert.ok(m, `not a V1 datetime: ${text}`);
  return Date.parse(`${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}Z`);
}

describe('ShipStation sandbox: fidelity', () => {
  let sandbox: ShipStationSandbox;
  let call: (method: string, path: string, body?: unknown) => Promise<CallResult>;
  let auth: string;

  before(async () => {
    ({ sandbox } = await startTestSandbox({ rateLimit: { limit: 10_000, windowMs: 60_000 } }));
    call = v1(sandbox);
    auth = basicAuth(sandbox.apiKey, sandbox.apiSecret);
  });
  after(() => sandbox.close());

  describe('body media types (415)', () => {
    it('V1 refuses a JSON body sent as text/plain with the ASP.NET 415 and creates nothing', async () => {
      const body = JSON.stringify(orderBody('MT-PLAIN'));
      const result = await rawRequest(
        sandbox,
        'POST',
        '/orders/createorder',
        { authorization: auth, 'content-type': 'text/plain' },
        body,
      );
      assert.equal(result.status, 415);
      assert.deepEqual(result.body, {
        Message: "The request entity's media type 'text/plain' is not supported for this resource.",
      });
      assertRateHeaders(result);
      assert.equal((await call('GET', '/orders?orderNumber=MT-PLAIN')).body.total, 0);
    });

    it('V1 reads a body without Content-Type as application/octet-stream: 415', async () => {
      const result = await rawRequest(
        sandbox,
        'POST',
        '/orders/createorders',
        { authorization: auth },
        JSON.stringify([orderBody('MT-NONE')]),
      );
      assert.equal(result.status, 415);
      assert.deepEqual(result.body, {
        Message:
          "The request entity's media type 'application/octet-stream' is not supported for this resource.",
      });
      assertRateHeaders(result);
      assert.equal((await call('GET', '/orders?orderNumber=MT-NONE')).body.total, 0);
    });

    it('V1 refuses other body types on every body-reading endpoint (markasshipped, webhooks/subscribe)', async () => {
      for (const path of ['/orders/markasshipped', '/webhooks/subscribe', '/shipments/voidlabel']) {
        const result = await rawRequest(
          sandbox,
          'POST',
          path,
          { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
          'orderId=1',
        );
        assert.equal(result.status, 415, path);
        assert.equal(
          result.body.Message,
          "The request entity's media type 'application/x-www-form-urlencoded' is not supported for this resource.",
        );
      }
    });

    it('V1 still takes application/json with a charset, text/json, and an empty body stays the ModelState 400', async () => {
      const withCharset = await rawRequest(
        sandbox,
        'POST',
        '/orders/createorder',
        { authorization: auth, 'content-type': 'application/json; charset=utf-8' },
        JSON.stringify(orderBody('MT-JSON-1')),
      );
      assert.equal(withCharset.status, 200);
      const textJson = await rawRequest(
        sandbox,
        'POST',
        '/orders/createorder',
        { authorization: auth, 'content-type': 'Text/JSON' },
        JSON.stringify(orderBody('MT-JSON-2')),
      );
      assert.equal(textJson.status, 200);
      const empty = await rawRequest(sandbox, 'POST', '/orders/createorder', {
        authorization: auth,
        'content-length': '0',
      });
      assert.equal(empty.status, 400);
      assert.equal(empty.body.Message, 'The request is invalid.');
    });

    it('V2 refuses a non-JSON body with 415 and the V2 error body', async () => {
      const before = sandbox.inventory.warehouses.size;
      const plain = await rawRequest(
        sandbox,
        'POST',
        '/v2/inventory_warehouses',
        { 'api-key': sandbox.v2ApiKey, 'content-type': 'text/plain' },
        '{"name":"Plain"}',
      );
      assert.equal(plain.status, 415);
      assertV2ErrorShape(plain);
      assert.match(plain.body.errors[0].message, /text\/plain/);
      const none = await rawRequest(
        sandbox,
        'POST',
        '/v2/inventory',
        { 'api-key': sandbox.v2ApiKey },
        '{"transaction_type":"increment","sku":"WID-100","quantity":1,"inventory_location_id":"se-1002"}',
      );
      assert.equal(none.status, 415);
      assertV2ErrorShape(none);
      assert.equal(sandbox.inventory.warehouses.size, before);
    });
  });

  describe('methods (405)', () => {
    it('answers 405 with the ASP.NET text for a known path and an unsupported method', async () => {
      const created = await call('POST', '/orders/createorder', orderBody('MTH-1'));
      const id = created.body.orderId as number;
      for (const [method, path] of [
        ['PUT', `/orders/${id}`],
        ['POST', `/orders/${id}`],
        ['PATCH', `/orders/${id}`],
        ['GET', '/orders/createorder'],
        ['DELETE', '/orders/createorders'],
        ['PUT', '/shipments'],
        ['DELETE', '/webhooks'],
        ['GET', '/webhooks/subscribe'],
        ['POST', '/stores'],
      ] as const) {
        const result = await call(method, path);
        assert.equal(result.status, 405, `${method} ${path}`);
        assert.deepEqual(result.body, {
          Message: `The requested resource does not support http method '${method}'.`,
        });
        assertRateHeaders(result);
      }
      const allow = (await call('PUT', `/orders/${id}`)).headers.get('allow') ?? '';
      assert.deepEqual(allow.split(/,\s*/).sort(), ['DELETE', 'GET']);
      // The order is untouched.
      assert.equal((await call('GET', `/orders/${id}`)).body.orderStatus, 'awaiting_shipment');
    });

    it('keeps 404 for unknown paths and answers 405 on V2 paths with the V2 body', async () => {
      const unknown = await call('GET', '/nothing/here');
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.Message, /^No HTTP resource was found that matches the request URI/);
      assert.equal((await call('PUT', '/nothing/here')).status, 404);
      const notAnId = await call('GET', '/orders/not-a-number');
      assert.equal(notAnId.status, 404);

      const patch = await v2(sandbox)('PATCH', '/v2/inventory');
      assert.equal(patch.status, 405);
      assertV2ErrorShape(patch);
      assert.match(patch.body.errors[0].message, /PATCH/);
      assert.equal((await v2(sandbox)('GET', '/v2/nothing')).status, 404);
    });
  });

  describe('framework errors', () => {
    it('a bad percent-encoding gets the ASP.NET 400 with rate-limit headers and counts against the window', async () => {
      const before = Number((await call('GET', '/stores')).headers.get('x-rate-limit-remaining'));
      const result = await rawRequest(sandbox, 'GET', '/orders/%', { authorization: auth });
      assert.equal(result.status, 400);
      assert.deepEqual(Object.keys(result.body), ['Message']);
      assert.equal(typeof result.body.Message, 'string');
      assertRateHeaders(result);
      assert.equal(Number(result.headers.get('x-rate-limit-remaining')), before - 1);
      const wrong = await rawRequest(sandbox, 'GET', '/orders/%zz', {
        authorization: basicAuth('nobody', 'nothing'),
      });
      assert.equal(wrong.status, 401);
      assertRateHeaders(wrong);
    });

    it('a bad percent-encoding on V2 gets the V2 error body', async () => {
      const result = await rawRequest(sandbox, 'GET', '/v2/inventory_warehouses/%', {
        'api-key': sandbox.v2ApiKey,
      });
      assert.equal(result.status, 400);
      assertV2ErrorShape(result);
    });

    it('an over-long path segment gets the ASP.NET 400 rather than Fastify 414', async () => {
      const result = await rawRequest(sandbox, 'GET', `/orders/${'1'.repeat(300)}`, { authorization: auth });
      assert.equal(result.status, 400);
      assert.deepEqual(Object.keys(result.body), ['Message']);
      assertRateHeaders(result);
    });

    it('a body over the size limit gets 413 in the ASP.NET (V1) or V2 shape, with rate-limit headers on V1', async () => {
      const big = Buffer.alloc(21 * 1024 * 1024, 0x20);
      const result = await rawRequest(
        sandbox,
        'POST',
        '/orders/createorders',
        { authorization: auth, 'content-type': 'application/json', 'content-length': String(big.length) },
        big,
      );
      assert.equal(result.status, 413);
      assert.deepEqual(result.body, { Message: 'Maximum request length exceeded.' });
      assertRateHeaders(result);
      const v2Big = await rawRequest(
        sandbox,
        'POST',
        '/v2/inventory',
        {
          'api-key': sandbox.v2ApiKey,
          'content-type': 'application/json',
          'content-length': String(big.length),
        },
        big,
      );
      assert.equal(v2Big.status, 413);
      assertV2ErrorShape(v2Big);
    });

    it('an invalid Content-Type header gets the ASP.NET 415', async () => {
      const result = await rawRequest(
        sandbox,
        'POST',
        '/orders/createorder',
        { authorization: auth, 'content-type': 'not a media type' },
        '{}',
      );
      assert.equal(result.status, 415);
      assert.deepEqual(result.body, {
        Message: "The request entity's media type 'not a media type' is not supported for this resource.",
      });
      assertRateHeaders(result);
    });

    it('malformed JSON stays the ModelState 400 (V1) and the V2 body (V2)', async () => {
      const bad = await call('POST', '/orders/createorder', '{"orderNumber": ');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.Message, 'The request is invalid.');
      assert.ok(bad.body.ModelState.order);
      assertRateHeaders(bad);
      const badV2 = await rawRequest(
        sandbox,
        'POST',
        '/v2/inventory_warehouses',
        { 'api-key': sandbox.v2ApiKey, 'content-type': 'application/json' },
        '{"name": ',
      );
      assert.equal(badV2.status, 400);
      assertV2ErrorShape(badV2);
    });
  });

  describe('createorders refusals', () => {
    it('names the existing orderId when a shipped or cancelled order is re-posted', async () => {
      const shipped = await call('POST', '/orders/createorder', orderBody('LOCK-SHIP'));
      assert.equal(shipped.status, 200);
      const marked = await call('POST', '/orders/markasshipped', {
        orderId: shipped.body.orderId,
        carrierCode: 'ups',
      });
      assert.equal(marked.status, 200);
      const cancelled = await call(
        'POST',
        '/orders/createorder',
        orderBody('LOCK-CANC', { orderStatus: 'cancelled' }),
      );
      assert.equal(cancelled.status, 200);

      const result = await call('POST', '/orders/createorders', [
        orderBody('LOCK-SHIP', { customerNotes: 'again' }),
        orderBody('LOCK-CANC', { orderStatus: 'awaiting_shipment' }),
      ]);
      assert.equal(result.status, 200);
      assert.equal(result.body.hasErrors, true);
      const [a, b] = result.body.results;
      assert.equal(a.success, false);
      assert.equal(a.orderId, shipped.body.orderId);
      assert.equal(a.orderKey, 'acme:LOCK-SHIP');
      assert.match(a.errorMessage, /shipped/);
      assert.equal(b.success, false);
      assert.equal(b.orderId, cancelled.body.orderId);
      assert.equal(b.orderKey, 'acme:LOCK-CANC');
    });
  });

  describe('orderNumber filter', () => {
    it('is a case-insensitive starts-with on orders, shipments and fulfillments', async () => {
      const labelled = await call('POST', '/orders/createorder', orderBody('CaseMix-100'));
      const marked = await call('POST', '/orders/createorder', orderBody('CaseMix-200'));
      assert.equal(
        (await control(sandbox)('POST', `/_sandbox/orders/${labelled.body.orderId}/labels`)).status,
        200,
      );
      await call('POST', '/orders/markasshipped', { orderId: marked.body.orderId, carrierCode: 'fedex' });

      const orders = await call('GET', '/orders?orderNumber=casemix');
      assert.deepEqual(orders.body.orders.map((o: { orderNumber: string }) => o.orderNumber).sort(), [
        'CaseMix-100',
        'CaseMix-200',
      ]);
      const shipments = await call('GET', '/shipments?orderNumber=CASEMIX-1');
      assert.deepEqual(
        shipments.body.shipments.map((s: { orderId: number }) => s.orderId),
        [labelled.body.orderId],
      );
      const fulfillments = await call('GET', '/fulfillments?orderNumber=casemix-2');
      assert.deepEqual(
        fulfillments.body.fulfillments.map((f: { orderId: number }) => f.orderId),
        [marked.body.orderId],
      );
      // Still starts-with, not contains.
      assert.equal((await call('GET', '/orders?orderNumber=mix-100')).body.total, 0);
    });
  });

  describe('V2 links', () => {
    it('are absolute URLs on the sandbox, and following next gives the next page', async () => {
      const first = await v2(sandbox)('GET', '/v2/inventory?limit=2');
      assert.equal(first.status, 200);
      for (const link of Object.values(first.body.links) as Array<{ href: string }>) {
        assert.ok(link.href.startsWith(`${sandbox.url}/v2/inventory?`), link.href);
      }
      const next = await fetch(first.body.links.next.href, { headers: { 'api-key': sandbox.v2ApiKey } });
      assert.equal(next.status, 200);
      const page2 = (await next.json()) as { page: number; inventory: unknown[] };
      assert.equal(page2.page, 2);
      assert.equal(page2.inventory.length, 2);
    });
  });
});

describe('ShipStation sandbox: seeded orders', () => {
  let sandbox: ShipStationSandbox;
  let call: (method: string, path: string, body?: unknown) => Promise<CallResult>;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected field by field in tests.
  let orders: any[];
  let startWall: number;

  before(async () => {
    ({ sandbox } = await startTestSandbox({ orders: 60, seed: 5 }));
    call = v1(sandbox);
    orders = (await call('GET', '/orders?pageSize=500')).body.orders;
    // The sandbox start as a Pacific wall-clock, in the same units as wallMs.
    const created = await call('POST', '/orders/createorder', orderBody('SEED-PROBE'));
    startWall = wallMs(created.body.createDate);
  });
  after(() => sandbox.close());

  it('gives awaiting_payment orders no paymentDate, so paymentDate filters leave them out', async () => {
    const unpaid = orders.filter((o) => o.orderStatus === 'awaiting_payment');
    assert.ok(unpaid.length >= 2);
    for (const o of unpaid) assert.equal(o.paymentDate, null, `order ${o.orderNumber}`);
    const byPayment = await call('GET', '/orders?paymentDateStart=2000-01-01&pageSize=500');
    const ids = new Set(byPayment.body.orders.map((o: { orderId: number }) => o.orderId));
    for (const o of unpaid)
      assert.ok(!ids.has(o.orderId), `order ${o.orderNumber} matched a paymentDate filter`);
    for (const o of orders.filter((x) => x.orderStatus !== 'awaiting_payment')) {
      assert.equal(typeof o.paymentDate, 'string');
    }
  });

  it('dates items with the order createDate; unmodified orders keep modifyDate = createDate', () => {
    for (const o of orders) {
      const created = wallMs(o.createDate);
      assert.ok(created < startWall, `order ${o.orderNumber} created at the sandbox start`);
      for (const item of o.items) {
        assert.equal(wallMs(item.createDate), created, `item of ${o.orderNumber}`);
        assert.equal(wallMs(item.modifyDate), created, `item of ${o.orderNumber}`);
      }
      if (o.orderStatus !== 'shipped') assert.equal(o.modifyDate, o.createDate, `order ${o.orderNumber}`);
    }
  });

  it('labels seeded orders at times after the order was created and before the sandbox started', async () => {
    const shipped = orders.filter((o) => o.orderStatus === 'shipped');
    assert.ok(shipped.length >= 3);
    const shipments = (await call('GET', '/shipments?pageSize=500')).body.shipments;
    const labelTimes = new Set<string>();
    for (const o of shipped) {
      const mine = shipments.filter((s: { orderId: number }) => s.orderId === o.orderId);
      assert.equal(mine.length, 1, `shipments of ${o.orderNumber}`);
      const s = mine[0];
      const labelled = wallMs(s.createDate);
      assert.ok(labelled > wallMs(o.createDate), `label of ${o.orderNumber} not after its order`);
      assert.ok(labelled < startWall, `label of ${o.orderNumber} at the sandbox start`);
      // Shipping modified the order then, and set its shipDate to the label's date.
      assert.equal(o.modifyDate, s.createDate);
      assert.equal(o.shipDate, s.shipDate);
      assert.equal(s.shipDate, s.createDate.slice(0, 10));
      labelTimes.add(s.createDate);
    }
    assert.equal(labelTimes.size, shipped.length);
  });
});
