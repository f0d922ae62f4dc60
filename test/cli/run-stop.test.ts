/**
 * SIGTERM under a spent ShipStation budget, as at the end of the amplified soak: the real `run`
 * against both sandboxes over HTTP, with a V1 budget of 4 requests a 12 s window (the sandbox's,
 * and the connector's configured `rateLimit`) that the orders push and the first shipments poll use
 * up at once, so the next shipments poll waits in the rate limiter for the window to end. The stop
 * must not wait for it (nor for `shutdownTimeout`): the waiting poll has sent nothing, so it is
 * given back and `run` exits 0 at once. The next `run` finishes the work, and the sandboxes' own
 * records show it done once: one ShipStation order per orderKey, one dispatch note and one SORTDN
 * post per label.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listAttempts } from '../../src/store/jobs/queries.js';
import { openStore, type Store } from '../../src/store/open.js';
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import { shipmentLinkKey } from '../../src/sync/shipment-model.js';
import { type RunSetup, setupRun, waitFor } from '../helpers/run-process.js';

const LIMIT = 4;
const WINDOW_MS = 12_000;
const SHUTDOWN_TIMEOUT_MS = 8000;

describe('ml-connector run: SIGTERM while jobs wait for the ShipStation budget', () => {
  let run: RunSetup;
  let store: Store;

  before(async () => {
    run = await setupRun({
      prefix: 'run-stop',
      seed: 11,
      orders: 30,
      shipstation: { rateLimit: { limit: LIMIT, windowMs: WINDOW_MS }, autoShip: { delayMs: 500 } },
      configure: (document, connection) => {
        document.shutdownTimeout = `${SHUTDOWN_TIMEOUT_MS}ms`;
        connection.polls = { orders: '1s', shipments: '3s', customers: 0 };
        // The connector assumes the sandbox's window (its own count of sends is per window, and the
        // headers only correct the limit): with the default 60 s the next run waited a minute for
        // the first run's four sends to leave a window the sandbox had long reset.
        connection.shipstation = {
          ...connection.shipstation,
          rateLimit: { limit: LIMIT, window: `${WINDOW_MS}ms` },
        };
      },
    });
    store = openStore(run.storeUrl);
  });
  after(async () => {
    await store?.close();
    await run?.close();
  });

  const v1Requests = () => run.shipstation.requests().filter((r) => r.api === 'v1').length;
  const ours = () =>
    [...run.shipstation.state.orders.values()].filter((r) => r.orderKey.startsWith(`${run.syspro.company}:`));
  const labels = () => [...run.shipstation.state.shipments.values()];
  const reference = (shipmentId: number) => dispatchNoteReference(shipmentLinkKey('shipment', shipmentId));
  const notesOf = (shipmentId: number) =>
    run.syspro.db.mdnMaster.rows.filter((n) => n.DispatchComments1 === reference(shipmentId));
  const postsOf = (shipmentId: number) =>
    run.syspro.calls.list({ businessObject: 'SORTDN', contains: reference(shipmentId) });
  const running = () =>
    store.db.selectFrom('jobs').select(['id', 'kind']).where('state', '=', 'running').execute();

  it('exits 0 at once, well within shutdownTimeout; the waiting poll is queued again; the next run finishes the work once', async (t) => {
    const first = run.start();
    // The budget is spent (push + the first poll's three windows) and a poll waits for a slot.
    await waitFor(
      async () => v1Requests() >= LIMIT && (await running()).some((j) => j.kind === 'shipments.poll'),
      'the budget spent and a shipments poll waiting',
      first.output,
    );
    const waiting = (await running()).filter((j) => j.kind === 'shipments.poll');
    const sentBefore = v1Requests();
    const signalled = Date.now();
    assert.equal(await first.stop(), 0, first.output().slice(-3000));
    const tookMs = Date.now() - signalled;
    t.diagnostic(`SIGTERM to exit: ${tookMs} ms (shutdownTimeout ${SHUTDOWN_TIMEOUT_MS} ms)`);
    assert.ok(
      tookMs < SHUTDOWN_TIMEOUT_MS / 2,
      `stopped in ${tookMs} ms, not after the ${SHUTDOWN_TIMEOUT_MS} ms shutdownTimeout or the window`,
    );
    assert.equal(v1Requests(), sentBefore, 'nothing more was sent after SIGTERM');
    assert.deepEqual(await running(), [], 'nothing left running');
    for (const job of waiting) {
      const row = await store.db
        .selectFrom('jobs')
        .select(['state', 'in_doubt'])
        .where('id', '=', job.id)
        .executeTakeFirst();
      // Queued again, or (a poll) coalesced into the next one: never failed, dead or in doubt.
      if (row)
        assert.deepEqual({ ...row, in_doubt: row.in_doubt ?? null }, { state: 'queued', in_doubt: null });
      const attempts = await listAttempts(store, job.id);
      assert.equal(attempts.at(-1)?.outcome, 'released', JSON.stringify(attempts));
    }
    assert.ok(
      first.output().includes('"msg":"released jobs that had sent nothing at shutdown"'),
      first.output().slice(-3000),
    );

    // The next run finishes: every label written back to SYSPRO once.
    const second = run.start();
    await waitFor(
      () =>
        ours().length > 0 &&
        labels().length > 0 &&
        ours().every((o) => o.status !== 'awaiting_shipment') &&
        labels().every((l) => notesOf(l.shipmentId).length > 0),
      'every order labelled and every label written back',
      second.output,
      60_000,
    );
    assert.equal(await second.stop(), 0, second.output().slice(-3000));
    const keys = ours().map((o) => o.orderKey);
    assert.equal(new Set(keys).size, keys.length, 'one ShipStation order per orderKey');
    for (const label of labels()) {
      assert.equal(notesOf(label.shipmentId).length, 1, `one dispatch note for shipment ${label.shipmentId}`);
      assert.equal(postsOf(label.shipmentId).length, 1, `one SORTDN post for shipment ${label.shipmentId}`);
    }
    const dead = await store.db.selectFrom('jobs').select('id').where('state', '=', 'dead').execute();
    assert.deepEqual(dead, [], 'no dead job');
  });
});
