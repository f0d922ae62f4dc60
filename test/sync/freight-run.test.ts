/**
 * Freight to the general ledger under `ml-connector run`: a label written back as a dispatch note
 * gets one GENTJL journal (counted in the SYSPRO sandbox's own GenJnlCtl/GenJnlDetail), posted once
 * however often the shipment is seen again, reversed once when the label is voided; a closed period
 * and a ledger code the company does not have are the shipment's problem with SYSPRO's text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listAudit } from '../../src/store/audit.js';
import { openStore } from '../../src/store/open.js';
import { type RunChild, type RunSetup, setupRun, waitFor as waitUntil } from '../helpers/run-process.js';

describe('ml-connector run: freight → GENTJL', () => {
  let run: RunSetup;
  let child: RunChild | undefined;

  before(async () => {
    run = await setupRun({
      prefix: 'freight-run',
      seed: 14,
      configure: (document, connection) => {
        document.jobLease = '5s';
        document.retry = { cadence: ['1s', '1s', '2s'], jitter: 0 };
        connection.polls = { orders: '1s', shipments: '1s', customers: 0, channelOrders: 0, inventory: 0 };
        connection.shipments = { overlap: '1h' };
        connection.freight = {
          enabled: true,
          method: 'journal',
          glAccount: '5100-000',
          insuranceGlAccount: '5110-000',
          offsetGlAccount: '2150-000',
          voids: 'reverse',
        };
        connection.channelOrders = { enabled: false };
        connection.inventory = { enabled: false };
      },
    });
  });
  after(async () => {
    await run?.close();
  });

  const waitFor = (check: () => boolean | Promise<boolean>, what: string) =>
    waitUntil(check, what, () => child?.output() ?? '');
  const output = () => child?.output() ?? '';
  const ours = () =>
    [...run.shipstation.state.orders.values()].filter(
      (r) => r.orderKey.startsWith(`${run.syspro.company}:`) && r.status === 'awaiting_shipment',
    );
  const journals = (reference: string) =>
    run.syspro.db.genJnlCtl.rows.filter((j) => j.Reference === reference);
  const detailsOf = (journal: Record<string, unknown>) =>
    run.syspro.db.genJnlDetail.rows
      .filter(
        (d) =>
          d.JnlYear === journal.JnlYear && d.JnlPeriod === journal.JnlPeriod && d.Journal === journal.Journal,
      )
      .map((d) => [d.GlCode, d.EntryValue]);
  const label = async (orderId: number) => {
    const made = (await run.sandboxPost(`/_sandbox/orders/${orderId}/labels`)) as {
      shipments: Array<{ shipmentId: number; shipmentCost: number; trackingNumber: string }>;
    };
    return made.shipments[0]!;
  };

  it('posts the freight of labels written back together in one e.net session, not a logon each', async () => {
    child = run.start();
    await waitFor(() => ours().length >= 8, 'orders in ShipStation');
    assert.equal(await child.stop(), 0, output().slice(-2000));
    // Labelled while the connector is down: its first shipments poll writes them back together.
    const since = run.syspro.calls.list().at(-1)?.seq ?? 0;
    const made: Array<{ shipmentId: number }> = [];
    for (const order of ours().slice(0, 5)) made.push(await label(order.orderId));
    child = run.start();
    await waitFor(
      () => made.every((m) => journals(`SS FRT ${m.shipmentId}`).length === 1),
      'five freight journals',
    );
    assert.equal(await child.stop(), 0, output().slice(-2000));
    const posts = run.syspro.calls.list({ businessObject: 'GENTJL', sinceSeq: since, outcome: 'ok' });
    assert.equal(posts.length, 5, 'one journal a label');
    const sessions = new Set(posts.map((c) => c.userId));
    assert.ok(sessions.size <= 2, `${sessions.size} e.net sessions for ${posts.length} journals`);
    const logons = run.syspro.calls.list({ method: 'Logon', sinceSeq: since }).length;
    const logoffs = run.syspro.calls.list({ method: 'Logoff', sinceSeq: since }).length;
    assert.equal(logons, logoffs, 'every logon logged off');
  });

  it('posts a shipment freight once, reverses it once on void, and reports a closed period and an unknown ledger code', async () => {
    child = run.start();
    await waitFor(() => ours().length >= 3, 'orders in ShipStation');
    const [first, second] = ours();
    // The first GENTJL answer is lost (posted, then the connection dropped): the retry asks first.
    const gentjlBefore = run.syspro.calls.list({ businessObject: 'GENTJL' }).length;
    run.syspro.setFaults({ failures: [{ target: 'GENTJL', rate: 1, kind: 'lost' }] });
    const shipment = await label(first!.orderId);
    const reference = `SS FRT ${shipment.shipmentId}`;
    await waitFor(
      () => run.syspro.calls.list({ businessObject: 'GENTJL' }).length > gentjlBefore,
      'the first GENTJL post',
    );
    run.syspro.setFaults({});
    await waitFor(() => journals(reference).length > 0, 'the freight journal');
    await waitFor(async () => {
      const s = openStore(run.storeUrl);
      try {
        return (await listAudit(s.db, { flow: 'freight', limit: 50 })).some(
          (r) => r.entity_key === `shipment:${shipment.shipmentId}` && r.action === 'post',
        );
      } finally {
        await s.close();
      }
    }, 'the freight job resolved');
    assert.equal(
      run.syspro.calls.list({ businessObject: 'GENTJL' }).length - gentjlBefore,
      1,
      'the in-doubt retry found the journal by its reference and posted nothing again',
    );
    const journal = journals(reference)[0]!;
    assert.deepEqual(detailsOf(journal), [
      ['5100-000', shipment.shipmentCost],
      ['2150-000', -shipment.shipmentCost],
    ]);
    assert.match(
      String(journal.Notation),
      new RegExp(`shipment ${shipment.shipmentId}.*tracking ${shipment.trackingNumber}`),
    );

    // The shipments poll re-reads the label every second: still one journal.
    const polls = (output().match(/"shipments poll done"|"msg":"shipments poll/g) ?? []).length;
    await waitFor(
      () => (output().match(/"shipments poll done"|"msg":"shipments poll/g) ?? []).length >= polls + 3,
      'three more shipments polls',
    );
    assert.equal(journals(reference).length, 1, 'posted once');

    // Voided: one reversing journal.
    await run.sandboxPost(`/_sandbox/shipments/${shipment.shipmentId}/void`);
    await waitFor(() => journals(`${reference} VOID`).length > 0, 'the reversal');
    assert.deepEqual(detailsOf(journals(`${reference} VOID`)[0]!), [
      ['5100-000', -shipment.shipmentCost],
      ['2150-000', shipment.shipmentCost],
    ]);
    const after = (output().match(/"shipments poll done"|"msg":"shipments poll/g) ?? []).length;
    await waitFor(
      () => (output().match(/"shipments poll done"|"msg":"shipments poll/g) ?? []).length >= after + 2,
      'two more shipments polls',
    );
    assert.equal(journals(reference).length, 1);
    assert.equal(journals(`${reference} VOID`).length, 1, 'reversed once');

    // A closed period: the shipment's clear problem, with SYSPRO's text; no journal.
    // The ship date is Pacific's calendar date: close this UTC month and the one a day ago.
    for (const at of [Date.now(), Date.now() - 86_400_000])
      run.syspro.db.closedGlPeriods.add(new Date(at).toISOString().slice(0, 7));
    const closed = await label(second!.orderId);
    const store = openStore(run.storeUrl);
    try {
      await waitFor(async () => {
        const rows = await listAudit(store.db, { flow: 'freight', outcome: 'error', limit: 20 });
        return rows.some(
          (r) => r.entity_key === `shipment:${closed.shipmentId}` && /is closed/.test(r.error ?? ''),
        );
      }, 'the closed period reported');
    } finally {
      await store.close();
    }
    assert.equal(journals(`SS FRT ${closed.shipmentId}`).length, 0);

    // A ledger code the company does not have (deleted from GenMaster): SYSPRO's own text, no journal.
    run.syspro.db.closedGlPeriods.clear();
    const offset = run.syspro.db.genMaster.get('2150-000')!;
    run.syspro.db.genMaster.delete(offset);
    const third = ours().find((o) => o.orderId !== first!.orderId && o.orderId !== second!.orderId)!;
    const unknown = await label(third.orderId);
    const store2 = openStore(run.storeUrl);
    try {
      await waitFor(async () => {
        const rows = await listAudit(store2.db, { flow: 'freight', outcome: 'error', limit: 20 });
        return rows.some(
          (r) =>
            r.entity_key === `shipment:${unknown.shipmentId}` &&
            /Ledger code '2150-000' not found/.test(r.error ?? ''),
        );
      }, 'the unknown ledger code reported');
    } finally {
      await store2.close();
    }
    assert.equal(journals(`SS FRT ${unknown.shipmentId}`).length, 0);
    assert.equal(await child.stop(), 0, output().slice(-2000));
  });
});
