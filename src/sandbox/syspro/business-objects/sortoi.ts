/**
 * SORTOI, sales order import: create (`OrderActionType` A) and change (C) (reference §2.3).
 * - `Process` Validate validates only and ends with `<ValidationStatus>`; Import validates and
 *   imports only orders without errors. `ValidateOnly=Y` is treated as Validate.
 * - A clean import returns only `<StatusOfItems>`: no `<Order>` block, so no order number (S2).
 *   Orders with warnings get an `<Order>` block with `<SalesOrder>` and `<WarningMessages>`; a
 *   failed order shows `<SalesOrder/>` and its failing elements as Value/ErrorNumber/ErrorDescription
 *   (a failing SalesOrder is replaced by its error group, so it appears once).
 * - Input uses `ShippingInstrsCode`; the column is `ShippingInstrsCod`. Unknown elements are ignored.
 * - A change moves allocated stock (`InvWarehouse.QtyAllocated` holds each stocked line's ship
 *   quantity): a reduced or deleted line frees it, an increase is allocated by the same
 *   AllocationAction rule as create or back-ordered, and an open order (1/2) gets the create
 *   status rule (2 with back-ordered merchandise, else 1).
 * - Choices where the reference is silent (UNCONFIRMED, logged in docs/decisions.md): lines of a
 *   change are found by `SalesOrderLine` (or `LineNumber`); `ShipQty` on a changed StockLine sets
 *   the ship quantity; IgnoreWarnings defaults to W; over-long text is truncated to the column.
 */

import { formatSalesOrder, type Row, SOR_DETAIL_DEFAULTS, SOR_MASTER_DEFAULTS } from '../tables.js';
import { fitColumn } from '../text.js';
import {
  buildXmlOut,
  child,
  children,
  type Element,
  el,
  group,
  isSysproDate,
  padCount,
  parseSysproNumber,
  textOf,
  type XNode,
} from '../xml.js';
import {
  availableQty,
  type BusinessObject,
  type BusinessObjectContext,
  type ElementError,
  ERRORS,
  findSalesOrder,
  todayOf,
  toErrorElements,
} from './common.js';

interface ImportParameters {
  validate: boolean;
  orderStatus: string;
  allocationAction: string;
  allowManualOrderNumber: boolean;
  checkPo: string;
  allowDuplicatePo: string;
  warnIfOnHold: boolean;
  allowNonStock: string;
  ignoreWarnings: string;
}

function readParameters(xmlParameters: XNode | undefined): ImportParameters {
  const p = child(xmlParameters, 'Parameters') ?? xmlParameters;
  const upper = (name: string, fallback: string) => textOf(p, name).toUpperCase() || fallback;
  return {
    validate: upper('Process', 'IMPORT') === 'VALIDATE' || upper('ValidateOnly', 'N') === 'Y',
    orderStatus: upper('OrderStatus', ''),
    allocationAction: upper('AllocationAction', 'F'),
    allowManualOrderNumber: upper('AllowManualOrderNumberToBeUsed', 'N') === 'Y',
    checkPo: upper('CheckForCustomerPoNumbers', 'Y'),
    allowDuplicatePo: upper('AllowDuplicateOrderNumbers', 'N'),
    warnIfOnHold: upper('WarnIfCustomerOnHold', 'N') === 'Y',
    allowNonStock: upper('AllowNonStockItems', 'N'),
    ignoreWarnings: upper('IgnoreWarnings', 'W'),
  };
}

/** One order's outcome before anything is written. */
interface OrderPlan {
  action: string;
  customerPo: string;
  errors: ElementError[];
  warnings: string[];
  apply: () => string;
}

const blank = (path: string): ElementError => ({
  element: path.split('}').pop()?.replace('{', '') ?? path,
  value: '',
  number: ERRORS.blank,
  description: `XML element '${path}' cannot be spaces`,
});

function dateError(element: string, value: string): ElementError {
  return {
    element,
    value,
    number: ERRORS.badDate,
    description: `Date '${value}' is invalid for XML element '${element}' it must be CCYY-MM-DD format`,
  };
}

function numberOf(node: XNode, element: string, errors: ElementError[], fallback?: number): number {
  const text = textOf(node, element);
  if (!text) {
    if (fallback !== undefined) return fallback;
    errors.push(blank(`{${node.rawName}}{${element}}`));
    return 0;
  }
  const value = parseSysproNumber(text);
  if (value === undefined) {
    errors.push({
      element,
      value: text,
      number: ERRORS.notNumeric,
      description: `Value '${text}' for XML element '${element}' is not numeric`,
    });
    return 0;
  }
  return value;
}

/**
 * How much of `qty` to allocate (ship) from `available` stock for an AllocationAction (§2.3):
 * F (default) all only if all is available, A what is available, B nothing (all back-ordered).
 */
function allocatable(action: string, qty: number, available: number): number {
  if (action === 'B') return 0;
  if (action === 'A') return Math.min(qty, available);
  return available >= qty ? qty : 0;
}

interface NewLine {
  row: Row;
  allocate?: { warehouseRow: Row; qty: number };
}

/**
 * The warning for a back-ordered line and the order's `BackOrderComment`, worded like SYSPRO's own
 * texts (line numbers four digits, codes in single quotes). The exact SYSPRO wording is
 * UNCONFIRMED; element text keeps the apostrophes raw, as SYSPRO writes them.
 */
export function backOrderWarning(salesOrderLine: number, stockCode: string): string {
  return `Line ${String(salesOrderLine).padStart(4, '0')} for stock code '${stockCode}' was placed on back order`;
}

export function backOrderComment(salesOrder: string): string {
  return `One or more lines have been placed on back order for order '${salesOrder}'`;
}

/** Validates one detail line of an add (or an added line of a change). */
function planNewLine(
  ctx: BusinessObjectContext,
  node: XNode,
  headerWarehouse: string,
  params: ImportParameters,
  errors: ElementError[],
  warnings: string[],
  /** Stock taken (or freed) by earlier lines of the same document, per InvWarehouse row; updated. */
  pending: Map<Row, number>,
  /** The SalesOrderLine number the line will get (for the back-order warning). */
  lineNumber: number,
): NewLine | undefined {
  const kind = node.name;
  const lineErrors: ElementError[] = [];
  let result: NewLine | undefined;
  if (kind === 'stockline' || kind === 'nonstockedline') {
    const separateNonStock = kind === 'nonstockedline';
    const nonStocked = separateNonStock || textOf(node, 'NonStockedLine').toUpperCase() === 'Y';
    const stockCode = textOf(node, separateNonStock ? 'NStockCode' : 'StockCode');
    const qty = numberOf(node, separateNonStock ? 'NOrderQty' : 'OrderQty', lineErrors);
    const price = numberOf(node, separateNonStock ? 'NPrice' : 'Price', lineErrors, 0);
    const warehouse = textOf(node, separateNonStock ? 'NWarehouse' : 'Warehouse') || headerWarehouse;
    if (!stockCode) lineErrors.push(blank(`{${node.rawName}}{StockCode}`));
    if (qty <= 0 && !lineErrors.length) {
      lineErrors.push({
        element: 'OrderQty',
        value: String(qty),
        number: ERRORS.invalidValue,
        description: 'Order quantity must be greater than zero',
      });
    }
    if (nonStocked && params.allowNonStock === 'N') {
      lineErrors.push({
        element: 'StockCode',
        value: stockCode,
        number: ERRORS.notAllowed,
        description: `Non-stocked item '${stockCode}' not allowed (AllowNonStockItems=N)`,
      });
    }
    const item = nonStocked ? undefined : ctx.db.invMaster.get(stockCode);
    const warehouseRow = item ? ctx.db.invWarehouse.get(stockCode, warehouse) : undefined;
    if (stockCode && !nonStocked && !item) {
      lineErrors.push({
        element: 'StockCode',
        value: stockCode,
        number: ERRORS.stockNotFound,
        description: `Stock code '${stockCode}' not found`,
      });
    } else if (item && !warehouseRow) {
      lineErrors.push({
        element: 'Warehouse',
        value: warehouse,
        number: ERRORS.notFound,
        description: `Stock code '${stockCode}' is not stocked in warehouse '${warehouse}'`,
      });
    }
    if (!lineErrors.length) {
      let shipQty = qty;
      let backOrder = 0;
      const action = textOf(node, 'AllocationAction').toUpperCase() || params.allocationAction;
      if (warehouseRow) {
        const available = availableQty(warehouseRow) - (pending.get(warehouseRow) ?? 0);
        shipQty = allocatable(action, qty, Math.max(0, available));
        pending.set(warehouseRow, (pending.get(warehouseRow) ?? 0) + shipQty);
        backOrder = qty - shipQty;
        if (backOrder > 0) warnings.push(backOrderWarning(lineNumber, stockCode));
      }
      const uom = textOf(node, 'OrderUom') || (item?.StockUom as string) || 'EA';
      result = {
        row: {
          ...SOR_DETAIL_DEFAULTS,
          LineType: nonStocked ? '7' : '1',
          MStockCode: fitColumn(stockCode, 30),
          MStockDes: fitColumn(
            textOf(node, separateNonStock ? 'NStockDes' : 'StockDescription') ||
              (item?.Description as string) ||
              '',
            50,
          ),
          MWarehouse: warehouse,
          MBin: warehouse,
          MOrderQty: qty,
          MShipQty: shipQty,
          MBackOrderQty: backOrder,
          MOrderUom: uom,
          MStockingUom: uom,
          MStockQtyToShp: shipQty,
          MPrice: price,
          MPriceUom: textOf(node, 'PriceUom') || uom,
          MProductClass: (item?.ProductClass as string) ?? textOf(node, 'NProductClass'),
          MTaxCode: textOf(node, 'StockTaxCode') || 'A',
          MStockUnitMass: (item?.Mass as number) ?? 0,
          MStockUnitVol: (item?.Volume as number) ?? 0,
          MLineShipDate: null,
        },
        allocate: warehouseRow && shipQty > 0 ? { warehouseRow, qty: shipQty } : undefined,
      };
    }
  } else if (kind === 'freightline' || kind === 'miscchargeline') {
    const freight = kind === 'freightline';
    const value = numberOf(node, freight ? 'FreightValue' : 'MiscChargeValue', lineErrors);
    const cost = numberOf(node, freight ? 'FreightCost' : 'MiscChargeCost', lineErrors, 0);
    if (!lineErrors.length) {
      result = {
        row: {
          ...SOR_DETAIL_DEFAULTS,
          LineType: freight ? '4' : '5',
          MStockDes: freight ? 'Freight' : fitColumn(textOf(node, 'MiscDescription') || 'Misc charge', 50),
          NMscChargeValue: value,
          NMscChargeCost: cost,
          NMscProductCls: freight ? '_FRT' : textOf(node, 'MiscProductClass'),
          NMscChargeQty: freight ? 1 : numberOf(node, 'MiscQuantity', lineErrors, 1),
        },
      };
    }
  } else if (kind === 'commentline') {
    result = {
      row: {
        ...SOR_DETAIL_DEFAULTS,
        LineType: '6',
        NComment: fitColumn(textOf(node, 'Comment'), 100),
        NCommentFromLin: Number(textOf(node, 'AttachedLineNumber')) || 0,
      },
    };
  } else {
    return undefined; // unknown element: ignored, as SYSPRO does
  }
  errors.push(...lineErrors);
  return lineErrors.length ? undefined : result;
}

const HEADER_TEXT_COLUMNS: Array<[element: string, column: string, length: number]> = [
  ['CustomerPoNumber', 'CustomerPoNumber', 30],
  ['ShippingInstrs', 'ShippingInstrs', 30],
  ['ShippingInstrsCode', 'ShippingInstrsCod', 6],
  ['CustomerName', 'CustomerName', 50],
  ['ShipAddress1', 'ShipAddress1', 40],
  ['ShipAddress2', 'ShipAddress2', 40],
  ['ShipAddress3', 'ShipAddress3', 40],
  ['ShipAddress3Locality', 'ShipAddress3Loc', 40],
  ['ShipAddress4', 'ShipAddress4', 40],
  ['ShipAddress5', 'ShipAddress5', 40],
  ['ShipPostalCode', 'ShipPostalCode', 15],
  ['Email', 'Email', 80],
  ['SpecialInstrs', 'SpecialInstrs', 30],
];

function planAdd(
  ctx: BusinessObjectContext,
  orders: XNode,
  params: ImportParameters,
  today: string,
): OrderPlan {
  const header = child(orders, 'OrderHeader');
  const details = child(orders, 'OrderDetails');
  const errors: ElementError[] = [];
  const warnings: string[] = [];
  const customerPo = textOf(header, 'CustomerPoNumber');
  const customerCode = textOf(header, 'Customer');
  if (!customerPo && params.checkPo !== 'N') errors.push(blank('{OrderHeader}{CustomerPoNumber}'));
  const customer = customerCode ? ctx.db.arCustomer.get(customerCode) : undefined;
  if (!customerCode) errors.push(blank('{OrderHeader}{Customer}'));
  else if (!customer) {
    errors.push({
      element: 'Customer',
      value: customerCode,
      number: ERRORS.notFound,
      description: `Customer '${customerCode}' not found`,
    });
  } else if (customer.CustomerOnHold === 'Y') {
    if (params.warnIfOnHold) warnings.push(`Customer '${customerCode}' is on hold`);
    else {
      errors.push({
        element: 'Customer',
        value: customerCode,
        number: ERRORS.notAllowed,
        description: `Customer '${customerCode}' is on hold`,
      });
    }
  }
  if (customer && customerPo && params.allowDuplicatePo !== 'A') {
    const existing = ctx.db.sorMaster.rows.find(
      (o) => o.Customer === customerCode && o.CustomerPoNumber === customerPo && o.OrderStatus !== '*',
    );
    if (existing) {
      errors.push({
        element: 'CustomerPoNumber',
        value: customerPo,
        number: ERRORS.notAllowed,
        description: `Customer purchase order '${customerPo}' already exists on sales order ${existing.SalesOrder}`,
      });
    }
  }
  const dates: Record<string, string | null> = {};
  for (const [element, fallback] of [
    ['OrderDate', today],
    ['RequestedShipDate', null],
  ] as const) {
    const text = textOf(header, element);
    if (text && !isSysproDate(text)) errors.push(dateError(element, text));
    dates[element] = text || fallback;
  }
  const warehouse = textOf(header, 'Warehouse') || (customer?.SalesWarehouse as string) || 'FG';
  if (!ctx.db.invWhControl.get(warehouse)) {
    errors.push({
      element: 'Warehouse',
      value: warehouse,
      number: ERRORS.notFound,
      description: `Warehouse '${warehouse}' not found`,
    });
  }
  let manualNumber = '';
  const requestedNumber = textOf(header, 'SalesOrder');
  if (requestedNumber && params.allowManualOrderNumber) {
    manualNumber = /^\d+$/.test(requestedNumber)
      ? formatSalesOrder(Number(requestedNumber))
      : requestedNumber;
    if (findSalesOrder(ctx.db, manualNumber)) {
      errors.push({
        element: 'SalesOrder',
        value: requestedNumber,
        number: ERRORS.notAllowed,
        description: `Sales order '${requestedNumber}' already exists`,
      });
    }
  }
  const lines: NewLine[] = [];
  const pending = new Map<Row, number>();
  for (const node of details?.children ?? []) {
    const line = planNewLine(ctx, node, warehouse, params, errors, warnings, pending, lines.length + 1);
    if (line) lines.push(line);
  }
  if (!lines.some((l) => l.row.LineType === '1' || l.row.LineType === '7') && !errors.length) {
    errors.push({
      element: 'OrderDetails',
      value: '',
      number: ERRORS.invalidValue,
      description: 'The order has no merchandise lines',
    });
  }
  return {
    action: 'A',
    customerPo,
    errors,
    warnings,
    apply: () => {
      const number = manualNumber || formatSalesOrder(ctx.db.counters.nextSalesOrder++);
      const cust = customer as Row;
      const hasShipTo = ['ShipAddress1', 'ShipAddress2', 'ShipAddress3', 'ShipAddress4', 'ShipAddress5'].some(
        (e) => child(header, e) !== undefined,
      );
      const row: Row = {
        ...SOR_MASTER_DEFAULTS,
        SalesOrder: number,
        OrderStatus:
          params.orderStatus || (lines.some((l) => (l.row.MBackOrderQty as number) > 0) ? '2' : '1'),
        Customer: customerCode,
        Salesperson: '001',
        CustomerPoNumber: fitColumn(customerPo, 30),
        OrderDate: dates.OrderDate ?? today,
        EntrySystemDate: todayOf(ctx.now()),
        ReqShipDate: dates.RequestedShipDate ?? dates.OrderDate ?? today,
        ShippingInstrs: cust.ShippingInstrs,
        ShippingInstrsCod: cust.ShippingInstrsCod,
        AltShipAddrFlag: hasShipTo ? 'Y' : 'N',
        Branch: cust.Branch,
        Area: cust.Area,
        Warehouse: warehouse,
        Currency: cust.Currency,
        LastOperator: ctx.operator,
        Operator: ctx.operator,
        CustomerName: cust.Name,
        ShipAddress1: hasShipTo ? '' : cust.ShipToAddr1,
        ShipAddress2: hasShipTo ? '' : cust.ShipToAddr2,
        ShipAddress3: hasShipTo ? '' : cust.ShipToAddr3,
        ShipAddress3Loc: hasShipTo ? '' : cust.ShipToAddr3Loc,
        ShipAddress4: hasShipTo ? '' : cust.ShipToAddr4,
        ShipAddress5: hasShipTo ? '' : cust.ShipToAddr5,
        ShipPostalCode: cust.ShipPostalCode,
        State: cust.State,
        CountyZip: cust.CountyZip,
        Email: cust.Email,
        WebCreated: 'Y',
        SalesOrderSource: 'E',
      };
      for (const [element, column, length] of HEADER_TEXT_COLUMNS) {
        if (child(header, element) !== undefined) row[column] = fitColumn(textOf(header, element), length);
      }
      ctx.db.touch(row);
      let lineNo = 1;
      for (const line of lines) {
        line.row.SalesOrder = number;
        line.row.SalesOrderLine = lineNo;
        line.row.SalesOrderInitLine = lineNo++;
        line.row.MLineShipDate =
          line.row.LineType === '1' || line.row.LineType === '7' ? row.ReqShipDate : null;
        ctx.db.touch(line.row);
        if (line.allocate) {
          line.allocate.warehouseRow.QtyAllocated =
            (line.allocate.warehouseRow.QtyAllocated as number) + line.allocate.qty;
          ctx.db.touch(line.allocate.warehouseRow);
        }
      }
      row.NextDetailLine = lineNo;
      ctx.db.sorMaster.insert(row);
      for (const line of lines) ctx.db.sorDetail.insert(line.row);
      return number;
    },
  };
}

const CLOSED = new Set(['9', '\\', '*']);

function planChange(ctx: BusinessObjectContext, orders: XNode, params: ImportParameters): OrderPlan {
  const header = child(orders, 'OrderHeader');
  const details = child(orders, 'OrderDetails');
  const errors: ElementError[] = [];
  const warnings: string[] = [];
  const customerPo = textOf(header, 'CustomerPoNumber');
  const requested = textOf(header, 'SalesOrder');
  const order = requested ? findSalesOrder(ctx.db, requested) : undefined;
  if (!requested) errors.push(blank('{OrderHeader}{SalesOrder}'));
  else if (!order) {
    errors.push({
      element: 'SalesOrder',
      value: requested,
      number: ERRORS.notFound,
      description: `Sales order '${requested}' not found`,
    });
  } else if (CLOSED.has(order.OrderStatus as string)) {
    errors.push({
      element: 'SalesOrder',
      value: requested,
      number: ERRORS.notAllowed,
      description: `Sales order '${order.SalesOrder}' has status ${order.OrderStatus} and cannot be changed`,
    });
  }
  const customerCode = textOf(header, 'Customer');
  if (order && customerCode && customerCode !== order.Customer) {
    errors.push({
      element: 'Customer',
      value: customerCode,
      number: ERRORS.invalidValue,
      description: `Sales order '${order.SalesOrder}' belongs to customer '${order.Customer}'`,
    });
  }
  const shipDate = textOf(header, 'RequestedShipDate');
  if (shipDate && !isSysproDate(shipDate)) errors.push(dateError('RequestedShipDate', shipDate));

  type LineChange = () => void;
  const changes: LineChange[] = [];
  const added: NewLine[] = [];
  const existing = order ? ctx.db.linesOf(order.SalesOrder as string) : [];
  // A stocked line holds its ship quantity allocated in its warehouse (as create allocates it).
  const stockOf = (line: Row): Row | undefined =>
    line.LineType === '1'
      ? ctx.db.invWarehouse.get(line.MStockCode as string, line.MWarehouse as string)
      : undefined;
  const allocate = (stock: Row, qty: number) => {
    if (qty === 0) return;
    stock.QtyAllocated = Math.max(0, (stock.QtyAllocated as number) + qty);
    ctx.db.touch(stock);
  };
  /** Allocation moves planned by earlier lines of this change, so later lines see what is left. */
  const pending = new Map<Row, number>();
  for (const node of details?.children ?? []) {
    const action = textOf(node, 'LineActionType').toUpperCase() || 'A';
    if (action === 'A') {
      const warehouse = (order?.Warehouse as string) || 'FG';
      const next = ((order?.NextDetailLine as number | undefined) ?? existing.length + 1) + added.length;
      const line = planNewLine(ctx, node, warehouse, params, errors, warnings, pending, next);
      if (line) added.push(line);
      continue;
    }
    const lineText = textOf(node, 'SalesOrderLine') || textOf(node, 'LineNumber');
    const line = existing.find((l) => l.SalesOrderLine === Number(lineText));
    if (!line) {
      errors.push({
        element: 'SalesOrderLine',
        value: lineText,
        number: ERRORS.notFound,
        description: `Line '${lineText}' not found on sales order '${requested}'`,
      });
      continue;
    }
    if (action === 'D') {
      if ((line.MQtyDispatched as number) > 0) {
        errors.push({
          element: 'LineActionType',
          value: 'D',
          number: ERRORS.notAllowed,
          description: `Line ${line.SalesOrderLine} has been dispatched and cannot be deleted`,
        });
      } else {
        const stock = stockOf(line);
        if (stock) pending.set(stock, (pending.get(stock) ?? 0) - (line.MShipQty as number));
        changes.push(() => {
          if (stock) allocate(stock, -(line.MShipQty as number));
          ctx.db.sorDetail.delete(line);
        });
      }
      continue;
    }
    const lineErrors: ElementError[] = [];
    const qtyText = textOf(node, 'OrderQty');
    const priceText =
      textOf(node, 'Price') || textOf(node, 'FreightValue') || textOf(node, 'MiscChargeValue');
    const shipText = textOf(node, 'ShipQty');
    const comment = child(node, 'Comment');
    const qty = qtyText ? numberOf(node, 'OrderQty', lineErrors) : (line.MOrderQty as number);
    const price = priceText ? (parseSysproNumber(priceText) ?? Number.NaN) : undefined;
    const ship = shipText ? numberOf(node, 'ShipQty', lineErrors) : undefined;
    if (price !== undefined && Number.isNaN(price)) {
      lineErrors.push({
        element: 'Price',
        value: priceText,
        number: ERRORS.notNumeric,
        description: `Value '${priceText}' for XML element 'Price' is not numeric`,
      });
    }
    const outstanding = qty - (line.MQtyDispatched as number);
    if (outstanding < 0 && qtyText && !lineErrors.length) {
      lineErrors.push({
        element: 'OrderQty',
        value: qtyText,
        number: ERRORS.invalidValue,
        description: `Order quantity ${qty} is less than the ${line.MQtyDispatched} already dispatched on line ${line.SalesOrderLine}`,
      });
    }
    if (ship !== undefined && (ship < 0 || ship > outstanding)) {
      lineErrors.push({
        element: 'ShipQty',
        value: shipText,
        number: ERRORS.invalidValue,
        description: `Ship quantity ${ship} exceeds the outstanding quantity ${outstanding} on line ${line.SalesOrderLine}`,
      });
    }
    errors.push(...lineErrors);
    if (lineErrors.length) continue;
    // Ship quantity: a reduction comes off the back order first, then off what is allocated (and
    // frees it); an increase (or a ShipQty above what is allocated) is allocated like a new line
    // on create (`allocatable`), the rest back-ordered with a warning. Non-stocked lines are
    // never back-ordered, as on create.
    const merchandise = line.LineType === '1' || line.LineType === '7';
    const stock = stockOf(line);
    const oldShip = line.MShipQty as number;
    const kept = Math.max(0, Math.min(oldShip, outstanding));
    let shipQty = kept;
    if (merchandise) {
      const wanted = ship !== undefined ? ship - kept : Math.max(0, qty - (line.MOrderQty as number));
      if (wanted < 0) shipQty = ship as number;
      else if (!stock) shipQty = kept + wanted;
      else if (wanted > 0) {
        const action = textOf(node, 'AllocationAction').toUpperCase() || params.allocationAction;
        const available = Math.max(0, availableQty(stock) - (pending.get(stock) ?? 0));
        const granted = allocatable(action, wanted, available);
        shipQty = kept + granted;
        if (granted < wanted) {
          warnings.push(backOrderWarning(line.SalesOrderLine as number, line.MStockCode as string));
        }
      }
      if (stock) pending.set(stock, (pending.get(stock) ?? 0) + shipQty - oldShip);
    }
    changes.push(() => {
      if (line.LineType === '4' || line.LineType === '5') {
        if (price !== undefined) line.NMscChargeValue = price;
      } else if (line.LineType === '6') {
        if (comment) line.NComment = fitColumn(comment.text.trim(), 100);
      } else {
        line.MOrderQty = qty;
        if (price !== undefined) line.MPrice = price;
        if (stock) allocate(stock, shipQty - (line.MShipQty as number));
        line.MShipQty = shipQty;
        line.MStockQtyToShp = shipQty;
        line.MBackOrderQty = Math.max(0, outstanding - shipQty);
      }
      ctx.db.touch(line);
    });
  }
  return {
    action: 'C',
    customerPo,
    errors,
    warnings,
    apply: () => {
      const row = order as Row;
      for (const [element, column, length] of HEADER_TEXT_COLUMNS) {
        if (child(header, element) !== undefined) row[column] = fitColumn(textOf(header, element), length);
      }
      if (shipDate) row.ReqShipDate = shipDate;
      for (const change of changes) change();
      let next = row.NextDetailLine as number;
      for (const line of added) {
        line.row.SalesOrder = row.SalesOrder;
        line.row.SalesOrderLine = next;
        line.row.SalesOrderInitLine = next++;
        ctx.db.touch(line.row);
        if (line.allocate) allocate(line.allocate.warehouseRow, line.allocate.qty);
        ctx.db.sorDetail.insert(line.row);
      }
      row.NextDetailLine = next;
      // The create rule for the status: an open order with back-ordered merchandise is 2, without
      // is 1. Other statuses (3 released back order, 4, 8, S, F) are left as they are, and so is
      // the status when no line was changed or added.
      if ((changes.length || added.length) && (row.OrderStatus === '1' || row.OrderStatus === '2')) {
        const backOrdered = ctx.db
          .linesOf(row.SalesOrder as string)
          .some((l) => (l.LineType === '1' || l.LineType === '7') && (l.MBackOrderQty as number) > 0);
        row.OrderStatus = backOrdered ? '2' : '1';
      }
      row.LastOperator = ctx.operator;
      ctx.db.touch(row);
      return row.SalesOrder as string;
    },
  };
}

export const sortoi: BusinessObject = {
  name: 'SORTOI',
  methods: ['Transaction/Post'],
  handle(ctx, { xmlParameters, xmlIn }) {
    const params = readParameters(xmlParameters);
    const today = todayOf(ctx.now());
    const out: Element[] = [];
    let processed = 0;
    let invalid = 0;
    let withWarnings = 0;
    let rejectedWithWarnings = 0;
    for (const orders of children(xmlIn, 'Orders')) {
      const action = textOf(child(orders, 'OrderHeader'), 'OrderActionType').toUpperCase() || 'A';
      const plan = action === 'C' ? planChange(ctx, orders, params) : planAdd(ctx, orders, params, today);
      const head = [el('CustomerPoNumber', plan.customerPo), el('OrderActionType', plan.action)];
      const warningBlock = plan.warnings.length
        ? [
            group(
              'WarningMessages',
              plan.warnings.map((w) => el('WarningDescription', w)),
            ),
          ]
        : [];
      if (plan.errors.length) {
        invalid++;
        // The failing element is replaced by its error group (reference §1.3): an order that fails
        // on SalesOrder shows that group in the SalesOrder place, otherwise `<SalesOrder/>`.
        const onSalesOrder = plan.errors.filter((e) => e.element === 'SalesOrder');
        const others = plan.errors.filter((e) => e.element !== 'SalesOrder');
        const salesOrder = onSalesOrder.length ? toErrorElements(onSalesOrder) : [el('SalesOrder', '')];
        out.push(group('Order', [...head, ...salesOrder, ...toErrorElements(others), ...warningBlock]));
        continue;
      }
      if (params.validate) {
        processed++;
        out.push(group('Order', [...head, el('SalesOrder', ''), ...warningBlock]));
        continue;
      }
      if (plan.warnings.length && params.ignoreWarnings === 'N') {
        rejectedWithWarnings++;
        out.push(group('Order', [...head, el('SalesOrder', ''), ...warningBlock]));
        continue;
      }
      const number = plan.apply();
      processed++;
      if (plan.warnings.length && params.ignoreWarnings !== 'Y') {
        withWarnings++;
        out.push(
          group('Order', [
            ...head,
            el('SalesOrder', number),
            el(
              'BackOrderComment',
              plan.warnings.some((w) => w.includes('back order')) ? backOrderComment(number) : '',
            ),
            ...warningBlock,
          ]),
        );
      }
    }
    const status: Element[] = [el('ItemsProcessed', padCount(processed))];
    if (invalid) status.push(el('ItemsInvalid', padCount(invalid)));
    status.push(
      el('ItemsRejectedWithWarnings', padCount(rejectedWithWarnings)),
      el('ItemsProcessedWithWarnings', padCount(withWarnings)),
    );
    out.push(group('StatusOfItems', status));
    if (params.validate) {
      out.push(group('ValidationStatus', [el('Status', invalid ? 'Failed' : 'Successful')]));
    }
    return {
      body: buildXmlOut({ name: 'SalesOrders', version: '8.0.032' }, out),
      outcome: invalid || rejectedWithWarnings ? 'invalid' : 'ok',
      validateOnly: params.validate,
    };
  },
};
