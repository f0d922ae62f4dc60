import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ShipStationSandbox } from '../../../src/sandbox/shipstation/index.js';
import type { FakeClock } from '../../helpers/clock.js';
import { type CallResult, control, orderBody, startTestSandbox, v1, v2, v2Shipment } from './helpers.js';

type Call = (method: string, path: string, body?: unknown) => Promise<CallResult>;

describe('ShipStation sandbox V2 labels, tracking and fulfillments', () => {
  let sandbox: ShipStationSandbox;
  let clock: FakeClock;
  let call: Call;
  let callV1: Call;
  let ctl: Call;
  let warehouseId: string;

  before(async () => {
    ({ sandbox, clock } = await startTestSandbox({ v2RateLimit: { limit: 10_000, windowMs: 60_000 } }));
    call = v2(sandbox);
    callV1 = v1(sandbox);
    ctl = control(sandbox);
    warehouseId = `se-${sandbox.state.defaultWarehouseId}`;
  });
  after(() => sandbox.close());

  const createShipment = async (number: string) => {
    const res = await call('POST', '/v2/shipments', {
      shipments: [v2Shipment(number, { warehouse_id: warehouseId })],
    });
    assert.equal(res.body.has_errors, false, JSON.stringify(res.body));
    return res.body.shipments[0].shipment_id as string;
  };

  it('a warehouse label is a V1 shipment and a V2 label at once', async () => {
    const id = await createShipment('LB-1001');
    const made = await ctl('POST', `/_sandbox/orders/${id}/labels`, { carrierCode: 'ups' });
    assert.equal(made.status, 200);
    const v1Shipment = made.body.shipments[0];
    const label = made.body.labels[0];
    assert.equal(label.label_id, `se-${v1Shipment.shipmentId}`);
    assert.equal(label.shipment_id, id);
    assert.equal(label.tracking_number, v1Shipment.trackingNumber);
    assert.equal(label.status, 'completed');
    assert.equal(label.carrier_code, 'ups');
    assert.match(label.created_at, /Z$/);
    const got = await call('GET', `/v2/labels/${label.label_id}`);
    assert.deepEqual(got.body, label);
    const listed = await call('GET', `/v2/labels?shipment_id=${id}`);
    assert.equal(listed.body.total, 1);
    const v1List = await callV1('GET', `/shipments?orderId=${id.slice(3)}`);
    assert.equal(v1List.body.shipments[0].shipmentId, v1Shipment.shipmentId);
    assert.equal((await call('GET', `/v2/shipments/${id}`)).body.shipment_status, 'label_purchased');
  });

  it('auto-ship labels V2-created shipments too', async () => {
    sandbox.setAutoShip({ delayMs: 1_000 });
    try {
      const id = await createShipment('LB-2001');
      clock.advance(1_000);
      await sandbox.runAutoShip();
      const labels = await call('GET', `/v2/labels?shipment_id=${id}`);
      assert.equal(labels.body.total, 1);
      assert.equal((await call('GET', `/v2/shipments/${id}`)).body.shipment_status, 'label_purchased');
    } finally {
      sandbox.setAutoShip(false);
    }
  });

  it('lists labels with the documented filters; voids once', async () => {
    const id = await createShipment('LB-3001');
    const made = await ctl('POST', `/_sandbox/orders/${id}/labels`, { carrierCode: 'fedex' });
    const label = made.body.labels[0];
    const narrow = async (query: string) => (await call('GET', `/v2/labels?${query}`)).body.total;
    assert.equal(await narrow(`tracking_number=${label.tracking_number}`), 1);
    assert.equal(await narrow(`batch_id=${label.batch_id}`), 1);
    assert.equal(await narrow(`carrier_id=${label.carrier_id}&shipment_id=${id}`), 1);
    assert.equal(await narrow(`carrier_id=se-100002&shipment_id=${id}`), 0);
    assert.equal(await narrow('rate_id=se-1'), 0);
    assert.equal(await narrow(`created_at_start=${new Date(clock.now() + 1).toISOString()}`), 0);
    const all = await narrow('');
    assert.equal(await narrow('label_statuss=voided'), all, 'a misspelled filter is ignored');
    assert.equal((await call('GET', '/v2/labels?label_status=gone')).status, 400);

    const voided = await call('PUT', `/v2/labels/${label.label_id}/void`);
    assert.deepEqual(voided.body, { approved: true, message: 'This label has been voided.' });
    const again = await call('PUT', `/v2/labels/${label.label_id}/void`);
    assert.equal(again.status, 200);
    assert.equal(again.body.approved, false);
    assert.equal(again.body.reason_code, 'label_already_voided');
    assert.equal(await narrow(`label_status=voided&shipment_id=${id}`), 1);
    const after = await call('GET', `/v2/labels/${label.label_id}`);
    assert.equal(after.body.voided, true);
    assert.match(after.body.voided_at, /Z$/);
    assert.equal((await call('GET', `/v2/shipments/${id}`)).body.shipment_status, 'pending');
    const v1Shipments = await callV1('GET', `/shipments?orderId=${id.slice(3)}`);
    assert.equal(v1Shipments.body.shipments[0].voided, true);
    assert.equal((await call('GET', '/v2/labels/se-1')).status, 404);
  });

  it('tracks by label and by carrier and tracking number', async () => {
    const id = await createShipment('LB-4001');
    const made = await ctl('POST', `/_sandbox/orders/${id}/labels`, { carrierCode: 'ups' });
    const label = made.body.labels[0];
    const first = await call('GET', `/v2/labels/${label.label_id}/track`);
    assert.equal(first.body.status_code, 'AC');
    assert.equal(first.body.events.length, 1);
    clock.advance(3_600_000);
    const scan = await ctl('POST', `/_sandbox/labels/${label.label_id}/track`, { status_code: 'DE' });
    assert.equal(scan.status, 200);
    const byNumber = await call(
      'GET',
      `/v2/tracking?carrier_code=ups&tracking_number=${label.tracking_number}`,
    );
    assert.equal(byNumber.body.status_code, 'DE');
    assert.equal(byNumber.body.events.length, 2);
    assert.equal(byNumber.body.actual_delivery_date, new Date(clock.now()).toISOString());
    assert.equal((await call('GET', `/v2/labels/${label.label_id}`)).body.tracking_status, 'delivered');
    const unknown = await call('GET', '/v2/tracking?carrier_code=ups&tracking_number=1ZNOPE');
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.status_code, 'UN');
    assert.equal((await call('GET', '/v2/tracking?carrier_code=ups')).status, 400);
  });

  it('fulfills in a batch that can succeed in part; V1 sees the fulfillments', async () => {
    const a = await createShipment('FF-1001');
    const b = await createShipment('FF-1002');
    await ctl('POST', `/_sandbox/orders/${b}/labels`, {});
    const res = await call('POST', '/v2/fulfillments', {
      fulfillments: [
        {
          shipment_id: a,
          tracking_number: '1Z999',
          carrier_code: 'ups',
          ship_date: '2026-01-15T10:00:00Z',
          notify_customer: true,
          notify_order_source: true,
        },
        { shipment_id: b, tracking_number: '1Z998', carrier_code: 'ups' },
        { shipment_id: 'se-999999999', tracking_number: '1Z997', carrier_code: 'ups' },
        { shipment_id: a, carrier_code: 'ups' },
      ],
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.has_errors, true);
    const [ok, shipped, missing, noTracking] = res.body.fulfillments;
    assert.match(ok.fulfillment_id, /^se-\d+$/);
    assert.deepEqual(ok.errors, []);
    assert.equal(ok.ship_date, '2026-01-15T00:00:00Z');
    assert.equal(ok.notify_order_source, true);
    assert.match(shipped.errors[0], /shipped/);
    assert.equal(missing.fulfillment_id, null);
    assert.match(noTracking.errors[0], /tracking_number/);
    assert.equal((await call('GET', `/v2/shipments/${a}`)).body.shipment_status, 'label_purchased');
    const v1Order = await callV1('GET', `/orders/${a.slice(3)}`);
    assert.equal(v1Order.body.orderStatus, 'shipped');
    const v1Fulfillments = await callV1('GET', `/fulfillments?orderId=${a.slice(3)}`);
    assert.equal(v1Fulfillments.body.fulfillments[0].trackingNumber, '1Z999');
    assert.equal(`se-${v1Fulfillments.body.fulfillments[0].fulfillmentId}`, ok.fulfillment_id);

    const list = async (query: string) => (await call('GET', `/v2/fulfillments?${query}`)).body;
    assert.equal((await list(`shipment_id=${a}`)).fulfillments[0].fulfillment_id, ok.fulfillment_id);
    assert.equal((await list(`fulfillment_id=${ok.fulfillment_id}`)).total, 1);
    assert.equal((await list('tracking_number=1Z999')).total, 1);
    assert.equal((await list('shipment_number=FF-1001')).total, 1);
    assert.equal((await list('ship_to_name=ada&tracking_number=1Z999')).total, 1);
    assert.equal((await list('ship_to_country_code=CA&tracking_number=1Z999')).total, 0);
    assert.equal((await list(`create_date_start=${new Date(clock.now() + 1).toISOString()}`)).total, 0);
    assert.equal(
      (await list(`created_at_start=${new Date(clock.now() + 1).toISOString()}`)).total,
      1,
      'created_at_* is not a fulfillments filter',
    );
    // A V1 mark-as-shipped is a V2 fulfillment too.
    const v1Made = await callV1('POST', '/orders/createorder', orderBody('FF-V1-1'));
    await callV1('POST', '/orders/markasshipped', {
      orderId: v1Made.body.orderId,
      carrierCode: 'fedex',
      trackingNumber: 'FX-1',
    });
    assert.equal(
      (await list(`shipment_id=se-${v1Made.body.orderId}`)).fulfillments[0].tracking_number,
      'FX-1',
    );
    assert.equal((await call('POST', '/v2/fulfillments', { fulfillments: [] })).status, 400);
  });
});
