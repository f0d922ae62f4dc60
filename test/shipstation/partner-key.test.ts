/**
 * A partner key (`x-partner`) raises V1's budget to 100/min (reference §10). The client sends it,
 * the sandbox honours it, and the limiter (database store, both dialects) takes the raised limit
 * from `X-Rate-Limit-Limit` instead of holding to the configured 40: 100 calls fit in one window
 * with no 429. Without the partner key the same calls need a second window. Fake clock throughout.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DbRateLimiter } from '../../src/engine/db-rate-limiter.js';
import { startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { createShipStationV1Client } from '../../src/shipstation/v1/client.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

forEachDialect('V1 partner key', (ctx) => {
  for (const partner of [true, false]) {
    it(`100 calls ${partner ? 'with' : 'without'} x-partner: ${partner ? 'one window' : 'two windows'}, no 429`, async () => {
      const clock = new FakeClock(Date.parse('2026-02-01T10:00:00Z'));
      const sandbox = await startShipStationSandbox({
        port: 0,
        clock,
        seed: partner ? 11 : 12,
        backgroundTimers: false,
        partnerKeys: ['our-partner-key'],
      });
      try {
        const limiter = new DbRateLimiter(ctx.store, { limit: 40, windowMs: 60_000, clock });
        let blocks = 0;
        const block = limiter.block.bind(limiter);
        limiter.block = async (key, until) => {
          blocks++;
          await block(key, until);
        };
        const client = createShipStationV1Client({
          baseUrl: sandbox.url,
          apiKey: sandbox.apiKey,
          apiSecret: sandbox.apiSecret,
          partnerKey: partner ? 'our-partner-key' : undefined,
          limiter,
          clock,
          retry: { attempts: 1, rateLimitAttempts: 0 },
        });
        const start = clock.now();
        for (let i = 0; i < 100; i++) await client.listWarehouses();
        assert.equal(blocks, 0, 'no 429');
        const windows = (clock.now() - start) / 60_000;
        if (partner) assert.equal(windows, 0, 'all 100 in the first window');
        else assert.ok(windows >= 2, `without the partner key 100 calls took ${windows} windows`);
      } finally {
        await sandbox.close();
      }
    });
  }
});
