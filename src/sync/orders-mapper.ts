/**
 * SYSPRO sales order → ShipStation V1 order, as pure functions (no I/O, no clock): the orders flow
 * reads `SorMaster`, `SorDetail`, `ArCustomer` (and `InvMaster` for weights) through OData, calls
 * `mapSalesOrder`, and pushes what comes back. Every choice where the references are unconfirmed is
 * named here and in docs/decisions.md ("Orders mapping"), and the site-specific ones are options.
 *
 * What comes back says what to do with the order:
 * - `push`: upsert this body by `orderKey` (awaiting shipment, on hold, or cancelled);
 * - `skip`: nothing to send now, with the reason (to invoice, complete, in process, nothing left
 *   to ship yet);
 * - `invalid`: the order cannot be sent as SYSPRO has it; each problem names the field and what to
 *   fix, so one bad order never fails a batch with a 400.
 */
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { formatPacificDate, formatPacificDateTime } from '../shipstation/pacific-time.js';
import type {
  V1Address,
  V1AdvancedOptions,
  V1OrderInput,
  V1OrderItem,
  V1OrderStatus,
  V1Weight,
} from '../shipstation/types.js';

// ---------- what is read from SYSPRO (OData rows; only the columns we select) ----------

export interface SorMasterRow {
  SalesOrder: string;
  OrderStatus: string;
  CancelledFlag?: string | null;
  ActiveFlag?: string | null;
  Customer: string;
  CustomerName?: string | null;
  CustomerPoNumber?: string | null;
  OrderDate?: string | null;
  EntrySystemDate?: string | null;
  ReqShipDate?: string | null;
  ShippingInstrs?: string | null;
  ShippingInstrsCod?: string | null;
  SpecialInstrs?: string | null;
  Warehouse?: string | null;
  ShipAddress1?: string | null;
  ShipAddress2?: string | null;
  ShipAddress3?: string | null;
  ShipAddress4?: string | null;
  ShipAddress5?: string | null;
  ShipAddress3Loc?: string | null;
  ShipPostalCode?: string | null;
  State?: string | null;
  Email?: string | null;
}

export interface SorDetailRow {
  SalesOrder: string;
  SalesOrderLine: number;
  LineType: string;
  MStockCode?: string | null;
  MStockDes?: string | null;
  MWarehouse?: string | null;
  MBin?: string | null;
  MOrderQty?: number | null;
  MShipQty?: number | null;
  MBackOrderQty?: number | null;
  MPrice?: number | null;
  MDiscPct1?: number | null;
  MDiscPct2?: number | null;
  MDiscPct3?: number | null;
  MStockUnitMass?: number | null;
  NComment?: string | null;
  NMscChargeValue?: number | null;
}

export interface ArCustomerRow {
  Customer: string;
  Name?: string | null;
  Email?: string | null;
  Telephone?: string | null;
  SoldToAddr1?: string | null;
  SoldToAddr2?: string | null;
  SoldToAddr3?: string | null;
  SoldToAddr4?: string | null;
  SoldToAddr5?: string | null;
  SoldToAddr3Loc?: string | null;
  SoldPostalCode?: string | null;
  State?: string | null;
}

/** The columns the flow selects, so OData rows stay narrow. */
export const SOR_MASTER_COLUMNS = [
  'SalesOrder',
  'OrderStatus',
  'CancelledFlag',
  'ActiveFlag',
  'Customer',
  'CustomerName',
  'CustomerPoNumber',
  'OrderDate',
  'EntrySystemDate',
  'ReqShipDate',
  'ShippingInstrs',
  'ShippingInstrsCod',
  'SpecialInstrs',
  'Warehouse',
  'ShipAddress1',
  'ShipAddress2',
  'ShipAddress3',
  'ShipAddress4',
  'ShipAddress5',
  'ShipAddress3Loc',
  'ShipPostalCode',
  'State',
  'Email',
] as const satisfies readonly (keyof SorMasterRow)[];

export const SOR_DETAIL_COLUMNS = [
  'SalesOrder',
  'SalesOrderLine',
  'LineType',
  'MStockCode',
  'MStockDes',
  'MWarehouse',
  'MBin',
  'MOrderQty',
  'MShipQty',
  'MBackOrderQty',
  'MPrice',
  'MDiscPct1',
  'MDiscPct2',
  'MDiscPct3',
  'MStockUnitMass',
  'NComment',
  'NMscChargeValue',
] as const satisfies readonly (keyof SorDetailRow)[];

export const AR_CUSTOMER_COLUMNS = [
  'Customer',
  'Name',
  'Email',
  'Telephone',
  'SoldToAddr1',
  'SoldToAddr2',
  'SoldToAddr3',
  'SoldToAddr4',
  'SoldToAddr5',
  'SoldToAddr3Loc',
  'SoldPostalCode',
  'State',
] as const satisfies readonly (keyof ArCustomerRow)[];

// ---------- options (config `orders` of a connection) ----------

/** Which of SYSPRO's five address lines holds what (1-based); the lines not named are street lines. */
export interface AddressLayout {
  city: number;
  state: number;
  country: number;
}

export interface ShippingService {
  carrierCode?: string;
  serviceCode?: string;
  packageCode?: string;
}

export interface OrderMapOptions {
  /** SYSPRO company id: the first part of every `orderKey`. */
  company: string;
  /** IANA zone of SYSPRO's date-only fields. */
  sysproTimezone: string;
  /**
   * `orderNumber` from `SalesOrder`: `null` keeps SYSPRO's text (e.g. `000123`); a number strips the
   * leading zeros and pads back to that many digits (`0` = no padding: `123`).
   */
  orderNumberPadding: number | null;
  /** Prepended to the order number (e.g. `SO-`), default none. */
  orderNumberPrefix?: string;
  addressLayout: AddressLayout;
  /** ISO-2 country when the country line is blank (SYSPRO sites often leave it out for domestic). */
  defaultCountry: string;
  /** SYSPRO line types sent as items (stocked and non-stocked merchandise). */
  itemLineTypes: readonly string[];
  freightLineTypes: readonly string[];
  miscChargeLineTypes: readonly string[];
  commentLineTypes: readonly string[];
  /** Unit of `MStockUnitMass` at this site. */
  massUnit: 'kg' | 'g' | 'lb' | 'oz';
  /** SYSPRO warehouse → ShipStation warehouse id. */
  warehouses: Readonly<Record<string, number>>;
  /** SYSPRO warehouse → ShipStation store id (else `storeId`). */
  stores: Readonly<Record<string, number>>;
  storeId?: number;
  /** `ShippingInstrsCod` → ShipStation carrier/service/package. */
  shippingInstructions: Readonly<Record<string, ShippingService>>;
  /** Which custom field carries the customer PO number. */
  customerPoField: 'customField1' | 'customField2' | 'customField3';
}

export const DEFAULT_ORDER_MAP_OPTIONS: Omit<OrderMapOptions, 'company'> = {
  sysproTimezone: 'UTC',
  orderNumberPadding: null,
  addressLayout: { city: 3, state: 4, country: 5 },
  defaultCountry: 'US',
  itemLineTypes: ['1', '7'],
  freightLineTypes: ['4'],
  miscChargeLineTypes: ['5'],
  commentLineTypes: ['6'],
  massUnit: 'lb',
  warehouses: {},
  stores: {},
  shippingInstructions: {},
  customerPoField: 'customField1',
};

// ---------- results ----------

export interface MapProblem {
  field: string;
  message: string;
}

export type MapResult =
  | {
      action: 'push';
      orderKey: string;
      order: V1OrderInput;
      /** Hash of `order`: what the links table compares to tell a changed order from an unchanged one. */
      hash: string;
      /** Forward orders (`F`): hold until the requested ship date (`/orders/holduntil`, `yyyy-MM-dd`). */
      holdUntil?: string;
    }
  | { action: 'skip'; orderKey: string; reason: string }
  | { action: 'invalid'; orderKey: string; problems: MapProblem[] };

// ---------- keys, numbers, status ----------

/** `<company>:<SalesOrder>`, stable for the life of the order (SYSPRO's key text, trimmed). */
export function orderKeyFor(company: string, salesOrder: string): string {
  return `${company.trim()}:${salesOrder.trim()}`;
}

export function orderNumberFor(salesOrder: string, padding: number | null, prefix = ''): string {
  const trimmed = salesOrder.trim();
  if (padding === null) return prefix + trimmed;
  const digits = /^\d+$/.test(trimmed) ? trimmed.replace(/^0+(?=.)/, '') : trimmed;
  return prefix + digits.padStart(padding, '0');
}

/**
 * SYSPRO order status → what ShipStation gets (reference syspro-api.md §3 for the codes):
 * 1 open, 2 open back order, 3 released back order, 4 in warehouse → awaiting_shipment;
 * S suspense → on_hold; F forward → on_hold until the requested ship date;
 * `\` cancelled, `*` cancelled during entry, or CancelledFlag Y → cancelled;
 * 8 to invoice, 9 complete → left alone (SYSPRO has shipped it; ShipStation's own record stands);
 * 0 in process, and anything unknown → not sent yet.
 */
export type StatusDecision = { status: V1OrderStatus; holdUntilReqShipDate?: boolean } | { skip: string };

export function decideStatus(order: Pick<SorMasterRow, 'OrderStatus' | 'CancelledFlag'>): StatusDecision {
  const code = (order.OrderStatus ?? '').trim();
  if (code === '\\' || code === '*' || (order.CancelledFlag ?? '').trim().toUpperCase() === 'Y') {
    return { status: 'cancelled' };
  }
  switch (code) {
    case '1':
    case '2':
    case '3':
    case '4':
      return { status: 'awaiting_shipment' };
    case 'S':
      return { status: 'on_hold' };
    case 'F':
      return { status: 'on_hold', holdUntilReqShipDate: true };
    case '8':
      return { skip: 'to invoice in SYSPRO (already dispatched): left alone' };
    case '9':
      return { skip: 'complete in SYSPRO: left alone' };
    case '0':
      return { skip: 'still being entered in SYSPRO (status 0)' };
    default:
      return { skip: `SYSPRO order status '${code}' is not one the connector sends` };
  }
}

// ---------- dates ----------

/**
 * A SYSPRO date-only value (`2026-03-04` or OData's `2026-03-04T00:00:00Z`) is a calendar date in
 * SYSPRO's zone: its midnight there is the instant, written as V1's Pacific wall clock. So an order
 * dated 4 March in Chicago shows 3 March 22:00 in ShipStation (the same instant).
 */
export function sysproDateToUtc(value: string | null | undefined, zone: string): number | undefined {
  if (!value) return undefined;
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value.trim());
  if (!match) return undefined;
  const dt = DateTime.fromObject(
    { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) },
    { zone },
  );
  return dt.isValid ? dt.toMillis() : undefined;
}

/**
 * Dates repeat: a poll of 100,000 orders holds a few hundred distinct order and ship dates, and
 * luxon's zone arithmetic per order was a tenth of the pass. So the two conversions a mapped order
 * needs are remembered per (zone, date), in a map emptied when it grows past a bound.
 */
const DATE_CACHE_LIMIT = 20_000;
const dateCache = new Map<string, { utc: number | undefined; pacific?: string; pacificDate?: string }>();

function convertDate(value: string | null | undefined, zone: string) {
  if (!value) return undefined;
  const key = `${zone}\u0000${value}`;
  let hit = dateCache.get(key);
  if (!hit) {
    if (dateCache.size >= DATE_CACHE_LIMIT) dateCache.clear();
    const utc = sysproDateToUtc(value, zone);
    hit = { utc };
    if (utc !== undefined) {
      hit.pacific = formatPacificDateTime(utc);
      hit.pacificDate = formatPacificDate(utc);
    }
    dateCache.set(key, hit);
  }
  return hit.utc === undefined ? undefined : hit;
}

// ---------- addresses ----------

const COUNTRIES: Record<string, string> = {
  US: 'US',
  USA: 'US',
  'UNITED STATES': 'US',
  'UNITED STATES OF AMERICA': 'US',
  CA: 'CA',
  CANADA: 'CA',
  GB: 'GB',
  UK: 'GB',
  'UNITED KINGDOM': 'GB',
  'GREAT BRITAIN': 'GB',
  ENGLAND: 'GB',
  DE: 'DE',
  GERMANY: 'DE',
  DEUTSCHLAND: 'DE',
  FR: 'FR',
  FRANCE: 'FR',
  ZA: 'ZA',
  'SOUTH AFRICA': 'ZA',
  AU: 'AU',
  AUSTRALIA: 'AU',
  NZ: 'NZ',
  'NEW ZEALAND': 'NZ',
  MX: 'MX',
  MEXICO: 'MX',
  IE: 'IE',
  IRELAND: 'IE',
  NL: 'NL',
  NETHERLANDS: 'NL',
};

/** ISO-2 for a country line (`USA`, `United Kingdom`, `gb`); undefined when not known. */
export function countryCode(text: string): string | undefined {
  const key = text.trim().toUpperCase().replace(/[.]/g, '').replace(/\s+/g, ' ');
  return COUNTRIES[key];
}

/** `Boston, MA 02134` / `Boston MA 02134-1234`: the city line some sites squeeze state and zip into. */
const SQUEEZED_CITY = /^(.+?),?\s+([A-Za-z]{2,3})\s+(\d{4,5}(?:-\d{4})?|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d)$/;

/** US states, DC and territories: a blank country line is read as the default `US` only for these. */
const US_STATES = new Set(
  (
    'AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ' +
    'ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP AA AE AP'
  ).split(' '),
);

/**
 * Whether an address with no country line may take the default country. For `US` it must look like
 * one (a US state code and a 5- or 9-digit ZIP): a squeezed foreign address (`Sydney, NSW 2000`,
 * `London SW1A 1AA`) must not be labelled for the United States. Other defaults are taken as given.
 */
function fitsDefaultCountry(defaultCountry: string, state: string, postalCode: string): boolean {
  if (defaultCountry !== 'US') return true;
  return US_STATES.has(state.toUpperCase()) && /^\d{5}(?:-\d{4})?$/.test(postalCode);
}

const clean = (value: string | null | undefined): string => (value ?? '').replace(/\s+/g, ' ').trim();

export interface SysproAddress {
  name: string;
  company?: string;
  lines: [string, string, string, string, string];
  /** `ShipAddress3Loc` / `SoldToAddr3Loc`: the city SYSPRO keeps beside line 3, when the site fills it. */
  location: string;
  postalCode: string;
  state: string;
  phone?: string;
}

/**
 * Five lines + postal code + state → a ShipStation address, by the configured layout. A city line
 * written `City, ST 12345` is split; the `…3Loc` column, when filled, is the city; the `State` and
 * postal code columns win over the lines. Problems name the missing piece (prefix: `shipTo`/`billTo`).
 */
export function toShipStationAddress(
  address: SysproAddress,
  layout: AddressLayout,
  defaultCountry: string,
  prefix: string,
): { address: V1Address; problems: MapProblem[] } {
  const lines = address.lines.map(clean);
  const at = (n: number) => lines[n - 1] ?? '';
  let city = clean(address.location) || at(layout.city);
  let state = clean(address.state) || at(layout.state);
  let postalCode = clean(address.postalCode);
  const countryLine = at(layout.country);
  const squeezed = SQUEEZED_CITY.exec(at(layout.city));
  if (squeezed) {
    city = clean(address.location) || (squeezed[1] ?? '').trim();
    state = clean(address.state) || (squeezed[2] ?? '').toUpperCase();
    postalCode = postalCode || (squeezed[3] ?? '');
  }
  const used = new Set([layout.city, layout.state, layout.country]);
  const streets = [1, 2, 3, 4, 5].filter((n) => !used.has(n)).map(at);
  // A squeezed layout leaves the state and country lines empty; anything else in them is street text
  // only when it is neither the state nor a country.
  const problems: MapProblem[] = [];
  let country = defaultCountry;
  if (!countryLine && !fitsDefaultCountry(defaultCountry, state, postalCode)) {
    problems.push({
      field: `${prefix}.country`,
      message: `no country line (address line ${layout.country}) and the address does not look like a ${defaultCountry} one (state '${state}', postal code '${postalCode}'): write the country in address line ${layout.country}`,
    });
  }
  if (countryLine) {
    const code = countryCode(countryLine);
    if (code) country = code;
    else
      problems.push({
        field: `${prefix}.country`,
        message: `country '${countryLine}' (address line ${layout.country}) is not a known country name or ISO code: write it as e.g. 'USA' or 'GB'`,
      });
  }
  const [street1 = '', street2 = '', street3 = ''] = streets.filter((s) => s !== '');
  const name = clean(address.name);
  if (!name) problems.push({ field: `${prefix}.name`, message: 'the name is blank' });
  if (!street1) problems.push({ field: `${prefix}.street1`, message: 'no street line in the address' });
  if (!city)
    problems.push({
      field: `${prefix}.city`,
      message: `no city: address line ${layout.city} (or the Loc column) is blank`,
    });
  if (!postalCode) problems.push({ field: `${prefix}.postalCode`, message: 'the postal code is blank' });
  return {
    address: {
      name: name || null,
      company: clean(address.company) || null,
      street1: street1 || null,
      street2: street2 || null,
      street3: street3 || null,
      city: city || null,
      state: state || null,
      postalCode: postalCode || null,
      country,
      phone: clean(address.phone) || null,
      residential: null,
    },
    problems,
  };
}

// ---------- customer ----------

const EMAIL = /^[^\s@;,]+@[^\s@;,]+\.[^\s@;,]+$/;

/** The first usable address of a SYSPRO e-mail field (`a@x.com; ap@x.com`, upper case, padded). */
export function firstEmail(...candidates: (string | null | undefined)[]): string | null {
  for (const candidate of candidates) {
    for (const part of (candidate ?? '').split(/[;,\s]+/)) {
      const email = part.trim().toLowerCase();
      if (EMAIL.test(email)) return email;
    }
  }
  return null;
}

// ---------- lines ----------

/**
 * ShipStation's V1 item `quantity` is an Int32 (an ASP.NET model field): a larger number fails the
 * whole `createorders` call with a 400, so such a line is a problem of its order instead.
 */
export const SHIPSTATION_MAX_QUANTITY = 2_147_483_647;

const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places;

/**
 * What a merchandise line still has to ship: `MShipQty`, the quantity SYSPRO has released for
 * shipping now. Back-ordered quantity (`MBackOrderQty`) is not sent until SYSPRO releases it (the
 * order then changes and is pushed again); dispatched quantity has left `MShipQty` already.
 */
export function quantityToShip(line: Pick<SorDetailRow, 'MShipQty'>): number {
  const qty = Number(line.MShipQty ?? 0);
  return Number.isFinite(qty) && qty > 0 ? qty : 0;
}

/** Unit price after SYSPRO's three successive line discounts, to the cent. */
export function netUnitPrice(line: Pick<SorDetailRow, 'MPrice' | 'MDiscPct1' | 'MDiscPct2' | 'MDiscPct3'>) {
  let price = Number(line.MPrice ?? 0);
  for (const pct of [line.MDiscPct1, line.MDiscPct2, line.MDiscPct3]) price *= 1 - Number(pct ?? 0) / 100;
  return round(price, 2);
}

function weightOf(mass: number | null | undefined, unit: OrderMapOptions['massUnit']): V1Weight | null {
  const value = Number(mass ?? 0);
  if (!Number.isFinite(value) || value <= 0) return null;
  switch (unit) {
    case 'kg':
      return { value: round(value * 1000, 2), units: 'grams' };
    case 'g':
      return { value: round(value, 2), units: 'grams' };
    case 'oz':
      return { value: round(value, 4), units: 'ounces' };
    default:
      return { value: round(value, 4), units: 'pounds' };
  }
}

// ---------- the order ----------

export interface SalesOrderInput {
  header: SorMasterRow;
  lines: readonly SorDetailRow[];
  /** Missing when the customer row was not found (the order can still go, with its own ship-to). */
  customer?: ArCustomerRow;
}

export function mapSalesOrder(input: SalesOrderInput, options: OrderMapOptions): MapResult {
  const { header, customer } = input;
  const orderKey = orderKeyFor(options.company, header.SalesOrder);
  const decision = decideStatus(header);
  if ('skip' in decision) return { action: 'skip', orderKey, reason: decision.skip };

  const problems: MapProblem[] = [];
  const lines = [...input.lines].sort((a, b) => Number(a.SalesOrderLine) - Number(b.SalesOrderLine));
  const items: V1OrderItem[] = [];
  let shipping = 0;
  const notes: string[] = [];
  for (const line of lines) {
    const type = (line.LineType ?? '').trim();
    if (options.itemLineTypes.includes(type)) {
      const quantity = quantityToShip(line);
      if (quantity === 0) continue;
      const sku = clean(line.MStockCode);
      if (!sku) {
        problems.push({
          field: `items[line ${line.SalesOrderLine}].sku`,
          message: 'the line has no stock code',
        });
        continue;
      }
      if (!Number.isInteger(quantity)) {
        problems.push({
          field: `items[line ${line.SalesOrderLine}].quantity`,
          message: `ShipStation takes whole quantities; line ${line.SalesOrderLine} (${sku}) ships ${quantity}: use a unit of measure that ships whole units`,
        });
        continue;
      }
      if (quantity > SHIPSTATION_MAX_QUANTITY) {
        problems.push({
          field: `items[line ${line.SalesOrderLine}].quantity`,
          message: `line ${line.SalesOrderLine} (${sku}) ships ${quantity}, more than ShipStation's quantity field holds (${SHIPSTATION_MAX_QUANTITY}): check the ship quantity in SYSPRO`,
        });
        continue;
      }
      items.push({
        lineItemKey: String(line.SalesOrderLine),
        sku,
        name: clean(line.MStockDes) || sku,
        quantity,
        unitPrice: netUnitPrice(line),
        weight: weightOf(line.MStockUnitMass, options.massUnit),
        warehouseLocation: clean(line.MBin) || null,
      });
    } else if (options.freightLineTypes.includes(type)) {
      shipping += Number(line.NMscChargeValue ?? 0);
    } else if (options.miscChargeLineTypes.includes(type)) {
      // V1 has no "other charges" field: a misc charge rides as an adjustment line (not a parcel).
      const value = round(Number(line.NMscChargeValue ?? 0), 2);
      if (value !== 0) {
        items.push({
          lineItemKey: String(line.SalesOrderLine),
          sku: null,
          name: clean(line.MStockDes) || 'Charge',
          quantity: 1,
          unitPrice: value,
          adjustment: true,
        });
      }
    } else if (options.commentLineTypes.includes(type)) {
      const text = clean(line.NComment);
      if (text) notes.push(text);
    }
  }

  const physical = items.filter((i) => !i.adjustment);
  if (physical.length === 0 && decision.status !== 'cancelled' && problems.length === 0) {
    return { action: 'skip', orderKey, reason: 'nothing left to ship yet (no line with a ship quantity)' };
  }

  const orderNumber = orderNumberFor(
    header.SalesOrder,
    options.orderNumberPadding,
    options.orderNumberPrefix,
  );
  if (orderNumber.length > 50) {
    problems.push({
      field: 'orderNumber',
      message: `'${orderNumber}' is longer than ShipStation's 50 characters`,
    });
  }
  const orderDate =
    convertDate(header.OrderDate, options.sysproTimezone) ??
    convertDate(header.EntrySystemDate, options.sysproTimezone);
  if (orderDate === undefined) {
    problems.push({
      field: 'orderDate',
      message: 'SYSPRO has no order date (OrderDate and EntrySystemDate are blank)',
    });
  }
  const shipBy = convertDate(header.ReqShipDate, options.sysproTimezone);

  const shipTo = toShipStationAddress(
    {
      name: clean(header.CustomerName) || clean(customer?.Name),
      company: clean(customer?.Name) || undefined,
      lines: [
        header.ShipAddress1 ?? '',
        header.ShipAddress2 ?? '',
        header.ShipAddress3 ?? '',
        header.ShipAddress4 ?? '',
        header.ShipAddress5 ?? '',
      ],
      location: header.ShipAddress3Loc ?? '',
      postalCode: header.ShipPostalCode ?? '',
      state: header.State ?? '',
      phone: customer?.Telephone ?? undefined,
    },
    options.addressLayout,
    options.defaultCountry,
    'shipTo',
  );
  problems.push(...shipTo.problems);
  // Bill-to is the customer's sold-to address; an order whose customer has none is billed to its ship-to.
  let billTo = shipTo.address;
  if (customer && clean(customer.SoldToAddr1)) {
    const sold = toShipStationAddress(
      {
        name: clean(customer.Name),
        company: clean(customer.Name) || undefined,
        lines: [
          customer.SoldToAddr1 ?? '',
          customer.SoldToAddr2 ?? '',
          customer.SoldToAddr3 ?? '',
          customer.SoldToAddr4 ?? '',
          customer.SoldToAddr5 ?? '',
        ],
        location: customer.SoldToAddr3Loc ?? '',
        postalCode: customer.SoldPostalCode ?? '',
        state: customer.State ?? '',
        phone: customer.Telephone ?? undefined,
      },
      options.addressLayout,
      options.defaultCountry,
      'billTo',
    );
    problems.push(...sold.problems);
    billTo = sold.address;
  }

  if (problems.length > 0) return { action: 'invalid', orderKey, problems };

  const firstItemLine = lines.find((l) => options.itemLineTypes.includes((l.LineType ?? '').trim()));
  const warehouse = clean(header.Warehouse) || clean(firstItemLine?.MWarehouse);
  const service = options.shippingInstructions[clean(header.ShippingInstrsCod)];
  const advancedOptions: V1AdvancedOptions = {
    warehouseId: options.warehouses[warehouse] ?? null,
    storeId: options.stores[warehouse] ?? options.storeId ?? null,
    customField1: null,
    customField2: null,
    customField3: null,
    source: 'SYSPRO',
  };
  advancedOptions[options.customerPoField] = clean(header.CustomerPoNumber) || null;

  const order: V1OrderInput = {
    orderNumber,
    orderKey,
    orderDate: orderDate?.pacific as string,
    shipByDate: shipBy?.pacific ?? null,
    orderStatus: decision.status,
    customerUsername: clean(header.Customer) || null,
    customerEmail: firstEmail(header.Email, customer?.Email),
    billTo,
    shipTo: shipTo.address,
    items,
    shippingAmount: round(shipping, 2),
    customerNotes: clean(header.SpecialInstrs) || null,
    internalNotes: notes.length > 0 ? notes.join('\n') : null,
    requestedShippingService: clean(header.ShippingInstrs) || null,
    carrierCode: service?.carrierCode ?? null,
    serviceCode: service?.serviceCode ?? null,
    packageCode: service?.packageCode ?? null,
    advancedOptions,
  };
  const result: MapResult = { action: 'push', orderKey, order, hash: hashOrder(order) };
  if (decision.holdUntilReqShipDate && shipBy !== undefined) {
    result.holdUntil = shipBy.pacificDate;
  }
  return result;
}

// ---------- change detection ----------

/** JSON with object keys sorted, so equal orders give equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeCanonical(value, (text) => parts.push(text));
  return parts.join('');
}

/** Writes `value` as canonical JSON in pieces (no intermediate strings per level). */
function writeCanonical(value: unknown, write: (text: string) => void): void {
  if (Array.isArray(value)) {
    write('[');
    value.forEach((item, i) => {
      if (i > 0) write(',');
      writeCanonical(item, write);
    });
    write(']');
    return;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    write('{');
    keys.forEach((key, i) => {
      if (i > 0) write(',');
      write(JSON.stringify(key));
      write(':');
      writeCanonical(record[key], write);
    });
    write('}');
    return;
  }
  write(JSON.stringify(value ?? null));
}

/** sha256 of the canonical body: unchanged orders cause no ShipStation call. */
export function hashOrder(order: V1OrderInput): string {
  // One canonical text built from pieces (the per-level concatenations of a recursive build were
  // a good part of a large poll's garbage).
  return createHash('sha256').update(canonicalJson(order)).digest('hex');
}
