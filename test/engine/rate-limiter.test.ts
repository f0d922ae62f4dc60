/**
 * The database-backed ShipStation budget: on a fake clock in one process, and with three OS
 * processes sharing one key against a counting HTTP server (no window may get more than the limit).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { it } from 'node:test';
import { DbRateLimiter } from '../../src/engine/db-rate-limiter.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

const MIN = 60_000;

forEachDialect('shared rate limiter', (ctx) => {
  it('throttles before sending: a window holds at most the limit', async () => {
    const clock = new FakeClock();
    const limiter = new DbRateLimiter(ctx.store, { limit: 5, windowMs: MIN, safetyMs: 0, clock });
    const t0 = clock.now();
    const sentAt: number[] = [];
    for (let i = 0; i < 12; i++) {
      await limiter.acquire('fake-clock-key');
      sentAt.push(clock.now() - t0);
    }
    assert.deepEqual(sentAt, [0, 0, 0, 0, 0, MIN, MIN, MIN, MIN, MIN, 2 * MIN, 2 * MIN]);
  });

  it('waits for the reset when the headers say nothing remains (other apps on the key), and after a 429 block', async () => {
    const clock = new FakeClock();
    const limiter = new DbRateLimiter(ctx.store, { limit: 40, windowMs: MIN, clock });
    const t0 = clock.now();
    await limiter.acquire('shared-key');
    await limiter.observe('shared-key', { limit: 40, remaining: 0, resetSeconds: 22, at: clock.now() });
    const waited = await limiter.acquire('shared-key');
    // The reported reset plus the one safety margin (1 s for a 60 s window, rate-budget.ts).
    assert.equal(waited, 23_000);
    assert.equal(clock.now() - t0, 23_000);
    // A stale response from the previous window changes nothing.
    await limiter.observe('shared-key', { remaining: 0, resetSeconds: 1, at: t0 });
    assert.equal(await limiter.acquire('shared-key'), 0);
    await limiter.block('shared-key', clock.now() + 45_000);
    assert.equal(await limiter.acquire('shared-key'), 45_000);
    // Another key has its own budget.
    assert.equal(await limiter.acquire('other-key'), 0);
  });

  it("reads each key's free requests in one go, as a second process sees them (the claim's hint)", async () => {
    const clock = new FakeClock();
    const mine = new DbRateLimiter(ctx.store, { limit: 3, windowMs: MIN, safetyMs: 0, clock });
    // Another process on the same database (its own limiter object) reads what `mine` spent.
    const theirs = new DbRateLimiter(ctx.store, { limit: 3, windowMs: MIN, safetyMs: 0, clock });
    await mine.acquire('free-a');
    await mine.acquire('free-b');
    await mine.observe('free-b', { limit: 1, remaining: 0, resetSeconds: 30, at: clock.now() });
    const free = await theirs.freeSlots(['free-a', 'free-b', 'free-never'], 3);
    assert.deepEqual(Object.fromEntries(free), { 'free-a': 2, 'free-b': 0, 'free-never': 3 });
    clock.advance(MIN);
    assert.deepEqual(Object.fromEntries(await theirs.freeSlots(['free-a', 'free-b'], 3)), {
      'free-a': 3,
      'free-b': 1,
    });
  });

  it('three processes sharing one key send no more than the limit in any window', async () => {
    const LIMIT = 6;
    const WINDOW = 1000;
    const start = Date.now();
    const perWindow = new Map<number, number>();
    let tooMany = 0;
    const server: Server = createServer((_req, res) => {
      const now = Date.now();
      const window = Math.floor((now - start) / WINDOW);
      const used = (perWindow.get(window) ?? 0) + 1;
      perWindow.set(window, used);
      const remaining = Math.max(0, LIMIT - used);
      const reset = Math.ceil((start + (window + 1) * WINDOW - now) / 1000);
      res.setHeader('X-Rate-Limit-Limit', String(LIMIT));
      res.setHeader('X-Rate-Limit-Remaining', String(remaining));
      res.setHeader('X-Rate-Limit-Reset', String(reset));
      if (used > LIMIT) {
        tooMany++;
        res.statusCode = 429;
        res.end('{"message":"Too Many Requests"}');
        return;
      }
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`;
    try {
      const runs = [1, 2, 3].map(
        () =>
          new Promise<{ sent: number; statuses: number[] }>((resolve, reject) => {
            const child = spawn(
              process.execPath,
              [
                '--import',
                'tsx',
                'test/engine/fixtures/rate-client.ts',
                ctx.url,
                url,
                'ss-key-1',
                '6',
                String(LIMIT),
                String(WINDOW),
                '150',
              ],
              { stdio: ['ignore', 'pipe', 'inherit'] },
            );
            let out = '';
            child.stdout.on('data', (d) => {
              out += d;
            });
            const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
            child.on('exit', (code) => {
              clearTimeout(timer);
              if (code === 0) resolve(JSON.parse(out));
              else reject(new Error(`rate client exited with ${code}: ${out}`));
            });
          }),
      );
      const results = await Promise.all(runs);
      assert.equal(
        results.reduce((n, r) => n + r.sent, 0),
        18,
      );
      const counts = [...perWindow.values()];
      assert.ok(
        Math.max(...counts) <= LIMIT,
        `a window got ${Math.max(...counts)} requests: ${JSON.stringify([...perWindow])}`,
      );
      assert.equal(tooMany, 0, 'no 429');
      assert.ok(
        perWindow.size >= 3,
        `18 requests at 6 per window need at least 3 windows, used ${perWindow.size}`,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
