/**
 * The V1 Order object (reference §1.9): what a client may send, how the sandbox keeps it lean
 * (a few indexed columns plus the bound body as one JSON string), and how it is rendered back
 * with every field present, as ShipStation returns it.
 */
import type { ObjectSpec } from './json-binding.js';
import { formatDateOnly, formatDotNet7, formatDotNetTrimmed, formatMidnight7 } from './pacific-time.js';

export const ORDER_STATUSES = [
  'awaiting_payment',
  'awaiting_shipment',
  'pending_fulfillment',
  'shipped',
  'on_hold',
  'cancelled',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Statuses in which an order may still be updated (reference §1.3). */
export const OPEN_STATUSES: ReadonlySet<string> = new Set([
  'awaiting_payment',
  'awaiting_shipment',
  'pending_fulfillment',
  'on_hold',
]);

export function isOrderStatus(value: unknown): value is OrderStatus {
  return typeof value === 'string' && (ORDER_STATUSES as readonly string[]).includes(value);
}

const ADDRESS: ObjectSpec = {
  typeName: 'SS.OpenApi.Models.Address',
  fields: {
    name: 'string',
    company: 'string',
    street1: 'string',
    street2: 'string',
    street3: 'string',
    city: 'string',
    state: 'string',
    postalCode: 'string',
    country: 'string',
    phone: 'string',
    residential: 'bool',
  },
};
const WEIGHT: ObjectSpec = {
  typeName: 'SS.OpenApi.Models.Weight',
  fields: { value: 'number', units: 'string' },
};
const DIMENSIONS: ObjectSpec = {
  typeName: 'SS.OpenApi.Models.Dimensions',
  fields: { length: 'number', width: 'number', height: 'number', units: 'string' },
};
const ITEM_OPTION: ObjectSpec = {
  typeName: 'SS.OpenApi.Models.ItemOption',
  fields: { name: 'string', value: 'string' },
};
const ITEM: ObjectSpec = {
  typeName: 'SS.OpenApi.Models.OrderItem',
  fields: {
    orderItemId: 'int',
    lineItemKey: 'string',
    sku: 'string',
    name: 'string',
    imageUrl: 'string',
    weight: { object: WEIGHT },
    quantity: 'int',
    unitPrice: 'number',
    taxAmount: 'number',
    shippingAmount: 'number',
    warehouseLocation: 'string',
    options: {
      array: { object: ITEM_OPTION },
      typeName: 'System.Collections.Generic.List`1[SS.OpenApi.Models.ItemOption]',
    },
    productId: 'int',
    fulfillmentSku: 'string',
    adjustment: 'bool',
    upc: 'string',
  },
};
const CUSTOMS_ITEM: ObjectSpec = {
  typeName: 'SS.OpenApi.Models.CustomsItem',
  fields: {
    customsItemId: 'int',
    description: 'string',
    quantity: 'int',
    value: 'number',
    harmonizedTariffCode: 'string',
    countryOfOrigin: 'string',
  },
};

export const ORDER_SPEC: ObjectSpec = {
  typeName: 'SS.OpenApi.Models.Order',
  fields: {
    orderId: 'int',
    orderNumber: 'string',
    orderKey: 'string',
    orderDate: 'datetime',
    paymentDate: 'datetime',
    shipByDate: 'datetime',
    orderStatus: 'string',
    customerUsername: 'string',
    customerEmail: 'string',
    billTo: { object: ADDRESS },
    shipTo: { object: ADDRESS },
    items: {
      array: { object: ITEM },
      typeName: 'System.Collections.Generic.List`1[SS.OpenApi.Models.OrderItem]',
    },
    amountPaid: 'number',
    taxAmount: 'number',
    shippingAmount: 'number',
    customerNotes: 'string',
    internalNotes: 'string',
    gift: 'bool',
    giftMessage: 'string',
    paymentMethod: 'string',
    requestedShippingService: 'string',
    carrierCode: 'string',
    serviceCode: 'string',
    packageCode: 'string',
    confirmation: 'string',
    shipDate: 'datetime',
    holdUntilDate: 'datetime',
    weight: { object: WEIGHT },
    dimensions: { object: DIMENSIONS },
    insuranceOptions: {
      object: {
        typeName: 'SS.OpenApi.Models.InsuranceOptions',
        fields: { provider: 'string', insureShipment: 'bool', insuredValue: 'number' },
      },
    },
    internationalOptions: {
      object: {
        typeName: 'SS.OpenApi.Models.InternationalOptions',
        fields: {
          contents: 'string',
          customsItems: {
            array: { object: CUSTOMS_ITEM },
            typeName: 'System.Collections.Generic.List`1[SS.OpenApi.Models.CustomsItem]',
          },
          nonDelivery: 'string',
        },
      },
    },
    advancedOptions: {
      object: {
        typeName: 'SS.OpenApi.Models.AdvancedOptions',
        fields: {
          warehouseId: 'int',
          nonMachinable: 'bool',
          saturdayDelivery: 'bool',
          containsAlcohol: 'bool',
          storeId: 'int',
          customField1: 'string',
          customField2: 'string',
          customField3: 'string',
          source: 'string',
          billToParty: 'string',
          billToAccount: 'string',
          billToPostalCode: 'string',
          billToCountryCode: 'string',
          billToMyOtherAccount: 'string',
        },
      },
    },
    tagIds: { array: 'int', typeName: 'System.Collections.Generic.List`1[System.Int32]' },
  },
};

/** One order item as kept in the order body (after binding, ids and dates assigned). */
export interface StoredItem {
  orderItemId: number;
  lineItemKey?: string | null;
  sku?: string | null;
  name?: string | null;
  quantity?: number | null;
  unitPrice?: number | null;
  createDate: number;
  modifyDate: number;
  [key: string]: unknown;
}

/**
 * One order, lean: the columns the list filters and sorts need, and the rest of the body as a
 * JSON string (parsed only when the order is rendered). Dates are epoch ms; -1 = none.
 */
export class OrderRecord {
  constructor(
    public orderId: number,
    public orderKey: string,
    public orderNumber: string,
    public status: OrderStatus,
    public storeId: number,
    public orderDate: number,
    public createDate: number,
    public modifyDate: number,
    public paymentDate: number,
    /** Lower-case bill-to and ship-to names, for `customerName`. */
    public names: string,
    /** Lower-case SKUs, names and option values of the items, for `itemKeyword`. */
    public itemText: string,
    public shipToCountry: string,
    public active: boolean,
    public doc: string,
  ) {}

  /**
   * Set when an operator split the order in ShipStation's UI (`/_sandbox/orders/:id/split`):
   * `advancedOptions.mergedOrSplit` is then true, and a part split off names its `parentId`.
   */
  split: { parentId: number | null; splitIds: number[] } | null = null;

  body(): OrderBody {
    return JSON.parse(this.doc) as OrderBody;
  }
}

/** The parsed order body: bound client fields plus `customerId`; dates are epoch ms. */
export type OrderBody = { items?: StoredItem[] | null; [key: string]: unknown };

export interface RenderContext {
  userId: string;
  defaultWarehouseId: number;
}

function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' ? value : fallback;
}
function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
function bool(value: unknown): boolean {
  return value === true;
}
function obj(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}
function dateOr(value: unknown, format: (ms: number) => string): string | null {
  return typeof value === 'number' && value >= 0 ? format(value) : null;
}

export function renderAddress(value: unknown, withVerification: boolean): Record<string, unknown> | null {
  const a = obj(value);
  if (!a) return null;
  return {
    name: str(a.name),
    company: str(a.company),
    street1: str(a.street1),
    street2: str(a.street2),
    street3: str(a.street3),
    city: str(a.city),
    state: str(a.state),
    postalCode: str(a.postalCode),
    country: str(a.country),
    phone: str(a.phone),
    residential: typeof a.residential === 'boolean' ? a.residential : null,
    addressVerified: withVerification ? 'Address not yet validated' : null,
  };
}

export function renderWeight(value: unknown): Record<string, unknown> | null {
  const w = obj(value);
  if (!w) return null;
  const units = str(w.units) ?? 'ounces';
  return { value: num(w.value), units, WeightUnits: units === 'pounds' ? 2 : units === 'grams' ? 3 : 1 };
}

export function renderItem(item: StoredItem): Record<string, unknown> {
  return {
    orderItemId: item.orderItemId,
    lineItemKey: str(item.lineItemKey),
    sku: str(item.sku),
    name: str(item.name),
    imageUrl: str(item.imageUrl),
    weight: renderWeight(item.weight),
    quantity: num(item.quantity),
    unitPrice: num(item.unitPrice),
    taxAmount: typeof item.taxAmount === 'number' ? item.taxAmount : null,
    shippingAmount: typeof item.shippingAmount === 'number' ? item.shippingAmount : null,
    warehouseLocation: str(item.warehouseLocation),
    options: Array.isArray(item.options) ? item.options : [],
    productId: typeof item.productId === 'number' ? item.productId : null,
    fulfillmentSku: str(item.fulfillmentSku),
    adjustment: bool(item.adjustment),
    upc: str(item.upc),
    createDate: formatDotNetTrimmed(item.createDate),
    modifyDate: formatDotNetTrimmed(item.modifyDate),
  };
}

export function orderTotal(body: OrderBody): number {
  const items = body.items ?? [];
  const lines = items.reduce((sum, i) => sum + num(i.quantity) * num(i.unitPrice), 0);
  return Math.round((lines + num(body.taxAmount) + num(body.shippingAmount)) * 100) / 100;
}

/** The full Order object of the API, every field present (null when not set). */
export function renderOrder(
  record: OrderRecord,
  ctx: RenderContext,
  body = record.body(),
): Record<string, unknown> {
  const advanced = obj(body.advancedOptions) ?? {};
  const insurance = obj(body.insuranceOptions) ?? {};
  const international = obj(body.internationalOptions) ?? {};
  const dimensions = obj(body.dimensions);
  return {
    orderId: record.orderId,
    orderNumber: record.orderNumber,
    orderKey: record.orderKey,
    orderDate: formatDotNet7(record.orderDate),
    createDate: formatDotNet7(record.createDate),
    modifyDate: formatDotNet7(record.modifyDate),
    paymentDate: record.paymentDate >= 0 ? formatDotNet7(record.paymentDate) : null,
    shipByDate: dateOr(body.shipByDate, formatMidnight7),
    orderStatus: record.status,
    customerId: typeof body.customerId === 'number' ? body.customerId : null,
    customerUsername: str(body.customerUsername),
    customerEmail: str(body.customerEmail),
    billTo: renderAddress(body.billTo, false),
    shipTo: renderAddress(body.shipTo, true),
    items: (body.items ?? []).map(renderItem),
    orderTotal: orderTotal(body),
    amountPaid: num(body.amountPaid),
    taxAmount: num(body.taxAmount),
    shippingAmount: num(body.shippingAmount),
    customerNotes: str(body.customerNotes),
    internalNotes: str(body.internalNotes),
    gift: bool(body.gift),
    giftMessage: str(body.giftMessage),
    paymentMethod: str(body.paymentMethod),
    requestedShippingService: str(body.requestedShippingService),
    carrierCode: str(body.carrierCode),
    serviceCode: str(body.serviceCode),
    packageCode: str(body.packageCode),
    confirmation: str(body.confirmation) ?? 'none',
    shipDate: dateOr(body.shipDate, formatDateOnly),
    holdUntilDate: dateOr(body.holdUntilDate, formatDateOnly),
    weight: renderWeight(body.weight) ?? { value: 0, units: 'ounces', WeightUnits: 1 },
    dimensions: dimensions
      ? {
          units: str(dimensions.units) ?? 'inches',
          length: num(dimensions.length),
          width: num(dimensions.width),
          height: num(dimensions.height),
        }
      : null,
    insuranceOptions: {
      provider: str(insurance.provider),
      insureShipment: bool(insurance.insureShipment),
      insuredValue: num(insurance.insuredValue),
    },
    internationalOptions: {
      contents: str(international.contents),
      customsItems: Array.isArray(international.customsItems) ? international.customsItems : null,
      nonDelivery: str(international.nonDelivery),
    },
    advancedOptions: {
      warehouseId: typeof advanced.warehouseId === 'number' ? advanced.warehouseId : ctx.defaultWarehouseId,
      nonMachinable: bool(advanced.nonMachinable),
      saturdayDelivery: bool(advanced.saturdayDelivery),
      containsAlcohol: bool(advanced.containsAlcohol),
      mergedOrSplit: record.split !== null,
      mergedIds: record.split?.splitIds ?? [],
      parentId: record.split?.parentId ?? null,
      storeId: record.storeId,
      customField1: str(advanced.customField1),
      customField2: str(advanced.customField2),
      customField3: str(advanced.customField3),
      source: str(advanced.source),
      billToParty: str(advanced.billToParty),
      billToAccount: str(advanced.billToAccount),
      billToPostalCode: str(advanced.billToPostalCode),
      billToCountryCode: str(advanced.billToCountryCode),
      billToMyOtherAccount: str(advanced.billToMyOtherAccount),
    },
    tagIds: Array.isArray(body.tagIds) ? body.tagIds : null,
    userId: ctx.userId,
    externallyFulfilled: false,
    externallyFulfilledBy: null,
    externallyFulfilledById: null,
    externallyFulfilledByName: null,
    labelMessages: null,
  };
}
