import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ShipStationSandbox } from '../../../src/sandbox/shipstation/index.js';
import type { FakeClock } from '../../helpers/clock.js';
import {
  type CallResult,
  control,
  orderBody,
  type ReceivedWebhook,
  startReceiver,
  startTestSandbox,
  v1,
  v2,
  v2Shipment,
  verifySignature,
} from './helpers.js';

type Call = (method: string, path: string, body?: unknown) => Promise<CallResult>;

describe('ShipStation sandbox V2 webhook events', () => {
  let sandbox: ShipStationSandbox;
  let clock: FakeClock;
  let call: Call;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let warehouseId: string;

  before(async () => {
    ({ sandbox, clock } = await startTestSandbox({ v2RateLimit: { limit: 10_000, windowMs: 60_000 } }));
    call = v2(sandbox);
    warehouseId = `se-${sandbox.state.defaultWarehouseId}`;
    rx = await startReceiver();
    for (const event of [
      'shipment_created_v2',
      'LABEL_CREATED_V2',
      'fulfillment_shipped_v2',
      'track_event_v2',
    ]) {
      const res = await call('POST', '/v2/environment/webhooks', {
        url: `${rx.url}/${event.toLowerCase()}`,
        event,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    // A subscription for another store hears nothing of the default store's shipments.
    await call('POST', '/v2/environment/webhooks', {
      url: `${rx.url}/other-store`,
      event: 'shipment_created_v2',
      store_id: 'se-1',
    });
  });
  after(async () => {
    await sandbox.close();
    await rx.close();
  });
  beforeEach(() => {
    rx.received.length = 0;
  });

  /** Delivers what is due and returns what arrived since the last call. */
  const deliver = async (): Promise<ReceivedWebhook[]> => {
    clock.advance(60_000);
    await sandbox.flushWebhooks();
    return rx.received.splice(0);
  };
  const fetchResource = (url: string) => call('GET', url.slice(sandbox.url.length));

  it('SHIPMENT_CREATED_V2: one per create call, a pointer to the created shipments (V1 creates too)', async () => {
    const res = await call('POST', '/v2/shipments', {
      shipments: [
        v2Shipment('WH-1001', { warehouse_id: warehouseId }),
        v2Shipment('WH-1002', { warehouse_id: warehouseId }),
      ],
    });
    const ids = res.body.shipments.map((s: { shipment_id: string }) => s.shipment_id).sort();
    const hooks = await deliver();
    assert.deepEqual(
      hooks.map((h) => h.path),
      ['/shipment_created_v2'],
    );
    const hook = hooks[0] as ReceivedWebhook;
    assert.equal(hook.body.resource_type, 'SHIPMENT_CREATED_V2');
    assert.match(hook.body.resource_url, /\/v2\/shipments\?import_batch_id=/);
    assert.equal(await verifySignature(sandbox.jwksUrl, hook), true);
    const list = await fetchResource(hook.body.resource_url);
    assert.deepEqual(list.body.shipments.map((s: { shipment_id: string }) => s.shipment_id).sort(), ids);

    await v1(sandbox)('POST', '/orders/createorder', orderBody('WH-V1-1'));
    const fromV1 = await deliver();
    assert.equal(fromV1.length, 1);
    const v1List = await fetchResource((fromV1[0] as ReceivedWebhook).body.resource_url);
    assert.equal(v1List.body.shipments[0].shipment_number, 'WH-V1-1');
  });

  it('LABEL_CREATED_V2 points at the label batch; TRACK_EVENT_V2 carries its data inline', async () => {
    const res = await call('POST', '/v2/shipments', {
      shipments: [v2Shipment('WH-2001', { warehouse_id: warehouseId })],
    });
    const id = res.body.shipments[0].shipment_id;
    await deliver();
    const made = await control(sandbox)('POST', `/_sandbox/orders/${id}/labels`, { carrierCode: 'ups' });
    const label = made.body.labels[0];
    const hooks = await deliver();
    const byPath = new Map(hooks.map((h) => [h.path, h]));
    const created = byPath.get('/label_created_v2') as ReceivedWebhook;
    assert.equal(created.body.resource_type, 'LABEL_CREATED_V2');
    assert.equal(created.body.resource_url, `${sandbox.url}/v2/labels?batch_id=${label.batch_id}`);
    const labels = await fetchResource(created.body.resource_url);
    assert.deepEqual(
      labels.body.labels.map((l: { label_id: string }) => l.label_id),
      [label.label_id],
    );
    const track = byPath.get('/track_event_v2') as ReceivedWebhook;
    assert.equal(track.body.resource_type, 'TRACK_EVENT_V2');
    assert.equal(track.body.data.tracking_number, label.tracking_number);
    assert.equal(track.body.data.status_code, 'AC');
    assert.equal(await verifySignature(sandbox.jwksUrl, track), true);

    await control(sandbox)('POST', `/_sandbox/labels/${label.label_id}/track`, { status_code: 'IT' });
    const scans = await deliver();
    assert.deepEqual(
      scans.map((h) => [h.path, h.body.data.status_code]),
      [['/track_event_v2', 'IT']],
    );
  });

  it('FULFILLMENT_SHIPPED_V2 points at the fulfillment', async () => {
    const res = await call('POST', '/v2/shipments', {
      shipments: [v2Shipment('WH-3001', { warehouse_id: warehouseId })],
    });
    const id = res.body.shipments[0].shipment_id;
    await deliver();
    const made = await call('POST', '/v2/fulfillments', {
      fulfillments: [{ shipment_id: id, tracking_number: '1Z1', carrier_code: 'ups' }],
    });
    const hooks = await deliver();
    assert.deepEqual(
      hooks.map((h) => h.path),
      ['/fulfillment_shipped_v2'],
    );
    const hook = hooks[0] as ReceivedWebhook;
    assert.equal(hook.body.resource_type, 'FULFILLMENT_SHIPPED_V2');
    const list = await fetchResource(hook.body.resource_url);
    assert.equal(list.body.fulfillments[0].fulfillment_id, made.body.fulfillments[0].fulfillment_id);
  });

  it('drops a V2 event under a dropWebhook fault for that event', async () => {
    sandbox.faults.add({ dropWebhook: 1, event: 'SHIPMENT_CREATED_V2', times: 1 });
    await call('POST', '/v2/shipments', {
      shipments: [v2Shipment('WH-4001', { warehouse_id: warehouseId })],
    });
    assert.equal((await deliver()).length, 0);
    const dropped = sandbox
      .deliveries()
      .filter((d) => d.event === 'SHIPMENT_CREATED_V2' && d.status === 'dropped');
    assert.equal(dropped.length, 1);
  });
});
