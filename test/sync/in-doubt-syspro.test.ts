/**
 * SYSPRO dispatch-note posts that may have happened are never posted again blindly. Over real HTTP
 * against the SYSPRO sandbox, with the worker on a fake clock and a SQLite store: every SORTDN post's
 * answer is lost (`fail:SORTDN=1:lost`: the note is posted, the connection dropped), and the jobs end
 * with exactly one dispatch note each, counted in the sandbox's own tables and call log. The handler
 * is the shape the shipments flow will have: check first when in doubt (SORQRY + SORQDN for the note
 * carrying our reference), post otherwise.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { checkInDoubt, handleEachJob, type JobHandler } from '../../src/engine/handler.js';
import { Worker } from '../../src/engine/worker.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { listJobs } from '../../src/store/jobs/queries.js';
import type { Store } from '../../src/store/open.js';
import { dispatchNoteReference, findDispatchNoteByReference } from '../../src/sync/dispatch-note-check.js';
import { assertSucceeded } from '../../src/syspro/business-objects/common.js';
import { postDispatchNotes } from '../../src/syspro/business-objects/sortdn.js';
import type { EnetClient } from '../../src/syspro/enet-client.js';
import { FakeClock } from '../helpers/clock.js';
import { createTestStore } from '../helpers/dialects.js';
import { sandboxEnetClient } from '../helpers/enet.js';

const MIN = 60_000;
const retry = { cadence: [1 * MIN, 5 * MIN, 15 * MIN], perKind: {}, jitter: 0 };

interface DispatchPayload {
  key: string;
  salesOrder: string;
  line: number;
}

/** Orders with an outstanding stocked line, one line each (distinct orders). */
function dispatchableLines(sandbox: SysproSandbox, count: number): DispatchPayload[] {
  const out: DispatchPayload[] = [];
  for (const order of sandbox.db.sorMaster.rows) {
    if (!['1', '2', '3', '4', '8'].includes(order.OrderStatus as string)) continue;
    const line = sandbox.db
      .linesOf(order.SalesOrder as string)
      .find((l) => l.LineType === '1' && (l.MOrderQty as number) - (l.MQtyDispatched as number) >= 1);
    if (!line) continue;
    const salesOrder = order.SalesOrder as string;
    out.push({ key: `ship-${out.length + 1}`, salesOrder, line: line.SalesOrderLine as number });
    if (out.length === count) return out;
  }
  throw new Error(`only ${out.length} dispatchable lines in the seed, ${count} wanted`);
}

/** The dispatch-note writer the shipments flow will have, reduced to one line of one unit. */
function dispatchHandler(client: EnetClient, options: { checks: boolean }): JobHandler {
  return handleEachJob(
    'test.dispatch',
    (job) => {
      const p = job.payload as DispatchPayload;
      const reference = dispatchNoteReference(p.key);
      return client.withSession(async (session) => {
        const check = await checkInDoubt(job, 'SYSPRO', () =>
          findDispatchNoteByReference(session, { salesOrder: p.salesOrder, reference }),
        );
        if (check.done) return { dispatchNote: check.value.dispatchNote, found: true };
        const result = await postDispatchNotes(session, [
          {
            salesOrder: p.salesOrder,
            dispatchComments: [reference],
            lines: [{ salesOrderLine: p.line, dispatchQty: 1 }],
          },
        ]);
        assertSucceeded('SORTDN', `sales order ${p.salesOrder}`, result);
        return { dispatchNote: result.notes[0]?.dispatchNote, found: false };
      });
    },
    { checksInDoubt: options.checks },
  );
}

/** Our notes in the sandbox's dispatch-note table, by reference. */
function notesByReference(sandbox: SysproSandbox): Map<string, number> {
  const counts = new Map<string, number>();
  for (const note of sandbox.db.mdnMaster.rows) {
    const comment = String(note.DispatchComments1 ?? '');
    if (comment.startsWith('ml-connector ')) counts.set(comment, (counts.get(comment) ?? 0) + 1);
  }
  return counts;
}

describe('in-doubt SYSPRO posts against the sandbox', () => {
  let clock: FakeClock;
  let sandbox: SysproSandbox;
  let store: Store;
  let cleanup: () => Promise<void>;
  let lines: DispatchPayload[];
  let next = 0;

  before(async () => {
    clock = new FakeClock(Date.parse('2026-01-15T20:00:00Z'));
    sandbox = await startSysproSandbox({ port: 0, clock, seed: 11, orders: 1200, logger: false });
    lines = dispatchableLines(sandbox, 120);
    ({ store, cleanup } = await createTestStore('sqlite'));
  });
  after(async () => {
    await sandbox.close();
    await cleanup();
  });
  beforeEach(async () => {
    await store.db.deleteFrom('job_attempts').execute();
    await store.db.deleteFrom('jobs').execute();
    sandbox.setFaults({});
    sandbox.calls.clear();
  });

  function client(timeoutMs = 5000): EnetClient {
    return sandboxEnetClient(sandbox, clock, { timeoutMs });
  }

  async function enqueue(count: number): Promise<DispatchPayload[]> {
    const batch = lines.slice(next, next + count);
    next += count;
    assert.equal(batch.length, count);
    await enqueueJobs(
      store,
      batch.map((payload) => ({
        kind: 'test.dispatch',
        connection: 'main',
        payload,
        idempotencyKey: `dispatch:${payload.key}`,
      })),
      clock.now(),
    );
    return batch;
  }

  it('100 posts whose answers are lost end with 100 dispatch notes and no doubles', async () => {
    const enet = client();
    const worker = new Worker({ store, clock, retry, handlers: [dispatchHandler(enet, { checks: true })] });
    const batch = await enqueue(100);
    sandbox.setFaults({ failures: [{ target: 'SORTDN', rate: 1, kind: 'lost' }] });

    await worker.runUntilIdle();
    let jobs = await listJobs(store, { kind: 'test.dispatch', limit: 500 });
    assert.ok(
      jobs.every((j) => j.state === 'queued' && j.inDoubt !== null),
      'every job waits for its check, marked in doubt',
    );
    // Every later post would be lost too: only the check can end these jobs.
    for (let round = 0; round < retry.cadence.length; round++) {
      clock.advance(retry.cadence[round] as number);
      await worker.runUntilIdle();
    }
    await enet.close();

    jobs = await listJobs(store, { kind: 'test.dispatch', limit: 500 });
    assert.deepEqual(
      jobs.map((j) => j.state),
      jobs.map(() => 'succeeded'),
    );
    assert.ok(
      jobs.every((j) => j.inDoubt === null),
      'success clears the mark',
    );
    const notes = notesByReference(sandbox);
    for (const p of batch) assert.equal(notes.get(dispatchNoteReference(p.key)), 1, `one note for ${p.key}`);
    assert.equal(
      sandbox.calls.count({ businessObject: 'SORTDN' }),
      100,
      'SORTDN was posted once per job, never a second time',
    );
    assert.equal(sandbox.calls.count({ businessObject: 'SORQDN' }), 100, 'each job checked once');
  });

  it('a handler that cannot check: 10 lost posts are 10 dead jobs and 10 notes, never a second post', async () => {
    const enet = client();
    const worker = new Worker({ store, clock, retry, handlers: [dispatchHandler(enet, { checks: false })] });
    const batch = await enqueue(10);
    sandbox.setFaults({ failures: [{ target: 'SORTDN', rate: 1, kind: 'lost' }] });
    await worker.runUntilIdle();
    clock.advance(30 * MIN);
    await worker.runUntilIdle();
    await enet.close();
    const jobs = await listJobs(store, { kind: 'test.dispatch', limit: 500 });
    assert.ok(jobs.every((j) => j.state === 'dead'));
    assert.ok(jobs.every((j) => /^in doubt: .*check SYSPRO before replaying/.test(j.lastError ?? '')));
    const notes = notesByReference(sandbox);
    for (const p of batch) assert.equal(notes.get(dispatchNoteReference(p.key)), 1);
    assert.equal(sandbox.calls.count({ businessObject: 'SORTDN' }), 10);
  });

  it('posts that hang and were not carried out are found absent by the check and posted once', async () => {
    // A short timeout only while the posts hang (real time: it is how long we wait for an answer).
    const hasty = client(400);
    const worker = new Worker({ store, clock, retry, handlers: [dispatchHandler(hasty, { checks: true })] });
    const batch = await enqueue(5);
    sandbox.setFaults({ failures: [{ target: 'SORTDN', rate: 1, kind: 'hang' }] });
    await worker.runUntilIdle();
    const first = await listJobs(store, { kind: 'test.dispatch', limit: 500 });
    assert.ok(first.every((j) => j.state === 'queued' && /did not answer/.test(j.inDoubt?.error ?? '')));
    const before = notesByReference(sandbox);
    for (const p of batch)
      assert.equal(before.get(dispatchNoteReference(p.key)), undefined, 'the hung posts did nothing');
    await hasty.close();
    sandbox.setFaults({});
    clock.advance(1 * MIN);
    const enet = client();
    const next = new Worker({ store, clock, retry, handlers: [dispatchHandler(enet, { checks: true })] });
    await next.runUntilIdle();
    await enet.close();
    const jobs = await listJobs(store, { kind: 'test.dispatch', limit: 500 });
    assert.ok(jobs.every((j) => j.state === 'succeeded'));
    const notes = notesByReference(sandbox);
    for (const p of batch) assert.equal(notes.get(dispatchNoteReference(p.key)), 1);
  });
});
