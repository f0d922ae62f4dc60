/**
 * A process does not wait on a spent ShipStation key while another connection's orders could go
 * (found by bench:scale-out with a tight budget: one process claimed the batch of the connection
 * it had just pushed, the oldest backlog, and sat in the limiter for the key's whole window while
 * 49 other keys had budget). The push claims only connections whose key has a request left, read
 * from the shared budget (`JobHandler.capacity`), so here, with one request per key per window, both
 * connections' first batches go at once and the rest waits for each key's next window.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { configSchema } from '../../src/config/schema.js';
import { Worker } from '../../src/engine/worker.js';
import { createLogger } from '../../src/logger.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { openEveryOrder, type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { jobHandlers } from '../../src/sync/handlers.js';
import { ORDERS_POLL_KIND } from '../../src/sync/orders.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

// Under a minute: on PostgreSQL the database clock measures its offset again after 60 s of the
// (fake) local clock, which would undo a longer advance.
const WINDOW = 20_000;
const BATCH = 4;

forEachDialect('orders push: a spent key does not hold back another connection', (ctx) => {
  const clock = new FakeClock(Date.parse('2026-11-20T15:00:00Z'));
  const pairs: Array<{ name: string; shipstation: ShipStationSandbox; syspro: SysproSandbox }> = [];
  let worker: Worker;

  before(async () => {
    const env: NodeJS.ProcessEnv = {};
    const connections = [];
    for (const [i, name] of ['a', 'b'].entries()) {
      const shipstation = await startShipStationSandbox({
        port: 0,
        seed: 40 + i,
        clock,
        backgroundTimers: false,
        rateLimit: { limit: 1, windowMs: WINDOW },
      });
      const syspro = await startSysproSandbox({ port: 0, seed: 40 + i, orders: 12, clock, company: `C${i}` });
      openEveryOrder(syspro.db);
      pairs.push({ name, shipstation, syspro });
      const document = sandboxConfigDocument(name, {
        shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
        syspro: { ...syspro, enetUrl: syspro.enetUrl },
      }) as { connections: Array<Record<string, Record<string, unknown>>> };
      const c = document.connections[0]!;
      c.shipstation = { ...c.shipstation, rateLimit: { limit: 1, window: WINDOW }, pushBatchSize: BATCH };
      connections.push(c);
      const up = name.toUpperCase();
      env[`ML_CONNECTOR_SECRET_${up}_SYSPRO_OPERATORPASSWORD`] = syspro.operatorPassword;
      env[`ML_CONNECTOR_SECRET_${up}_SYSPRO_COMPANYPASSWORD`] = syspro.companyPassword;
      env[`ML_CONNECTOR_SECRET_${up}_SHIPSTATION_APIKEY`] = shipstation.apiKey;
      env[`ML_CONNECTOR_SECRET_${up}_SHIPSTATION_APISECRET`] = shipstation.apiSecret;
      env[`ML_CONNECTOR_SECRET_${up}_SHIPSTATION_V2APIKEY`] = shipstation.v2ApiKey;
    }
    const config = configSchema.parse({ connections });
    worker = new Worker({
      store: ctx.store,
      clock,
      retry: config.retry,
      handlers: jobHandlers({
        config,
        store: ctx.store,
        masterKey: () => {
          throw new Error('secrets come from the environment here');
        },
        env,
        clock,
        logger: createLogger({ level: 'silent' }),
      }),
    });
  });
  after(async () => {
    for (const p of pairs) {
      await p.shipstation.close();
      await p.syspro.close();
    }
  });

  const inShipStation = () =>
    pairs.map(
      (p) =>
        [...p.shipstation.state.orders.values()].filter((o) => o.orderKey.startsWith(`${p.syspro.company}:`))
          .length,
    );

  it("pushes the second connection's batch in the first key's window, and each key's next batch in its next window", async () => {
    const t0 = clock.now();
    // `a` polls first, so its backlog is the oldest: the claim's fairness alone would take it again.
    for (const p of pairs)
      await enqueueJob(
        ctx.store,
        { kind: ORDERS_POLL_KIND, connection: p.name, idempotencyKey: `test-poll:${p.name}` },
        clock.now(),
      );
    await worker.runUntilIdle();
    assert.deepEqual(inShipStation(), [BATCH, BATCH], 'one batch per connection');
    assert.ok(
      clock.now() - t0 < WINDOW,
      `no wait in a limiter for a spent key (the clock moved ${clock.now() - t0} ms)`,
    );
    for (const p of pairs) assert.equal(p.shipstation.budget().v1.refused, 0);

    // Past both keys' windows (the fake clock may have moved a little between their sends).
    clock.advance(2 * WINDOW);
    await worker.runUntilIdle();
    assert.deepEqual(inShipStation(), [2 * BATCH, 2 * BATCH], "each key's next window: one more batch each");
    for (const p of pairs) assert.equal(p.shipstation.budget().v1.mostInOneWindow, 1);
  });
});
