/**
 * The webhook inbox (`store/webhook-inbox.ts`) on both dialects: what `appendToInbox` stored is
 * moved by `drainInbox` into jobs with the rules of `enqueueJob` (a redelivery coalesces into the
 * queued job, the newest payload and the earliest time winning; a key held by a running job gets a
 * follow-up), oldest first and at most `limit` a transaction; a drain that fails rolls back and
 * leaves every row in the inbox.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import type { Store } from '../../src/store/open.js';
import { appendToInbox, drainInbox, type InboxEvent, inboxSize } from '../../src/store/webhook-inbox.js';
import { forEachDialect } from '../helpers/dialects.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

const event = (key: string, n: number, receivedAt = NOW): InboxEvent => ({
  kind: 'shipments.fetch',
  connection: 'main',
  idempotencyKey: key,
  payload: { n },
  receivedAt,
});

async function jobRows(store: Store, keyPrefix: string) {
  const rows = await store.db
    .selectFrom('jobs')
    .select(['id', 'idempotency_key', 'payload', 'state', 'run_at', 'key_slot', 'kind', 'connection'])
    .where('idempotency_key', 'like', `${keyPrefix}%`)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    key: r.idempotency_key,
    n: (JSON.parse(r.payload) as { n: number }).n,
    state: r.state,
    runAt: Number(r.run_at),
    slot: Number(r.key_slot),
    kind: r.kind,
    connection: r.connection,
  }));
}

const drainAll = async (store: Store, now = NOW + 1000) => {
  let total = 0;
  for (;;) {
    const { moved } = await drainInbox(store, { limit: 1000, now });
    total += moved;
    if (moved === 0) return total;
  }
};

forEachDialect('webhook inbox', (ctx) => {
  it('appends in one commit and answers the ids in order', async () => {
    const ids = await appendToInbox(ctx.store, [event('a:1', 1), event('a:2', 2), event('a:3', 3)]);
    assert.equal(ids.length, 3);
    assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, `ids in order: ${ids}`);
    const rows = await ctx.store.db
      .selectFrom('webhook_inbox')
      .select(['id', 'payload'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((r) => [Number(r.id), JSON.parse(r.payload).n]),
      ids.map((id, i) => [id, i + 1]),
    );
    const result = await drainInbox(ctx.store, { limit: 1000, now: NOW + 1000 });
    assert.deepEqual(result, { moved: 3, created: 3, kinds: ['shipments.fetch'] });
    assert.equal(await inboxSize(ctx.store), 0);
    const jobs = await jobRows(ctx.store, 'a:');
    assert.deepEqual(
      jobs.map((j) => [j.key, j.n, j.state, j.runAt, j.slot, j.kind, j.connection]),
      [
        ['a:1', 1, 'queued', NOW, 0, 'shipments.fetch', 'main'],
        ['a:2', 2, 'queued', NOW, 0, 'shipments.fetch', 'main'],
        ['a:3', 3, 'queued', NOW, 0, 'shipments.fetch', 'main'],
      ],
    );
  });

  it('a redelivery in the same drain or a later one coalesces: one job, the newest payload, the earliest time', async () => {
    await appendToInbox(ctx.store, [event('b:1', 1, NOW + 50), event('b:2', 2)]);
    await appendToInbox(ctx.store, [event('b:1', 3, NOW + 10), event('b:1', 4, NOW + 90)]);
    const first = await drainInbox(ctx.store, { limit: 1000, now: NOW + 1000 });
    assert.equal(first.moved, 4);
    assert.equal(first.created, 2);
    await appendToInbox(ctx.store, [event('b:2', 5, NOW + 200)]);
    const second = await drainInbox(ctx.store, { limit: 1000, now: NOW + 2000 });
    assert.deepEqual([second.moved, second.created], [1, 0]);
    const jobs = await jobRows(ctx.store, 'b:');
    assert.deepEqual(
      jobs.map((j) => [j.key, j.n, j.runAt]),
      [
        ['b:1', 4, NOW + 10],
        ['b:2', 5, NOW],
      ],
    );
  });

  it('a redelivery of a running job becomes its follow-up, queued behind it', async () => {
    await appendToInbox(ctx.store, [event('c:1', 1)]);
    await drainAll(ctx.store);
    await ctx.store.db
      .updateTable('jobs')
      .set({ state: 'running' })
      .where('idempotency_key', '=', 'c:1')
      .execute();
    await appendToInbox(ctx.store, [event('c:1', 2), event('c:1', 3)]);
    await drainAll(ctx.store);
    const jobs = await jobRows(ctx.store, 'c:');
    assert.deepEqual(
      jobs.map((j) => [j.n, j.state, j.slot]),
      [
        [1, 'running', 0],
        [3, 'queued', 1],
      ],
    );
  });

  it('moves the oldest rows first, at most `limit` a transaction', async () => {
    await appendToInbox(
      ctx.store,
      Array.from({ length: 7 }, (_, i) => event(`d:${i}`, i)),
    );
    const first = await drainInbox(ctx.store, { limit: 5, now: NOW + 1000 });
    assert.equal(first.moved, 5);
    assert.deepEqual(
      (await jobRows(ctx.store, 'd:')).map((j) => j.n),
      [0, 1, 2, 3, 4],
    );
    assert.equal(await inboxSize(ctx.store), 2);
    assert.equal((await drainInbox(ctx.store, { limit: 5, now: NOW + 1000 })).moved, 2);
    assert.equal((await drainInbox(ctx.store, { limit: 5, now: NOW + 1000 })).moved, 0);
  });

  it('a drain that fails rolls back: every row stays in the inbox, none in jobs; the next one moves them', async () => {
    if (ctx.dialect === 'sqlite') {
      await sql`CREATE TRIGGER poison BEFORE INSERT ON jobs WHEN NEW.idempotency_key = 'e:3'
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END`.execute(ctx.store.db);
    } else {
      await sql`CREATE FUNCTION poison() RETURNS trigger AS $$
                BEGIN IF NEW.idempotency_key = 'e:3' THEN RAISE EXCEPTION 'injected failure'; END IF;
                RETURN NEW; END $$ LANGUAGE plpgsql`.execute(ctx.store.db);
      await sql`CREATE TRIGGER poison BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION poison()`.execute(
        ctx.store.db,
      );
    }
    try {
      await appendToInbox(
        ctx.store,
        Array.from({ length: 5 }, (_, i) => event(`e:${i}`, i)),
      );
      await assert.rejects(drainInbox(ctx.store, { limit: 1000, now: NOW + 1000 }), /injected failure/);
      assert.equal(await inboxSize(ctx.store), 5);
      assert.deepEqual(await jobRows(ctx.store, 'e:'), []);
    } finally {
      await sql`DROP TRIGGER poison ${ctx.dialect === 'postgres' ? sql`ON jobs` : sql``}`.execute(
        ctx.store.db,
      );
      if (ctx.dialect === 'postgres') await sql`DROP FUNCTION poison()`.execute(ctx.store.db);
    }
    assert.equal(await drainAll(ctx.store), 5);
    assert.equal((await jobRows(ctx.store, 'e:')).length, 5);
  });
});
