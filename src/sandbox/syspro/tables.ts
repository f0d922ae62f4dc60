/**
 * The company database of the sandbox: plain in-memory tables named and shaped like SYSPRO's
 * SQL tables (reference §3). Rows are flat objects of primitives (strings, numbers, null for an
 * empty date) so 100,000 orders stay small. Column lists are the single source for OData
 * `$metadata`, COMFND/COMFCH output and the XML writers.
 */

export type Value = string | number | null;
export type Row = Record<string, Value | undefined>;
export type ColumnType = 'string' | 'decimal' | 'int' | 'date';

export interface Column {
  name: string;
  type: ColumnType;
}

export interface TableDefinition {
  name: string;
  key: string[];
  columns: Column[];
  /** A column whose value groups rows for fast lookup (SorDetail by SalesOrder). */
  groupBy?: string;
}

/** Builds a column list from a row of defaults: strings, ints and decimals by value; dates named. */
function columnsOf(defaults: Row, dates: string[], decimals: string[] = []): Column[] {
  return Object.keys(defaults).map((name) => {
    if (dates.includes(name)) return { name, type: 'date' as const };
    const value = defaults[name];
    if (typeof value === 'number') {
      return { name, type: decimals.includes(name) ? ('decimal' as const) : ('int' as const) };
    }
    return { name, type: 'string' as const };
  });
}

const addressColumns = (prefix: string, count: number): Row =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i + 1}`, '']));

export const SOR_MASTER_DEFAULTS: Row = {
  SalesOrder: '',
  NextDetailLine: 1,
  OrderStatus: '1',
  ActiveFlag: 'Y',
  CancelledFlag: ' ',
  DocumentType: 'O',
  Customer: '',
  Salesperson: '',
  CustomerPoNumber: '',
  OrderDate: null,
  EntrySystemDate: null,
  ReqShipDate: null,
  DateLastDocPrt: null,
  ShippingInstrs: '',
  ShippingInstrsCod: '',
  AltShipAddrFlag: 'N',
  Branch: '',
  SpecialInstrs: '',
  OrderType: '',
  Area: '',
  Warehouse: '',
  LastInvoice: '',
  Currency: '$',
  ExchangeRate: 1,
  LastOperator: '',
  Operator: '',
  DeliveryNote: '',
  LastDelNote: null,
  DateLastInvPrt: null,
  DispatchesMade: 'N',
  LiveDispExist: 'N',
  NumDispatches: 0,
  CustomerName: '',
  ...addressColumns('ShipAddress', 5),
  ShipAddress3Loc: '',
  ShipPostalCode: '',
  State: '',
  CountyZip: '',
  MultiShipCode: '',
  Email: '',
  WebCreated: 'N',
  User1: '',
  SalesOrderSource: '',
  LanguageCode: '',
  DispatchWholeSo: 'N',
  TimeStamp: 0,
};

export const SOR_DETAIL_DEFAULTS: Row = {
  SalesOrder: '',
  SalesOrderLine: 0,
  LineType: '1',
  MStockCode: '',
  MStockDes: '',
  MWarehouse: '',
  MBin: '',
  MOrderQty: 0,
  MShipQty: 0,
  MBackOrderQty: 0,
  MUnitCost: 0,
  MOrderUom: '',
  MStockQtyToShp: 0,
  MStockingUom: '',
  MPrice: 0,
  MPriceUom: '',
  MDiscPct1: 0,
  MDiscPct2: 0,
  MDiscPct3: 0,
  MProductClass: '',
  MTaxCode: '',
  MLineShipDate: null,
  MStockUnitMass: 0,
  MStockUnitVol: 0,
  MQtyDispatched: 0,
  MLastDelNote: '',
  MCustRequestDat: null,
  QtyReserved: 0,
  NComment: '',
  NCommentFromLin: 0,
  NMscChargeValue: 0,
  NMscChargeCost: 0,
  NMscProductCls: '',
  NMscChargeQty: 0,
  SalesOrderInitLine: 0,
  QtyReservedShip: 0,
  TimeStamp: 0,
};

export const AR_CUSTOMER_DEFAULTS: Row = {
  Customer: '',
  Name: '',
  ShortName: '',
  CreditStatus: '0',
  CreditLimit: 0,
  Branch: '',
  Area: '',
  TermsCode: '',
  Currency: '$',
  Telephone: '',
  Contact: '',
  Email: '',
  CustomerOnHold: 'N',
  ShippingInstrs: '',
  ShippingInstrsCod: '',
  ...addressColumns('SoldToAddr', 5),
  SoldToAddr3Loc: '',
  SoldPostalCode: '',
  ...addressColumns('ShipToAddr', 5),
  ShipToAddr3Loc: '',
  ShipPostalCode: '',
  State: '',
  CountyZip: '',
  City: '',
  DateCustAdded: null,
  SalesWarehouse: '',
  TimeStamp: 0,
};

export const INV_MASTER_DEFAULTS: Row = {
  StockCode: '',
  Description: '',
  LongDesc: '',
  StockUom: 'EA',
  Mass: 0,
  Volume: 0,
  Decimals: 0,
  ProductClass: '',
  WarehouseToUse: '',
  DateStkAdded: null,
  TimeStamp: 0,
};

export const INV_WH_CONTROL_DEFAULTS: Row = { Warehouse: '', Description: '', Branch: '', TimeStamp: 0 };

export const INV_WAREHOUSE_DEFAULTS: Row = {
  StockCode: '',
  Warehouse: '',
  QtyOnHand: 0,
  QtyAllocated: 0,
  QtyOnOrder: 0,
  QtyOnBackOrder: 0,
  DefaultBin: '',
  TimeStamp: 0,
};

export const MDN_MASTER_DEFAULTS: Row = {
  DispatchNote: '',
  SalesOrder: '',
  Customer: '',
  CustomerPoNumber: '',
  ShippingInstrs: '',
  ShippingInstrsCod: '',
  DispatchComments1: '',
  DispatchComments2: '',
  DispatchComments3: '',
  DispatchComments4: '',
  UserField1: '',
  UserField2: '',
  PlannedDeliverDate: null,
  ActualDeliveryDate: null,
  DispatchNoteStatus: '7',
  PrevStatus: ' ',
  Invoice: '',
  InvoiceCreatedDate: null,
  EntryDate: null,
  Operator: '',
  TimeStamp: 0,
};

export const MDN_DETAIL_DEFAULTS: Row = {
  DispatchNote: '',
  DispatchNoteLine: 0,
  SalesOrder: '',
  SalesOrderLine: 0,
  LineType: '1',
  MStockCode: '',
  MStockDes: '',
  MWarehouse: '',
  MDispatchQty: 0,
  MOrderUom: '',
  TimeStamp: 0,
};

export const GEN_MASTER_DEFAULTS: Row = { GlCode: '', Description: '', AccountType: 'E', TimeStamp: 0 };

export const GEN_JNL_CTL_DEFAULTS: Row = {
  JnlYear: 0,
  JnlPeriod: 0,
  Journal: 0,
  JournalDate: null,
  Reference: '',
  Notation: '',
  Source: '',
  JnlStatus: 'P',
  Operator: '',
  TimeStamp: 0,
};

export const GEN_JNL_DETAIL_DEFAULTS: Row = {
  JnlYear: 0,
  JnlPeriod: 0,
  Journal: 0,
  EntryNumber: 0,
  GlCode: '',
  Reference: '',
  EntryValue: 0,
  // The journal line's second text, GENTJL `AdditionalReference` (column name UNCONFIRMED).
  AdditionalReference: '',
  TimeStamp: 0,
};

export const ADM_FORM_CONTROL_DEFAULTS: Row = {
  FormType: '',
  FieldName: '',
  Description: '',
  FieldType: 'A',
};

export const ADM_FORM_DATA_DEFAULTS: Row = {
  FormType: '',
  KeyField: '',
  FieldName: '',
  AlphaValue: '',
  NumericValue: 0,
  DateValue: null,
  TimeStamp: 0,
};

const QTY = ['MOrderQty', 'MShipQty', 'MBackOrderQty', 'MUnitCost', 'MStockQtyToShp', 'MPrice'];

export const TABLE_DEFINITIONS: TableDefinition[] = [
  {
    name: 'SorMaster',
    key: ['SalesOrder'],
    columns: columnsOf(
      SOR_MASTER_DEFAULTS,
      ['OrderDate', 'EntrySystemDate', 'ReqShipDate', 'DateLastDocPrt', 'LastDelNote', 'DateLastInvPrt'],
      ['ExchangeRate'],
    ),
  },
  {
    name: 'SorDetail',
    key: ['SalesOrder', 'SalesOrderLine'],
    groupBy: 'SalesOrder',
    columns: columnsOf(
      SOR_DETAIL_DEFAULTS,
      ['MLineShipDate', 'MCustRequestDat'],
      [
        ...QTY,
        'MDiscPct1',
        'MDiscPct2',
        'MDiscPct3',
        'MStockUnitMass',
        'MStockUnitVol',
        'MQtyDispatched',
        'QtyReserved',
        'NMscChargeValue',
        'NMscChargeCost',
        'NMscChargeQty',
        'QtyReservedShip',
      ],
    ),
  },
  {
    name: 'ArCustomer',
    key: ['Customer'],
    columns: columnsOf(AR_CUSTOMER_DEFAULTS, ['DateCustAdded'], ['CreditLimit']),
  },
  {
    name: 'InvMaster',
    key: ['StockCode'],
    columns: columnsOf(INV_MASTER_DEFAULTS, ['DateStkAdded'], ['Mass', 'Volume']),
  },
  { name: 'InvWhControl', key: ['Warehouse'], columns: columnsOf(INV_WH_CONTROL_DEFAULTS, []) },
  {
    name: 'InvWarehouse',
    key: ['StockCode', 'Warehouse'],
    columns: columnsOf(
      INV_WAREHOUSE_DEFAULTS,
      [],
      ['QtyOnHand', 'QtyAllocated', 'QtyOnOrder', 'QtyOnBackOrder'],
    ),
  },
  {
    name: 'MdnMaster',
    key: ['DispatchNote'],
    columns: columnsOf(MDN_MASTER_DEFAULTS, [
      'PlannedDeliverDate',
      'ActualDeliveryDate',
      'InvoiceCreatedDate',
      'EntryDate',
    ]),
  },
  {
    name: 'MdnDetail',
    key: ['DispatchNote', 'DispatchNoteLine'],
    groupBy: 'DispatchNote',
    columns: columnsOf(MDN_DETAIL_DEFAULTS, [], ['MDispatchQty']),
  },
  { name: 'GenMaster', key: ['GlCode'], columns: columnsOf(GEN_MASTER_DEFAULTS, []) },
  {
    name: 'GenJnlCtl',
    key: ['JnlYear', 'JnlPeriod', 'Journal'],
    columns: columnsOf(GEN_JNL_CTL_DEFAULTS, ['JournalDate']),
  },
  {
    name: 'GenJnlDetail',
    key: ['JnlYear', 'JnlPeriod', 'Journal', 'EntryNumber'],
    columns: columnsOf(GEN_JNL_DETAIL_DEFAULTS, [], ['EntryValue']),
  },
  {
    name: 'AdmFormControl',
    key: ['FormType', 'FieldName'],
    columns: columnsOf(ADM_FORM_CONTROL_DEFAULTS, []),
  },
  {
    name: 'AdmFormData',
    key: ['FormType', 'KeyField', 'FieldName'],
    columns: columnsOf(ADM_FORM_DATA_DEFAULTS, ['DateValue'], ['NumericValue']),
  },
];

function compareValues(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** SQL Server's default collation for the OData filter: case and trailing spaces ignored. */
function collate(value: string): string {
  return value.trimEnd().toLowerCase();
}

/** One table: rows kept in primary-key order (the stable default order for OData paging). */
export class Table {
  readonly rows: Row[] = [];
  private readonly byKey = new Map<string, Row>();
  private readonly groups = new Map<string, Row[]>();
  /** Rows by the collated value (case and trailing spaces ignored) of the one-column key and the group column. */
  private readonly collated = new Map<string, Map<string, Row[]>>();
  readonly columnNames: Set<string>;

  constructor(readonly definition: TableDefinition) {
    this.columnNames = new Set(definition.columns.map((c) => c.name));
    const indexed = [definition.key.length === 1 ? definition.key[0] : undefined, definition.groupBy];
    for (const name of indexed) {
      const column = name ? definition.columns.find((c) => c.name === name) : undefined;
      if (column?.type === 'string') this.collated.set(column.name, new Map());
    }
  }

  /**
   * The rows whose `column` equals one of `values` under the OData collation, in key order, or
   * undefined when the column has no index (the caller scans). Only the one-column primary key
   * and the group column (SorDetail.SalesOrder) are indexed.
   */
  lookup(column: string, values: readonly string[]): Row[] | undefined {
    const index = this.collated.get(column);
    if (!index) return undefined;
    const found = new Set<Row>();
    for (const value of values) for (const row of index.get(collate(value)) ?? []) found.add(row);
    return [...found].sort((a, b) => this.compareKeys(a, b));
  }

  /** Per indexed column, its collated values in order (built on first use, dropped when one is added or goes). */
  private readonly sortedValues = new Map<string, string[]>();

  /**
   * The rows whose collated `column` lies in [from, to] (collated bounds; an open end is unbounded),
   * in key order, or undefined when the column has no index.
   */
  lookupRange(column: string, from: string | undefined, to: string | undefined): Row[] | undefined {
    const index = this.collated.get(column);
    if (!index) return undefined;
    let values = this.sortedValues.get(column);
    if (!values) {
      values = [...index.keys()].sort((a, b) => (a === b ? 0 : a < b ? -1 : 1));
      this.sortedValues.set(column, values);
    }
    let lo = 0;
    let hi = values.length;
    if (from !== undefined) {
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((values[mid] as string) < from) lo = mid + 1;
        else hi = mid;
      }
    }
    const found: Row[] = [];
    for (let i = lo; i < values.length; i++) {
      const value = values[i] as string;
      if (to !== undefined && value > to) break;
      found.push(...(index.get(value) ?? []));
    }
    return found.sort((a, b) => this.compareKeys(a, b));
  }

  get name(): string {
    return this.definition.name;
  }

  keyOf(row: Row): string {
    const key = this.definition.key;
    if (key.length === 1) return String(row[key[0] as string]);
    return key.map((k) => String(row[k])).join('\u0000');
  }

  compareKeys(a: Row, b: Row): number {
    for (const k of this.definition.key) {
      const c = compareValues(a[k] ?? null, b[k] ?? null);
      if (c !== 0) return c;
    }
    return 0;
  }

  get(...keyValues: Array<string | number>): Row | undefined {
    return this.byKey.get(keyValues.map(String).join('\u0000'));
  }

  group(value: string): Row[] {
    return this.groups.get(value) ?? [];
  }

  /** Adds a row in key order; appending in order (seeding, new orders) is O(1). */
  insert(row: Row): void {
    const key = this.keyOf(row);
    if (this.byKey.has(key)) throw new Error(`duplicate key ${key.replace(/\u0000/g, '/')} in ${this.name}`);
    this.byKey.set(key, row);
    for (const [name, index] of this.collated) {
      const value = collate(String(row[name] ?? ''));
      const list = index.get(value);
      if (list) list.push(row);
      else {
        index.set(value, [row]);
        this.sortedValues.delete(name);
      }
    }
    const last = this.rows[this.rows.length - 1];
    if (!last || this.compareKeys(last, row) < 0) this.rows.push(row);
    else this.rows.splice(this.insertionIndex(row, this.rows), 0, row);
    const groupColumn = this.definition.groupBy;
    if (groupColumn) {
      const groupKey = String(row[groupColumn]);
      let group = this.groups.get(groupKey);
      if (!group) {
        group = [];
        this.groups.set(groupKey, group);
      }
      const tail = group[group.length - 1];
      if (!tail || this.compareKeys(tail, row) < 0) group.push(row);
      else group.splice(this.insertionIndex(row, group), 0, row);
    }
  }

  delete(row: Row): void {
    const key = this.keyOf(row);
    if (!this.byKey.delete(key)) return;
    for (const [name, collatedIndex] of this.collated) {
      const list = collatedIndex.get(collate(String(row[name] ?? '')));
      const at = list?.indexOf(row) ?? -1;
      if (list && at >= 0) list.splice(at, 1);
    }
    const index = this.rows.indexOf(row);
    if (index >= 0) this.rows.splice(index, 1);
    const groupColumn = this.definition.groupBy;
    if (groupColumn) {
      const group = this.groups.get(String(row[groupColumn]));
      const at = group?.indexOf(row) ?? -1;
      if (group && at >= 0) group.splice(at, 1);
    }
  }

  private insertionIndex(row: Row, list: Row[]): number {
    let low = 0;
    let high = list.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.compareKeys(list[mid] as Row, row) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

export interface CompanyCounters {
  nextSalesOrder: number;
  nextDispatchNote: number;
  nextJournal: number;
  rowVersion: number;
}

/** The in-memory company database. Tests may read and change it directly. */
export class CompanyDatabase {
  readonly tables = new Map<string, Table>();
  readonly counters: CompanyCounters = {
    nextSalesOrder: 1,
    nextDispatchNote: 1,
    nextJournal: 1,
    rowVersion: 1,
  };
  /**
   * GL periods closed for posting, as `YYYY-PP` (GENTJL refuses them). SYSPRO keeps its period
   * control elsewhere (table and columns UNCONFIRMED); the sandbox keeps only this set.
   */
  readonly closedGlPeriods = new Set<string>();

  constructor() {
    for (const definition of TABLE_DEFINITIONS)
      this.tables.set(definition.name.toLowerCase(), new Table(definition));
  }

  /** A table by name, case-insensitively (SQL Server collation); undefined when unknown. */
  find(name: string): Table | undefined {
    return this.tables.get(name.toLowerCase());
  }

  table(name: string): Table {
    const table = this.find(name);
    if (!table) throw new Error(`no table ${name}`);
    return table;
  }

  get sorMaster(): Table {
    return this.table('SorMaster');
  }
  get sorDetail(): Table {
    return this.table('SorDetail');
  }
  get arCustomer(): Table {
    return this.table('ArCustomer');
  }
  get invMaster(): Table {
    return this.table('InvMaster');
  }
  get invWarehouse(): Table {
    return this.table('InvWarehouse');
  }
  get invWhControl(): Table {
    return this.table('InvWhControl');
  }
  get mdnMaster(): Table {
    return this.table('MdnMaster');
  }
  get mdnDetail(): Table {
    return this.table('MdnDetail');
  }
  get genMaster(): Table {
    return this.table('GenMaster');
  }
  get genJnlCtl(): Table {
    return this.table('GenJnlCtl');
  }
  get genJnlDetail(): Table {
    return this.table('GenJnlDetail');
  }
  get admFormControl(): Table {
    return this.table('AdmFormControl');
  }
  get admFormData(): Table {
    return this.table('AdmFormData');
  }

  /** Lines of a sales order in line order. */
  linesOf(salesOrder: string): Row[] {
    return this.sorDetail.group(salesOrder);
  }

  /** Bumps a row's TimeStamp, as SQL Server's rowversion does on every update. */
  touch(row: Row): void {
    row.TimeStamp = this.counters.rowVersion++;
  }
}

/** Sales order numbers are zero-padded to six digits (`015562`, reference §2.2). */
export function formatSalesOrder(n: number): string {
  return String(n).padStart(6, '0');
}

/** Customer and dispatch-note keys are zero-padded to 15 characters (reference §2.2, S10). */
export function formatPaddedKey(n: number): string {
  return String(n).padStart(15, '0');
}
