import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { ShipStationSandbox } from '../../../src/sandbox/shipstation/index.js';
import { type CallResult, orderBody, startTestSandbox, v1, v2, v2Shipment } from './helpers.js';

type Call = (method: string, path: string, body?: unknown) => Promise<CallResult>;

const text = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== '');
const item = fc.record({ sku: text, name: text, quantity: fc.integer({ min: 1, max: 50 }) });
const data = fc.record({
  name: text,
  city: text,
  notes: fc.option(text, { nil: null }),
  gift: fc.boolean(),
  paid: fc.integer({ min: 0, max: 100_000 }).map((c) => c / 100),
  items: fc.array(item, { minLength: 1, maxLength: 4 }),
});

describe('V1 and V2 see one account (property)', () => {
  let sandbox: ShipStationSandbox;
  let callV1: Call;
  let callV2: Call;
  let n = 0;

  before(async () => {
    ({ sandbox } = await startTestSandbox({
      rateLimit: { limit: 100_000, windowMs: 60_000 },
      v2RateLimit: { limit: 100_000, windowMs: 60_000 },
    }));
    callV1 = v1(sandbox);
    callV2 = v2(sandbox);
  });
  after(() => sandbox.close());

  it('what V2 creates, V1 reads', async () => {
    const warehouseId = `se-${sandbox.state.defaultWarehouseId}`;
    await fc.assert(
      fc.asyncProperty(data, async (d) => {
        n += 1;
        const number = `P2-${n}`;
        const base = v2Shipment(number);
        const res = await callV2('POST', '/v2/shipments', {
          shipments: [
            {
              ...base,
              warehouse_id: warehouseId,
              ship_to: { ...(base.ship_to as object), name: d.name, city_locality: d.city },
              notes_from_buyer: d.notes,
              is_gift: d.gift,
              amount_paid: { currency: 'usd', amount: d.paid },
              items: d.items.map((i, k) => ({ ...i, external_order_item_id: String(k) })),
            },
          ],
        });
        assert.equal(res.body.has_errors, false, JSON.stringify(res.body));
        const id = res.body.shipments[0].shipment_id as string;
        const order = (await callV1('GET', `/orders/${id.slice(3)}`)).body;
        assert.equal(order.orderKey, `acme:${number}`);
        assert.equal(order.orderNumber, number);
        assert.equal(order.shipTo.name, d.name);
        assert.equal(order.shipTo.city, d.city);
        assert.equal(order.customerNotes, d.notes);
        assert.equal(order.gift, d.gift);
        assert.equal(order.amountPaid, d.paid);
        assert.deepEqual(
          order.items.map((i: { sku: string; name: string; quantity: number }) => ({
            sku: i.sku,
            name: i.name,
            quantity: i.quantity,
          })),
          d.items.map((i) => ({ ...i })),
        );
      }),
      { numRuns: 15 },
    );
  });

  it('what V1 creates, V2 reads', async () => {
    await fc.assert(
      fc.asyncProperty(data, async (d) => {
        n += 1;
        const number = `P1-${n}`;
        const base = orderBody(number);
        const created = await callV1('POST', '/orders/createorder', {
          ...base,
          shipTo: { ...(base.shipTo as object), name: d.name, city: d.city },
          customerNotes: d.notes,
          gift: d.gift,
          amountPaid: d.paid,
          items: d.items.map((i, k) => ({ ...i, lineItemKey: String(k), unitPrice: 1 })),
        });
        assert.equal(created.status, 200, created.text);
        const shipment = (await callV2('GET', `/v2/shipments/se-${created.body.orderId}`)).body;
        const byKey = (
          await callV2('GET', `/v2/shipments/external_shipment_id/${encodeURIComponent(`acme:${number}`)}`)
        ).body;
        assert.deepEqual(byKey, shipment);
        assert.equal(shipment.shipment_number, number);
        assert.equal(shipment.shipment_status, 'pending');
        assert.equal(shipment.ship_to.name, d.name);
        assert.equal(shipment.ship_to.city_locality, d.city);
        assert.equal(shipment.notes_from_buyer, d.notes);
        assert.equal(shipment.is_gift, d.gift);
        assert.equal(shipment.amount_paid.amount, d.paid);
        assert.deepEqual(
          shipment.items.map((i: { sku: string; name: string; quantity: number }) => ({
            sku: i.sku,
            name: i.name,
            quantity: i.quantity,
          })),
          d.items.map((i) => ({ ...i })),
        );
      }),
      { numRuns: 15 },
    );
  });
});
