import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { orderBody, startTestSandbox, v1 } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('ShipStation sandbox: seeded data and scale', () => {
  it('is deterministic for a seed (credentials, ids, keys, generated orders)', async () => {
    const shapes = [];
    for (let i = 0; i < 2; i += 1) {
      const { sandbox } = await startTestSandbox({ seed: 7, orders: 20 });
      try {
        const list = await v1(sandbox)('GET', '/orders?pageSize=500');
        const created = await v1(sandbox)('POST', '/orders/createorder', {
          ...orderBody('DET-1'),
          orderKey: undefined,
        });
        shapes.push({
          key: sandbox.apiKey,
          v2: sandbox.v2ApiKey,
          orders: list.body.orders.map((o: { orderId: number; orderKey: string; items: unknown[] }) => [
            o.orderId,
            o.orderKey,
            o.items.length,
          ]),
          generatedKey: created.body.orderKey,
        });
      } finally {
        await sandbox.close();
      }
    }
    assert.deepEqual(shapes[0], shapes[1]);
    assert.equal(shapes[0]?.orders.length, 20);
  });

  it('holds 100,000 orders and filters them quickly', { timeout: 120_000 }, async () => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const { sandbox } = await startTestSandbox({ orders: 100_000 });
    try {
      gc();
      const heapMb = (process.memoryUsage().heapUsed - before) / 1e6;
      assert.equal(sandbox.state.orders.size, 100_000);
      // 100k orders plus 10k labels: measured ~230 MB.
      assert.ok(heapMb < 400, `heap grew by ${heapMb.toFixed(0)} MB`);
      const call = v1(sandbox);
      const timings: Record<string, number> = {};
      for (const [name, query, total] of [
        ['orderNumber prefix', '/orders?orderNumber=SEED-1999&pageSize=500', 100],
        ['itemKeyword', '/orders?itemKeyword=gadget&pageSize=500', undefined],
        [
          'createDate range desc',
          '/orders?createDateStart=2026-01-01&createDateEnd=2026-01-05&sortBy=CreateDate&sortDir=DESC&pageSize=500',
          undefined,
        ],
        [
          'status + modifyDate sort',
          '/orders?orderStatus=shipped&sortBy=ModifyDate&pageSize=500&page=3',
          10_000,
        ],
        ['shipments with items', '/shipments?pageSize=500&includeShipmentItems=true&page=5', 10_000],
      ] as const) {
        const started = performance.now();
        const res = await call('GET', query);
        timings[name] = Math.round(performance.now() - started);
        assert.equal(res.status, 200);
        if (total !== undefined) assert.equal(res.body.total, total, name);
      }
      for (const [name, ms] of Object.entries(timings)) assert.ok(ms < 1_500, `${name} took ${ms} ms`);
      console.log(`# 100k orders: heap +${heapMb.toFixed(0)} MB; ${JSON.stringify(timings)}`);
    } finally {
      await sandbox.close();
    }
  });
});
