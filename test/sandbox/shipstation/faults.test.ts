import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFaultFlag } from '../../../src/sandbox/shipstation/index.js';
import { control, orderBody, startReceiver, startTestSandbox, v1, v2 } from './helpers.js';

describe('ShipStation sandbox: fault injection', () => {
  it('error rate: the ASP.NET 500 body on the faulted route only (from options)', async () => {
    const { sandbox } = await startTestSandbox({
      faults: [parseFaultFlag('route=/orders/createorders,error=1')],
    });
    try {
      const call = v1(sandbox);
      const res = await call('POST', '/orders/createorders', [orderBody('F-1')]);
      assert.equal(res.status, 500);
      assert.equal(res.body.Message, 'An error has occurred.');
      assert.equal(res.body.ExceptionMessage, 'Object reference not set to an instance of an object.');
      assert.ok(res.headers.get('x-rate-limit-remaining'));
      assert.equal((await call('POST', '/orders/createorder', orderBody('F-2'))).status, 200);
      assert.equal(
        (await call('GET', '/orders?orderNumber=F-')).body.total,
        1,
        'the faulted call stored nothing',
      );
    } finally {
      await sandbox.close();
    }
  });

  it('a partial error rate is seeded: the same seed fails the same requests', async () => {
    const run = async () => {
      const { sandbox } = await startTestSandbox({ seed: 42, faults: [{ route: '/stores', error: 0.5 }] });
      try {
        const statuses = [];
        for (let i = 0; i < 12; i += 1) statuses.push((await v1(sandbox)('GET', '/stores')).status);
        return statuses;
      } finally {
        await sandbox.close();
      }
    };
    const first = await run();
    assert.deepEqual(await run(), first);
    assert.ok(first.includes(500) && first.includes(200), `expected a mix, got ${first.join(',')}`);
  });

  it('spurious 401, 429 while Remaining is above zero, and rule expiry with times (at runtime)', async () => {
    const { sandbox } = await startTestSandbox();
    try {
      const call = v1(sandbox);
      const ui = control(sandbox);
      const added = await ui('POST', '/_sandbox/faults', { flag: 'route=/orders,401=1,times=1' });
      assert.equal(added.body.unauthorized, 1);
      assert.equal((await call('GET', '/orders')).status, 401);
      assert.equal((await call('GET', '/orders')).status, 200, 'the rule expired after one use');
      await ui('POST', '/_sandbox/faults', { route: '/shipments', rateLimited: 1 });
      const limited = await call('GET', '/shipments');
      assert.equal(limited.status, 429);
      assert.deepEqual(limited.body, { message: 'Too Many Requests' });
      assert.ok(Number(limited.headers.get('x-rate-limit-remaining')) > 0);
      assert.equal((await ui('GET', '/_sandbox/faults')).body.length, 1);
      await ui('DELETE', '/_sandbox/faults');
      assert.equal((await call('GET', '/shipments')).status, 200);
      const v2res = await (async () => {
        await ui('PUT', '/_sandbox/faults', ['route=/v2,error=1']);
        return v2(sandbox)('GET', '/v2/inventory');
      })();
      assert.equal(v2res.status, 500);
      assert.equal(v2res.body.errors[0].error_type, 'system');
      const bad = await ui('POST', '/_sandbox/faults', { flag: 'route=/x,explode=1' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error, /unknown fault key 'explode'/);
    } finally {
      await sandbox.close();
    }
  });

  it('added latency and hanging responses (the sandbox still closes)', async () => {
    const { sandbox } = await startTestSandbox({
      faults: [
        { route: '/warehouses', latencyMs: 200 },
        { route: '/stores', hang: 1 },
      ],
    });
    const started = Date.now();
    assert.equal((await v1(sandbox)('GET', '/warehouses')).status, 200);
    assert.ok(Date.now() - started >= 190, `latency ${Date.now() - started} ms`);
    const hung = fetch(`${sandbox.url}/stores`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${sandbox.apiKey}:${sandbox.apiSecret}`).toString('base64')}`,
      },
      signal: AbortSignal.timeout(300),
    });
    await assert.rejects(hung, /aborted|timeout/i);
    assert.equal((await v1(sandbox)('GET', '/orders')).status, 200, 'other routes still answer');
    const closing = Date.now();
    await sandbox.close();
    assert.ok(Date.now() - closing < 2_000);
  });

  it('dropped webhooks are recorded as dropped and never posted', async () => {
    const { sandbox, clock } = await startTestSandbox({
      faults: [parseFaultFlag('drop-webhook=1,event=ORDER_NOTIFY')],
    });
    const rx = await startReceiver();
    try {
      await v1(sandbox)('POST', '/webhooks/subscribe', { target_url: rx.url, event: 'ORDER_NOTIFY' });
      await v1(sandbox)('POST', '/orders/createorder', orderBody('DROP-1'));
      clock.advance(3_600_000);
      await sandbox.flushWebhooks();
      assert.equal(rx.received.length, 0);
      assert.equal(sandbox.deliveries()[0]?.status, 'dropped');
    } finally {
      await sandbox.close();
      await rx.close();
    }
  });
});
