/**
 * What a SYSPRO user does in Sales Order Entry and Customer Maintenance, for the operator API:
 * enter or change an order or a customer directly (no business object), so polling sees change.
 */
import { availableQty } from './business-objects/common.js';
import {
  AR_CUSTOMER_DEFAULTS,
  type CompanyDatabase,
  formatPaddedKey,
  formatSalesOrder,
  type Row,
  SOR_DETAIL_DEFAULTS,
  SOR_MASTER_DEFAULTS,
  type Table,
  type Value,
} from './tables.js';
import { toCodePage } from './text.js';

export class OperatorActionError extends Error {}

export interface EnterOrderLine {
  stockCode: string;
  qty: number;
  price?: number;
  warehouse?: string;
}

export interface EnterOrderInput {
  customer: string;
  customerPoNumber?: string;
  status?: string;
  operator?: string;
  lines: EnterOrderLine[];
  freight?: number;
  comment?: string;
  /** Any other SorMaster columns (ShipAddress1, ShippingInstrs, Email, …). */
  fields?: Record<string, Value>;
}

function setColumns(
  table: Table,
  row: Row,
  fields: Record<string, Value> | undefined,
  locked: string[],
): void {
  for (const [name, value] of Object.entries(fields ?? {})) {
    if (!table.columnNames.has(name) || locked.includes(name)) {
      throw new OperatorActionError(`${table.name} has no changeable column '${name}'`);
    }
    row[name] = typeof value === 'string' ? toCodePage(value) : value;
  }
}

const today = (now: number) => new Date(now).toISOString().slice(0, 10);

export function enterOrder(db: CompanyDatabase, input: EnterOrderInput, now: number): Row {
  const customer = db.arCustomer.get(input.customer);
  if (!customer) throw new OperatorActionError(`customer '${input.customer}' not found`);
  if (!input.lines?.length) throw new OperatorActionError('an order needs at least one line');
  const salesOrder = formatSalesOrder(db.counters.nextSalesOrder++);
  const operator = input.operator ?? 'ADMIN';
  const header: Row = {
    ...SOR_MASTER_DEFAULTS,
    SalesOrder: salesOrder,
    OrderStatus: input.status ?? '1',
    Customer: customer.Customer,
    Salesperson: '001',
    CustomerPoNumber: input.customerPoNumber ?? '',
    OrderDate: today(now),
    EntrySystemDate: today(now),
    ReqShipDate: today(now),
    ShippingInstrs: customer.ShippingInstrs,
    ShippingInstrsCod: customer.ShippingInstrsCod,
    Branch: customer.Branch,
    Area: customer.Area,
    Warehouse: customer.SalesWarehouse || 'FG',
    LastOperator: operator,
    Operator: operator,
    CustomerName: customer.Name,
    ShipAddress1: customer.ShipToAddr1,
    ShipAddress2: customer.ShipToAddr2,
    ShipAddress3: customer.ShipToAddr3,
    ShipAddress3Loc: customer.ShipToAddr3Loc,
    ShipAddress4: customer.ShipToAddr4,
    ShipAddress5: customer.ShipToAddr5,
    ShipPostalCode: customer.ShipPostalCode,
    State: customer.State,
    CountyZip: customer.CountyZip,
    Email: customer.Email,
  };
  setColumns(db.sorMaster, header, input.fields, ['SalesOrder', 'Customer', 'TimeStamp']);
  const lines: Row[] = [];
  let lineNo = 1;
  for (const line of input.lines) {
    const item = db.invMaster.get(line.stockCode);
    if (!item) throw new OperatorActionError(`stock code '${line.stockCode}' not found`);
    const warehouse = line.warehouse ?? (header.Warehouse as string);
    const stock = db.invWarehouse.get(line.stockCode, warehouse);
    if (!stock)
      throw new OperatorActionError(`stock code '${line.stockCode}' is not stocked in '${warehouse}'`);
    if (!(line.qty > 0)) throw new OperatorActionError(`line ${lineNo}: qty must be positive`);
    const shipQty = Math.min(line.qty, Math.max(0, availableQty(stock)));
    stock.QtyAllocated = (stock.QtyAllocated as number) + shipQty;
    db.touch(stock);
    lines.push({
      ...SOR_DETAIL_DEFAULTS,
      SalesOrder: salesOrder,
      SalesOrderLine: lineNo,
      LineType: '1',
      MStockCode: item.StockCode,
      MStockDes: item.Description,
      MWarehouse: warehouse,
      MBin: warehouse,
      MOrderQty: line.qty,
      MShipQty: shipQty,
      MBackOrderQty: line.qty - shipQty,
      MOrderUom: item.StockUom,
      MStockingUom: item.StockUom,
      MStockQtyToShp: shipQty,
      MPrice: line.price ?? 10,
      MPriceUom: item.StockUom,
      MProductClass: item.ProductClass,
      MTaxCode: 'A',
      MLineShipDate: header.ReqShipDate,
      MStockUnitMass: item.Mass,
      MStockUnitVol: item.Volume,
      SalesOrderInitLine: lineNo++,
    });
  }
  if (input.freight !== undefined) {
    lines.push({
      ...SOR_DETAIL_DEFAULTS,
      SalesOrder: salesOrder,
      SalesOrderLine: lineNo,
      LineType: '4',
      MStockDes: 'Freight',
      NMscChargeValue: input.freight,
      NMscProductCls: '_FRT',
      NMscChargeQty: 1,
      SalesOrderInitLine: lineNo++,
    });
  }
  if (input.comment) {
    lines.push({
      ...SOR_DETAIL_DEFAULTS,
      SalesOrder: salesOrder,
      SalesOrderLine: lineNo,
      LineType: '6',
      NComment: toCodePage(input.comment),
      NCommentFromLin: 1,
      SalesOrderInitLine: lineNo++,
    });
  }
  header.NextDetailLine = lineNo;
  db.touch(header);
  db.sorMaster.insert(header);
  for (const line of lines) {
    db.touch(line);
    db.sorDetail.insert(line);
  }
  return header;
}

export interface ChangeOrderInput {
  operator?: string;
  fields?: Record<string, Value>;
  lines?: Array<{ line: number; qty?: number; price?: number; delete?: boolean }>;
}

export function changeOrder(db: CompanyDatabase, salesOrder: string, input: ChangeOrderInput): Row {
  const order = db.sorMaster.get(salesOrder);
  if (!order) throw new OperatorActionError(`sales order '${salesOrder}' not found`);
  setColumns(db.sorMaster, order, input.fields, ['SalesOrder', 'TimeStamp']);
  for (const change of input.lines ?? []) {
    const line = db.linesOf(salesOrder).find((l) => l.SalesOrderLine === change.line);
    if (!line) throw new OperatorActionError(`sales order '${salesOrder}' has no line ${change.line}`);
    if (change.delete) {
      db.sorDetail.delete(line);
      continue;
    }
    if (change.qty !== undefined) {
      const outstanding = change.qty - (line.MQtyDispatched as number);
      line.MOrderQty = change.qty;
      line.MShipQty = Math.max(0, Math.min(line.MShipQty as number, outstanding));
      line.MStockQtyToShp = line.MShipQty;
      line.MBackOrderQty = Math.max(0, outstanding - (line.MShipQty as number));
    }
    if (change.price !== undefined) line.MPrice = change.price;
    db.touch(line);
  }
  order.LastOperator = input.operator ?? 'ADMIN';
  db.touch(order);
  return order;
}

export function saveCustomer(
  db: CompanyDatabase,
  code: string | undefined,
  fields: Record<string, Value>,
  now: number,
): Row {
  if (code) {
    const existing = db.arCustomer.get(code);
    if (!existing) throw new OperatorActionError(`customer '${code}' not found`);
    setColumns(db.arCustomer, existing, fields, ['Customer', 'TimeStamp']);
    db.touch(existing);
    return existing;
  }
  const requested = typeof fields.Customer === 'string' && fields.Customer ? fields.Customer : undefined;
  const customer =
    requested ??
    formatPaddedKey(db.arCustomer.rows.reduce((max, r) => Math.max(max, Number(r.Customer) || 0), 0) + 1);
  if (db.arCustomer.get(customer)) throw new OperatorActionError(`customer '${customer}' already exists`);
  const { Customer: _ignored, ...rest } = fields;
  const row: Row = {
    ...AR_CUSTOMER_DEFAULTS,
    Customer: customer,
    DateCustAdded: today(now),
    SalesWarehouse: 'FG',
  };
  setColumns(db.arCustomer, row, rest, ['TimeStamp']);
  db.touch(row);
  db.arCustomer.insert(row);
  return row;
}
