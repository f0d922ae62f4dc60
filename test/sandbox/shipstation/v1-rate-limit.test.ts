import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestSandbox, v1 } from './helpers.js';

describe('ShipStation sandbox V1: rate limit', () => {
  it('the 41st request in a window gets 429 with the right body and headers; the next window opens', async () => {
    const { sandbox, clock } = await startTestSandbox();
    try {
      const call = v1(sandbox);
      const remaining: number[] = [];
      for (let i = 0; i < 40; i += 1) {
        clock.advance(500);
        const res = await call('GET', '/stores');
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('x-rate-limit-limit'), '40');
        remaining.push(Number(res.headers.get('x-rate-limit-remaining')));
      }
      assert.deepEqual(
        remaining,
        Array.from({ length: 40 }, (_, i) => 39 - i),
      );
      const limited = await call('GET', '/orders');
      assert.equal(limited.status, 429);
      assert.deepEqual(limited.body, { message: 'Too Many Requests' });
      assert.equal(limited.headers.get('x-rate-limit-limit'), '40');
      assert.equal(limited.headers.get('x-rate-limit-remaining'), '0');
      // The window opened with the first request 19.5 s of clock time ago: 40.5 s left, rounded up.
      assert.equal(limited.headers.get('x-rate-limit-reset'), '41');
      // Other credentials have their own budget (and here get 401, not 429).
      const other = await v1(sandbox, { key: 'other', secret: 'x' })('GET', '/orders');
      assert.equal(other.status, 401);
      clock.advance(40_000);
      assert.equal((await call('GET', '/orders')).status, 429, 'still the same window');
      clock.advance(500);
      const next = await call('GET', '/orders');
      assert.equal(next.status, 200);
      assert.equal(next.headers.get('x-rate-limit-remaining'), '39');
      assert.equal(next.headers.get('x-rate-limit-reset'), '60');
    } finally {
      await sandbox.close();
    }
  });

  it('both numbers are configurable (benches compress time)', async () => {
    const { sandbox, clock } = await startTestSandbox({ rateLimit: { limit: 3, windowMs: 2_000 } });
    try {
      const call = v1(sandbox);
      const statuses = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await call('GET', '/warehouses')).status);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      clock.advance(2_000);
      assert.equal((await call('GET', '/warehouses')).status, 200);
    } finally {
      await sandbox.close();
    }
  });
});
