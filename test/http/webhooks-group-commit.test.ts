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
import { createHttpServer, type HttpServer } from '../../src/http/server.js';
import { QUEUE_FULL_RETRY_AFTER_S, webhookReceiver } from '../../src/http/webhooks.js';
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
  url: string;
  /** How many transactions were started (beforeBatch calls). */
  batches: number;
  /** Queued events now (once the first event arrived). */
  waiting(): number;
  /** Lets held transactions go. */
  release(): void;
  /** The inbox moved into jobs (rejects when a drain failed). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** The receiver on its own server; `holdUntil` holds its first transaction until that many events queued (or `release`). */
async function startReceiver(
  store: Store,
  options: { maxBatch: number; maxQueue: number; holdUntil?: number; drainDelayMs?: number },
): Promise<Receiver> {
  let released = options.holdUntil === undefined;
  let waiting: (() => number) | undefined;
  let wake: (() => void) | undefined;
  const state = { batches: 0 };
  const routes = webhookReceiver({
    config,
    store,
    clock: new FakeClock(Date.parse('2026-12-01T12:00:00Z')),
    resolveSecret: async () => SECRET,
    inbox: { delayMs: options.drainDelayMs ?? 0 },
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
  const server: HttpServer = createHttpServer({
    host: '127.0.0.1',
    port: 0,
    readiness: { check: async () => {}, stopping: () => false },
    routes: [routes],
  });
  const address = await server.listen();
  return {
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
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
}

/** Until `done()` or many turns of the event loop (a hang fails instead of waiting for ever). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 200_000; turn++) {
    if (done()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  assert.fail(`never happened: ${what}`);
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

/** A trigger named `name` that fails every insert into `table` whose payload names `batchId=<batch>`. */
async function failInserts(
  store: Store,
  dialect: string,
  name: string,
  table: 'jobs' | 'webhook_inbox',
  batch: number,
): Promise<void> {
  const match = `%batchId=${batch}&%`;
  if (dialect === 'sqlite') {
    await sql`CREATE TRIGGER ${sql.raw(name)} BEFORE INSERT ON ${sql.raw(table)} WHEN NEW.payload LIKE ${sql.lit(match)}
              BEGIN SELECT RAISE(ABORT, 'injected failure'); END`.execute(store.db);
    return;
  }
  await sql`CREATE FUNCTION ${sql.raw(name)}() RETURNS trigger AS $$
            BEGIN IF NEW.payload LIKE ${sql.lit(match)} THEN RAISE EXCEPTION 'injected failure'; END IF;
            RETURN NEW; END $$ LANGUAGE plpgsql`.execute(store.db);
  await sql`CREATE TRIGGER ${sql.raw(name)} BEFORE INSERT ON ${sql.raw(table)} FOR EACH ROW EXECUTE FUNCTION ${sql.raw(name)}()`.execute(
    store.db,
  );
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

  it('an acknowledged event whose move into jobs fails stays in the inbox and moves once it can', async () => {
    await failInserts(ctx.store, ctx.dialect, 'stuck', 'jobs', 750_000);
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
      assert.deepEqual(await storedJobs(ctx.store, events), [], 'the failed move rolled back');
      assert.deepEqual((await inboxRows(ctx.store)).sort(), events.map((b) => resourceUrl(b)).sort());
    } finally {
      await sql`DROP TRIGGER stuck ${ctx.dialect === 'postgres' ? sql`ON jobs` : sql``}`.execute(
        ctx.store.db,
      );
      if (ctx.dialect === 'postgres') await sql`DROP FUNCTION stuck()`.execute(ctx.store.db);
    }
    await r.settle();
    assert.equal((await storedJobs(ctx.store, events)).length, 2);
    assert.deepEqual(await inboxRows(ctx.store), []);
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
    await closing;
    open = open.filter((o) => o !== r);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200],
    );
    assert.equal((await storedJobs(ctx.store, events)).length, 3, 'stored and moved into jobs at close');
    assert.deepEqual(await inboxRows(ctx.store), []);
  });
});
