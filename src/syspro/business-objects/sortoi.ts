/**
 * SORTOI — sales order import: add or change orders (`Transaction/Post`, reference §2.3).
 *
 * - The dry run is `Process=Validate`; a real run is `Process=Import` (SORTOI has no ValidateOnly).
 * - The input element is `ShippingInstrsCode` (output and database: `ShippingInstrsCod`).
 * - Prices go as fixed decimals; `StatusInProcess` is never sent (reference: "unpredictable").
 * - A clean import returns only `<StatusOfItems>`, so `salesOrder` may be missing from the result:
 *   look the order up by CustomerPoNumber (OData SorMaster).
 */
import type { EnetSession } from '../enet-client.js';
import type { ItemProblem } from '../outcome.js';
import {
  buildXml,
  children,
  formatDecimal,
  SEQUENCE,
  schemaAttributes,
  text,
  type XmlInput,
} from '../xml.js';
import { type BusinessObjectResult, type PostOptions, readXmlOut, yn } from './common.js';

export const SORTOI = 'SORTOI';

export type LineAction = 'add' | 'change' | 'delete';

export interface StockLineInput {
  kind: 'stock';
  customerPoLine: string;
  action?: LineAction;
  /** The SYSPRO line number, to change or delete an existing line. */
  salesOrderLine?: number;
  stockCode: string;
  description?: string;
  warehouse?: string;
  orderQty: number;
  orderUom?: string;
  /** Unit price; sent with `priceDecimals` decimals. */
  price?: number;
  priceUom?: string;
  /** Quantity to ship now (order-update write-back). */
  shipQty?: number;
  nonStocked?: boolean;
  productClass?: string;
}

export interface CommentLineInput {
  /** The SYSPRO line number, to change or delete an existing line. */
  salesOrderLine?: number;
  kind: 'comment';
  customerPoLine?: string;
  action?: LineAction;
  comment: string;
  attachedLineNumber?: string;
}

export interface FreightLineInput {
  /** The SYSPRO line number, to change or delete an existing line. */
  salesOrderLine?: number;
  kind: 'freight';
  customerPoLine: string;
  action?: LineAction;
  freightValue: number;
  freightCost?: number;
  freightTaxCode?: string;
}

export interface MiscChargeLineInput {
  /** The SYSPRO line number, to change or delete an existing line. */
  salesOrderLine?: number;
  kind: 'misc-charge';
  customerPoLine: string;
  action?: LineAction;
  miscChargeValue: number;
  miscChargeCost?: number;
  miscProductClass?: string;
  miscDescription?: string;
}

export type OrderLineInput = StockLineInput | CommentLineInput | FreightLineInput | MiscChargeLineInput;

export interface SalesOrderInput {
  /** `A` add or `C` change. */
  action: 'add' | 'change';
  customerPoNumber: string;
  customer: string;
  /** Needed to change an order; for an add only with `allowManualOrderNumber`. */
  salesOrder?: string;
  orderDate?: string;
  requestedShipDate?: string;
  shippingInstrs?: string;
  shippingInstrsCode?: string;
  customerName?: string;
  shipAddress?: string[];
  shipAddress3Locality?: string;
  shipPostalCode?: string;
  email?: string;
  warehouse?: string;
  specialInstrs?: string;
  orderType?: string;
  lines?: OrderLineInput[];
}

export interface SalesOrderImportOptions extends PostOptions {
  allocationAction?: 'F' | 'B' | 'A';
  shipFromDefaultBin?: boolean;
  allowDuplicateOrderNumbers?: 'Y' | 'N' | 'A';
  checkForCustomerPoNumbers?: 'Y' | 'N' | 'C';
  alwaysUsePriceEntered?: boolean;
  allowZeroPrice?: boolean;
  allowNonStockItems?: 'Y' | 'N' | 'S';
  acceptOrdersIfNoCredit?: boolean;
  warnIfCustomerOnHold?: boolean;
  validateShippingInstrs?: boolean;
  allowManualOrderNumber?: boolean;
  orderStatus?: '1' | '4' | '8' | 'S';
  typeOfOrder?: 'ORD' | 'FWD' | 'SCH' | 'IBT' | 'BIL';
  /** Decimals for prices and charges (default 2). */
  priceDecimals?: number;
  /** Decimals for quantities (default 3). */
  quantityDecimals?: number;
}

export interface ImportedOrder {
  customerPoNumber?: string;
  action?: string;
  /** Missing when SYSPRO does not echo it (clean import) or on failure (`<SalesOrder/>`). */
  salesOrder?: string;
  warnings: ItemProblem[];
  backOrderComment?: string;
}

export interface SalesOrderImportResult extends BusinessObjectResult {
  orders: ImportedOrder[];
  validateOnly: boolean;
}

const LINE_ACTION = { add: 'A', change: 'C', delete: 'D' } as const;

/** Builds the SORTOI XmlParameters. */
export function buildSalesOrderImportParameters(options: SalesOrderImportOptions = {}): string {
  return buildXml(
    'SalesOrders',
    {
      Parameters: {
        Process: options.validateOnly ? 'Validate' : 'Import',
        TypeOfOrder: options.typeOfOrder,
        OrderStatus: options.orderStatus,
        AllocationAction: options.allocationAction,
        ShipFromDefaultBin: yn(options.shipFromDefaultBin),
        AllowDuplicateOrderNumbers: options.allowDuplicateOrderNumbers,
        CheckForCustomerPoNumbers: options.checkForCustomerPoNumbers,
        AlwaysUsePriceEntered: yn(options.alwaysUsePriceEntered),
        AllowZeroPrice: yn(options.allowZeroPrice),
        AllowNonStockItems: options.allowNonStockItems,
        AcceptOrdersIfNoCredit: yn(options.acceptOrdersIfNoCredit),
        WarnIfCustomerOnHold: yn(options.warnIfCustomerOnHold),
        ValidateShippingInstrs: yn(options.validateShippingInstrs),
        AllowManualOrderNumberToBeUsed: yn(options.allowManualOrderNumber),
        IgnoreWarnings: options.ignoreWarnings ?? 'W',
      },
    },
    { attributes: schemaAttributes('SORTOI.XSD') },
  );
}

function lineXml(line: OrderLineInput, priceDp: number, qtyDp: number): [string, XmlInput] {
  const action = line.action ? LINE_ACTION[line.action] : 'A';
  switch (line.kind) {
    case 'stock':
      return [
        'StockLine',
        {
          CustomerPoLine: line.customerPoLine,
          LineActionType: action,
          SalesOrderLine: line.salesOrderLine,
          StockCode: line.stockCode,
          StockDescription: line.description,
          Warehouse: line.warehouse,
          OrderQty: formatDecimal(line.orderQty, qtyDp),
          OrderUom: line.orderUom,
          Price: line.price === undefined ? undefined : formatDecimal(line.price, priceDp),
          PriceUom: line.priceUom,
          ShipQty: line.shipQty === undefined ? undefined : formatDecimal(line.shipQty, qtyDp),
          ProductClass: line.productClass,
          NonStockedLine: yn(line.nonStocked),
        },
      ];
    case 'comment':
      return [
        'CommentLine',
        {
          CustomerPoLine: line.customerPoLine,
          LineActionType: action,
          SalesOrderLine: line.salesOrderLine,
          Comment: line.comment,
          AttachedLineNumber: line.attachedLineNumber,
        },
      ];
    case 'freight':
      return [
        'FreightLine',
        {
          CustomerPoLine: line.customerPoLine,
          LineActionType: action,
          SalesOrderLine: line.salesOrderLine,
          FreightValue: formatDecimal(line.freightValue, priceDp),
          FreightCost: line.freightCost === undefined ? undefined : formatDecimal(line.freightCost, priceDp),
          FreightTaxCode: line.freightTaxCode,
        },
      ];
    case 'misc-charge':
      return [
        'MiscChargeLine',
        {
          CustomerPoLine: line.customerPoLine,
          LineActionType: action,
          SalesOrderLine: line.salesOrderLine,
          MiscChargeValue: formatDecimal(line.miscChargeValue, priceDp),
          MiscChargeCost:
            line.miscChargeCost === undefined ? undefined : formatDecimal(line.miscChargeCost, priceDp),
          MiscProductClass: line.miscProductClass,
          MiscDescription: line.miscDescription,
        },
      ];
  }
}

/** Builds the SORTOI XmlIn for one or more orders (one `<Orders>` block each). */
export function buildSalesOrderImport(
  orders: readonly SalesOrderInput[],
  options: Pick<SalesOrderImportOptions, 'priceDecimals' | 'quantityDecimals'> = {},
): string {
  const priceDp = options.priceDecimals ?? 2;
  const qtyDp = options.quantityDecimals ?? 3;
  const blocks = orders.map((order): XmlInput => {
    const address = order.shipAddress ?? [];
    return {
      OrderHeader: {
        CustomerPoNumber: order.customerPoNumber,
        OrderActionType: order.action === 'add' ? 'A' : 'C',
        Customer: order.customer,
        SalesOrder: order.salesOrder,
        OrderDate: order.orderDate,
        ShippingInstrs: order.shippingInstrs,
        ShippingInstrsCode: order.shippingInstrsCode,
        CustomerName: order.customerName,
        ShipAddress1: address[0],
        ShipAddress2: address[1],
        ShipAddress3: address[2],
        ShipAddress3Locality: order.shipAddress3Locality,
        ShipAddress4: address[3],
        ShipAddress5: address[4],
        ShipPostalCode: order.shipPostalCode,
        Email: order.email,
        Warehouse: order.warehouse,
        SpecialInstrs: order.specialInstrs,
        OrderType: order.orderType,
        RequestedShipDate: order.requestedShipDate,
      },
      OrderDetails:
        (order.lines ?? []).length > 0
          ? {
              [SEQUENCE]: (order.lines ?? []).map((line) =>
                Object.fromEntries([lineXml(line, priceDp, qtyDp)]),
              ),
            }
          : undefined,
    };
  });
  return buildXml('SalesOrders', { Orders: blocks }, { attributes: schemaAttributes('SORTOIDOC.XSD') });
}

/** Parses the SORTOI XmlOut (root `<SalesOrders>`). */
export function parseSalesOrderImport(xmlOut: string, validateOnly = false): SalesOrderImportResult {
  const { root, outcome } = readXmlOut(SORTOI, xmlOut);
  const orders = children(root, 'Order').map((order): ImportedOrder => {
    const warnings = children(order, 'WarningMessages').flatMap((w) =>
      children(w, 'WarningDescription').map((d) => ({
        path: 'Order.WarningMessages',
        field: 'Order',
        description: text(d) ?? '',
      })),
    );
    return {
      customerPoNumber: text(order, 'CustomerPoNumber') || undefined,
      action: text(order, 'OrderActionType') || undefined,
      salesOrder: text(order, 'SalesOrder') || undefined,
      backOrderComment: text(order, 'BackOrderComment') || undefined,
      warnings,
    };
  });
  return { outcome, orders, validateOnly };
}

/** Imports (or, with `validateOnly`, validates) sales orders. */
export async function importSalesOrders(
  session: Pick<EnetSession, 'post'>,
  orders: readonly SalesOrderInput[],
  options: SalesOrderImportOptions = {},
): Promise<SalesOrderImportResult> {
  const xmlOut = await session.post(
    SORTOI,
    buildSalesOrderImportParameters(options),
    buildSalesOrderImport(orders, options),
  );
  return parseSalesOrderImport(xmlOut, options.validateOnly ?? false);
}
