import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sandboxConfigDocument } from '../cli/commands/sandbox.js';
import { type ConnectionConfig, configSchema } from '../config/schema.js';
import { ORDERS_PUSH_KIND, ordersHandlers, ordersPushBatchSize, ordersPushConcurrency } from './orders.js';

function connection(name: string, shipstation: Record<string, unknown>): ConnectionConfig {
  const document = sandboxConfigDocument(name, {
    shipstation: { url: 'http://127.0.0.1:9', apiKey: 'k', apiSecret: 's', v2ApiKey: 'v' },
    syspro: {
      enetUrl: 'http://127.0.0.1:9',
      odataUrl: 'http://127.0.0.1:9',
      operator: 'o',
      operatorPassword: 'p',
      company: 'c',
      companyPassword: 'p',
    },
  }) as { connections: Array<{ shipstation: Record<string, unknown> }> };
  document.connections[0]!.shipstation = { ...document.connections[0]!.shipstation, ...shipstation };
  return configSchema.parse(document).connections[0]!;
}

describe('orders push concurrency', () => {
  it('is 1 on V1 and 4 on V2 by default, the configured value when set, the largest of the connections', () => {
    assert.equal(ordersPushConcurrency([connection('a', {})]), 1);
    assert.equal(ordersPushConcurrency([connection('a', { api: 'v2' })]), 4);
    assert.equal(ordersPushConcurrency([connection('a', { api: 'v2', pushConcurrency: 2 })]), 2);
    assert.equal(ordersPushConcurrency([connection('a', { pushConcurrency: 3 })]), 3);
    assert.equal(ordersPushConcurrency([connection('a', {}), connection('b', { api: 'v2' })]), 4);
    assert.equal(ordersPushConcurrency([]), 1);
    assert.throws(() => connection('a', { pushConcurrency: 0 }));
  });

  it("sets the push handler's concurrency", () => {
    const deps = {
      store: undefined as never,
      clock: undefined as never,
      connectionFor: () => Promise.reject(new Error('unused')),
    };
    const push = (n?: number) =>
      ordersHandlers({ ...deps, pushConcurrency: n }).find((h) => h.kind === ORDERS_PUSH_KIND)!;
    assert.equal(push().concurrency, 1);
    assert.equal(push(4).concurrency, 4);
  });

  it('pushes at most 100 orders a call by default, fewer when a connection says so (the smallest wins)', () => {
    assert.equal(ordersPushBatchSize([connection('a', {})]), 100);
    assert.equal(ordersPushBatchSize([connection('a', { pushBatchSize: 20 }), connection('b', {})]), 20);
    assert.equal(ordersPushBatchSize([]), 100);
    assert.throws(() => connection('a', { pushBatchSize: 0 }));
    assert.throws(() => connection('a', { pushBatchSize: 101 }));
    const deps = {
      store: undefined as never,
      clock: undefined as never,
      connectionFor: () => Promise.reject(new Error('unused')),
    };
    const push = (n?: number) =>
      ordersHandlers({ ...deps, pushBatchSize: n }).find((h) => h.kind === ORDERS_PUSH_KIND)!;
    assert.equal(push().batchSize, 100);
    assert.equal(push(20).batchSize, 20);
  });
});
