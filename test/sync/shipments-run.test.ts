/**
 * Shipments back to SYSPRO under `ml-connector run`: the real binary against both sandboxes over
 * HTTP, with ShipStation's webhooks subscribed through our own command and delivered by the
 * sandbox. Effects are counted in the SYSPRO sandbox's own dispatch notes: a label becomes one note
 * (webhook and poll meet once), a label whose webhooks were dropped is caught by the poll, and a
 * mark-as-shipped fulfillment comes back too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import type { SysproSandbox } from '../../src/sandbox/syspro/index.js';
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import { shipmentLinkKey } from '../../src/sync/shipment-model.js';
import { type RunChild, type RunSetup, setupRun, waitFor as waitUntil } from '../helpers/run-process.js';

describe('ml-connector run: shipments ShipStation → SYSPRO', () => {
  let run: RunSetup;
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let started: RunChild | undefined;
  const output = () => started?.output() ?? '';

  before(async () => {
    run = await setupRun({
      prefix: 'shipments-run',
      seed: 9,
      orders: 400,
      shipstation: { webhookDelayMs: 200 },
      configure: (document, connection) => {
        document.jobLease = '5s';
        connection.polls = { orders: '1s', shipments: '2s', customers: 0 };
      },
    });
    ({ shipstation, syspro } = run);
  });
  after(async () => {
    await run?.close();
  });

  const waitFor = (check: () => boolean, what: string, capMs = 45_000) =>
    waitUntil(check, what, output, capMs);

  const ours = () =>
    [...shipstation.state.orders.values()].filter(
      (r) => r.orderKey.startsWith(`${syspro.company}:`) && r.status === 'awaiting_shipment',
    );
  const notesFor = (source: 'shipment' | 'fulfillment', id: number) =>
    syspro.db.mdnMaster.rows.filter(
      (n) => n.DispatchComments1 === dispatchNoteReference(shipmentLinkKey(source, id)),
    );
  const sandboxPost = (path: string, body: unknown = {}) => run.sandboxPost(path, body);

  it('writes a label, a label whose webhooks were lost and a mark-as-shipped back once each', async () => {
    started = run.start();
    await waitFor(() => ours().length >= 5, 'orders in ShipStation');
    const subscribed = await run.cli(['webhooks', 'subscribe']);
    assert.equal(subscribed.code, 0, subscribed.stdout + subscribed.stderr);

    const [labelled, dropped, marked] = ours();
    assert.ok(labelled && dropped && marked);
    // 1. A label, delivered by webhook (and seen by the poll too).
    const first = (await sandboxPost(`/_sandbox/orders/${labelled.orderId}/labels`)) as {
      shipments: Array<{ shipmentId: number; trackingNumber: string; carrierCode: string }>;
    };
    const shipment = first.shipments[0]!;
    // 2. A label whose webhooks are dropped: only the reconciling poll can find it.
    await sandboxPost('/_sandbox/faults', { flag: 'drop-webhook=1' });
    const second = (await sandboxPost(`/_sandbox/orders/${dropped.orderId}/labels`)) as {
      shipments: Array<{ shipmentId: number; trackingNumber: string }>;
    };
    const lost = second.shipments[0]!;
    // 3. Marked as shipped in ShipStation (no label): a fulfillment.
    await sandboxPost(`/_sandbox/orders/${marked.orderId}/mark-shipped`, {
      carrierCode: 'fedex',
      trackingNumber: '794600000001',
    });
    const fulfillment = [...shipstation.state.fulfillments.values()].find(
      (f) => f.orderId === marked.orderId,
    )!;

    await waitFor(
      () =>
        notesFor('shipment', shipment.shipmentId).length > 0 &&
        notesFor('shipment', lost.shipmentId).length > 0 &&
        notesFor('fulfillment', fulfillment.fulfillmentId).length > 0,
      'three dispatch notes in SYSPRO',
    );
    const delivered = shipstation.deliveries().filter((d) => d.status === 'delivered');
    assert.ok(delivered.length > 0, 'the sandbox delivered webhooks to the receiver');
    // Let the poll and any redelivery run again: still one note each.
    const polls = (output().match(/"shipments poll done"|"msg":"shipments poll/g) ?? []).length;
    await waitFor(
      () => (output().match(/"shipments poll done"|"msg":"shipments poll/g) ?? []).length >= polls + 2,
      'two more shipments polls',
    );
    const note = notesFor('shipment', shipment.shipmentId);
    assert.equal(note.length, 1, 'webhook and poll meet once');
    assert.equal(note[0]!.SalesOrder, labelled.orderKey.slice(labelled.orderKey.indexOf(':') + 1));
    assert.equal(note[0]!.UserField2, shipment.trackingNumber);
    assert.equal(notesFor('shipment', lost.shipmentId).length, 1, 'a dropped webhook is caught by the poll');
    assert.equal(
      notesFor('fulfillment', fulfillment.fulfillmentId).length,
      1,
      'a mark-as-shipped comes back',
    );
    assert.equal(notesFor('fulfillment', fulfillment.fulfillmentId)[0]!.UserField2, '794600000001');

    assert.equal(await started.stop(), 0, output().slice(-2000));
  });
});
