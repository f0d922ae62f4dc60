/**
 * Marketplace (channel) orders → SYSPRO sales orders, the pure part: a ShipStation V1 order from a
 * marketplace store (Shopify, Amazon…) becomes a SORTOI document. No I/O, no clock.
 *
 * The mapping (docs/decisions.md "Marketplace orders"):
 * - Customer PO (`CustomerPoNumber`, 30 characters) = `poPrefix` + the marketplace `orderNumber`: the
 *   key SYSPRO is asked by before anything is entered again. A longer one is the order's problem.
 * - Each item that is not an adjustment → a `StockLine`: SKU = stock code (it must exist in
 *   InvMaster), quantity, `unitPrice` as the price (sent with `AlwaysUsePriceEntered=Y`: the price
 *   the marketplace charged, not SYSPRO's price list), the item name as the description.
 * - Adjustment items (discount lines, `adjustment: true`, negative unit price) → a `MiscChargeLine`
 *   of value `unitPrice × quantity` in the discount product class.
 * - The order's `taxAmount` → a `MiscChargeLine` in the tax product class (SYSPRO's own tax would
 *   differ from what the marketplace collected; the marketplace's figure is what was paid).
 * - The order's `shippingAmount` → a `FreightLine` (`FreightValue`).
 * - The ship-to goes on the order (name, street, city, state, country on the address lines the
 *   orders flow reads them from: `orders.addressLayout`), with the customer e-mail.
 * - Order date: ShipStation's Pacific wall clock → the calendar date in SYSPRO's zone.
 */
import { DateTime } from 'luxon';
import { PacificTimeError, pacificToUtc } from '../shipstation/pacific-time.js';
import type { V1Order, V1OrderStatus } from '../shipstation/types.js';
import type { OrderLineInput, SalesOrderInput } from '../syspro/business-objects/sortoi.js';
import { canonicalJson } from './orders-mapper.js';

export const CUSTOMER_PO_WIDTH = 30;
/** SYSPRO's ship-to widths (reference §2.3, S2): address lines 40, postal code 15, e-mail 80. */
const ADDRESS_WIDTH = 40;
const POSTAL_WIDTH = 15;
const EMAIL_WIDTH = 80;
const NAME_WIDTH = 50;

export interface ChannelMapOptions {
  poPrefix: string;
  warehouse?: string;
  taxProductClass: string;
  discountProductClass: string;
  /** Which SYSPRO address line (1-5) holds the city, the state and the country. */
  addressLayout: { city: number; state: number; country: number };
  sysproTimezone: string;
}

export interface ChannelProblem {
  field: string;
  message: string;
}

export type ChannelMapResult =
  | { action: 'import'; customerPo: string; input: SalesOrderInput; hash: string; stockCodes: string[] }
  | { action: 'invalid'; customerPo: string; problems: ChannelProblem[] };

/** What a marketplace order's status asks of SYSPRO. */
export type ChannelIntent = 'enter' | 'wait' | 'cancel';

export function channelIntent(status: V1OrderStatus | string): ChannelIntent {
  if (status === 'cancelled') return 'cancel';
  // Not paid yet: ShipStation fires no ORDER_NOTIFY for it either (reference §4.1).
  if (status === 'awaiting_payment') return 'wait';
  return 'enter';
}

export function customerPoFor(order: Pick<V1Order, 'orderNumber'>, poPrefix: string): string {
  return `${poPrefix}${String(order.orderNumber ?? '').trim()}`;
}

/** Every distinct stock code a marketplace order names (adjustments left out), as sent. */
export function stockCodesOf(order: Pick<V1Order, 'items'>): string[] {
  const codes = new Set<string>();
  for (const item of order.items ?? []) {
    if (item.adjustment === true) continue;
    const sku = (item.sku ?? '').trim();
    if (sku) codes.add(sku);
  }
  return [...codes];
}

function cut(text: string | null | undefined, width: number): string {
  const t = (text ?? '').trim();
  return t.length <= width ? t : t.slice(0, width);
}

function money(n: number): number {
  return Math.round(n * 100) / 100;
}

function orderDate(text: string | undefined, zone: string): string | undefined {
  if (!text) return undefined;
  try {
    const utc = pacificToUtc(text);
    const dt = DateTime.fromMillis(utc, { zone });
    return dt.isValid ? dt.toFormat('yyyy-MM-dd') : undefined;
  } catch (error) {
    if (error instanceof PacificTimeError) return undefined;
    throw error;
  }
}

/**
 * One marketplace order as a SORTOI add. `customer` is the SYSPRO customer already chosen (store
 * map, e-mail, or the default cash customer); `knownStockCodes` the codes InvMaster has of those
 * the order names. An unknown SKU is the order's problem: nothing is half-entered.
 */
export function mapChannelOrder(
  order: V1Order,
  customer: string,
  knownStockCodes: ReadonlySet<string>,
  options: ChannelMapOptions,
): ChannelMapResult {
  const problems: ChannelProblem[] = [];
  const customerPo = customerPoFor(order, options.poPrefix);
  if (customerPo.length > CUSTOMER_PO_WIDTH) {
    problems.push({
      field: 'orderNumber',
      message: `customer PO "${customerPo}" is longer than SYSPRO's ${CUSTOMER_PO_WIDTH} characters`,
    });
  }
  if (!customerPo.trim()) problems.push({ field: 'orderNumber', message: 'the order has no order number' });
  const lines: OrderLineInput[] = [];
  let poLine = 0;
  for (const [index, item] of (order.items ?? []).entries()) {
    const quantity = Number(item.quantity);
    const unitPrice = Number(item.unitPrice ?? 0);
    if (item.adjustment === true) {
      const value = money(unitPrice * (Number.isFinite(quantity) && quantity > 0 ? quantity : 1));
      if (value === 0) continue;
      lines.push({
        kind: 'misc-charge',
        customerPoLine: String(++poLine),
        miscChargeValue: value,
        miscProductClass: options.discountProductClass,
        miscDescription: cut(item.name, NAME_WIDTH) || 'Discount',
      });
      continue;
    }
    const sku = (item.sku ?? '').trim();
    if (!sku) {
      problems.push({ field: `items[${index}].sku`, message: `item "${item.name}" has no SKU` });
      continue;
    }
    if (!knownStockCodes.has(sku)) {
      problems.push({
        field: `items[${index}].sku`,
        message: `SKU ${sku} is not a SYSPRO stock code (InvMaster)`,
      });
      continue;
    }
    if (!(quantity > 0)) {
      problems.push({
        field: `items[${index}].quantity`,
        message: `SKU ${sku} has quantity ${item.quantity}`,
      });
      continue;
    }
    if (!Number.isFinite(unitPrice) || unitPrice < 0) {
      problems.push({
        field: `items[${index}].unitPrice`,
        message: `SKU ${sku} has price ${item.unitPrice}`,
      });
      continue;
    }
    lines.push({
      kind: 'stock',
      customerPoLine: String(++poLine),
      stockCode: sku,
      description: cut(item.name, NAME_WIDTH) || undefined,
      warehouse: options.warehouse,
      orderQty: quantity,
      price: money(unitPrice),
    });
  }
  if (!lines.some((l) => l.kind === 'stock') && problems.length === 0) {
    problems.push({ field: 'items', message: 'the order has no items to enter' });
  }
  const tax = money(Number(order.taxAmount ?? 0));
  if (tax !== 0) {
    lines.push({
      kind: 'misc-charge',
      customerPoLine: String(++poLine),
      miscChargeValue: tax,
      miscProductClass: options.taxProductClass,
      miscDescription: 'Tax (as charged by the marketplace)',
    });
  }
  const shipping = money(Number(order.shippingAmount ?? 0));
  if (shipping !== 0) {
    lines.push({ kind: 'freight', customerPoLine: String(++poLine), freightValue: shipping });
  }
  if (problems.length > 0) return { action: 'invalid', customerPo, problems };

  const shipTo = order.shipTo ?? {};
  const address = ['', '', '', '', ''];
  const street = [shipTo.street1, shipTo.street2, shipTo.street3]
    .map((s) => (s ?? '').trim())
    .filter(Boolean);
  const { city, state, country } = options.addressLayout;
  const free = [1, 2, 3, 4, 5].filter((n) => n !== city && n !== state && n !== country);
  free.forEach((n, i) => {
    address[n - 1] = cut(i === free.length - 1 ? street.slice(i).join(' ') : street[i], ADDRESS_WIDTH);
  });
  address[city - 1] = cut(shipTo.city, ADDRESS_WIDTH);
  address[state - 1] = cut(shipTo.state, ADDRESS_WIDTH);
  address[country - 1] = cut(shipTo.country, ADDRESS_WIDTH);
  const input: SalesOrderInput = {
    action: 'add',
    customerPoNumber: customerPo,
    customer,
    orderDate: orderDate(order.orderDate, options.sysproTimezone),
    customerName: cut(shipTo.company ? `${shipTo.name ?? ''} (${shipTo.company})` : shipTo.name, NAME_WIDTH),
    shipAddress: address,
    shipPostalCode: cut(shipTo.postalCode, POSTAL_WIDTH),
    email: cut(order.customerEmail, EMAIL_WIDTH) || undefined,
    warehouse: options.warehouse,
    lines,
  };
  return { action: 'import', customerPo, input, hash: hashOf(input), stockCodes: stockCodesOf(order) };
}

/** The content hash of a mapped order (the date is left out: it never changes an entered order). */
export function hashOf(input: SalesOrderInput): string {
  const { orderDate: _date, ...rest } = input;
  return canonicalJson(rest);
}

/** A line of the SYSPRO order as it is now (for a change or a cancellation). */
export interface EnteredLine {
  salesOrderLine: number;
  lineType: string;
  dispatchedQty: number;
}

/**
 * Why an entered order may no longer be changed by us: SYSPRO has it in the warehouse (4: delivery
 * note printed), to invoice, complete or cancelled, or a line is dispatched. Undefined = changeable.
 */
export function notChangeable(orderStatus: string, lines: readonly EnteredLine[]): string | undefined {
  const status = orderStatus.trim();
  if (['4', '8', '9'].includes(status))
    return `SYSPRO has it in status ${status} (in the warehouse, to invoice or complete)`;
  if (status === '\\' || status === '*') return 'SYSPRO has it cancelled';
  const dispatched = lines.filter((l) => l.dispatchedQty > 0).map((l) => l.salesOrderLine);
  if (dispatched.length > 0) return `SYSPRO has dispatched line(s) ${dispatched.join(', ')}`;
  return undefined;
}

/**
 * A SORTOI change that replaces the order's lines with the marketplace's: every existing line is
 * deleted (`LineActionType=D`) and the new lines added; the header's ship-to and e-mail are sent
 * again. With `lines` empty (a cancellation) it only deletes.
 */
export function changeDocument(
  salesOrder: string,
  existing: readonly EnteredLine[],
  next: SalesOrderInput | undefined,
  customer: string,
  customerPo: string,
): SalesOrderInput {
  // Each line is deleted by number in the element of its type (1/7 stock, 4 freight, 5 misc, 6 comment).
  const deletes = [...existing]
    .sort((a, b) => a.salesOrderLine - b.salesOrderLine)
    .map((l): OrderLineInput => {
      const common = {
        action: 'delete' as const,
        customerPoLine: `D${l.salesOrderLine}`,
        salesOrderLine: l.salesOrderLine,
      };
      if (l.lineType === '4') return { kind: 'freight', ...common, freightValue: 0 };
      if (l.lineType === '5') return { kind: 'misc-charge', ...common, miscChargeValue: 0 };
      if (l.lineType === '6') return { kind: 'comment', ...common, comment: '' };
      return { kind: 'stock', ...common, stockCode: '', orderQty: 0 };
    });
  const base: SalesOrderInput = next
    ? { ...next, action: 'change', salesOrder, orderDate: undefined }
    : { action: 'change', salesOrder, customer, customerPoNumber: customerPo };
  return { ...base, lines: [...deletes, ...(next?.lines ?? [])] };
}

/**
 * What of a marketplace order matters to SYSPRO, hashed: its intent (channelIntent), items, amounts,
 * ship-to, e-mail.
 * Our own write-back (internal notes, custom fields) is left out, so it never reads as an edit.
 */
export function sourceHash(order: V1Order): string {
  const s = order.shipTo ?? {};
  return canonicalJson({
    // What the status asks of SYSPRO (enter, wait, cancel), not the status: a label that makes the
    // order `shipped` is no edit.
    intent: channelIntent(order.orderStatus),
    orderNumber: order.orderNumber,
    email: order.customerEmail ?? null,
    items: (order.items ?? []).map((i) => [
      i.sku ?? null,
      i.name,
      i.quantity,
      i.unitPrice ?? null,
      i.adjustment === true,
    ]),
    tax: order.taxAmount ?? null,
    shipping: order.shippingAmount ?? null,
    shipTo: [s.name, s.company, s.street1, s.street2, s.street3, s.city, s.state, s.postalCode, s.country],
  });
}
