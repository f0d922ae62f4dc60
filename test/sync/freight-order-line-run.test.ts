/**
 * Freight as a SORTOI freight line (`freight.method: order-line`) under `ml-connector run`: a label
 * written back adds one freight line (value and cost = shipmentCost + insuranceCost) and one comment
 * line carrying the reference to the SYSPRO sales order, counted in the SYSPRO sandbox's own
 * SorDetail; re-polls add nothing, a lost SORTOI answer adds nothing twice, and a void after the
 * line was added is flagged for the operator (an order line is never reversed by us).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listAudit } from '../../src/store/audit.js';
import { openStore } from '../../src/store/open.js';
import { type RunChild, type RunSetup, setupRun, waitFor as waitUntil } from '../helpers/run-process.js';

describe('ml-connector run: freight → SORTOI freight line', () => {
  let run: RunSetup;
  let child: RunChild | undefined;

  before(async () => {
    run = await setupRun({
      prefix: 'freight-line-run',
      seed: 15,
      configure: (document, connection) => {
        document.jobLease = '5s';
        document.retry = { cadence: ['1s', '1s', '2s'], jitter: 0 };
        connection.polls = { orders: '1s', shipments: '1s', customers: 0, channelOrders: 0, inventory: 0 };
        connection.shipments = { overlap: '1h' };
        // order-line needs the order-update strategy (the config refuses it with dispatch notes).
        (connection.syspro as Record<string, unknown>).writeback = 'order-update';
        connection.freight = { enabled: true, method: 'order-line', voids: 'reverse' };
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
  const salesOrderOf = (orderKey: string) => {
    const number = orderKey.slice(orderKey.indexOf(':') + 1);
    const row = run.syspro.db.sorMaster.rows.find((r) => String(r.SalesOrder).trim() === number.trim());
    assert.ok(row, `SYSPRO has sales order ${number}`);
    return String(row.SalesOrder);
  };
  const freightLines = (salesOrder: string) =>
    run.syspro.db.linesOf(salesOrder).filter((l) => l.LineType === '4');
  const commentLines = (salesOrder: string, reference: string) =>
    run.syspro.db.linesOf(salesOrder).filter((l) => l.LineType === '6' && l.NComment === reference);
  const sortoiPosts = () =>
    run.syspro.calls.list({ businessObject: 'SORTOI' }).filter((c) => c.xmlIn.includes('<FreightLine>'))
      .length;
  const polls = () => (output().match(/"shipments poll done"|"msg":"shipments poll/g) ?? []).length;

  it('adds one freight line per shipment (also with the answer lost), none on re-polls, and flags a void', async () => {
    child = run.start();
    await waitFor(() => ours().length >= 1, 'orders in ShipStation');
    const order = ours()[0]!;
    const salesOrder = salesOrderOf(order.orderKey);
    const freightBefore = freightLines(salesOrder).length;

    // The SORTOI answer is lost after the line was added: the retry finds the comment line first.
    const postsBefore = sortoiPosts();
    // Only the freight post (the order-update write-back posts SORTOI too).
    run.syspro.setFaults({
      failures: [{ target: 'SORTOI', rate: 1, kind: 'lost', xmlInContains: '<FreightLine>' }],
    });
    const made = (await run.sandboxPost(`/_sandbox/orders/${order.orderId}/labels`)) as {
      shipments: Array<{ shipmentId: number; shipmentCost: number; insuranceCost?: number }>;
    };
    const shipment = made.shipments[0]!;
    const reference = `ml-connector SS FRT ${shipment.shipmentId}`;
    await waitFor(() => sortoiPosts() > postsBefore, 'the first freight post');
    run.syspro.setFaults({});
    await waitFor(() => commentLines(salesOrder, reference).length > 0, 'the freight comment line');
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
      sortoiPosts() - postsBefore,
      1,
      'the in-doubt retry found the line and posted nothing again',
    );
    const added = freightLines(salesOrder).slice(freightBefore);
    const cost = Math.round((shipment.shipmentCost + (shipment.insuranceCost ?? 0)) * 100) / 100;
    assert.deepEqual(
      added.map((l) => [l.NMscChargeValue, l.NMscChargeCost]),
      [[cost, cost]],
      'one freight line with the shipment and insurance cost',
    );

    // Re-polls see the label again: nothing more.
    const seen = polls();
    await waitFor(() => polls() >= seen + 3, 'three more shipments polls');
    assert.equal(freightLines(salesOrder).length - freightBefore, 1, 'one freight line');
    assert.equal(commentLines(salesOrder, reference).length, 1);

    // A void after the line was added: flagged for the operator, the line left in place.
    await run.sandboxPost(`/_sandbox/shipments/${shipment.shipmentId}/void`);
    const store = openStore(run.storeUrl);
    try {
      await waitFor(async () => {
        const rows = await listAudit(store.db, { flow: 'freight', outcome: 'error', limit: 20 });
        return rows.some(
          (r) =>
            r.entity_key === `shipment:${shipment.shipmentId}` &&
            /reverse it in SYSPRO by hand/.test(r.error ?? ''),
        );
      }, 'the void flagged');
    } finally {
      await store.close();
    }
    assert.equal(
      freightLines(salesOrder).length - freightBefore,
      1,
      'the freight line is left for the operator',
    );
    assert.equal(await child.stop(), 0, output().slice(-2000));
  });
});
