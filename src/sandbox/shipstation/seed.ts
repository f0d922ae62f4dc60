/**
 * Deterministic starting data for a seed: stores (one manual, two marketplace channels),
 * warehouses, V2 inventory warehouses/locations/stock, and `count` orders spread over the last
 * 30 days (most awaiting shipment, every tenth shipped with a label, dated as it happened). Seeding
 * fires no webhooks.
 */

import type { SeededRandom } from '../random.js';
import type { JsonDoc } from './json-binding.js';
import type { OrderStatus } from './order-model.js';
import { formatDotNet7 } from './pacific-time.js';
import type { ShipStationState } from './state.js';
import type { InventoryState } from './v2-inventory.js';

export const SEED_CATALOG = [
  { sku: 'WID-100', name: 'Widget, small', unitPrice: 4.5, weightOz: 6 },
  { sku: 'WID-200', name: 'Widget, large', unitPrice: 9.75, weightOz: 14 },
  { sku: 'GAD-310', name: 'Gadget with cable', unitPrice: 24.0, weightOz: 20 },
  { sku: 'BOLT-M8', name: 'Bolt M8 x 40 (box of 50)', unitPrice: 12.3, weightOz: 32 },
  { sku: 'TAPE-48', name: 'Packing tape 48 mm', unitPrice: 3.2, weightOz: 9 },
  { sku: 'GLV-L', name: 'Work gloves, large', unitPrice: 7.99, weightOz: 5 },
] as const;

const NAMES = [
  'Ada Lovelace',
  'Grace Hopper',
  'Alan Turing',
  'Katherine Johnson',
  'Linus Pauling',
  'Mae Jemison',
];
const PLACES = [
  { city: 'Austin', state: 'TX', postalCode: '78701', street1: '500 Congress Ave' },
  { city: 'Portland', state: 'OR', postalCode: '97205', street1: '1120 SW 5th Ave' },
  { city: 'Columbus', state: 'OH', postalCode: '43215', street1: '90 W Broad St' },
  { city: 'Tampa', state: 'FL', postalCode: '33602', street1: '306 E Jackson St' },
];

export function seedAccount(state: ShipStationState, inventory: InventoryState, now: number): void {
  const stores = [
    {
      storeId: 310001,
      storeName: 'Manual Orders',
      marketplaceId: 0,
      marketplaceName: 'ShipStation',
      manual: true,
    },
    {
      storeId: 310002,
      storeName: 'Shopify Store',
      marketplaceId: 2,
      marketplaceName: 'Shopify',
      manual: false,
    },
    { storeId: 310003, storeName: 'Amazon US', marketplaceId: 1, marketplaceName: 'Amazon', manual: false },
  ];
  for (const s of stores) state.stores.set(s.storeId, { ...s, createDate: now - 400 * 86_400_000 });
  const origin = {
    name: 'Shipping Dept',
    company: 'ML Demo Co',
    street1: '100 Industrial Way',
    street2: null,
    street3: null,
    city: 'Ontario',
    state: 'CA',
    postalCode: '91761',
    country: 'US',
    phone: '555-0100',
    residential: false,
  };
  state.warehouses.set(410001, {
    warehouseId: 410001,
    warehouseName: 'Main Warehouse',
    originAddress: origin,
    isDefault: true,
    createDate: now - 400 * 86_400_000,
  });
  state.warehouses.set(410002, {
    warehouseId: 410002,
    warehouseName: 'East Coast DC',
    originAddress: { ...origin, street1: '7 Harbor Rd', city: 'Edison', state: 'NJ', postalCode: '08817' },
    isDefault: false,
    createDate: now - 200 * 86_400_000,
  });

  const main = inventory.addWarehouse('Main Warehouse');
  const aisleA = inventory.addLocation('Aisle A', main.inventory_warehouse_id);
  inventory.addLocation('Aisle B', main.inventory_warehouse_id);
  for (const [i, item] of SEED_CATALOG.entries()) {
    inventory.apply({
      transaction_type: 'increment',
      sku: item.sku,
      quantity: 20 + i * 15,
      inventory_location_id: aisleA.inventory_location_id,
      cost: { amount: Math.round(item.unitPrice * 55) / 100, currency: 'USD' },
    });
  }
}

/** A plausible order body for the API (also used by `/_sandbox/channel-orders`). */
export function randomOrderBody(
  random: SeededRandom,
  orderNumber: string,
  orderDate: number,
  status: OrderStatus,
): JsonDoc {
  const name = random.pick(NAMES);
  const place = random.pick(PLACES);
  const address = {
    name,
    company: null,
    ...place,
    street2: null,
    street3: null,
    country: 'US',
    phone: null,
    residential: true,
  };
  const lines = random.int(1, 3);
  const items = [];
  for (let i = 0; i < lines; i += 1) {
    const product = random.pick(SEED_CATALOG);
    items.push({
      lineItemKey: `${orderNumber}-${i + 1}`,
      sku: product.sku,
      name: product.name,
      quantity: random.int(1, 4),
      unitPrice: product.unitPrice,
      weight: { value: product.weightOz, units: 'ounces' },
    });
  }
  return {
    orderNumber,
    orderDate: formatDotNet7(orderDate),
    // An unpaid order has no paymentDate (so paymentDate filters do not find it).
    paymentDate: status === 'awaiting_payment' ? null : formatDotNet7(orderDate),
    orderStatus: status,
    customerUsername: name.toLowerCase().replace(/\s+/g, '.'),
    customerEmail: `${name.toLowerCase().replace(/\s+/g, '.')}@example.com`,
    billTo: address,
    shipTo: address,
    items,
    amountPaid: 0,
    taxAmount: 0,
    shippingAmount: 5.95,
    requestedShippingService: 'Ground',
  };
}

/**
 * Seeded orders carry a history consistent with their dates: each is created (with its items) at
 * its backdated `createDate` and, untouched since, keeps `modifyDate = createDate` (reference
 * §1.9); a labelled one got its label 2–36 h after creation (never after `now`), which is when it
 * was last modified and its `shipDate`.
 */
export function seedOrders(state: ShipStationState, random: SeededRandom, count: number, now: number): void {
  const span = 30 * 86_400_000;
  const labelled: Array<{ orderId: number; at: number }> = [];
  for (let i = 0; i < count; i += 1) {
    const createDate = now - span + Math.floor((span * i) / Math.max(1, count));
    const status: OrderStatus =
      i % 25 === 7 ? 'awaiting_payment' : i % 40 === 3 ? 'cancelled' : 'awaiting_shipment';
    // Bound values are instants already: pass the body through the binder like the API does.
    const errors = {};
    const doc = state.bindOrder(
      randomOrderBody(random, `SEED-${100000 + i}`, createDate, status),
      'order',
      errors,
    );
    if (!doc) continue;
    const result = state.upsertOrder(doc, '', [], { at: createDate });
    if (!result.ok) continue;
    if (i % 10 === 0 && status === 'awaiting_shipment') {
      const delay = random.int(2 * 3_600_000, 36 * 3_600_000);
      const at = createDate + Math.min(delay, Math.floor((now - createDate) / 2));
      labelled.push({ orderId: result.record.orderId, at });
    }
  }
  state.importBatches.delete('');
  // Oldest first, so ids (shipmentId, batchId) grow with time as they would have.
  labelled.sort((a, b) => a.at - b.at);
  for (const { orderId, at } of labelled) state.createLabelBatch([{ orderId }], { at });
}
