/**
 * `/metrics` on the run server (`createHttpServer` with the metrics route) over real HTTP against a
 * migrated store of each dialect: jobs enqueued, completed, failed and killed, poll schedules, audit
 * rows and a ShipStation budget through the store's own functions; the text parsed and every value
 * asserted exactly; a second scrape within the cache window reads nothing from the store.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { DbRateLimiter } from '../../src/engine/db-rate-limiter.js';
import { METRICS_CACHE_MS, type MetricsRoute, metricsRoute } from '../../src/http/metrics.js';
import { createHttpServer, type HttpServer, storeReadiness } from '../../src/http/server.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { appendAudit } from '../../src/store/audit.js';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { completeJobs } from '../../src/store/jobs/complete.js';
import { enqueueJob, enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { failJob } from '../../src/store/jobs/fail.js';
import { enqueueDueSchedules, syncScheduleRows } from '../../src/store/jobs/schedules.js';
import { CallMetrics, callMetricsFor } from '../../src/sync/call-metrics.js';
import type { ConnectionClients } from '../../src/sync/connection-clients.js';
import { FakeClock } from '../helpers/clock.js';
import { createTestStore, forEachDialect } from '../helpers/dialects.js';
import { connectToSandboxes } from '../helpers/sandbox-connection.js';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const OWNER = 'test-worker';

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The samples of a Prometheus text exposition (no escapes in our label values). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g))
      labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** `{labels} value` lines of one metric, sorted, for exact comparison. */
function series(samples: Sample[], name: string): string[] {
  return samples
    .filter((s) => s.name === name)
    .map((s) => {
      const labels = Object.entries(s.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return `{${labels}} ${s.value}`;
    })
    .sort();
}

forEachDialect('metrics route', (ctx) => {
  const clock = new FakeClock(T0, { autoAdvance: false });
  const calls = new CallMetrics();
  let route: MetricsRoute;
  let server: HttpServer;
  let base: string;

  before(async () => {
    route = metricsRoute({ store: ctx.store, clock, calls, processMetrics: false, auditSettleRows: 2 });
    server = createHttpServer({
      host: '127.0.0.1',
      port: 0,
      readiness: storeReadiness(ctx.store),
      routes: [route],
    });
    base = await server.listen();
  });
  after(async () => {
    await server.close();
  });

  const scrape = async () => {
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    return parse(await response.text());
  };

  it('an empty store: no job, poll, record or budget series; an empty webhook inbox', async () => {
    const samples = await scrape();
    assert.deepEqual(
      samples.filter((s) => s.name.startsWith('mlc_') && s.name !== 'mlc_sqlite_statement_cache_bytes'),
      [{ name: 'mlc_webhook_inbox_rows', labels: {}, value: 0 }],
    );
  });

  it('reports the SQLite statement cache (native memory outside the V8 heap) on SQLite only', async () => {
    const samples = (await scrape()).filter((s) => s.name === 'mlc_sqlite_statement_cache_bytes');
    if (ctx.dialect === 'postgres') {
      assert.deepEqual(samples, []);
      return;
    }
    assert.equal(samples.length, 1);
    // The scrape's own reads are cached statements: the figure is the cache as it stands.
    assert.ok(samples[0]!.value > 0);
    assert.equal(samples[0]!.value, ctx.store.statements!.cachedBytes);
  });

  it('reports jobs, polls, records and budgets exactly, and caches the read', async () => {
    // Jobs: 3 sync jobs queued at T0; one completed, one failed for good (dead), one left queued.
    clock.set(T0 + 10_000);
    const now = clock.now();
    await enqueueJobs(
      ctx.store,
      [1, 2, 3].map((n) => ({ kind: 'orders.push', connection: 'main', payload: { n }, runAt: T0 })),
      now,
    );
    const claimed = await claimJobs(ctx.store, {
      kind: 'orders.push',
      limit: 2,
      owner: OWNER,
      leaseMs: 60_000,
      now,
    });
    assert.equal(claimed.length, 2);
    const [done, dies] = claimed as [(typeof claimed)[0], (typeof claimed)[0]];
    await completeJobs(ctx.store, OWNER, [{ id: done.id }], now);
    assert.ok(await failJob(ctx.store, OWNER, dies.id, 'SYSPRO said no', null, now));
    // A job due in the future (a retry waiting) does not count as waiting late.
    await enqueueJob(
      ctx.store,
      { kind: 'shipments.writeback', connection: 'main', runAt: now + 60_000 },
      now,
    );

    // Polls: orders.poll on main succeeded once, then its next run fails; shipments.poll never ran.
    await syncScheduleRows(
      ctx.store,
      [
        { connection: 'main', kind: 'orders.poll', intervalMs: 60_000 },
        { connection: 'main', kind: 'shipments.poll', intervalMs: 60_000 },
      ],
      now,
      () => now,
    );
    await enqueueDueSchedules(ctx.store, now, () => now + 60_000);
    const poll1 = await claimJobs(ctx.store, {
      kind: 'orders.poll',
      limit: 1,
      owner: OWNER,
      leaseMs: 60_000,
      now,
    });
    await completeJobs(ctx.store, OWNER, [{ id: (poll1[0] as { id: number }).id }], now + 1000);
    // shipments.poll: claimed, one failed attempt, queued again for a retry at +10 s.
    const sp = await claimJobs(ctx.store, {
      kind: 'shipments.poll',
      limit: 1,
      owner: OWNER,
      leaseMs: 60_000,
      now,
    });
    assert.ok(
      await failJob(ctx.store, OWNER, (sp[0] as { id: number }).id, 'unreachable', now + 10_000, now),
    );

    // Audit: two orders pushed, one skipped, one failed.
    const audit = (entityKey: string, action: string, outcome: 'ok' | 'error' | 'skipped') =>
      appendAudit(ctx.store.db, {
        connection: 'main',
        flow: 'orders.push',
        entityType: 'order',
        entityKey,
        action,
        outcome,
        at: now,
      });
    await audit('EDU1:1', 'push', 'ok');
    await audit('EDU1:2', 'push', 'ok');
    await audit('EDU1:3', 'skip', 'skipped');
    await audit('EDU1:4', 'fail', 'error');

    // Budgets: 3 of 40 sent on k1, then the server says 10 remain for 30 s; k2 is blocked by a 429.
    const limiter = new DbRateLimiter(ctx.store, { limit: 40, windowMs: 60_000, clock });
    for (let i = 0; i < 3; i++) await limiter.acquire('shipstation-v1:k1');
    await limiter.observe('shipstation-v1:k1', { limit: 40, remaining: 10, resetSeconds: 30, at: now });
    await limiter.acquire('shipstation-v1:k2');
    await limiter.block('shipstation-v1:k2', now + 20_000);

    // Calls: in-process histograms.
    calls.syspro({ connection: 'main', api: 'enet', outcome: 'ok', ms: 80 });
    calls.shipstation({ connection: 'main', api: 'v1', outcome: 'ok', ms: 300 });

    clock.set(now + METRICS_CACHE_MS); // past the empty scrape's cache
    const readsBefore = route.storeMetrics.reads;
    const at = clock.now(); // T0 + 15 s
    const s = await scrape();
    assert.equal(route.storeMetrics.reads, readsBefore + 1);

    assert.deepEqual(series(s, 'mlc_jobs'), [
      '{kind=orders.poll,state=cancelled} 0',
      '{kind=orders.poll,state=dead} 0',
      '{kind=orders.poll,state=queued} 0',
      '{kind=orders.poll,state=running} 0',
      '{kind=orders.poll,state=succeeded} 1',
      '{kind=orders.push,state=cancelled} 0',
      '{kind=orders.push,state=dead} 1',
      '{kind=orders.push,state=queued} 1',
      '{kind=orders.push,state=running} 0',
      '{kind=orders.push,state=succeeded} 1',
      '{kind=shipments.poll,state=cancelled} 0',
      '{kind=shipments.poll,state=dead} 0',
      '{kind=shipments.poll,state=queued} 1',
      '{kind=shipments.poll,state=running} 0',
      '{kind=shipments.poll,state=succeeded} 0',
      '{kind=shipments.writeback,state=cancelled} 0',
      '{kind=shipments.writeback,state=dead} 0',
      '{kind=shipments.writeback,state=queued} 1',
      '{kind=shipments.writeback,state=running} 0',
      '{kind=shipments.writeback,state=succeeded} 0',
    ]);
    // orders.push's queued job was due at T0: 15 s old. shipments.poll is due at T0+20 s.
    assert.deepEqual(series(s, 'mlc_job_oldest_queued_seconds'), [
      '{kind=orders.poll} 0',
      '{kind=orders.push} 15',
      '{kind=shipments.poll} 0',
      '{kind=shipments.writeback} 0',
    ]);
    assert.equal(at - T0, 15_000);
    assert.deepEqual(series(s, 'mlc_poll_last_success_timestamp_seconds'), [
      `{connection=main,kind=orders.poll} ${(T0 + 11_000) / 1000}`,
      '{connection=main,kind=shipments.poll} 0',
    ]);
    assert.deepEqual(series(s, 'mlc_poll_failures'), [
      '{connection=main,kind=orders.poll} 0',
      '{connection=main,kind=shipments.poll} 1',
    ]);
    assert.deepEqual(series(s, 'mlc_poll_last_enqueued_timestamp_seconds'), [
      `{connection=main,kind=orders.poll} ${(T0 + 10_000) / 1000}`,
      `{connection=main,kind=shipments.poll} ${(T0 + 10_000) / 1000}`,
    ]);
    assert.deepEqual(series(s, 'mlc_records_total'), [
      '{action=fail,connection=main,flow=orders.push,outcome=error} 1',
      '{action=push,connection=main,flow=orders.push,outcome=ok} 2',
      '{action=skip,connection=main,flow=orders.push,outcome=skipped} 1',
    ]);
    // k1: 37 left of our own sends, the server's 10 is lower; k2: blocked.
    assert.deepEqual(series(s, 'mlc_shipstation_budget_remaining'), [
      '{key=shipstation-v1:k1} 10',
      '{key=shipstation-v1:k2} 0',
    ]);
    assert.deepEqual(series(s, 'mlc_shipstation_budget_limit'), [
      '{key=shipstation-v1:k1} 40',
      '{key=shipstation-v1:k2} 40',
    ]);
    assert.deepEqual(series(s, 'mlc_syspro_call_duration_seconds_count'), [
      '{api=enet,connection=main,outcome=ok} 1',
    ]);
    assert.deepEqual(series(s, 'mlc_shipstation_call_duration_seconds_sum'), [
      '{api=v1,connection=main,outcome=ok} 0.3',
    ]);

    // Within the cache window: the same figures, no store read, although the store changed.
    await appendAudit(ctx.store.db, {
      connection: 'main',
      flow: 'orders.push',
      entityType: 'order',
      entityKey: 'EDU1:5',
      action: 'push',
      outcome: 'ok',
      at,
    });
    clock.set(at + METRICS_CACHE_MS - 1);
    const cached = await scrape();
    assert.equal(route.storeMetrics.reads, readsBefore + 1);
    assert.deepEqual(series(cached, 'mlc_records_total'), series(s, 'mlc_records_total'));

    // After it: read again; the audit counts (settled rows kept, newer ones counted) add up.
    clock.set(at + METRICS_CACHE_MS);
    const fresh = await scrape();
    assert.equal(route.storeMetrics.reads, readsBefore + 2);
    assert.deepEqual(series(fresh, 'mlc_records_total'), [
      '{action=fail,connection=main,flow=orders.push,outcome=error} 1',
      '{action=push,connection=main,flow=orders.push,outcome=ok} 3',
      '{action=skip,connection=main,flow=orders.push,outcome=skipped} 1',
    ]);
    // Two scrapes at once after the window: one read between them.
    clock.set(at + 2 * METRICS_CACHE_MS);
    const both = await Promise.all([scrape(), scrape()]);
    assert.equal(route.storeMetrics.reads, readsBefore + 3);
    assert.deepEqual(series(both[0], 'mlc_records_total'), series(both[1], 'mlc_records_total'));
    // The budget window of k1's server answer (30 s from T0+10 s) has passed: 37 of our own left.
    clock.set(T0 + 45_000);
    const later = await scrape();
    assert.deepEqual(series(later, 'mlc_shipstation_budget_remaining'), [
      '{key=shipstation-v1:k1} 37',
      '{key=shipstation-v1:k2} 39',
    ]);
  });
});

forEachDialect('metrics route: process metrics', (ctx) => {
  it('exposes the default process metrics', async () => {
    const server = createHttpServer({
      host: '127.0.0.1',
      port: 0,
      readiness: storeReadiness(ctx.store),
      routes: [metricsRoute({ store: ctx.store })],
    });
    const base = await server.listen();
    try {
      const samples = parse(await (await fetch(`${base}/metrics`)).text());
      assert.ok(samples.some((s) => s.name === 'process_cpu_user_seconds_total'));
      assert.ok(samples.some((s) => s.name === 'nodejs_heap_size_used_bytes'));
    } finally {
      await server.close();
    }
  });
});

forEachDialect('metrics route: call latency', (ctx) => {
  const clock = new FakeClock(T0);
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let clients: ConnectionClients | undefined;
  before(async () => {
    shipstation = await startShipStationSandbox({ port: 0, seed: 3, clock });
    syspro = await startSysproSandbox({ port: 0, seed: 3, orders: 5, clock });
  });
  after(async () => {
    await clients?.close();
    await shipstation?.close();
    await syspro?.close();
  });

  it('counts every SYSPRO e.net and ShipStation request of the clients, by outcome', async () => {
    ({ clients } = await connectToSandboxes({ shipstation, syspro, store: ctx.store, clock }));
    await clients.enet.checkLogon();
    await clients.shipstation!.listWarehouses();
    await assert.rejects(clients.shipstation!.getOrder(987_654_321));
    const server = createHttpServer({
      host: '127.0.0.1',
      port: 0,
      readiness: storeReadiness(ctx.store),
      routes: [
        metricsRoute({ store: ctx.store, clock, calls: callMetricsFor(ctx.store), processMetrics: false }),
      ],
    });
    const base = await server.listen();
    try {
      const s = parse(await (await fetch(`${base}/metrics`)).text());
      // checkLogon: Logon, GetVersion, Logoff.
      assert.deepEqual(series(s, 'mlc_syspro_call_duration_seconds_count'), [
        '{api=enet,connection=main,outcome=ok} 3',
      ]);
      assert.deepEqual(series(s, 'mlc_shipstation_call_duration_seconds_count'), [
        '{api=v1,connection=main,outcome=not_found} 1',
        '{api=v1,connection=main,outcome=ok} 1',
      ]);
    } finally {
      await server.close();
    }
  });
});

it('answers 503 with the reason when the store cannot be read, and reads again on the next scrape', async () => {
  const { store, cleanup } = await createTestStore('sqlite');
  const route = metricsRoute({ store, processMetrics: false });
  const server = createHttpServer({
    host: '127.0.0.1',
    port: 0,
    readiness: storeReadiness(store),
    routes: [route],
  });
  const base = await server.listen();
  try {
    await store.db.schema.dropTable('rate_limits').execute();
    const first = await fetch(`${base}/metrics`);
    assert.equal(first.status, 503);
    assert.match(await first.text(), /^# the store could not be read: .*rate_limits/);
    const second = await fetch(`${base}/metrics`);
    assert.equal(second.status, 503);
    assert.equal(route.storeMetrics.reads, 2);
  } finally {
    await server.close();
    await cleanup();
  }
});
