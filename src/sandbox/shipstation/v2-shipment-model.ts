/**
 * A V1 order seen as a V2 shipment, and back (reference §10 "V2 shipments are orders"). Pure
 * functions over the account's order records; the routes are in `v2-shipments.ts`.
 *
 * - `shipment_id` is `se-<orderId>`, `external_shipment_id` is the `orderKey`, `shipment_number`
 *   is the `orderNumber`, `store_id` / `warehouse_id` are `se-<storeId>` / `se-<warehouseId>`.
 * - `shipment_status` from the V1 status: `awaiting_payment`, `awaiting_shipment` and
 *   `pending_fulfillment` are `pending`; `on_hold` is `on_hold` (hold docs); `cancelled` is
 *   `cancelled`; `shipped` is `label_purchased`, also when it was marked shipped without a label
 *   (V2 names no "fulfilled" status: UNCONFIRMED, docs/decisions.md).
 * - Addresses, items, money, notes, gift, confirmation, service, weight and dimensions map onto
 *   the V1 fields, so V1 reads what V2 wrote and the reverse. Fields only V2 has
 *   (`external_order_id`, `carrier_id`, `tags`, `ship_from`, `order_source_code`, `ship_date`)
 *   are kept in the order body under `v2` (V1 never renders it; a V1 createorder replaces the
 *   whole body and so drops them, as a whole replace does).
 */
import type { JsonDoc } from './json-binding.js';
import type { OrderBody, OrderRecord, StoredItem } from './order-model.js';
import { iso, money, parseSeId, readMoney, readV2Date, seId, v2Date } from './v2-common.js';

export const V2_SHIPMENT_STATUSES = [
  'pending',
  'processing',
  'label_purchased',
  'cancelled',
  'on_hold',
] as const;
export type V2ShipmentStatus = (typeof V2_SHIPMENT_STATUSES)[number];

/** `external_shipment_id` and `shipment_number` are cut at 50 characters (the docs' warning). */
export const V2_ID_MAX = 50;

export function v2ShipmentStatus(record: OrderRecord): V2ShipmentStatus {
  switch (record.status) {
    case 'cancelled':
      return 'cancelled';
    case 'on_hold':
      return 'on_hold';
    case 'shipped':
      return 'label_purchased';
    default:
      return 'pending';
  }
}

type Doc = Record<string, unknown>;

function obj(value: unknown): Doc | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Doc) : null;
}
function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' ? value : fallback;
}

/** A V1 address as a V2 address. */
export function v2Address(value: unknown): Doc | null {
  const a = obj(value);
  if (!a) return null;
  return {
    name: str(a.name),
    phone: str(a.phone) ?? '',
    email: null,
    company_name: str(a.company),
    address_line1: str(a.street1),
    address_line2: str(a.street2),
    address_line3: str(a.street3),
    city_locality: str(a.city),
    state_province: str(a.state),
    postal_code: str(a.postalCode),
    country_code: str(a.country),
    address_residential_indicator:
      a.residential === true ? 'yes' : a.residential === false ? 'no' : 'unknown',
  };
}

/** A V2 address as a V1 address. */
export function v1Address(value: unknown): Doc | null {
  const a = obj(value);
  if (!a) return null;
  const residential = a.address_residential_indicator;
  return {
    name: str(a.name),
    company: str(a.company_name),
    street1: str(a.address_line1),
    street2: str(a.address_line2),
    street3: str(a.address_line3),
    city: str(a.city_locality),
    state: str(a.state_province),
    postalCode: str(a.postal_code),
    country: str(a.country_code),
    phone: str(a.phone),
    residential: residential === 'yes' ? true : residential === 'no' ? false : null,
  };
}

const V1_TO_V2_WEIGHT: Record<string, string> = { ounces: 'ounce', pounds: 'pound', grams: 'gram' };

function v2Weight(value: unknown): { value: number; unit: string } {
  const w = obj(value);
  return { value: num(w?.value), unit: V1_TO_V2_WEIGHT[str(w?.units) ?? 'ounces'] ?? 'ounce' };
}

function v1Weight(value: unknown): { value: number; units: string } | null {
  const w = obj(value);
  if (!w || typeof w.value !== 'number') return null;
  switch (w.unit) {
    case 'pound':
      return { value: w.value, units: 'pounds' };
    case 'gram':
      return { value: w.value, units: 'grams' };
    case 'kilogram':
      return { value: w.value * 1000, units: 'grams' };
    default:
      return { value: w.value, units: 'ounces' };
  }
}

function v2Item(item: StoredItem, externalOrderId: string | null): Doc {
  return {
    name: str(item.name),
    sales_order_id: null,
    sales_order_item_id: null,
    quantity: num(item.quantity),
    sku: str(item.sku),
    bundle_sku: null,
    external_order_id: externalOrderId,
    external_order_item_id: str(item.lineItemKey),
    asin: null,
    order_source_code: null,
    item_id: null,
    allocation_status: null,
    image_url: str(item.imageUrl),
    weight: item.weight ? v2Weight(item.weight) : null,
  };
}

export interface ShipmentRenderContext {
  defaultWarehouseId: number;
  /** The V1 origin address of a warehouse. */
  warehouseAddress(warehouseId: number): unknown;
}

/** The full V2 shipment object of one order. */
export function renderV2Shipment(record: OrderRecord, ctx: ShipmentRenderContext, body = record.body()): Doc {
  const v2 = obj(body.v2) ?? {};
  const advanced = obj(body.advancedOptions) ?? {};
  const warehouseId =
    typeof advanced.warehouseId === 'number' ? advanced.warehouseId : ctx.defaultWarehouseId;
  const shipFrom = obj(v2.ship_from) ?? v2Address(ctx.warehouseAddress(warehouseId));
  const externalOrderId = str(v2.external_order_id);
  const dims = obj(body.dimensions);
  const weight = v2Weight(body.weight);
  return {
    shipment_id: seId(record.orderId),
    carrier_id: str(v2.carrier_id),
    service_code: str(body.serviceCode),
    requested_shipment_service: str(body.requestedShippingService),
    shipping_rule_id: null,
    external_order_id: externalOrderId,
    hold_until_date: v2Date(body.holdUntilDate),
    ship_by_date: v2Date(body.shipByDate),
    retail_rate: null,
    store_id: seId(record.storeId),
    items: (body.items ?? []).map((i) => v2Item(i, externalOrderId)),
    notes_from_buyer: str(body.customerNotes),
    notes_for_gift: str(body.giftMessage),
    is_gift: body.gift === true,
    assigned_user: null,
    amount_paid: money(num(body.amountPaid)),
    shipping_paid: money(num(body.shippingAmount)),
    tax_paid: money(num(body.taxAmount)),
    zone: null,
    display_scheme: null,
    tax_identifiers: null,
    external_shipment_id: record.orderKey,
    shipment_number: record.orderNumber,
    ship_date: v2Date(body.shipDate ?? v2.ship_date),
    created_at: iso(record.createDate),
    modified_at: iso(record.modifyDate),
    shipment_status: v2ShipmentStatus(record),
    ship_to: v2Address(body.shipTo),
    ship_from: shipFrom,
    warehouse_id: seId(warehouseId),
    return_to: shipFrom,
    is_return: false,
    confirmation: str(body.confirmation) ?? 'none',
    customs: null,
    advanced_options: {
      bill_to_account: str(advanced.billToAccount),
      bill_to_country_code: str(advanced.billToCountryCode),
      bill_to_party: str(advanced.billToParty),
      bill_to_postal_code: str(advanced.billToPostalCode),
      contains_alcohol: advanced.containsAlcohol === true,
      non_machinable: advanced.nonMachinable === true,
      saturday_delivery: advanced.saturdayDelivery === true,
      custom_field1: str(advanced.customField1),
      custom_field2: str(advanced.customField2),
      custom_field3: str(advanced.customField3),
    },
    insurance_provider: 'none',
    tags: Array.isArray(v2.tags) ? v2.tags : [],
    order_source_code: str(v2.order_source_code),
    packages: [
      {
        package_code: str(body.packageCode) ?? 'package',
        weight,
        dimensions: dims
          ? {
              unit: str(dims.units) === 'centimeters' ? 'centimeter' : 'inch',
              length: num(dims.length),
              width: num(dims.width),
              height: num(dims.height),
            }
          : { unit: 'inch', length: 0, width: 0, height: 0 },
        insured_value: money(num(obj(body.insuranceOptions)?.insuredValue)),
        label_messages: { reference1: null, reference2: null, reference3: null },
        external_package_id: null,
        content_description: null,
        products: [],
      },
    ],
    total_weight: weight,
    comparison_rate_type: null,
  };
}

export type V2ToOrderResult = { ok: true; doc: JsonDoc } | { ok: false; message: string };

/**
 * A V2 shipment body (create item or the whole object of a PUT) as a V1 order document for
 * `state.upsertOrder`. On update, `existing` is the order as it is: its V1-only fields (bill-to,
 * internal notes, order and payment dates, customer, tags, item prices and options) are kept,
 * since V2 cannot express them and a V2 client cannot send them back.
 */
export function orderDocFromV2(
  input: Doc,
  options: {
    now: number;
    existing?: { record: OrderRecord; body: OrderBody };
  },
): V2ToOrderResult {
  const existing = options.existing;
  const prev: OrderBody = existing ? existing.body : {};
  const prevV2 = obj(prev.v2) ?? {};
  const shipTo = obj(input.ship_to);
  if (!shipTo) return { ok: false, message: 'ship_to is required.' };
  for (const field of ['name', 'address_line1', 'city_locality', 'postal_code', 'country_code']) {
    if (typeof shipTo[field] !== 'string' || shipTo[field] === '') {
      return { ok: false, message: `ship_to.${field} is required.` };
    }
  }
  const warehouseText = str(input.warehouse_id);
  const warehouseId = warehouseText === null ? undefined : parseSeId(warehouseText);
  if (warehouseText !== null && warehouseId === undefined) {
    return { ok: false, message: `warehouse_id '${warehouseText}' is not a warehouse id.` };
  }
  const shipFrom = obj(input.ship_from);
  if (warehouseId === undefined && !shipFrom) {
    return { ok: false, message: 'Either ship_from or warehouse_id must be set.' };
  }
  const items = input.items ?? [];
  if (!Array.isArray(items)) return { ok: false, message: 'items must be a list.' };
  const prevItems = prev.items ?? [];
  const v1Items: JsonDoc[] = [];
  for (const [i, raw] of items.entries()) {
    const item = obj(raw);
    if (!item) return { ok: false, message: `items[${i}] must be an object.` };
    if (typeof item.name !== 'string' || item.name === '') {
      return { ok: false, message: `items[${i}].name is required.` };
    }
    if (item.quantity !== undefined && (!Number.isInteger(item.quantity) || (item.quantity as number) < 0)) {
      return { ok: false, message: `items[${i}].quantity must be a whole number >= 0.` };
    }
    const lineItemKey = str(item.external_order_item_id);
    const match =
      (lineItemKey !== null ? prevItems.find((p) => p.lineItemKey === lineItemKey) : undefined) ??
      (lineItemKey === null && typeof item.sku === 'string'
        ? prevItems.find((p) => p.sku === item.sku && !p.lineItemKey)
        : undefined);
    // The matched item's orderItemId lets upsertOrder keep its id; its V1-only fields stay.
    const { createDate: _c, modifyDate: _m, ...kept } = match ?? ({} as StoredItem);
    const weight = v1Weight(item.weight);
    v1Items.push({
      ...kept,
      lineItemKey,
      sku: str(item.sku),
      name: item.name,
      imageUrl: str(item.image_url),
      quantity: typeof item.quantity === 'number' ? item.quantity : 1,
      unitPrice: typeof kept.unitPrice === 'number' ? kept.unitPrice : 0,
      ...(weight ? { weight } : {}),
    });
  }

  const pkg = Array.isArray(input.packages) ? obj(input.packages[0]) : null;
  const pkgWeight = v1Weight(pkg?.weight);
  const pkgDims = obj(pkg?.dimensions);
  const advancedIn = obj(input.advanced_options) ?? {};
  const prevAdvanced = obj(prev.advancedOptions) ?? {};
  const advancedOptions: JsonDoc = { ...prevAdvanced };
  if (warehouseId !== undefined) advancedOptions.warehouseId = warehouseId;
  const storeText = input.store_id === undefined || input.store_id === null ? null : String(input.store_id);
  if (!existing && storeText !== null) {
    const storeId = parseSeId(storeText);
    if (storeId === undefined) return { ok: false, message: `store_id '${storeText}' is not a store id.` };
    advancedOptions.storeId = storeId;
  }
  const flags: Array<[string, string]> = [
    ['contains_alcohol', 'containsAlcohol'],
    ['non_machinable', 'nonMachinable'],
    ['saturday_delivery', 'saturdayDelivery'],
  ];
  for (const [v2Key, v1Key] of flags) {
    if (typeof advancedIn[v2Key] === 'boolean') advancedOptions[v1Key] = advancedIn[v2Key];
  }
  for (const n of [1, 2, 3]) {
    const value = advancedIn[`custom_field${n}`];
    if (value === null || typeof value === 'string') advancedOptions[`customField${n}`] = value;
  }

  const shipToV1 = v1Address(shipTo);
  const doc: JsonDoc = {
    ...prev,
    orderDate: existing ? existing.record.orderDate : options.now,
    orderStatus: existing ? existing.record.status : 'awaiting_shipment',
    billTo: prev.billTo ?? shipToV1,
    shipTo: shipToV1,
    items: v1Items,
    amountPaid: readMoney(input.amount_paid) ?? 0,
    shippingAmount: readMoney(input.shipping_paid) ?? 0,
    taxAmount: readMoney(input.tax_paid) ?? 0,
    customerNotes: str(input.notes_from_buyer),
    giftMessage: str(input.notes_for_gift),
    gift: input.is_gift === true,
    serviceCode: str(input.service_code),
    requestedShippingService: str(input.requested_shipment_service),
    confirmation: str(input.confirmation) ?? 'none',
    advancedOptions,
    v2: {
      ...prevV2,
      external_order_id: str(input.external_order_id),
      carrier_id: str(input.carrier_id),
      tags: Array.isArray(input.tags) ? input.tags : [],
      ship_from: shipFrom,
      order_source_code: str(input.order_source_code),
      ship_date: readV2Date(input.ship_date) ?? null,
    },
  };
  const shipBy = readV2Date(input.ship_by_date);
  if (shipBy !== undefined) doc.shipByDate = shipBy;
  else delete doc.shipByDate;
  if (pkgWeight) doc.weight = pkgWeight;
  if (pkgDims) {
    doc.dimensions = {
      units: pkgDims.unit === 'centimeter' ? 'centimeters' : 'inches',
      length: num(pkgDims.length),
      width: num(pkgDims.width),
      height: num(pkgDims.height),
    };
  }
  if (typeof pkg?.package_code === 'string') doc.packageCode = pkg.package_code;
  delete doc.orderKey;
  delete doc.orderId;
  return { ok: true, doc };
}
