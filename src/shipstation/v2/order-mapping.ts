/**
 * V1 records ⇄ V2 records, pure (reference shipstation-api.md §10 "Names"). The orders and
 * shipments flows speak V1 shapes (api.ts); the V2 implementation translates at this edge:
 *
 * - `orderId` N ⇄ `shipment_id` `se-N`, V1 `shipmentId` N ⇄ `label_id` `se-N`, `fulfillmentId` N ⇄
 *   `fulfillment_id` `se-N`: the same number, so our links (which keep the number) carry over.
 * - `orderKey` ⇄ `external_shipment_id` (ours, unique per account, immutable, ≤ 50 characters).
 * - `orderNumber` ⇄ `shipment_number`, which V2 keeps unique across ALL shipments whatever their
 *   status. When a create is refused because the number is taken (a cancelled shipment of the same
 *   sales order still holds it), the order is sent again as `<orderNumber>-R2`, then `-R3`… up to
 *   `-R9` (`shipmentNumberFor`): "R" for re-push, a suffix no SYSPRO sales order number carries.
 *   Reading back, the number is left as ShipStation has it (the suffix shows what happened).
 * - Status: V1 `awaiting_shipment` ⇄ `pending`; `on_hold` ⇄ `on_hold` (or a `hold_until_date` on a
 *   pending shipment); `shipped` ⇐ `label_purchased`; `cancelled` ⇄ `cancelled`; `processing` reads
 *   as `awaiting_shipment` (a label on its way).
 * - Times: V1 order bodies are Pacific wall clock (the orders mapper writes them so); V2 takes ISO
 *   8601 with an offset, so order datetimes are converted once here (`pacificToUtcIso`) and calendar
 *   dates are kept as dates. V2 record times are handed to the flows as V2 wrote them (with their
 *   offset): the V2 implementation's `recordTimes` is `offset`.
 * - What V2 has no place for is dropped, on purpose: `billTo` (V2 shipments carry no bill-to
 *   address), `internalNotes`, `tagIds` (V2 tags are by name), `paymentMethod`, `customerUsername`,
 *   and adjustment lines (V1 `adjustment: true` discount/charge lines are not parcels). Money is
 *   sent in `currency` (configurable, default `usd`; V1 has no currency).
 */
import { pacificToUtcIso } from '../pacific-time.js';
import type {
  V1Address,
  V1Fulfillment,
  V1Order,
  V1OrderInput,
  V1OrderItem,
  V1OrderStatus,
  V1Shipment,
  V1ShipmentItem,
  V1Weight,
} from '../types.js';
import type {
  V2Address,
  V2Fulfillment,
  V2Label,
  V2Shipment,
  V2ShipmentInput,
  V2ShipmentItem,
  V2Weight,
} from './types.js';

export function v2Id(n: number): string {
  return `se-${n}`;
}

/** The number of a V2 id (`se-123` → 123), or null when it is not one. */
export function numberOfV2Id(id: string | null | undefined): number | null {
  if (typeof id !== 'string') return null;
  const m = /^se-(\d+)$/.exec(id.trim());
  return m ? Number(m[1]) : null;
}

export const MAX_NUMBER_GENERATION = 9;

/** The `shipment_number` of an order's `generation`-th push (1: the order number itself). */
export function shipmentNumberFor(orderNumber: string, generation: number): string {
  return generation <= 1 ? orderNumber : `${orderNumber}-R${generation}`;
}

/** Is this create error the one of a `shipment_number` already taken? */
export function isShipmentNumberTaken(message: string | null | undefined): boolean {
  return (
    typeof message === 'string' &&
    /shipment_number/i.test(message) &&
    /(duplicate|already|unique|taken|exists|in use)/i.test(message)
  );
}

/** Is this create error the one of an `external_shipment_id` already taken? */
export function isExternalIdTaken(message: string | null | undefined): boolean {
  return (
    typeof message === 'string' &&
    /external_shipment_id/i.test(message) &&
    /(duplicate|already|unique|taken|exists|in use)/i.test(message)
  );
}

const V1_WEIGHT: Record<V1Weight['units'], V2Weight['unit']> = {
  pounds: 'pound',
  ounces: 'ounce',
  grams: 'gram',
};
const V2_WEIGHT: Record<V2Weight['unit'], V1Weight['units']> = {
  pound: 'pounds',
  ounce: 'ounces',
  gram: 'grams',
  kilogram: 'grams',
};

function weightToV2(w: V1Weight | null | undefined): V2Weight | undefined {
  if (!w || typeof w.value !== 'number') return undefined;
  return { value: w.value, unit: V1_WEIGHT[w.units] ?? 'pound' };
}

function weightToV1(w: V2Weight | null | undefined): V1Weight | null {
  if (!w || typeof w.value !== 'number') return null;
  return w.unit === 'kilogram'
    ? { value: w.value * 1000, units: 'grams' }
    : { value: w.value, units: V2_WEIGHT[w.unit] ?? 'pounds' };
}

function addressToV2(a: V1Address, email?: string | null): V2Address {
  return {
    name: a.name ?? null,
    company_name: a.company ?? null,
    address_line1: a.street1 ?? null,
    address_line2: a.street2 ?? null,
    address_line3: a.street3 ?? null,
    city_locality: a.city ?? null,
    state_province: a.state ?? null,
    postal_code: a.postalCode ?? null,
    country_code: a.country ?? null,
    phone: a.phone ?? null,
    ...(email ? { email } : {}),
    address_residential_indicator:
      a.residential === true ? 'yes' : a.residential === false ? 'no' : 'unknown',
  };
}

function addressToV1(a: V2Address | null | undefined): V1Address {
  const v = a ?? {};
  return {
    name: v.name ?? null,
    company: v.company_name ?? null,
    street1: v.address_line1 ?? null,
    street2: v.address_line2 ?? null,
    street3: v.address_line3 ?? null,
    city: v.city_locality ?? null,
    state: v.state_province ?? null,
    postalCode: v.postal_code ?? null,
    country: v.country_code ?? null,
    phone: v.phone ?? null,
    residential:
      v.address_residential_indicator === 'yes'
        ? true
        : v.address_residential_indicator === 'no'
          ? false
          : null,
  };
}

function itemToV2(item: V1OrderItem): V2ShipmentItem {
  return {
    name: item.name,
    sku: item.sku ?? null,
    quantity: item.quantity,
    unit_price: item.unitPrice ?? null,
    tax_amount: item.taxAmount ?? null,
    shipping_amount: item.shippingAmount ?? null,
    image_url: item.imageUrl ?? null,
    weight: weightToV2(item.weight) ?? null,
    inventory_location: item.warehouseLocation ?? null,
    options: item.options ?? null,
    upc: item.upc ?? null,
    external_order_item_id: item.lineItemKey ?? null,
  };
}

function itemToV1(item: V2ShipmentItem): V1OrderItem {
  return {
    lineItemKey: item.external_order_item_id ?? null,
    sku: item.sku ?? null,
    name: item.name ?? '',
    quantity: Number(item.quantity),
    unitPrice: item.unit_price ?? null,
    taxAmount: item.tax_amount ?? null,
    shippingAmount: item.shipping_amount ?? null,
    imageUrl: item.image_url ?? null,
    weight: weightToV1(item.weight),
    warehouseLocation: item.inventory_location ?? null,
    options: item.options ?? null,
    upc: item.upc ?? null,
  };
}

const money = (amount: number | null | undefined, currency: string) =>
  typeof amount === 'number' ? { amount, currency } : undefined;

/** A Pacific wall-clock datetime of an order body as ISO 8601 UTC (null stays null). */
function instant(text: string | null | undefined): string | null {
  if (typeof text !== 'string' || text.trim() === '') return null;
  return pacificToUtcIso(text);
}

function calendarDate(text: string | null | undefined): string | null {
  if (typeof text !== 'string' || text.trim() === '') return null;
  return text.trim().slice(0, 10);
}

export interface ShipmentInputOptions {
  /** Which push of this order (see `shipmentNumberFor`). Default 1. */
  generation?: number;
  /** Currency of the order's money. Default `usd`. */
  currency?: string;
}

/** The V2 shipment of a V1 order body (whole: it is what PUT replaces). */
export function shipmentInputOf(order: V1OrderInput, options: ShipmentInputOptions = {}): V2ShipmentInput {
  const currency = options.currency ?? 'usd';
  const adv = order.advancedOptions ?? {};
  const weight = weightToV2(order.weight);
  const dims = order.dimensions;
  const insured = order.insuranceOptions;
  const intl = order.internationalOptions;
  const input: V2ShipmentInput = {
    external_shipment_id: order.orderKey ?? '',
    shipment_number: shipmentNumberFor(order.orderNumber, options.generation ?? 1),
    ship_to: addressToV2(order.shipTo, order.customerEmail),
    items: (order.items ?? []).filter((i) => i.adjustment !== true).map(itemToV2),
    ship_date: calendarDate(order.shipDate),
    ship_by_date: instant(order.shipByDate),
    service_code: order.serviceCode ?? null,
    requested_shipment_service: order.requestedShippingService ?? null,
    notes_from_buyer: order.customerNotes ?? null,
    notes_for_gift: order.giftMessage ?? null,
    is_gift: order.gift === true,
    amount_paid: money(order.amountPaid, currency),
    shipping_paid: money(order.shippingAmount, currency),
    tax_paid: money(order.taxAmount, currency),
    advanced_options: {
      custom_field1: adv.customField1 ?? null,
      custom_field2: adv.customField2 ?? null,
      custom_field3: adv.customField3 ?? null,
      contains_alcohol: adv.containsAlcohol === true,
      non_machinable: adv.nonMachinable === true,
      saturday_delivery: adv.saturdayDelivery === true,
      bill_to_party: adv.billToParty ?? null,
      bill_to_account: adv.billToAccount ?? null,
      bill_to_postal_code: adv.billToPostalCode ?? null,
      bill_to_country_code: adv.billToCountryCode ?? null,
    },
  };
  if (typeof adv.storeId === 'number') input.store_id = v2Id(adv.storeId);
  if (typeof adv.warehouseId === 'number') input.warehouse_id = v2Id(adv.warehouseId);
  if (order.confirmation) input.confirmation = order.confirmation;
  if (insured) input.insurance_provider = insured.insureShipment ? (insured.provider ?? 'carrier') : 'none';
  if (weight || dims) {
    input.packages = [
      {
        ...(weight ? { weight } : {}),
        ...(dims
          ? {
              dimensions: {
                length: dims.length,
                width: dims.width,
                height: dims.height,
                unit: dims.units === 'centimeters' ? 'centimeter' : 'inch',
              },
            }
          : {}),
      },
    ];
  }
  if (intl && (intl.contents || (intl.customsItems?.length ?? 0) > 0)) {
    input.customs = {
      ...(intl.contents ? { contents: intl.contents } : {}),
      ...(intl.nonDelivery ? { non_delivery: intl.nonDelivery } : {}),
      customs_items: (intl.customsItems ?? []).map((c) => ({
        description: c.description,
        quantity: c.quantity,
        ...(typeof c.value === 'number' ? { value: { amount: c.value, currency } } : {}),
        harmonized_tariff_code: c.harmonizedTariffCode ?? null,
        country_of_origin: c.countryOfOrigin ?? null,
      })),
    };
  }
  for (const key of Object.keys(input) as (keyof V2ShipmentInput)[]) {
    if (input[key] === undefined) delete input[key];
  }
  return input;
}

/** A V2 shipment status as the V1 order status the flows know. */
export function orderStatusOf(
  shipment: Pick<V2Shipment, 'shipment_status' | 'hold_until_date'>,
): V1OrderStatus {
  switch (shipment.shipment_status) {
    case 'cancelled':
      return 'cancelled';
    case 'label_purchased':
      return 'shipped';
    case 'on_hold':
      return 'on_hold';
    default:
      return shipment.hold_until_date ? 'on_hold' : 'awaiting_shipment';
  }
}

/** A V2 shipment read back as a V1 order (ids numeric, times as V2 wrote them). */
export function orderOfShipment(s: V2Shipment): V1Order {
  const id = numberOfV2Id(s.shipment_id) ?? 0;
  const adv = s.advanced_options ?? {};
  const storeId = numberOfV2Id(s.store_id);
  const warehouseId = numberOfV2Id(s.warehouse_id);
  const shipTo = addressToV1(s.ship_to);
  return {
    orderId: id,
    orderKey: s.external_shipment_id ?? '',
    orderNumber: s.shipment_number ?? '',
    orderDate: s.created_at,
    createDate: s.created_at,
    modifyDate: s.modified_at,
    orderStatus: orderStatusOf(s),
    customerEmail: s.ship_to?.email ?? null,
    billTo: shipTo,
    shipTo,
    items: (s.items ?? []).map(itemToV1),
    amountPaid: s.amount_paid?.amount ?? null,
    shippingAmount: s.shipping_paid?.amount ?? null,
    taxAmount: s.tax_paid?.amount ?? null,
    customerNotes: s.notes_from_buyer ?? null,
    gift: s.is_gift === true,
    giftMessage: s.notes_for_gift ?? null,
    requestedShippingService: s.requested_shipment_service ?? null,
    serviceCode: s.service_code ?? null,
    confirmation: s.confirmation ?? null,
    shipDate: calendarDate(s.ship_date),
    shipByDate: s.ship_by_date ?? null,
    holdUntilDate: calendarDate(s.hold_until_date),
    advancedOptions: {
      storeId,
      warehouseId,
      customField1: adv.custom_field1 ?? null,
      customField2: adv.custom_field2 ?? null,
      customField3: adv.custom_field3 ?? null,
      containsAlcohol: adv.contains_alcohol === true,
      nonMachinable: adv.non_machinable === true,
      saturdayDelivery: adv.saturday_delivery === true,
    },
  };
}

/** A V2 label as a V1 shipment, with the items and keys of its shipment when known. */
export function shipmentOfLabel(label: V2Label, shipment?: Partial<V2Shipment> | null): V1Shipment {
  const of = shipment ?? label.shipment ?? {};
  const tracking =
    label.tracking_number ??
    (label.packages ?? []).map((p) => p.tracking_number).find((t) => typeof t === 'string') ??
    null;
  const storeId = numberOfV2Id(of.store_id);
  return {
    shipmentId: numberOfV2Id(label.label_id) ?? 0,
    orderId: numberOfV2Id(label.shipment_id) ?? 0,
    orderKey: label.external_shipment_id ?? of.external_shipment_id ?? null,
    orderNumber: of.shipment_number ?? '',
    createDate: label.created_at,
    shipDate: calendarDate(label.ship_date) ?? calendarDate(label.created_at) ?? '',
    shipmentCost: label.shipment_cost?.amount ?? null,
    insuranceCost: label.insurance_cost?.amount ?? null,
    trackingNumber: tracking,
    isReturnLabel: label.is_return_label === true,
    carrierCode: label.carrier_code ?? null,
    serviceCode: label.service_code ?? null,
    packageCode: label.package_code ?? null,
    confirmation: label.confirmation ?? null,
    voided: label.voided === true || label.status === 'voided',
    voidDate: label.voided_at ?? null,
    shipTo: of.ship_to ? addressToV1(of.ship_to) : null,
    advancedOptions: storeId === null ? null : { storeId },
    shipmentItems: Array.isArray(of.items) ? (of.items.map(itemToV1) as V1ShipmentItem[]) : null,
    // `label_purchased` (shipped) only once every item of the shipment is on a label.
    orderStatus:
      typeof of.shipment_status === 'string'
        ? orderStatusOf({ shipment_status: of.shipment_status, hold_until_date: of.hold_until_date })
        : null,
  };
}

/** A V2 fulfillment as a V1 fulfillment. */
export function fulfillmentOf(f: V2Fulfillment): V1Fulfillment {
  return {
    fulfillmentId: numberOfV2Id(f.fulfillment_id) ?? 0,
    orderId: numberOfV2Id(f.shipment_id) ?? 0,
    orderNumber: f.shipment_number ?? '',
    userId: f.user_id ?? null,
    customerEmail: f.customer_email ?? null,
    trackingNumber: f.tracking_number ?? null,
    createDate: f.created_at,
    shipDate: calendarDate(f.ship_date) ?? '',
    voidDate: f.voided_at ?? null,
    deliveryDate: f.delivered_at ?? null,
    carrierCode: f.carrier_code ?? null,
    fulfillmentProviderCode: f.fulfillment_provider_code ?? null,
    fulfillmentServiceCode: f.fulfillment_service_code ?? null,
    voided: f.voided === true,
    shipTo: f.ship_to ? addressToV1(f.ship_to) : null,
  };
}
