/**
 * Shipments back to SYSPRO when SYSPRO is not there, end to end with `ml-connector run` as a child
 * process against both sandboxes over HTTP. Counted in the SYSPRO sandbox's own dispatch notes and
 * call log:
 * - SYSPRO in maintenance for the whole of the shipping: the writes retry, end dead with their
 *   reason, nothing reaches SYSPRO; after maintenance and a replay each shipment is written once
 *   (a label by webhook, a label whose webhook was dropped, a mark-as-shipped; a label voided
 *   meanwhile is not written at all).
 * - A kill between posting and bookkeeping: SYSPRO takes the SORTDN post and never answers, the
 *   run process is SIGKILLed, started again, and the in-doubt check finds the note: one note.
 *   Run on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/store/open.js';
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import { type ShipmentSource, shipmentLinkKey } from '../../src/sync/shipment-model.js';
import { createPgDatabase, PG_URL } from '../helpers/dialects.js';
import { type RunChild, type RunSetup, setupRun, waitFor } from '../helpers/run-process.js';

interface Label {
  shipmentId: number;
  trackingNumber: string;
}

function shipmentsRun(
  name: string,
  options: { storeUrl?: () => Promise<{ url: string; drop(): Promise<void> }> },
) {
  let run: RunSetup;
  let store: Store;
  let drop: (() => Promise<void>) | undefined;
  const used = new Set<number>();

  const setup = async (prefix: string) => {
    const database = options.storeUrl ? await options.storeUrl() : undefined;
    drop = database?.drop;
    run = await setupRun({
      prefix,
      seed: 21,
      orders: 200,
      storeUrl: database?.url,
      configure: (document) => {
        document.retry = { perKind: { 'shipments.writeback': ['1s', '1s'] }, jitter: 0 };
      },
    });
    store = openStore(run.storeUrl);
    return run;
  };
  const teardown = async () => {
    await store?.close();
    await run?.close();
    await drop?.();
  };
  const ours = () =>
    [...run.shipstation.state.orders.values()].filter(
      (r) =>
        r.orderKey.startsWith(`${run.syspro.company}:`) &&
        r.status === 'awaiting_shipment' &&
        !used.has(r.orderId),
    );
  const take = () => {
    const record = ours()[0];
    assert.ok(record, 'an order of ours in ShipStation');
    used.add(record.orderId);
    return record.orderId;
  };
  const label = async (orderId: number) =>
    (
      await run.sandboxPost<{ shipments: Label[] }>(`/_sandbox/orders/${orderId}/labels`, {
        carrierCode: 'ups',
      })
    ).shipments[0] as Label;
  const reference = (source: ShipmentSource, id: number) =>
    dispatchNoteReference(shipmentLinkKey(source, id));
  const notesOf = (source: ShipmentSource, id: number) =>
    run.syspro.db.mdnMaster.rows.filter((n) => n.DispatchComments1 === reference(source, id));
  const postsOf = (source: ShipmentSource, id: number) =>
    run.syspro.calls.list({ businessObject: 'SORTDN', contains: reference(source, id) });
  const jobsOf = (source: ShipmentSource, id: number) =>
    store.db
      .selectFrom('jobs')
      .selectAll()
      .where('idempotency_key', '=', `shipments.writeback:main:${source}:${id}`)
      .execute();
  const started = async (child: RunChild) => {
    await waitFor(() => ours().length >= 6, 'orders in ShipStation', child.output);
    const subscribed = await run.cli(['webhooks', 'subscribe']);
    assert.equal(subscribed.code, 0, subscribed.stdout + subscribed.stderr);
  };
  return {
    setup,
    teardown,
    started,
    take,
    label,
    notesOf,
    postsOf,
    jobsOf,
    get run() {
      return run;
    },
    name,
  };
}

describe('ml-connector run: shipments while SYSPRO is in maintenance', () => {
  const t = shipmentsRun('maintenance', {});
  let child: RunChild;
  before(async () => {
    await t.setup('shipments-maintenance');
    child = t.run.start();
    await t.started(child);
  });
  after(async () => {
    if (child) assert.equal(await child.stop(), 0, child.output().slice(-2000));
    await t.teardown();
  });

  it('delays every write, loses none, and writes each once after maintenance and a replay', async () => {
    const { run } = t;
    await run.syspro.setMaintenance('down');
    const sortdnBefore = run.syspro.calls.count({ businessObject: 'SORTDN' });
    const byWebhook = await t.label(t.take());
    await run.sandboxPost('/_sandbox/faults', { flag: 'drop-webhook=1,times=1' });
    const byPoll = await t.label(t.take());
    const markedOrder = t.take();
    const marked = await run.sandboxPost<{ fulfillmentId: number }>(
      `/_sandbox/orders/${markedOrder}/mark-shipped`,
      {
        carrierCode: 'fedex',
        trackingNumber: '794600000777',
      },
    );
    const voided = await t.label(t.take());
    const records: Array<[ShipmentSource, number]> = [
      ['shipment', byWebhook.shipmentId],
      ['shipment', byPoll.shipmentId],
      ['fulfillment', marked.fulfillmentId],
    ];
    // Every write has tried, retried and ended dead with SYSPRO's answer as its reason.
    await waitFor(
      async () => {
        for (const [source, id] of records) {
          const jobs = await t.jobsOf(source, id);
          if (jobs.length === 0 || jobs.some((j) => j.state !== 'dead')) return false;
        }
        return true;
      },
      'the writes dead after their retries',
      child.output,
    );
    for (const [source, id] of records) {
      const [job] = await t.jobsOf(source, id);
      assert.ok((job?.attempts ?? 0) >= 2, `${source} ${id} was retried`);
      assert.match(job?.last_error ?? '', /503|unavailable|maintenance/i, `${source} ${id}: the reason`);
    }
    // The void is seen while SYSPRO is still down.
    await run.sandboxPost(`/_sandbox/shipments/${voided.shipmentId}/void`);
    await waitFor(
      async () =>
        (await t.jobsOf('shipment', voided.shipmentId)).some((j) => j.payload.includes('"voided":true')),
      'the void queued',
      child.output,
    );
    assert.equal(
      run.syspro.calls.count({ businessObject: 'SORTDN' }),
      sortdnBefore,
      'nothing reached SYSPRO',
    );
    for (const [source, id] of records) assert.equal(t.notesOf(source, id).length, 0);

    await run.syspro.setMaintenance('off');
    const replayed = await run.cli(['replay', '--kind', 'shipments.writeback']);
    assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
    await waitFor(
      () => records.every(([source, id]) => t.notesOf(source, id).length > 0),
      'every shipment written after maintenance',
      child.output,
    );
    await waitFor(
      async () =>
        (await t.jobsOf('shipment', voided.shipmentId)).every(
          (j) => j.state === 'succeeded' || j.state === 'dead',
        ),
      'the voided label settled',
      child.output,
    );
    for (const [source, id] of records) {
      assert.equal(t.notesOf(source, id).length, 1, `${source} ${id}: one note`);
      assert.equal(
        t.postsOf(source, id).filter((c) => c.outcome === 'ok').length,
        1,
        `${source} ${id}: posted once`,
      );
    }
    assert.equal(t.notesOf('fulfillment', marked.fulfillmentId)[0]?.UserField2, '794600000777');
    assert.equal(
      t.notesOf('shipment', voided.shipmentId).length,
      0,
      'a label voided before it was written is not written',
    );
    assert.equal(t.postsOf('shipment', voided.shipmentId).length, 0);
  });
});

const dialects: Array<[string, (() => Promise<{ url: string; drop(): Promise<void> }>) | undefined]> = [
  ['sqlite', undefined],
  ['postgres', PG_URL ? () => createPgDatabase(PG_URL as string) : undefined],
];
for (const [dialect, storeUrl] of dialects) {
  describe(`ml-connector run (${dialect}): killed between posting a dispatch note and recording it`, {
    skip: dialect === 'postgres' && !PG_URL ? 'TEST_DATABASE_URL is not set' : false,
  }, () => {
    const t = shipmentsRun(`kill-${dialect}`, { storeUrl });
    const children: RunChild[] = [];
    before(async () => {
      await t.setup(`shipments-kill-${dialect}`);
    });
    after(async () => {
      const last = children.at(-1);
      if (last) assert.equal(await last.stop(), 0, last.output().slice(-2000));
      await t.teardown();
    });

    it('posts once: the restarted run finds the note by the in-doubt check', async () => {
      const { run } = t;
      const first = run.start();
      children.push(first);
      await t.started(first);
      // SYSPRO takes the post and never answers.
      run.syspro.setFaults({ failures: [{ target: 'SORTDN', rate: 1, kind: 'lost-hang' }] });
      const shipment = await t.label(t.take());
      await waitFor(
        () => t.notesOf('shipment', shipment.shipmentId).length > 0,
        'the note posted in SYSPRO',
        first.output,
      );
      assert.equal(await first.kill(), -1);
      const [job] = await t.jobsOf('shipment', shipment.shipmentId);
      assert.equal(job?.state, 'running', 'killed before the job was recorded');
      run.syspro.setFaults({});

      const second = run.start();
      children.push(second);
      await waitFor(
        async () => (await t.jobsOf('shipment', shipment.shipmentId)).some((j) => j.state === 'succeeded'),
        'the write job done after the restart',
        second.output,
      );
      assert.equal(t.notesOf('shipment', shipment.shipmentId).length, 1, 'one dispatch note');
      assert.equal(t.postsOf('shipment', shipment.shipmentId).length, 1, 'posted once');
      const store = openStore(run.storeUrl);
      try {
        const audit = await store.db
          .selectFrom('audit')
          .select('detail')
          .where('entity_key', '=', shipmentLinkKey('shipment', shipment.shipmentId))
          .where('action', '=', 'dispatch-note')
          .where('outcome', '=', 'ok')
          .execute();
        assert.equal(audit.length, 1);
        assert.match(String(audit[0]?.detail), /in-doubt check/);
      } finally {
        await store.close();
      }
    });
  });
}
