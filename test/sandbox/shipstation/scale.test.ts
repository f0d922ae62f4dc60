import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orderBody, startTestSandbox, v1 } from './helpers.js';

// Scale (100,000 orders, list timings, memory) is measured by `npm run bench:sandboxes`, not in tests.
describe('ShipStation sandbox: seeded data', () => {
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
});
