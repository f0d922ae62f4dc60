/**
 * Group commit in the webhook receiver (`http/webhooks.ts` over `store/jobs/group-enqueue.ts`, into
 * the inbox `store/webhook-inbox.ts`, moved into jobs by `store/inbox-drainer.ts`):
 * real HTTP to the `run` server's route module on 127.0.0.1, a real store (SQLite, and PostgreSQL
 * when `TEST_DATABASE_URL` is set). Effects are counted in the jobs table once the receiver's
 * `settle()` moved the inbox (and in the inbox before that). The receiver's
 * `groupCommit.beforeBatch` seam holds a transaction until a given number of events queued, so
 * which events share a transaction is decided by the test, not by timing.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { configSchema } from '../../src/config/schema.js';
import { metricsRoute } from '../../src/http/metrics.js';
import { createHttpServer, type HttpServer } from '../../src/http/server.js';
import {
  INBOX_FULL_RETRY_AFTER_S,
  QUEUE_FULL_RETRY_AFTER_S,
  type WebhookRoutes,
  webhookReceiver,
} from '../../src/http/webhooks.js';
import type { Store } from '../../src/store/open.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

const SECRET = 'group0123456789abcdef0123456789abcdef';

const config = configSchema.parse({
  connections: [
    {
      name: 'main',
      syspro: {
        enetUrl: 'http://127.0.0.1:1/SYSPROWCFService/Rest',
        odataUrl: 'http://127.0.0.1:1/SYSPRO8/OData',
        operator: 'ADMIN',
        company: 'EDU1',
      },
      shipstation: {
        apiKey: 'secret:shipstation.apiKey',
        apiSecret: 'secret:shipstation.apiSecret',
        webhookSecret: 'secret:shipstation.webhookSecret',
      },
    },
  ],
});

/** The event whose job insert the test's trigger refuses. */
const POISON = 666_999;

const resourceUrl = (batch: number) =>
  `https://ssapi6.shipstation.com/shipments?batchId=${batch}&includeShipmentItems=True`;

interface Receiver {
  /** The server (`/readyz`, `/metrics`). */
  base: string;
  url: string;
  /** How many transactions were started (beforeBatch calls). */
  batches: number;
  /** Queued events now (once the first event arrived). */
  waiting(): number;
  /** Lets held transactions go. */
  release(): void;
  /** The inbox moved into jobs (rejects when a drain failed). */
  settle(): Promise<void>;
  inboxStatus(): ReturnType<WebhookRoutes['inboxStatus']>;
  close(): Promise<void>;
}

/** The receiver on its own server; `holdUntil` holds its first transaction until that many events queued (or `release`). */
async function startReceiver(
  store: Store,
  options: {
    maxBatch: number;
    maxQueue: number;
    holdUntil?: number;
    drainDelayMs?: number;
    inboxLimit?: number;
    retryMs?: number;
  },
): Promise<Receiver> {
  let released = options.holdUntil === undefined;
  let waiting: (() => number) | undefined;
  let wake: (() => void) | undefined;
  const state = { batches: 0 };
  const clock = new FakeClock(Date.parse('2026-12-01T12:00:00Z'));
  const routes = webhookReceiver({
    config,
    store,
    clock,
    resolveSecret: async () => SECRET,
    inbox: {
      delayMs: options.drainDelayMs ?? 0,
      ...(options.inboxLimit === undefined ? {} : { limit: options.inboxLimit }),
      ...(options.retryMs === undefined ? {} : { retryMs: options.retryMs }),
    },
    groupCommit: {
      maxBatch: options.maxBatch,
      maxQueue: options.maxQueue,
      beforeBatch: async (count) => {
        waiting = count;
        state.batches++;
        // Only the first transaction is held.
        while (state.batches === 1 && !released && count() < (options.holdUntil as number)) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setImmediate(resolve);
          });
        }
      },
    },
  });
  // Wired as `run` wires them: `/readyz` and `/metrics` show the inbox.
  const server: HttpServer = createHttpServer({
    host: '127.0.0.1',
    port: 0,
    readiness: {
      check: async () => {},
      stopping: () => false,
      details: () => ({ webhookInbox: routes.inboxStatus() }),
    },
    routes: [
      routes,
      metricsRoute({ store, clock, cacheMs: 0, processMetrics: false, inbox: routes.inboxStatus }),
    ],
  });
  const address = await server.listen();
  return {
    base: address,
    url: `${address}/webhooks/shipstation/main?token=${SECRET}`,
    get batches() {
      return state.batches;
    },
    waiting: () => waiting?.() ?? 0,
    release() {
      released = true;
      wake?.();
    },
    settle: () => routes.settle(),
    inboxStatus: () => routes.inboxStatus(),
    close: () => server.close(),
  };
}

async function post(url: string, batch: number) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resource_url: resourceUrl(batch), resource_type: 'ITEM_SHIP_NOTIFY' }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    connection: res.headers.get('connection'),
    body,
  };
}

/** Until `done()` or many turns of the event loop (a hang fails instead of waiting for ever). */
/**
 * Waits, a turn of the event loop at a time, until `done` holds; fails after 10 s of real time (a
 * count of turns ran out before the first requests of a file run alone had even connected).
 */
async function until(done: () => boolean, what: string): Promise<void> {
  const cap = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > cap) assert.fail(`never happened: ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

async function inboxRows(store: Store) {
  const rows = await store.db.selectFrom('webhook_inbox').select(['id', 'payload']).orderBy('id').execute();
  return rows.map((r) => JSON.parse(r.payload).resourceUrl as string);
}

async function storedJobs(store: Store, batches: Array<number>) {
  const wanted = new Set(batches.map((b) => resourceUrl(b)));
  const rows = await store.db
    .selectFrom('jobs')
    .select(['id', 'payload', 'state', 'kind'])
    .where('kind', '=', 'shipments.fetch')
    .execute();
  return rows
    .map((r) => ({ id: Number(r.id), state: r.state, url: JSON.parse(r.payload).resourceUrl as string }))
    .filter((r) => wanted.has(r.url));
}

/**
 * A trigger named `name` that refuses every insert into `table` whose payload names
 * `batchId=<batch>` (and where `also` holds).
 */
async function failInserts(
  store: Store,
  dialect: string,
  name: string,
  table: 'jobs' | 'webhook_inbox',
  batch: number,
  also = 'TRUE',
): Promise<void> {
  const match = `%batchId=${batch}&%`;
  if (dialect === 'sqlite') {
    await sql`CREATE TRIGGER ${sql.raw(name)} BEFORE INSERT ON ${sql.raw(table)} WHEN NEW.payload LIKE ${sql.lit(match)} AND ${sql.raw(also)}
              BEGIN SELECT RAISE(ABORT, 'injected failure'); END`.execute(store.db);
    return;
  }
  await sql`CREATE FUNCTION ${sql.raw(name)}() RETURNS trigger AS $$
            BEGIN IF NEW.payload LIKE ${sql.lit(match)} AND ${sql.raw(also)} THEN RAISE EXCEPTION 'injected failure'; END IF;
            RETURN NEW; END $$ LANGUAGE plpgsql`.execute(store.db);
  await sql`CREATE TRIGGER ${sql.raw(name)} BEFORE INSERT ON ${sql.raw(table)} FOR EACH ROW EXECUTE FUNCTION ${sql.raw(name)}()`.execute(
    store.db,
  );
}

/**
 * Makes every insert into jobs fail as a store that cannot work now does (not a refusal of the
 * row), so drains fail while the receiver's appends to the inbox still commit; returns the undo.
 * SQLite: a trigger calling a function of the store's connection that throws. PostgreSQL: a
 * serialization failure (SQLSTATE 40001).
 */
async function failDrains(store: Store, dialect: string): Promise<() => Promise<void>> {
  if (dialect === 'sqlite') {
    store.sqlite!.function('injected_failure', () => {
      throw new Error('injected failure: the store cannot write jobs now');
    });
    await sql`CREATE TRIGGER fail_drains BEFORE INSERT ON jobs BEGIN SELECT injected_failure(); END`.execute(
      store.db,
    );
    return async () => {
      await sql`DROP TRIGGER fail_drains`.execute(store.db);
    };
  }
  await sql`CREATE FUNCTION fail_drains() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'injected failure: could not serialize' USING ERRCODE = 'serialization_failure'; END
            $$ LANGUAGE plpgsql`.execute(store.db);
  await sql`CREATE TRIGGER fail_drains BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION fail_drains()`.execute(
    store.db,
  );
  return async () => {
    await sql`DROP TRIGGER fail_drains ON jobs`.execute(store.db);
    await sql`DROP FUNCTION fail_drains()`.execute(store.db);
  };
}

async function getJson(url: string) {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function metric(base: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

forEachDialect('webhook receiver: group commit', (ctx) => {
  let open: Receiver[] = [];
  const receiver = async (options: Parameters<typeof startReceiver>[1]) => {
    const r = await startReceiver(ctx.store, options);
    open.push(r);
    return r;
  };
  before(() => {
    open = [];
  });
  after(async () => {
    for (const r of open) {
      r.release();
      await r.close();
    }
  });

  it('many concurrent posts go in a few transactions: every one answered 200 and stored, one job per event', async () => {
    const r = await receiver({ maxBatch: 50, maxQueue: 1000, holdUntil: 220 });
    const distinct = Array.from({ length: 200 }, (_, i) => 710_000 + i);
    // 20 redeliveries of events in the same flood: they coalesce into the event's job.
    const repeats = distinct.slice(0, 20);
    const answers = await Promise.all([...distinct, ...repeats].map((b) => post(r.url, b)));
    assert.deepEqual(
      answers.map((a) => a.status),
      answers.map(() => 200),
    );
    assert.ok(r.batches <= 5, `${r.batches} transactions for 220 events in batches of 50`);

    const ids = answers.map((a) => a.body.inboxId);
    assert.equal(new Set(ids).size, 220, 'each answer names its own inbox row');
    await r.settle();
    const jobs = await storedJobs(ctx.store, distinct);
    assert.equal(jobs.length, 200, 'one job per distinct event: the 20 redeliveries coalesced');
    assert.deepEqual(await inboxRows(ctx.store), [], 'the inbox is empty once moved');
  });

  it('a transaction that fails answers 503 to every event in it and stores none of them', async () => {
    await failInserts(ctx.store, ctx.dialect, 'poison', 'webhook_inbox', 666_999);
    try {
      const r = await receiver({ maxBatch: 50, maxQueue: 1000, holdUntil: 10 });
      const innocent = Array.from({ length: 9 }, (_, i) => 720_000 + i);
      const answers = await Promise.all([...innocent, POISON].map((b) => post(r.url, b)));
      assert.deepEqual(
        answers.map((a) => a.status),
        answers.map(() => 503),
        'no 200 for an event whose transaction rolled back',
      );
      assert.equal(r.batches, 1, 'the ten shared one transaction');
      await r.settle();
      assert.deepEqual(await storedJobs(ctx.store, [...innocent, POISON]), [], 'none of them is stored');
      assert.deepEqual(await inboxRows(ctx.store), [], 'not even in the inbox');

      // ShipStation delivers again: without the poisoned event in the transaction, all go in.
      const again = await Promise.all(innocent.map((b) => post(r.url, b)));
      assert.deepEqual(
        again.map((a) => a.status),
        again.map(() => 200),
      );
      await r.settle();
      assert.equal((await storedJobs(ctx.store, innocent)).length, 9);
    } finally {
      await sql`DROP TRIGGER poison ${ctx.dialect === 'postgres' ? sql`ON webhook_inbox` : sql``}`.execute(
        ctx.store.db,
      );
      if (ctx.dialect === 'postgres') await sql`DROP FUNCTION poison()`.execute(ctx.store.db);
    }
  });

  it('an acknowledged event whose move into jobs fails (the store cannot write jobs now) stays in the inbox and moves once it can', async () => {
    const restore = await failDrains(ctx.store, ctx.dialect);
    const r = await receiver({ maxBatch: 50, maxQueue: 1000, drainDelayMs: 60_000 });
    const events = [750_000, 750_001];
    try {
      const answers = await Promise.all(events.map((b) => post(r.url, b)));
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200],
        'acknowledged: they are in the inbox',
      );
      await assert.rejects(r.settle(), /could not be drained/);
      assert.deepEqual(await storedJobs(ctx.store, events), [], 'the failed move rolled back, nothing dead');
      assert.deepEqual((await inboxRows(ctx.store)).sort(), events.map((b) => resourceUrl(b)).sort());
    } finally {
      await restore();
    }
    await r.settle();
    assert.deepEqual(
      (await storedJobs(ctx.store, events)).map((j) => j.state),
      ['queued', 'queued'],
    );
    assert.deepEqual(await inboxRows(ctx.store), []);
  });

  it('an acknowledged event whose job the store refuses becomes a dead job; the events after it move', async () => {
    await failInserts(ctx.store, ctx.dialect, 'refuse', 'jobs', 751_001, "NEW.state = 'queued'");
    const r = await receiver({ maxBatch: 50, maxQueue: 1000, holdUntil: 3 });
    const events = [751_000, 751_001, 751_002];
    try {
      const answers = await Promise.all(events.map((b) => post(r.url, b)));
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200],
      );
      await r.settle();
      const jobs = await storedJobs(ctx.store, events);
      assert.deepEqual(
        jobs.map((j) => [j.url, j.state]).sort(),
        events.map((b) => [resourceUrl(b), b === 751_001 ? 'dead' : 'queued']).sort(),
      );
      assert.deepEqual(await inboxRows(ctx.store), []);
      assert.equal(r.inboxStatus().deadLettered, 1);
    } finally {
      await sql`DROP TRIGGER refuse ${ctx.dialect === 'postgres' ? sql`ON jobs` : sql``}`.execute(
        ctx.store.db,
      );
      if (ctx.dialect === 'postgres') await sql`DROP FUNCTION refuse()`.execute(ctx.store.db);
    }
  });

  it('past http.webhookInboxLimit events the drain cannot move, webhooks get 503 with Retry-After; /readyz and /metrics show the backlog', async () => {
    const restore = await failDrains(ctx.store, ctx.dialect);
    // The drain retries only when told (settle): the test decides when it runs.
    const r = await receiver({ maxBatch: 50, maxQueue: 1000, inboxLimit: 3, retryMs: 3_600_000 });
    const events = [752_000, 752_001, 752_002];
    let restored = false;
    try {
      for (const b of events) {
        assert.equal((await post(r.url, b)).status, 200, 'acknowledged below the limit');
        await r.settle().catch(() => {});
      }
      const refused = await post(r.url, 752_003);
      assert.equal(refused.status, 503);
      assert.equal(refused.retryAfter, String(INBOX_FULL_RETRY_AFTER_S));
      assert.match(String(refused.body.error), /3 webhook events wait to be moved into jobs/);
      assert.equal((await inboxRows(ctx.store)).length, 3, 'the refused event was not stored');

      const ready = await getJson(`${r.base}/readyz`);
      assert.equal(ready.status, 200, 'a full inbox does not make the process unready');
      const inbox = ready.body.webhookInbox as Record<string, unknown>;
      assert.deepEqual([inbox.state, inbox.waiting, inbox.limit, inbox.refused], ['full', 3, 3, 1]);
      assert.ok(Number(inbox.failingDrains) >= 3, `failing drains: ${inbox.failingDrains}`);
      assert.match(String(inbox.lastError), /injected failure/);
      assert.equal(await metric(r.base, 'mlc_webhook_inbox_rows'), 3);
      assert.equal(await metric(r.base, 'mlc_webhook_inbox_limit'), 3);
      assert.equal(await metric(r.base, 'mlc_webhook_inbox_full'), 1);
      assert.equal(await metric(r.base, 'mlc_webhook_inbox_refused'), 1);

      await restore();
      restored = true;
      await r.settle();
      assert.equal((await post(r.url, 752_003)).status, 200, 'acknowledged again once the inbox moved');
      await r.settle();
      const after = (await getJson(`${r.base}/readyz`)).body.webhookInbox as Record<string, unknown>;
      assert.deepEqual([after.state, after.waiting, after.failingDrains], ['ok', 0, 0]);
      assert.equal(await metric(r.base, 'mlc_webhook_inbox_rows'), 0);
      assert.deepEqual(
        (await storedJobs(ctx.store, [...events, 752_003])).map((j) => j.state),
        ['queued', 'queued', 'queued', 'queued'],
        "nothing dead-lettered: the failure was not the rows' fault",
      );
    } finally {
      if (!restored) await restore();
    }
  });

  it('a full queue answers 503 with Retry-After at once; what it acknowledged is stored', async () => {
    const r = await receiver({ maxBatch: 5, maxQueue: 5, holdUntil: Number.POSITIVE_INFINITY });
    const first = Array.from({ length: 5 }, (_, i) => 730_000 + i);
    const pending = first.map((b) => post(r.url, b));
    await until(() => r.waiting() === 5, 'five events queued');

    const refused = await Promise.all([730_100, 730_101, 730_102].map((b) => post(r.url, b)));
    for (const a of refused) {
      assert.equal(a.status, 503);
      assert.equal(a.retryAfter, String(QUEUE_FULL_RETRY_AFTER_S));
      assert.match(String(a.body.error), /too many webhooks waiting/);
    }
    assert.deepEqual(await storedJobs(ctx.store, [...first, 730_100, 730_101, 730_102]), []);

    r.release();
    const answers = await Promise.all(pending);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200],
    );
    await r.settle();
    const stored = await storedJobs(ctx.store, [...first, 730_100, 730_101, 730_102]);
    assert.deepEqual(stored.map((j) => j.url).sort(), first.map((b) => resourceUrl(b)).sort());
    // Once the queue drained, a redelivery of a refused event is taken.
    assert.equal((await post(r.url, 730_100)).status, 200);
  });

  it('closing the server waits for the events in flight to be stored', async () => {
    const r = await receiver({ maxBatch: 50, maxQueue: 1000, holdUntil: 3 });
    const events = [740_000, 740_001, 740_002];
    const pending = events.map((b) => post(r.url, b));
    await until(() => r.waiting() === 3, 'three events queued');
    const closing = r.close();
    const answers = await Promise.all(pending);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200],
    );
    // Answered after the close began: the server ends their connections, so the close does not wait
    // for the client to drop an idle keep-alive connection (it took Fastify's 72 s keepAliveTimeout).
    assert.deepEqual(
      answers.map((a) => a.connection),
      ['close', 'close', 'close'],
    );
    await closing;
    open = open.filter((o) => o !== r);
    assert.equal((await storedJobs(ctx.store, events)).length, 3, 'stored and moved into jobs at close');
    assert.deepEqual(await inboxRows(ctx.store), []);
  });
});
