/** Poll schedules on SQLite and PostgreSQL: due times in the database, singleton polls, restarts. */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { sql } from 'kysely';
import { RetryableError } from '../../src/engine/errors.js';
import { POLL_KINDS, Scheduler } from '../../src/engine/scheduler.js';
import { Worker } from '../../src/engine/worker.js';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { completeJobs } from '../../src/store/jobs/complete.js';
import { getJob } from '../../src/store/jobs/queries.js';
import { listSchedules } from '../../src/store/jobs/schedules.js';
import { openStore, type Store } from '../../src/store/open.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

const MIN = 60_000;
const connections = [
  { name: 'east', polls: { orders: 10 * MIN, shipments: 5 * MIN, customers: 30 * MIN, inventory: 0 } },
  { name: 'west', polls: { orders: 15 * MIN, shipments: 0, customers: 0, inventory: 0 } },
];

forEachDialect('schedules', (ctx) => {
  beforeEach(async () => {
    await ctx.store.db.deleteFrom('schedules').execute();
    await ctx.store.db.deleteFrom('jobs').execute();
  });

  /** PostgreSQL: stores with their own pools, connected before they race; SQLite: the one store. */
  const schedulerStores = async (n: number): Promise<Store[]> => {
    if (ctx.dialect !== 'postgres') return Array.from({ length: n }, () => ctx.store);
    const stores = Array.from({ length: n }, () => openStore(ctx.url, { poolSize: 2 }));
    await Promise.all(stores.flatMap((store) => [1, 2].map(() => sql`select 1`.execute(store.db))));
    return stores;
  };
  const closeSchedulerStores = async (stores: Store[]) => {
    for (const store of stores) if (store !== ctx.store) await store.close();
  };

  const activeJobs = async () =>
    ctx.store.db
      .selectFrom('jobs')
      .select(['id', 'kind', 'connection'])
      .where('state', 'in', ['queued', 'running'])
      .orderBy('id')
      .execute();

  it('enqueues each configured poll once when due, then at its interval, never twice while one is active', async () => {
    const clock = new FakeClock();
    const scheduler = new Scheduler({ store: ctx.store, clock, jitter: 0, random: () => 0.5 });
    assert.deepEqual(await scheduler.syncFromConfig(connections), { added: 4, changed: 0, removed: 0 });
    const first = await scheduler.tick();
    assert.equal(first.length, 4);
    assert.ok(first.every((p) => p.created));
    assert.deepEqual((await activeJobs()).map((j) => `${j.connection}/${j.kind}`).sort(), [
      'east/customers.poll',
      'east/orders.poll',
      'east/shipments.poll',
      'west/orders.poll',
    ]);
    assert.deepEqual(await scheduler.tick(), [], 'nothing due a second time');

    // 5 minutes later the shipments poll is due again, but the last one is still queued: no second job.
    clock.advance(5 * MIN);
    const again = await scheduler.tick();
    assert.deepEqual(
      again.map((p) => [p.kind, p.created]),
      [[POLL_KINDS.shipments, false]],
    );
    assert.equal((await activeJobs()).length, 4);

    // Once that poll ran, the next one is a new job.
    const [poll] = await claimJobs(ctx.store, {
      kind: POLL_KINDS.shipments,
      limit: 1,
      owner: 'w',
      leaseMs: MIN,
      now: clock.now(),
    });
    await completeJobs(ctx.store, 'w', [{ id: poll!.id }], clock.now());
    clock.advance(5 * MIN);
    const third = await scheduler.tick();
    assert.deepEqual(
      third.map((p) => [p.connection, p.kind, p.created]).sort(),
      [
        ['east', POLL_KINDS.orders, false],
        ['east', POLL_KINDS.shipments, true],
      ],
      '10 minutes in, the orders poll is due too, but its last job is still queued',
    );
  });

  it('a restart neither skips nor repeats a poll; two schedulers ticking together enqueue it once', async () => {
    const clock = new FakeClock();
    const one = new Scheduler({ store: ctx.store, clock, jitter: 0, random: () => 0 });
    await one.syncFromConfig(connections.slice(1));
    assert.equal((await one.tick()).length, 1);
    const nextDue = (await listSchedules(ctx.store))[0]!.next_run_at;
    assert.equal(Number(nextDue), clock.now() + 15 * MIN);
    await ctx.store.db.deleteFrom('jobs').execute();

    // "Restart": new scheduler objects, same database; on PostgreSQL each with its own store (pool),
    // as two processes would have, ticking at once.
    clock.advance(10 * MIN);
    const [storeA, storeB] = await schedulerStores(2);
    try {
      const a = new Scheduler({ store: storeA!, clock, jitter: 0, random: () => 0 });
      const b = new Scheduler({ store: storeB!, clock, jitter: 0, random: () => 0 });
      assert.deepEqual(await a.syncFromConfig(connections.slice(1)), { added: 0, changed: 0, removed: 0 });
      assert.deepEqual(await a.tick(), [], 'not due yet: the restart did not reset the schedule');
      clock.advance(5 * MIN);
      const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
      assert.equal(ra.length + rb.length, 1, 'one of the two took the due poll');
      assert.equal((await activeJobs()).length, 1);
      assert.equal(Number((await listSchedules(ctx.store))[0]!.next_run_at), clock.now() + 15 * MIN);
    } finally {
      await closeSchedulerStores([storeA!, storeB!]);
    }
  });

  it('four schedulers with their own stores, ticking at once every minute for half an hour, enqueue each due poll once', async () => {
    const clock = new FakeClock(undefined, { autoAdvance: false });
    const many = Array.from({ length: 10 }, (_, i) => ({
      name: `c${i}`,
      polls: { orders: 5 * MIN, shipments: 0, customers: 0, inventory: i % 2 === 0 ? 15 * MIN : 0 },
    }));
    const stores = await schedulerStores(4);
    try {
      const schedulers = stores.map((store) => new Scheduler({ store, clock, jitter: 0, random: () => 0 }));
      await schedulers[0]!.syncFromConfig(many);
      const t0 = clock.now();
      const created = new Map<string, number[]>();
      for (let minute = 0; minute <= 30; minute++) {
        const results = await Promise.all(schedulers.map((s) => s.tick()));
        const seen = new Set<string>();
        for (const poll of results.flat()) {
          const key = `${poll.connection}/${poll.kind}`;
          assert.ok(!seen.has(key), `${key} taken by two schedulers at minute ${minute}`);
          seen.add(key);
          assert.ok(poll.created, `${key} at minute ${minute}: the previous poll was finished`);
          created.set(key, [...(created.get(key) ?? []), (clock.now() - t0) / MIN]);
        }
        // A worker runs every poll before the next minute (a claim takes from one connection).
        for (const kind of [POLL_KINDS.orders, POLL_KINDS.inventory]) {
          for (;;) {
            const jobs = await claimJobs(ctx.store, {
              kind,
              limit: 100,
              owner: 'w',
              leaseMs: MIN,
              now: clock.now(),
            });
            if (jobs.length === 0) break;
            const ids = jobs.map((j) => ({ id: j.id }));
            await completeJobs(ctx.store, 'w', ids, clock.now());
          }
        }
        clock.advance(MIN);
      }
      assert.equal(created.size, 15);
      const every = (step: number) => Array.from({ length: 30 / step + 1 }, (_, i) => i * step);
      for (const [key, minutes] of created)
        assert.deepEqual(minutes, every(key.endsWith(POLL_KINDS.orders) ? 5 : 15), key);
      const total = await ctx.store.db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(total.n), 10 * 7 + 5 * 3, 'no poll job beyond one per due time');
    } finally {
      await closeSchedulerStores(stores);
    }
  });

  it('jitter spreads the next due time; config changes update and remove schedules', async () => {
    const clock = new FakeClock();
    const scheduler = new Scheduler({ store: ctx.store, clock, jitter: 0.2, random: () => 1 - 1e-9 });
    await scheduler.syncFromConfig(connections.slice(1));
    const [row] = await listSchedules(ctx.store);
    assert.ok(Number(row!.next_run_at) <= clock.now() + 0.2 * 15 * MIN);
    clock.set(Number(row!.next_run_at));
    const [poll] = await scheduler.tick();
    assert.ok(Math.abs(poll!.nextRunAt - (clock.now() + 1.2 * 15 * MIN)) <= 1, 'interval plus 20%');

    const changed = [{ name: 'west', polls: { orders: 5 * MIN, shipments: 0, customers: 0, inventory: 0 } }];
    assert.deepEqual(await scheduler.syncFromConfig(changed), { added: 0, changed: 1, removed: 0 });
    assert.equal(Number((await listSchedules(ctx.store))[0]!.next_run_at), clock.now() + 5 * MIN);
    const off = [{ name: 'west', polls: { orders: 0, shipments: 0, customers: 0, inventory: 0 } }];
    assert.deepEqual(await scheduler.syncFromConfig(off), { added: 0, changed: 0, removed: 1 });
    assert.equal((await listSchedules(ctx.store)).length, 0);
  });

  it('a poll that fails through a 2-hour outage runs every interval meanwhile and within one interval of recovery', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const recovery = start + 120 * MIN;
    const runs: number[] = [];
    const worker = new Worker({
      store: ctx.store,
      clock,
      random: () => 0.5,
      retry: { cadence: [MIN, 5 * MIN, 15 * MIN, 60 * MIN, 360 * MIN], perKind: {}, jitter: 0.2 },
      handlers: [
        {
          kind: POLL_KINDS.orders,
          run: async (jobs) => {
            runs.push((clock.now() - start) / MIN);
            if (clock.now() < recovery) throw new RetryableError('SYSPRO OData: connect ECONNREFUSED');
            return jobs.map(() => ({ ok: true as const }));
          },
        },
      ],
    });
    const scheduler = new Scheduler({ store: ctx.store, clock, jitter: 0, random: () => 0 });
    await scheduler.syncFromConfig([
      { name: 'east', polls: { orders: 10 * MIN, shipments: 0, customers: 0, inventory: 0 } },
    ]);
    let duringOutage: Awaited<ReturnType<typeof getJob>>;
    for (let minute = 0; minute <= 150; minute++) {
      clock.set(start + minute * MIN);
      await scheduler.tick();
      await worker.runUntilIdle();
      if (minute === 119) {
        const [schedule] = await listSchedules(ctx.store);
        duringOutage = await getJob(ctx.store, Number(schedule!.last_job_id));
      }
    }
    // Before: 0, 1, 6, 21, 81 and then 441 (the write cadence, one job holding the slot).
    assert.deepEqual(runs, [0, 1, 6, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150]);
    // One poll job carried the outage, its failures counted and its last error kept.
    assert.equal(duringOutage!.state, 'queued');
    assert.equal(duringOutage!.attempts, 14);
    assert.equal(duringOutage!.lastError, 'RetryableError: SYSPRO OData: connect ECONNREFUSED');
    const dead = await ctx.store.db.selectFrom('jobs').select('id').where('state', '=', 'dead').execute();
    assert.deepEqual(dead, [], 'a poll does not die of an outage');
  });

  it('five processes starting together sync their schedules every time, and none deletes what another serves', async () => {
    const clock = new FakeClock();
    const stores = Array.from({ length: 5 }, () => openStore(ctx.url));
    try {
      for (let round = 0; round < 20; round++) {
        await ctx.store.db.deleteFrom('schedules').execute();
        // All five serve east and west; the fifth also serves north, which only it knows.
        const sync = (n: number) =>
          new Scheduler({ store: stores[n]!, clock, jitter: 0, random: () => 0 }).syncFromConfig(
            n === 4
              ? [
                  ...connections,
                  { name: 'north', polls: { orders: MIN, shipments: 0, customers: 0, inventory: 0 } },
                ]
              : connections,
          );
        // PostgreSQL: truly at once. SQLite serves one process (DESIGN "Scale"), and five handles
        // in one test process would block each other's event loop: one after another there.
        const results =
          ctx.dialect === 'postgres'
            ? await Promise.allSettled(stores.map((_, n) => sync(n)))
            : await sequentially(stores.map((_, n) => () => sync(n)));
        const failed = results.filter((r) => r.status === 'rejected');
        assert.deepEqual(failed, [], `round ${round}`);
        const added = results.map((r) => (r.status === 'fulfilled' ? r.value.added : 0));
        assert.equal(
          added.reduce((a, b) => a + b, 0),
          5,
          `each schedule added once in round ${round}`,
        );
        assert.deepEqual(
          (await listSchedules(ctx.store)).map((r) => `${r.connection}/${r.kind}`),
          [
            'east/customers.poll',
            'east/orders.poll',
            'east/shipments.poll',
            'north/orders.poll',
            'west/orders.poll',
          ],
        );
      }
      // A process that does not serve north leaves its schedule alone, and removes only its own.
      const eastOnly = new Scheduler({ store: stores[0]!, clock, jitter: 0, random: () => 0 });
      const result = await eastOnly.syncFromConfig([
        { name: 'east', polls: { orders: 10 * MIN, shipments: 0, customers: 30 * MIN, inventory: 0 } },
      ]);
      assert.deepEqual(result, { added: 0, changed: 0, removed: 1 });
      assert.deepEqual(
        (await listSchedules(ctx.store)).map((r) => `${r.connection}/${r.kind}`),
        ['east/customers.poll', 'east/orders.poll', 'north/orders.poll', 'west/orders.poll'],
      );
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});

async function sequentially<T>(tasks: Array<() => Promise<T>>): Promise<PromiseSettledResult<T>[]> {
  const out: PromiseSettledResult<T>[] = [];
  for (const task of tasks) out.push(...(await Promise.allSettled([task()])));
  return out;
}
