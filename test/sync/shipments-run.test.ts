/**
 * Shipments back to SYSPRO under `ml-connector run`: the real binary against both sandboxes over
 * HTTP, with ShipStation's webhooks subscribed through our own command (twice: idempotent) and
 * delivered by the sandbox. It runs once per ShipStation API (`shipstation.api` v1 and v2: on V2
 * the signed V2 events LABEL_CREATED_V2 / FULFILLMENT_SHIPPED_V2). Effects are counted in the
 * SYSPRO sandbox's own dispatch notes, in two runs of the binary:
 * 1. the shipments poll off (`polls.shipments: 0`): a label and a mark-as-shipped become notes,
 *    so by webhook alone; the label's webhook delivered twice more is still one note; a forged
 *    delivery is refused (V1 wrong token, V2 wrong signature: 401); a label whose webhooks are
 *    dropped makes no note;
 * 2. the poll on: the dropped label is caught by the poll, and the poll re-reading the first
 *    label (webhook twice + poll once) leaves one note.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import { shipmentLinkKey } from '../../src/sync/shipment-model.js';
import { type RunChild, type RunSetup, setupRun, waitFor as waitUntil } from '../helpers/run-process.js';
import { SHIPSTATION_APIS } from '../helpers/sandbox-connection.js';

for (const api of SHIPSTATION_APIS)
  describe(`ml-connector run (${api}): shipments ShipStation → SYSPRO`, () => {
    let run: RunSetup;
    let shipstation: RunSetup['shipstation'];
    let syspro: RunSetup['syspro'];
    let child: RunChild | undefined;

    before(async () => {
      run = await setupRun({
        prefix: 'shipments-run',
        seed: 9,
        orders: 400,
        shipstation: { webhookDelayMs: 200 },
        configure: (document, connection, sandboxes) => {
          document.jobLease = '5s';
          connection.polls = { orders: '1s', shipments: '2s', customers: 0 };
          if (api === 'v2') {
            connection.shipstation = {
              ...connection.shipstation,
              api,
              v2WarehouseId: sandboxes.shipstation.state.defaultWarehouseId,
            };
          }
        },
      });
      ({ shipstation, syspro } = run);
    });
    after(async () => {
      await run?.close();
    });

    const output = () => child?.output() ?? '';
    const waitFor = (check: () => boolean, what: string) => waitUntil(check, what, output);

    const ours = () =>
      [...shipstation.state.orders.values()].filter(
        (r) => r.orderKey.startsWith(`${syspro.company}:`) && r.status === 'awaiting_shipment',
      );
    const notesFor = (source: 'shipment' | 'fulfillment', id: number) =>
      syspro.db.mdnMaster.rows.filter(
        (n) => n.DispatchComments1 === dispatchNoteReference(shipmentLinkKey(source, id)),
      );
    const sandboxPost = (path: string, body: unknown = {}) => run.sandboxPost(path, body);

    /** Starts `run` with the shipments poll set to `shipmentsPoll` (0: webhooks only). */
    function start(shipmentsPoll: string | 0): void {
      const document = parse(readFileSync(run.configFile, 'utf8')) as {
        connections: Array<{ polls: Record<string, unknown> }>;
      };
      document.connections[0]!.polls.shipments = shipmentsPoll;
      writeFileSync(run.configFile, stringify(document));
      child = run.start();
    }
    const pollsDone = () => (output().match(/"msg":"shipments poll done"/g) ?? []).length;
    const pingWebhookChecks = async () => {
      const ping = await run.cli(['ping', '--json']);
      return ping.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { check: string; verdict: string })
        .filter((r) => r.check.startsWith('webhook '));
    };
    const webhookEvents =
      api === 'v2'
        ? ['label_created_v2', 'fulfillment_shipped_v2']
        : ['ITEM_SHIP_NOTIFY', 'FULFILLMENT_SHIPPED'];
    const labelEvent = api === 'v2' ? 'LABEL_CREATED_V2' : 'ITEM_SHIP_NOTIFY';

    it('writes a label and a mark-as-shipped by webhook, a label whose webhooks were lost by the poll, once each', async () => {
      start(0);
      await waitFor(() => ours().length >= 5, 'orders in ShipStation');
      // ping warns while the subscriptions are missing, and passes once they exist.
      const pingBefore = await pingWebhookChecks();
      for (const event of webhookEvents)
        assert.equal(
          pingBefore.find((r) => r.check === `webhook ${event}`)?.verdict,
          'warn',
          JSON.stringify(pingBefore),
        );
      const subscribed = await run.cli(['webhooks', 'subscribe']);
      assert.equal(subscribed.code, 0, subscribed.stdout + subscribed.stderr);
      const again = await run.cli(['webhooks', 'subscribe']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /nothing to change/, 'subscribe is idempotent');
      if (api === 'v2') {
        const hooks = [...shipstation.v2Webhooks.subscriptions.values()];
        assert.deepEqual(
          hooks.map((h) => h.event).sort(),
          [...webhookEvents].sort(),
          'one V2 subscription per event',
        );
        assert.ok(hooks.every((h) => h.url.endsWith('/webhooks/shipstation-v2/main')));
      }
      const listed = await run.cli(['webhooks', 'list']);
      assert.equal(listed.code, 0, listed.stdout + listed.stderr);
      assert.doesNotMatch(listed.stdout, /missing:/, listed.stdout);
      for (const event of webhookEvents) assert.match(listed.stdout, new RegExp(`${event}.*\\[ours\\]`));
      const pingAfter = await pingWebhookChecks();
      for (const event of webhookEvents)
        assert.equal(
          pingAfter.find((r) => r.check === `webhook ${event}`)?.verdict,
          'pass',
          JSON.stringify(pingAfter),
        );

      const [labelled, dropped, marked] = ours();
      assert.ok(labelled && dropped && marked);
      // 1. A label: with the shipments poll off, only its webhook can bring it to SYSPRO.
      const first = (await sandboxPost(`/_sandbox/orders/${labelled.orderId}/labels`)) as {
        shipments: Array<{ shipmentId: number; trackingNumber: string; carrierCode: string }>;
      };
      const shipment = first.shipments[0]!;
      // 2. Marked as shipped in ShipStation (no label): a fulfillment, by webhook too.
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
          notesFor('fulfillment', fulfillment.fulfillmentId).length > 0,
        'two dispatch notes in SYSPRO by webhook',
      );
      assert.equal(pollsDone(), 0, 'no shipments poll ran');
      const delivery = shipstation
        .deliveries()
        .find(
          (d) =>
            d.status === 'delivered' &&
            d.event.toUpperCase() === labelEvent &&
            d.body.includes(api === 'v2' ? '/v2/labels' : '/shipments'),
        );
      assert.ok(delivery, `the sandbox delivered ${labelEvent} to the receiver`);
      // The same webhook twice more (ShipStation redelivers): V2 signed again by the sandbox.
      for (let i = 0; i < 2; i++) {
        if (api === 'v2') {
          const resent = (await sandboxPost('/_sandbox/v2/webhooks/send', {
            url: delivery.targetUrl,
            event: 'label_created_v2',
            payload: JSON.parse(delivery.body),
          })) as { attempts: Array<{ statusCode?: number }> };
          assert.equal(resent.attempts.at(-1)?.statusCode, 200, JSON.stringify(resent));
        } else {
          const res: Response = await fetch(delivery.targetUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: delivery.body,
          });
          assert.equal(res.status, 200, await res.text());
        }
      }
      // A forged delivery: V2 with a signature that is not ShipStation's, V1 with a wrong token.
      const forged =
        api === 'v2'
          ? await fetch(delivery.targetUrl, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'x-shipengine-rsa-sha256-key-id': 'se-forged',
                'x-shipengine-rsa-sha256-signature': Buffer.from('not a signature').toString('base64'),
                'x-shipengine-timestamp': new Date().toISOString(),
              },
              body: delivery.body,
            })
          : await fetch(delivery.targetUrl.replace(/token=[^&]*/, 'token=wrong'), {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: delivery.body,
            });
      assert.equal(forged.status, 401, await forged.text());
      // 3. A label whose webhooks are dropped: nothing reaches SYSPRO until the poll runs.
      await sandboxPost('/_sandbox/faults', { flag: 'drop-webhook=1' });
      const second = (await sandboxPost(`/_sandbox/orders/${dropped.orderId}/labels`)) as {
        shipments: Array<{ shipmentId: number; trackingNumber: string }>;
      };
      const lost = second.shipments[0]!;
      await waitFor(() => shipstation.deliveries().some((d) => d.status === 'dropped'), 'a dropped webhook');
      // Let the worker drain what the redeliveries queued.
      await waitFor(
        () =>
          /"msg":"shipments fetch done"[\s\S]*"msg":"shipments fetch done"[\s\S]*"msg":"shipments fetch done"/.test(
            output(),
          ),
        'three fetches',
      );
      assert.equal(notesFor('shipment', shipment.shipmentId).length, 1, 'a webhook three times is one note');
      assert.equal(notesFor('shipment', lost.shipmentId).length, 0, 'the dropped label is not in SYSPRO yet');
      assert.equal(await child?.stop(), 0, output().slice(-2000));

      // The poll on: it catches the dropped label and meets the webhook's.
      start('2s');
      await waitFor(() => notesFor('shipment', lost.shipmentId).length > 0, 'the dropped label by the poll');
      const polls = pollsDone();
      await waitFor(() => pollsDone() >= polls + 2, 'two more shipments polls');
      const note = notesFor('shipment', shipment.shipmentId);
      assert.equal(note.length, 1, 'webhook and poll meet once');
      assert.equal(note[0]!.SalesOrder, labelled.orderKey.slice(labelled.orderKey.indexOf(':') + 1));
      assert.equal(note[0]!.UserField2, shipment.trackingNumber);
      assert.equal(
        notesFor('shipment', lost.shipmentId).length,
        1,
        'a dropped webhook is caught by the poll',
      );
      assert.equal(
        notesFor('fulfillment', fulfillment.fulfillmentId).length,
        1,
        'a mark-as-shipped comes back once',
      );
      assert.equal(notesFor('fulfillment', fulfillment.fulfillmentId)[0]!.UserField2, '794600000001');

      assert.equal(await child?.stop(), 0, output().slice(-2000));
    });
  });
