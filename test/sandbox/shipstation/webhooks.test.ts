import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ShipStationSandbox } from '../../../src/sandbox/shipstation/index.js';
import { startShipStationSandbox } from '../../../src/sandbox/shipstation/index.js';
import type { FakeClock } from '../../helpers/clock.js';
import {
  type CallResult,
  control,
  orderBody,
  startReceiver,
  startTestSandbox,
  v1,
  waitUntil,
} from './helpers.js';

describe('ShipStation sandbox V1: webhooks', () => {
  let sandbox: ShipStationSandbox;
  let clock: FakeClock;
  let call: (method: string, path: string, body?: unknown) => Promise<CallResult>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    ({ sandbox, clock } = await startTestSandbox({
      webhookDelayMs: 120_000,
      rateLimit: { limit: 1000, windowMs: 60_000 },
    }));
    call = v1(sandbox);
    receiver = await startReceiver();
  });
  after(async () => {
    await sandbox.close();
    await receiver.close();
  });

  const subscribe = async (event: string, path: string) => {
    const res = await call('POST', '/webhooks/subscribe', {
      target_url: `${receiver.url}${path}`,
      event,
      friendly_name: path,
    });
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.id, 'number');
    return res.body.id as number;
  };
  const posted = (path: string) => receiver.received.filter((r) => r.path === path);

  it('subscribes, lists (PascalCase under webhooks) and unsubscribes', async () => {
    const id = await subscribe('FULFILLMENT_SHIPPED', '/tmp-hook');
    const list = await call('GET', '/webhooks');
    const hook = list.body.webhooks.find((h: { WebHookID: number }) => h.WebHookID === id);
    assert.equal(hook.HookType, 'FULFILLMENT_SHIPPED');
    assert.equal(hook.Url, `${receiver.url}/tmp-hook`);
    assert.equal(hook.MessageFormat, 'Json');
    assert.equal((await call('DELETE', `/webhooks/${id}`)).status, 200);
    assert.equal((await call('DELETE', `/webhooks/${id}`)).status, 404);
    const bad = await call('POST', '/webhooks/subscribe', {
      target_url: receiver.url,
      event: 'ORDER_UPDATED',
    });
    assert.equal(bad.status, 400);
  });

  it('one ORDER_NOTIFY per import batch, after the delay, whose resource_url lists exactly that batch', async () => {
    await subscribe('ORDER_NOTIFY', '/orders-hook');
    const res = await call('POST', '/orders/createorders', [
      orderBody('WH-1'),
      orderBody('WH-2'),
      orderBody('WH-3', { orderStatus: 'awaiting_payment' }),
    ]);
    assert.equal(res.body.hasErrors, false);
    await sandbox.flushWebhooks();
    assert.equal(posted('/orders-hook').length, 0, 'nothing before the delay');
    clock.advance(120_000);
    await sandbox.flushWebhooks();
    const hooks = posted('/orders-hook');
    assert.equal(hooks.length, 1);
    assert.equal(hooks[0]?.body.resource_type, 'ORDER_NOTIFY');
    assert.deepEqual(Object.keys(hooks[0]?.body).sort(), ['resource_type', 'resource_url']);
    assert.equal(
      hooks[0]?.headers['x-shipengine-rsa-sha256-signature'],
      undefined,
      'V1 webhooks are unsigned',
    );
    const url = new URL(hooks[0]?.body.resource_url);
    assert.equal(url.origin, sandbox.url);
    assert.ok(url.searchParams.get('importBatch'));
    const orders = await call('GET', hooks[0]?.body.resource_url);
    // awaiting_payment orders do not count as new paid orders.
    assert.deepEqual(
      orders.body.orders.map((o: { orderNumber: string }) => o.orderNumber),
      ['WH-1', 'WH-2'],
    );

    // Updates fire nothing, except an awaiting-payment order moving on (reference §4.1).
    await call('POST', '/orders/createorders', [
      orderBody('WH-1', { internalNotes: 'x' }),
      orderBody('WH-3'),
    ]);
    clock.advance(120_000);
    await sandbox.flushWebhooks();
    assert.equal(posted('/orders-hook').length, 2);
    const second = await call('GET', posted('/orders-hook')[1]?.body.resource_url);
    assert.deepEqual(
      second.body.orders.map((o: { orderNumber: string }) => o.orderNumber),
      ['WH-3'],
    );
    await call('POST', '/orders/createorder', orderBody('WH-2', { internalNotes: 'only an update' }));
    clock.advance(120_000);
    await sandbox.flushWebhooks();
    assert.equal(posted('/orders-hook').length, 2);
  });

  it('a label batch fires one SHIP_NOTIFY whose resource_url returns exactly that batch, with items on request', async () => {
    await subscribe('SHIP_NOTIFY', '/ship-hook');
    await subscribe('ITEM_SHIP_NOTIFY', '/item-ship-hook');
    const created = await call('POST', '/orders/createorders', [
      orderBody('LB-1'),
      orderBody('LB-2'),
      orderBody('LB-3'),
    ]);
    const [a, b, c] = created.body.results.map((r: { orderId: number }) => r.orderId);
    const ui = control(sandbox);
    await ui('POST', `/_sandbox/orders/${c}/labels`, {}); // an earlier, separate batch
    clock.advance(120_000);
    await sandbox.flushWebhooks();
    const before = posted('/ship-hook').length;
    const batch = await ui('POST', '/_sandbox/labels', {
      orders: [{ orderId: a }, { orderId: b, packages: [{}, {}] }],
    });
    assert.equal(batch.status, 200);
    assert.equal(batch.body.shipments.length, 3);
    // Mark-as-shipped never fires SHIP_NOTIFY.
    const extra = await call('POST', '/orders/createorder', orderBody('LB-4'));
    await call('POST', '/orders/markasshipped', { orderId: extra.body.orderId, carrierCode: 'ups' });
    clock.advance(120_000);
    await sandbox.flushWebhooks();
    const shipHooks = posted('/ship-hook').slice(before);
    assert.equal(shipHooks.length, 1);
    assert.equal(shipHooks[0]?.body.resource_type, 'SHIP_NOTIFY');
    const resourceUrl: string = shipHooks[0]?.body.resource_url;
    assert.match(resourceUrl, /\/shipments\?batchId=\d+&includeShipmentItems=False$/);
    const listed = await call('GET', resourceUrl);
    assert.deepEqual(
      listed.body.shipments.map((s: { shipmentId: number }) => s.shipmentId).sort(),
      batch.body.shipments.map((s: { shipmentId: number }) => s.shipmentId).sort(),
    );
    assert.equal(listed.body.shipments[0].shipmentItems, null);
    const withItems = await call(
      'GET',
      resourceUrl.replace('includeShipmentItems=False', 'includeShipmentItems=True'),
    );
    assert.equal(withItems.body.total, 3);
    for (const s of withItems.body.shipments) assert.ok(s.shipmentItems.length > 0);
    const itemHook = posted('/item-ship-hook').at(-1);
    assert.match(itemHook?.body.resource_url, /includeShipmentItems=True$/);
    const itemList = await call('GET', itemHook?.body.resource_url);
    assert.equal(itemList.body.total, 3);
    assert.equal(itemList.body.shipments[0].shipmentItems[0].sku, 'WID-100');
  });

  it('retries a receiver that answers non-2xx on the retry schedule, and records every attempt', async () => {
    const flaky = await startReceiver([500, 503]);
    try {
      const res = await call('POST', '/webhooks/subscribe', {
        target_url: `${flaky.url}/flaky`,
        event: 'ORDER_NOTIFY',
        store_id: 310001,
      });
      await call('POST', '/orders/createorder', orderBody('RETRY-1'));
      clock.advance(120_000);
      await sandbox.flushWebhooks();
      const mine = () => sandbox.deliveries().filter((d) => d.webhookId === res.body.id);
      assert.equal(mine()[0]?.status, 'pending');
      assert.equal(mine()[0]?.attempts[0]?.statusCode, 500);
      clock.advance(60_000);
      await sandbox.flushWebhooks();
      assert.equal(mine()[0]?.attempts[1]?.statusCode, 503);
      clock.advance(299_000);
      await sandbox.flushWebhooks();
      assert.equal(mine()[0]?.attempts.length, 2, 'the third attempt waits 5 minutes');
      clock.advance(1_000);
      await sandbox.flushWebhooks();
      assert.equal(mine()[0]?.status, 'delivered');
      assert.equal(flaky.received.length, 3);
      assert.match(flaky.received[0]?.body.resource_url, /storeID=310001&importBatch=/);
      const inspect = await control(sandbox)('GET', '/_sandbox/webhooks/deliveries');
      assert.ok(inspect.body.some((d: { status: string; attempts: unknown[] }) => d.attempts.length === 3));
    } finally {
      await flaky.close();
    }
  });

  it('a receiver that never succeeds ends as failed after the last retry', async () => {
    const { sandbox: s2, clock: c2 } = await startTestSandbox({
      webhookDelayMs: 0,
      webhookRetryDelaysMs: [1_000],
    });
    const down = await startReceiver([500, 500, 500]);
    try {
      await v1(s2)('POST', '/webhooks/subscribe', { target_url: down.url, event: 'ORDER_NOTIFY' });
      await v1(s2)('POST', '/orders/createorder', orderBody('FAIL-1'));
      await s2.flushWebhooks();
      c2.advance(1_000);
      await s2.flushWebhooks();
      const [d] = s2.deliveries();
      assert.equal(d?.status, 'failed');
      assert.equal(d?.attempts.length, 2);
    } finally {
      await s2.close();
      await down.close();
    }
  });

  it('delivers with real timers on the system clock (the default run)', async () => {
    const live = await startShipStationSandbox({ webhookDelayMs: 50, tickIntervalMs: 20 });
    const rx = await startReceiver();
    try {
      await v1(live)('POST', '/webhooks/subscribe', { target_url: rx.url, event: 'ORDER_NOTIFY' });
      await v1(live)('POST', '/orders/createorder', orderBody('LIVE-1'));
      await waitUntil(() => rx.received.length === 1);
      assert.equal(rx.received[0]?.body.resource_type, 'ORDER_NOTIFY');
    } finally {
      await live.close();
      await rx.close();
    }
  });
});
