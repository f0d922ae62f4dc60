/**
 * SORQRY — sales order query (`Query/Query`, reference §2.2). One order with its header fields and,
 * optionally, its lines and custom form fields. Query objects never write, so they need no dry run.
 * An order SYSPRO does not know (`ERROR: … not found`) is a result with `found: false`.
 *
 * The header element names are on the wire. The line elements are UNCONFIRMED: S1's parser puts
 * them in `<SalesOrderLine>` containers holding `<Merchandise>`, `<MiscCharge>`, `<Freight>` and
 * `<CommentLine>`, named like the SorDetail columns (MStockCode, MOrderQty, …); the parser accepts
 * both the `M`-prefixed and the plain names.
 */
import type { EnetSession } from '../enet-client.js';
import {
  buildXml,
  child,
  children,
  date,
  number,
  schemaAttributes,
  text,
  textAny,
  type XmlNode,
} from '../xml.js';
import { type BusinessObjectResult, isNotFoundError, notFoundOutcome, readXmlOut, yn } from './common.js';

export const SORQRY = 'SORQRY';

export interface SalesOrderQueryOptions {
  includeStockedLines?: boolean;
  includeNonStockedLines?: boolean;
  includeFreightLines?: boolean;
  includeMiscLines?: boolean;
  includeCommentLines?: boolean;
  includeCompletedLines?: boolean;
  includeSerials?: boolean;
  includeLots?: boolean;
  includeBins?: boolean;
  includeAttachedItems?: boolean;
  includeCustomForms?: boolean;
  includeDetailLineCustomForms?: boolean;
  includeValues?: boolean;
  returnLineShipDate?: boolean;
}

export interface SalesOrderQueryInput {
  salesOrder: string;
  options?: SalesOrderQueryOptions;
}

export interface Address {
  name?: string;
  lines: string[];
  locality?: string;
  postalCode?: string;
}

export type SalesOrderLineType = 'merchandise' | 'misc-charge' | 'freight' | 'comment';

export interface SalesOrderLine {
  type: SalesOrderLineType;
  /** SalesOrderLine number when SYSPRO returns it. */
  line?: number;
  stockCode?: string;
  description?: string;
  warehouse?: string;
  orderQty?: number;
  shipQty?: number;
  backOrderQty?: number;
  dispatchedQty?: number;
  /** `MLastDelNote`: the last dispatch note of the line (a SorDetail column; in SORQRY UNCONFIRMED). */
  lastDispatchNote?: string;
  price?: number;
  uom?: string;
  /** Comment text (comment lines). */
  comment?: string;
  /** Charge value (freight and misc lines). */
  value?: number;
  customerPoLine?: string;
}

export interface SalesOrderDetail extends BusinessObjectResult {
  /** False when SYSPRO returned no order (unknown number, or an error). */
  found: boolean;
  salesOrder?: string;
  customer?: string;
  customerName?: string;
  customerPoNumber?: string;
  orderDate?: string;
  reqShipDate?: string;
  orderStatus?: string;
  orderStatusDesc?: string;
  documentType?: string;
  shippingInstrs?: string;
  /** `ShippingInstrsCod` on output (the input element of SORTOI is `ShippingInstrsCode`). */
  shippingInstrsCode?: string;
  specialInstrs?: string;
  deliveryNote?: string;
  lastInvoice?: string;
  numDispatches?: number;
  email?: string;
  currency?: string;
  branch?: string;
  warehouse?: string;
  soldTo: Address;
  shipTo: Address;
  lines: SalesOrderLine[];
  /** Custom form fields by name, when asked for with `includeCustomForms`. */
  customForms: Record<string, string>;
}

const DEFAULT_OPTIONS: Required<SalesOrderQueryOptions> = {
  includeStockedLines: true,
  includeNonStockedLines: true,
  includeFreightLines: true,
  includeMiscLines: true,
  includeCommentLines: true,
  includeCompletedLines: true,
  includeSerials: false,
  includeLots: false,
  includeBins: false,
  includeAttachedItems: false,
  includeCustomForms: false,
  includeDetailLineCustomForms: false,
  includeValues: true,
  returnLineShipDate: true,
};

/** Builds the SORQRY XmlIn (every option sent explicitly, in the order of SYSPRO's sample). */
export function buildSalesOrderQuery(input: SalesOrderQueryInput): string {
  const o = { ...DEFAULT_OPTIONS, ...input.options };
  return buildXml(
    'Query',
    {
      Key: { SalesOrder: input.salesOrder },
      Option: {
        IncludeStockedLines: yn(o.includeStockedLines),
        IncludeNonStockedLines: yn(o.includeNonStockedLines),
        IncludeFreightLines: yn(o.includeFreightLines),
        IncludeMiscLines: yn(o.includeMiscLines),
        IncludeCommentLines: yn(o.includeCommentLines),
        IncludeCompletedLines: yn(o.includeCompletedLines),
        IncludeSerials: yn(o.includeSerials),
        IncludeLots: yn(o.includeLots),
        IncludeBins: yn(o.includeBins),
        IncludeAttachedItems: yn(o.includeAttachedItems),
        IncludeCustomForms: yn(o.includeCustomForms),
        IncludeDetailLineCustomForms: yn(o.includeDetailLineCustomForms),
        IncludeValues: yn(o.includeValues),
        ReturnLineShipDate: yn(o.returnLineShipDate),
        XslStylesheet: '',
      },
    },
    { attributes: schemaAttributes('SORQRY.XSD') },
  );
}

const LINE_ELEMENTS: readonly [string, SalesOrderLineType][] = [
  ['Merchandise', 'merchandise'],
  ['StockLine', 'merchandise'],
  ['MiscCharge', 'misc-charge'],
  ['Freight', 'freight'],
  ['CommentLine', 'comment'],
  ['Comment', 'comment'],
];

function readLine(node: XmlNode, type: SalesOrderLineType): SalesOrderLine {
  const n = (...names: string[]) => {
    for (const name of names) {
      const v = number(node, name);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  return {
    type,
    line: n('SalesOrderLine', 'LineNumber', 'Line'),
    stockCode: textAny(node, 'MStockCode', 'StockCode', 'NStockCode'),
    description: textAny(node, 'MStockDes', 'StockDescription', 'NMscDescription', 'Description'),
    warehouse: textAny(node, 'MWarehouse', 'Warehouse'),
    orderQty: n('MOrderQty', 'OrderQty'),
    shipQty: n('MShipQty', 'ShipQty'),
    backOrderQty: n('MBackOrderQty', 'BackOrderQty'),
    dispatchedQty: n('MQtyDispatched', 'QtyDispatched'),
    lastDispatchNote: textAny(node, 'MLastDelNote', 'LastDelNote') || undefined,
    price: n('MPrice', 'Price'),
    uom: textAny(node, 'MOrderUom', 'OrderUom'),
    comment: type === 'comment' ? textAny(node, 'NComment', 'Comment') : undefined,
    value: n('NMscChargeValue', 'FreightValue', 'MiscChargeValue', 'ChargeValue'),
    customerPoLine: textAny(node, 'CustomerPoLine', 'MCustomerPoLine'),
  };
}

function readLines(root: XmlNode): SalesOrderLine[] {
  const lines: SalesOrderLine[] = [];
  for (const container of children(root, 'SalesOrderLine')) {
    for (const [name, type] of LINE_ELEMENTS) {
      for (const line of children(container, name)) lines.push(readLine(line, type));
    }
  }
  return lines;
}

function readCustomForms(root: XmlNode): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const form of [...children(root, 'CustomForm'), ...children(root, 'CustomForms')]) {
    const entries = [form, ...children(form, 'Field'), ...children(form, 'CustomFormField')];
    for (const entry of entries) {
      const name = textAny(entry, 'FieldName', 'Name');
      const value = textAny(entry, 'AlphaValue', 'Value', 'NumericValue', 'DateValue');
      if (name && value !== undefined) fields[name] = value;
    }
  }
  return fields;
}

function readAddress(
  root: XmlNode,
  nameField: string,
  prefix: string,
  locality: string,
  postal: string,
): Address {
  const lines: string[] = [];
  for (let i = 1; i <= 5; i++) lines.push(text(root, `${prefix}${i}`) ?? '');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return {
    name: text(root, nameField),
    lines,
    locality: text(root, locality),
    postalCode: text(root, postal),
  };
}

/** Parses the SORQRY XmlOut (root `<SorDetail>`). */
export function parseSalesOrderQuery(xmlOut: string): SalesOrderDetail {
  const { root, outcome } = readXmlOut(SORQRY, xmlOut);
  const salesOrder = text(root, 'SalesOrder');
  return {
    outcome,
    found: Boolean(salesOrder) && outcome.errors.length === 0,
    salesOrder: salesOrder || undefined,
    customer: text(root, 'Customer'),
    customerName: text(root, 'CustomerName'),
    customerPoNumber: text(root, 'CustomerPoNumber'),
    orderDate: date(root, 'OrderDate'),
    reqShipDate: date(root, 'ReqShipDate'),
    orderStatus: text(root, 'OrderStatus'),
    orderStatusDesc: text(root, 'OrderStatusDesc'),
    documentType: text(root, 'DocumentType'),
    shippingInstrs: text(root, 'ShippingInstrs'),
    shippingInstrsCode: textAny(root, 'ShippingInstrsCod', 'ShippingInstrsCode'),
    specialInstrs: text(root, 'SpecialInstrs'),
    deliveryNote: text(root, 'DeliveryNote'),
    lastInvoice: text(root, 'LastInvoice'),
    numDispatches: number(root, 'NumDispatches'),
    email: text(root, 'Email'),
    currency: text(root, 'Currency'),
    branch: text(root, 'Branch'),
    warehouse: text(root, 'Warehouse'),
    soldTo: readAddress(root, 'SoldToName', 'SoldAddr', 'SoldAddr3Locality', 'SoldPostalCode'),
    shipTo: readAddress(root, 'CustomerName', 'ShipAddress', 'ShipAddress3Locality', 'ShipPostalCode'),
    lines: readLines(root),
    customForms: readCustomForms(child(root, 'CustomForms') ?? root),
  };
}

/** Queries one sales order. */
export async function querySalesOrder(
  session: Pick<EnetSession, 'query'>,
  input: SalesOrderQueryInput,
): Promise<SalesOrderDetail> {
  try {
    return parseSalesOrderQuery(await session.query(SORQRY, buildSalesOrderQuery(input)));
  } catch (error) {
    if (!isNotFoundError(error)) throw error;
    return {
      outcome: notFoundOutcome(error),
      found: false,
      soldTo: { lines: [] },
      shipTo: { lines: [] },
      lines: [],
      customForms: {},
    };
  }
}
