/**
 * The database-backed limiter (what several processes share on PostgreSQL) driving the real V1
 * client against the ShipStation sandbox: 400 calls at a limit of 40 per window get no 429 on
 * either dialect. Client, limiter and sandbox share one fake clock, so windows pass instantly.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { DbRateLimiter } from '../../src/engine/db-rate-limiter.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { createShipStationV1Client } from '../../src/shipstation/v1/client.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

forEachDialect('DB rate limiter with the V1 client', (ctx) => {
  let clock: FakeClock;
  let sandbox: ShipStationSandbox;

  before(async () => {
    clock = new FakeClock(Date.parse('2026-01-15T20:00:00Z'));
    sandbox = await startShipStationSandbox({ port: 0, clock, seed: 3, backgroundTimers: false });
  });
  after(async () => {
    await sandbox.close();
  });

  it('sends 400 calls through a limit of 40 per window without a 429', async () => {
    let tooMany = 0;
    const limiter = new DbRateLimiter(ctx.store, { limit: 40, windowMs: 60_000, clock });
    const blocked = limiter.block.bind(limiter);
    limiter.block = async (key, until) => {
      tooMany++;
      await blocked(key, until);
    };
    const client = createShipStationV1Client({
      baseUrl: sandbox.url,
      apiKey: sandbox.apiKey,
      apiSecret: sandbox.apiSecret,
      limiter,
      clock,
      retry: { attempts: 1, rateLimitAttempts: 0 },
    });
    const start = clock.now();
    for (let i = 0; i < 400; i++) await client.listWarehouses();
    assert.equal(tooMany, 0, 'no 429 came back');
    const windows = (clock.now() - start) / 60_000;
    assert.ok(windows >= 9 && windows <= 11, `400 calls at 40 per window took ${windows.toFixed(1)} windows`);
  });
});
