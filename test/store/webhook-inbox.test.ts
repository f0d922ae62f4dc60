/**
 * The webhook inbox (`store/webhook-inbox.ts`) on both dialects: what `appendToInbox` stored is
 * moved by `drainInbox` into jobs with the rules of `enqueueJob` (a redelivery coalesces into the
 * queued job, the newest payload and the earliest time winning; a key held by a running job gets a
 * follow-up), oldest first and at most `limit` a transaction; a drain that fails rolls back and
 * leaves every row in the inbox.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import type { Store } from '../../src/store/open.js';
import { listProblems } from '../../src/store/problems.js';
import {
  appendToInbox,
  drainInbox,
  type InboxEvent,
  inboxSize,
  isRowRefusal,
} from '../../src/store/webhook-inbox.js';
import { type DialectName, forEachDialect } from '../helpers/dialects.js';

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

type Ctx = { store: Store; dialect: DialectName };

/** A trigger `name` that refuses (RAISE) every insert into jobs where `when` holds. */
async function refuseJobs(ctx: Ctx, name: string, when: string): Promise<void> {
  if (ctx.dialect === 'sqlite') {
    await sql`CREATE TRIGGER ${sql.raw(name)} BEFORE INSERT ON jobs WHEN ${sql.raw(when)}
              BEGIN SELECT RAISE(ABORT, 'injected refusal'); END`.execute(ctx.store.db);
    return;
  }
  await sql`CREATE FUNCTION ${sql.raw(name)}() RETURNS trigger AS $$
            BEGIN IF ${sql.raw(when)} THEN RAISE EXCEPTION 'injected refusal'; END IF;
            RETURN NEW; END $$ LANGUAGE plpgsql`.execute(ctx.store.db);
  await sql`CREATE TRIGGER ${sql.raw(name)} BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION ${sql.raw(name)}()`.execute(
    ctx.store.db,
  );
}

async function dropTrigger(ctx: Ctx, name: string): Promise<void> {
  await sql`DROP TRIGGER ${sql.raw(name)} ${ctx.dialect === 'postgres' ? sql`ON jobs` : sql``}`.execute(
    ctx.store.db,
  );
  if (ctx.dialect === 'postgres') await sql`DROP FUNCTION ${sql.raw(name)}()`.execute(ctx.store.db);
}

/**
 * Makes drains fail as a store that cannot work now does; returns the undo. SQLite: another
 * connection holds the write lock, so the drain gets SQLITE_BUSY once the store's busy timeout
 * (shortened here from 5 s) passes. PostgreSQL: a serialization failure (SQLSTATE 40001) on every
 * job insert.
 */
async function failTransiently(ctx: Ctx): Promise<() => Promise<void>> {
  if (ctx.dialect === 'sqlite') {
    const raw = ctx.store.sqlite!;
    const before = raw.pragma('busy_timeout', { simple: true });
    raw.pragma('busy_timeout = 20');
    const other = new Database(raw.name);
    other.exec('BEGIN IMMEDIATE');
    return async () => {
      other.exec('ROLLBACK');
      other.close();
      raw.pragma(`busy_timeout = ${before}`);
    };
  }
  await sql`CREATE FUNCTION fail_transient() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = 'serialization_failure'; END
            $$ LANGUAGE plpgsql`.execute(ctx.store.db);
  await sql`CREATE TRIGGER fail_transient BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION fail_transient()`.execute(
    ctx.store.db,
  );
  return () => dropTrigger(ctx, 'fail_transient');
}

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
    assert.deepEqual(result, { moved: 3, created: 3, kinds: ['shipments.fetch'], deadLetters: [] });
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

  it('a row whose job the store refuses becomes a dead job with an audit row; the rows before and after it move', async () => {
    // A trigger that refuses the queued job of one key (a constraint the store enforces on that row).
    await refuseJobs(ctx, 'refuse_r', "NEW.idempotency_key = 'r:23' AND NEW.state = 'queued'");
    try {
      await appendToInbox(
        ctx.store,
        Array.from({ length: 40 }, (_, i) => event(`r:${i}`, i, NOW + i)),
      );
      // A redelivery of a key after the refused row: still one job, the newest payload.
      await appendToInbox(ctx.store, [event('r:30', 99, NOW + 500)]);
      const result = await drainInbox(ctx.store, { limit: 1000, now: NOW + 1000 });
      assert.equal(result.moved, 41);
      assert.equal(result.created, 39);
      assert.equal(result.deadLetters.length, 1);
      const [dead] = result.deadLetters;
      assert.equal(dead!.connection, 'main');
      assert.match(dead!.error, /the store refused the job of webhook inbox row \d+ \(.*injected refusal/);
      assert.equal(await inboxSize(ctx.store), 0);
      const jobs = await jobRows(ctx.store, 'r:');
      assert.deepEqual(
        jobs.filter((j) => j.state === 'queued').map((j) => j.n),
        [...Array.from({ length: 40 }, (_, i) => (i === 30 ? 99 : i)).filter((n) => n !== 23)],
        'every other row moved, in order, the redelivery coalesced',
      );
      const deadJob = jobs.find((j) => j.state === 'dead');
      assert.deepEqual(
        [deadJob?.id, deadJob?.key, deadJob?.n, deadJob?.kind, deadJob?.runAt],
        [dead!.jobId, 'r:23', 23, 'shipments.fetch', NOW + 23],
        'the dead job is the job the row would have been (replay makes it the real one)',
      );
      const audit = await ctx.store.db
        .selectFrom('audit')
        .selectAll()
        .where('action', '=', 'dead-letter')
        .where('entity_key', '=', 'r:23')
        .execute();
      assert.equal(audit.length, 1);
      assert.equal(Number(audit[0]!.job_id), dead!.jobId);
      assert.equal(audit[0]!.outcome, 'error');
      assert.match(String(audit[0]!.error), /injected refusal/);
      const problems = await listProblems(ctx.store, { state: 'dead' });
      const problem = problems.find((p) => p.jobId === dead!.jobId);
      assert.ok(problem, 'the dead job is a Problem (dashboard, /api/problems)');
      assert.match(problem.message, /injected refusal/);
    } finally {
      await dropTrigger(ctx, 'refuse_r');
    }
  });

  it('a row the store refuses even as a dead job stays in the inbox; the rows after it still move', async () => {
    await refuseJobs(ctx, 'refuse_s', "NEW.idempotency_key = 's:2' OR NEW.payload LIKE '%s:2%'");
    try {
      await appendToInbox(
        ctx.store,
        Array.from({ length: 5 }, (_, i) => event(`s:${i}`, i)),
      );
      await assert.rejects(drainInbox(ctx.store, { limit: 1000, now: NOW + 1000 }), (err: Error) => {
        assert.equal(err.name, 'DeadLetterRefusedError');
        assert.match(err.message, /injected refusal/);
        return true;
      });
      assert.deepEqual(
        (await jobRows(ctx.store, 's:')).map((j) => [j.n, j.state]),
        [
          [0, 'queued'],
          [1, 'queued'],
          [3, 'queued'],
          [4, 'queued'],
        ],
      );
      assert.equal(await inboxSize(ctx.store), 1, 'the row is kept, never dropped');
    } finally {
      await dropTrigger(ctx, 'refuse_s');
    }
    assert.equal(await drainAll(ctx.store), 1);
    assert.equal((await jobRows(ctx.store, 's:')).length, 5);
  });

  it('rows our receiver would never write become dead jobs with what is wrong; the good rows of the batch move', async () => {
    const db = ctx.store.db;
    await appendToInbox(ctx.store, [event('v:0', 0)]);
    const bad = [
      {
        kind: 'shipments.fetch',
        connection: 'main',
        idempotency_key: 'v:1',
        payload: '{"n":1',
        received_at: NOW,
      },
      { kind: '', connection: 'main', idempotency_key: 'v:2', payload: '{"n":2}', received_at: NOW },
      {
        kind: 'shipments.fetch',
        connection: 'main',
        idempotency_key: 'v:3',
        payload: '[3]',
        received_at: NOW,
      },
      // The same key as a good row after it: the good one still becomes its job.
      {
        kind: 'shipments.fetch',
        connection: 'main',
        idempotency_key: 'v:5',
        payload: 'not json',
        received_at: NOW,
      },
    ];
    for (const row of bad) await db.insertInto('webhook_inbox').values(row).execute();
    if (ctx.dialect === 'sqlite') {
      // SQLite keeps any type in any column: a time that is no number.
      await sql`INSERT INTO webhook_inbox (kind, connection, idempotency_key, payload, received_at)
                VALUES ('shipments.fetch', 'main', 'v:4', '{"n":4}', 'soon')`.execute(db);
    }
    await appendToInbox(ctx.store, [event('v:5', 5), event('v:6', 6)]);
    const result = await drainInbox(ctx.store, { limit: 1000, now: NOW + 1000 });
    const expectedDead = ctx.dialect === 'sqlite' ? 5 : 4;
    assert.equal(result.moved, 3 + expectedDead);
    assert.equal(result.created, 3);
    assert.equal(await inboxSize(ctx.store), 0);
    const errors = result.deadLetters.map((d) => d.error).join('\n');
    assert.match(errors, /payload is not JSON/);
    assert.match(errors, /kind is empty, not a text/);
    assert.match(errors, /payload is not a JSON object/);
    if (ctx.dialect === 'sqlite')
      assert.match(errors, /received_at is "soon", not a time in epoch milliseconds/);
    const jobs = await db
      .selectFrom('jobs')
      .select(['idempotency_key', 'state', 'kind', 'payload', 'last_error'])
      .where('idempotency_key', 'like', 'v:%')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      jobs
        .filter((j) => j.state === 'queued')
        .map((j) => j.idempotency_key)
        .sort(),
      ['v:0', 'v:5', 'v:6'],
    );
    const deadJobs = await db.selectFrom('jobs').selectAll().where('state', '=', 'dead').execute();
    const emptyKind = deadJobs.find((j) => j.last_error?.includes('kind is empty'));
    assert.equal(emptyKind?.kind, 'webhook.inbox', 'a row without a kind is kept under webhook.inbox');
    const notJson = deadJobs.find((j) => j.idempotency_key === 'v:5');
    assert.deepEqual(
      JSON.parse(notJson!.payload).inboxRow.payload,
      'not json',
      'the row is kept as it was stored',
    );
    const audit = await db.selectFrom('audit').select('job_id').where('action', '=', 'dead-letter').execute();
    for (const d of result.deadLetters)
      assert.ok(
        audit.some((a) => Number(a.job_id) === d.jobId),
        `an audit row for job ${d.jobId}`,
      );
  });

  it("a failure that is not a row's fault dead-letters nothing: every row stays in the inbox; the next drain moves them", async () => {
    await appendToInbox(
      ctx.store,
      Array.from({ length: 5 }, (_, i) => event(`e:${i}`, i)),
    );
    const release = await failTransiently(ctx);
    try {
      await assert.rejects(drainInbox(ctx.store, { limit: 1000, now: NOW + 1000 }), (err: Error) => {
        assert.equal(isRowRefusal(err), false, `${(err as { code?: string }).code}: ${err.message}`);
        return true;
      });
      assert.equal(await inboxSize(ctx.store), 5);
      assert.deepEqual(await jobRows(ctx.store, 'e:'), []);
    } finally {
      await release();
    }
    assert.equal(await drainAll(ctx.store), 5);
    assert.equal((await jobRows(ctx.store, 'e:')).length, 5);
    assert.deepEqual(
      (await jobRows(ctx.store, 'e:')).filter((j) => j.state !== 'queued'),
      [],
      'nothing dead-lettered',
    );
  });
});

describe('isRowRefusal', () => {
  it('is true for the store refusing a row, false for a store that cannot work now', () => {
    const e = (code?: string) => Object.assign(new Error('x'), code === undefined ? {} : { code });
    for (const code of [
      'SQLITE_CONSTRAINT_NOTNULL',
      'SQLITE_CONSTRAINT_TRIGGER',
      'SQLITE_CONSTRAINT_UNIQUE',
      'SQLITE_MISMATCH',
      'SQLITE_TOOBIG',
      '23502',
      '23505',
      '23514',
      '22P02',
      '22001',
      'P0001',
      '54000',
    ])
      assert.equal(isRowRefusal(e(code)), true, code);
    for (const code of [
      'SQLITE_BUSY',
      'SQLITE_BUSY_SNAPSHOT',
      'SQLITE_LOCKED',
      'SQLITE_IOERR_WRITE',
      'SQLITE_FULL',
      'SQLITE_READONLY',
      '08006',
      '57P01',
      '40001',
      '40P01',
      '53100',
      '55P03',
      '57014',
      'ECONNRESET',
      undefined,
    ])
      assert.equal(isRowRefusal(e(code)), false, String(code));
    assert.equal(isRowRefusal(new SyntaxError('Unexpected token')), false);
    assert.equal(isRowRefusal(undefined), false);
  });
});
