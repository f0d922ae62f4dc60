/**
 * Deterministic seeding of one company: the same seed and order count give the same database.
 * The data carries the mess a real company has: addresses spread over five lines (or squeezed into
 * two), zero-padded keys, `&`, `<`, quotes and accented names, blank and doubled e-mails, customers
 * on hold, orders in every status code of the reference (§3: 0 1 2 3 4 8 9 S F * \), and lines of
 * every type (1 stocked, 4 freight, 5 misc charge, 6 comment, 7 non-stocked).
 */
import { SeededRandom } from '../random.js';
import {
  ADM_FORM_CONTROL_DEFAULTS,
  AR_CUSTOMER_DEFAULTS,
  CompanyDatabase,
  formatPaddedKey,
  formatSalesOrder,
  GEN_JNL_CTL_DEFAULTS,
  GEN_JNL_DETAIL_DEFAULTS,
  GEN_MASTER_DEFAULTS,
  INV_MASTER_DEFAULTS,
  INV_WAREHOUSE_DEFAULTS,
  INV_WH_CONTROL_DEFAULTS,
  MDN_DETAIL_DEFAULTS,
  MDN_MASTER_DEFAULTS,
  type Row,
  SOR_DETAIL_DEFAULTS,
  SOR_MASTER_DEFAULTS,
} from './tables.js';

export interface SeedOptions {
  seed?: number;
  /** Number of sales orders (default 200; up to 100,000 and more). */
  orders?: number;
  /** "Today" for the company, epoch ms (default: now). Order dates fall in the year before it. */
  now?: number;
}

/** Every SorMaster status code in the reference (§3); the first orders cycle through all of them. */
export const ORDER_STATUSES = ['0', '1', '2', '3', '4', '8', '9', 'S', 'F', '*', '\\'] as const;

export const WAREHOUSES: Array<[code: string, description: string]> = [
  ['FG', 'Finished Goods - Main'],
  ['E', 'East Depot'],
  ['N', 'North Distribution & Returns'],
  ['SH', 'Showroom'],
];

export const GL_ACCOUNTS: Array<[code: string, description: string, type: string]> = [
  ['1100-000', 'Debtors control', 'A'],
  ['1200-000', 'Inventory', 'A'],
  ['1300-000', 'Bank - operating', 'A'],
  ['2100-000', 'Creditors control', 'L'],
  ['2150-000', 'Accrued freight', 'L'],
  ['2200-000', 'Sales tax payable', 'L'],
  ['3000-000', 'Share capital', 'C'],
  ['4000-000', 'Sales - merchandise', 'R'],
  ['4100-000', 'Sales - freight recovered', 'R'],
  ['4200-000', 'Sales - misc charges', 'R'],
  ['5000-000', 'Cost of sales', 'E'],
  ['5100-000', 'Freight out - carriers', 'E'],
  ['5110-000', 'Freight insurance', 'E'],
  ['5200-000', 'Packaging', 'E'],
  ['6000-000', 'Salaries & wages', 'E'],
  ['9000-000', 'Units shipped (statistical)', 'S'],
];

/** Custom form fields (AdmFormControl). FormType codes are UNCONFIRMED (reference §2.4). */
export const CUSTOM_FORM_FIELDS: Array<[formType: string, field: string, description: string, type: string]> =
  [
    ['ORD', 'TRACKNO', 'Tracking number', 'A'],
    ['ORD', 'CARRIER', 'Carrier', 'A'],
    ['ORD', 'SHIPDATE', 'Date shipped', 'D'],
    ['ORD', 'SHIPCOST', 'Freight cost', 'N'],
    ['DNO', 'TRACKNO', 'Tracking number', 'A'],
    ['CUS', 'SSREF', 'ShipStation reference', 'A'],
  ];

const COMPANY_WORDS = [
  'Acme',
  'Smith & Sons',
  'Müller',
  'Café René',
  "O'Brien",
  'Nørgaard',
  'Ångström',
  'José Peña',
  'Blue Ridge',
  'Pacific Rim',
  'Großmann',
  'Lakeside',
  'Northwind',
  'Summit',
  'Harbor & Bay',
  'Éclair',
  'Tri-State',
  '"Best" Supplies',
  'Key <West>',
  'Bell',
];
const COMPANY_SUFFIXES = [
  'Ltd',
  'Inc.',
  'GmbH',
  'LLC',
  'S.A.',
  'A/S',
  'Pty Ltd',
  '& Co.',
  'Trading',
  'Hardware',
  'Wholesale',
  'Outdoor',
];
const STREETS = [
  'Main St',
  'Oak Avenue',
  'Rue de la Paix',
  'Königsallee',
  'High Street',
  'Elm Rd',
  'Harbour Way',
];
const CITIES: Array<[city: string, state: string, zip: string, country: string]> = [
  ['Boston', 'MA', '02134', 'USA'],
  ['Beverly Hills', 'CA', '90210', 'USA'],
  ['Austin', 'TX', '73301', 'USA'],
  ['London', '', 'SW1A 1AA', 'United Kingdom'],
  ['Düsseldorf', '', '40212', 'Germany'],
  ['Montréal', 'QC', 'H2X 1Y4', 'Canada'],
  ['Johannesburg', 'Gauteng', '2001', 'South Africa'],
  ['Sydney', 'NSW', '2000', 'Australia'],
  ['Portland', 'OR', '97201', 'USA'],
  ['New York', 'NY', '10001-2345', 'USA'],
];
const CONTACTS = ['Jane Doe', 'Renée Dupont', "Seán O'Neill", 'Zoë Chen', 'Bob', '', 'Accounts Payable'];
const PRODUCTS: Array<[klass: string, prefix: string, words: string[], uom: string]> = [
  ['CAB', 'CAB', ['HDMI cable 2m', 'USB-C cable 1m', 'Cat6 patch 5m', 'Power lead <IEC> 1.8m'], 'EA'],
  ['FUR', 'F', ['Desk, oak & steel', 'Chair "Ergo" mesh', 'Filing cabinet 3-drawer', 'Bookcase'], 'EA'],
  ['ELE', 'E', ['LED lamp 9W', 'Power strip 6-way', 'Surge protector', 'Extension reel 25m'], 'EA'],
  ['PAP', 'P', ['Copy paper A4 80gsm', 'Envelopes C5 (box)', 'Labels 4x6 thermal', 'Sticky notes'], 'BOX'],
  ['TOL', 'T', ['Hammer 16oz', 'Screwdriver set 12pc', 'Tape measure 5m', 'Cordless drill 18V'], 'EA'],
];
const SHIPPING = [
  ['UPS Ground', 'UPS'],
  ['FedEx 2Day', 'FDX'],
  ['USPS Priority', 'USP'],
  ['Customer collect', 'COL'],
  ['Best way', ''],
  ['', ''],
];
const OPERATORS = ['ADMIN', 'JANE', 'MIKE', 'WEB'];
const DAY = 86_400_000;

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function money(value: number): number {
  return Math.round(value * 100) / 100;
}

interface SeededCustomer {
  row: Row;
  onHold: boolean;
}

interface SeededItem {
  row: Row;
  price: number;
  cost: number;
  warehouses: string[];
}

/** Seeds a company database. Deterministic for a given seed, order count and `now`. */
export function seedCompany(options: SeedOptions = {}): CompanyDatabase {
  const random = new SeededRandom(options.seed ?? 1);
  const orderCount = options.orders ?? 200;
  const now = options.now ?? Date.now();
  const today = Date.parse(`${isoDate(now)}T00:00:00Z`);
  const db = new CompanyDatabase();

  for (const [code, description] of WAREHOUSES) {
    db.invWhControl.insert({
      ...INV_WH_CONTROL_DEFAULTS,
      Warehouse: code,
      Description: description,
      Branch: 'HQ',
    });
  }
  for (const [code, description, type] of GL_ACCOUNTS) {
    db.genMaster.insert({
      ...GEN_MASTER_DEFAULTS,
      GlCode: code,
      Description: description,
      AccountType: type,
    });
  }
  for (const [formType, field, description, type] of CUSTOM_FORM_FIELDS) {
    db.admFormControl.insert({
      ...ADM_FORM_CONTROL_DEFAULTS,
      FormType: formType,
      FieldName: field,
      Description: description,
      FieldType: type,
    });
  }

  // Stock items, each stocked in one to three warehouses.
  const items: SeededItem[] = [];
  const itemCount = Math.min(600, Math.max(40, Math.round(orderCount / 50)));
  for (let i = 0; i < itemCount; i++) {
    const [klass, prefix, words, uom] = PRODUCTS[i % PRODUCTS.length]!;
    const stockCode = i % 7 === 3 ? String(1000 + i) : `${prefix}${String(100 + i).padStart(4, '0')}`;
    const price = money(random.int(150, 90_000) / 100);
    const row: Row = {
      ...INV_MASTER_DEFAULTS,
      StockCode: stockCode,
      Description: `${random.pick(words)}${i % 5 === 0 ? ' - black' : ''}`,
      LongDesc: i % 9 === 0 ? 'Ships in original carton; do not stack > 4 high' : '',
      StockUom: uom,
      Mass: money(random.int(5, 4000) / 100),
      Volume: money(random.int(1, 500) / 1000),
      ProductClass: klass,
      WarehouseToUse: 'FG',
      DateStkAdded: isoDate(today - random.int(400, 3000) * DAY),
      TimeStamp: db.counters.rowVersion++,
    };
    db.invMaster.insert(row);
    const warehouses = ['FG'];
    if (random.chance(0.5)) warehouses.push('E');
    if (random.chance(0.2)) warehouses.push('N');
    for (const wh of warehouses) {
      db.invWarehouse.insert({
        ...INV_WAREHOUSE_DEFAULTS,
        StockCode: stockCode,
        Warehouse: wh,
        QtyOnHand: random.int(0, 400),
        QtyOnOrder: random.chance(0.3) ? random.int(10, 200) : 0,
        DefaultBin: wh,
        TimeStamp: db.counters.rowVersion++,
      });
    }
    items.push({ row, price, cost: money(price * 0.55), warehouses });
  }

  // Customers.
  const customers: SeededCustomer[] = [];
  const customerCount = Math.min(5000, Math.max(30, Math.round(orderCount / 10)));
  for (let i = 1; i <= customerCount; i++) {
    const name = `${random.pick(COMPANY_WORDS)} ${random.pick(COMPANY_SUFFIXES)}`;
    const [city, state, zip, country] = random.pick(CITIES);
    const street = `${random.int(1, 9999)} ${random.pick(STREETS)}`;
    const suite = random.chance(0.3) ? `Suite ${random.int(100, 999)}` : '';
    // Real mess: some companies squeeze "City, ST ZIP" into line 3, others spread it over 3-5.
    const squeezed = random.chance(0.3);
    const addr = squeezed
      ? [street, suite, `${city}${state ? `, ${state}` : ''} ${zip}`, '', '']
      : [street, suite, city, state, country];
    const ship = random.chance(0.8)
      ? addr
      : [`Warehouse dock ${random.int(1, 9)}`, street, city, state, country];
    const emailKind = random.next();
    const local =
      name
        .toLowerCase()
        .replace(/[^a-z]+/g, '.')
        .replace(/^\.|\.$/g, '') || 'orders';
    const email =
      emailKind < 0.12
        ? ''
        : emailKind < 0.18
          ? `${local}@example.com; ap@example.com`
          : emailKind < 0.22
            ? `  ${local.toUpperCase()}@EXAMPLE.COM `
            : `${local}@example.com`;
    const onHold = random.chance(0.03);
    const shipping = random.pick(SHIPPING);
    const row: Row = {
      ...AR_CUSTOMER_DEFAULTS,
      Customer: formatPaddedKey(i),
      Name: name,
      ShortName: name.slice(0, 20).toUpperCase(),
      CreditLimit: random.int(0, 50) * 1000,
      Branch: 'HQ',
      Area: random.pick(['N', 'S', 'E', 'W', 'EXP']),
      TermsCode: random.pick(['30', '60', 'CO', 'EM']),
      Telephone: random.chance(0.9) ? `+1 (555) ${random.int(100, 999)}-${random.int(1000, 9999)}` : '',
      Contact: random.pick(CONTACTS),
      Email: email,
      CustomerOnHold: onHold ? 'Y' : 'N',
      ShippingInstrs: shipping[0]!,
      ShippingInstrsCod: shipping[1]!,
      SoldToAddr1: addr[0]!,
      SoldToAddr2: addr[1]!,
      SoldToAddr3: addr[2]!,
      SoldToAddr4: addr[3]!,
      SoldToAddr5: addr[4]!,
      SoldToAddr3Loc: squeezed ? '' : city,
      SoldPostalCode: zip,
      ShipToAddr1: ship[0]!,
      ShipToAddr2: ship[1]!,
      ShipToAddr3: ship[2]!,
      ShipToAddr4: ship[3]!,
      ShipToAddr5: ship[4]!,
      ShipToAddr3Loc: squeezed ? '' : city,
      ShipPostalCode: zip,
      State: state,
      CountyZip: zip,
      City: city,
      DateCustAdded: isoDate(today - random.int(400, 4000) * DAY),
      SalesWarehouse: 'FG',
      TimeStamp: db.counters.rowVersion++,
    };
    db.arCustomer.insert(row);
    customers.push({ row, onHold });
  }

  // Sales orders: numbered in date order over the year before today.
  const allocated = new Map<string, number>();
  const span = 365 * DAY;
  let dispatchNote = 1;
  for (let i = 1; i <= orderCount; i++) {
    const orderDate = today - span + Math.floor((span * i) / (orderCount + 1));
    const ageDays = Math.floor((today - orderDate) / DAY);
    const status = pickStatus(random, i, ageDays);
    const { row: customer } = random.pick(customers);
    const salesOrder = formatSalesOrder(i);
    const shipToOverride = random.chance(0.05);
    const poKind = random.next();
    const header: Row = {
      ...SOR_MASTER_DEFAULTS,
      SalesOrder: salesOrder,
      OrderStatus: status,
      ActiveFlag: status === '\\' || status === '*' ? 'N' : 'Y',
      CancelledFlag: status === '\\' ? 'Y' : ' ',
      Customer: customer.Customer,
      Salesperson: random.pick(['001', '002', 'HSE']),
      CustomerPoNumber: poKind < 0.05 ? '' : poKind < 0.5 ? `PO-${100_000 + i}` : `WEB#${i}`,
      OrderDate: isoDate(orderDate),
      EntrySystemDate: isoDate(orderDate),
      ReqShipDate: isoDate(orderDate + random.int(0, 14) * DAY),
      ShippingInstrs: customer.ShippingInstrs,
      ShippingInstrsCod: customer.ShippingInstrsCod,
      AltShipAddrFlag: shipToOverride ? 'Y' : 'N',
      Branch: customer.Branch,
      SpecialInstrs: random.chance(0.1) ? 'Call before delivery & leave at rear' : '',
      Area: customer.Area,
      Warehouse: 'FG',
      LastOperator: random.pick(OPERATORS),
      Operator: random.pick(OPERATORS),
      CustomerName: customer.Name,
      ShipAddress1: shipToOverride ? 'c/o Front desk' : customer.ShipToAddr1,
      ShipAddress2: customer.ShipToAddr2,
      ShipAddress3: customer.ShipToAddr3,
      ShipAddress4: customer.ShipToAddr4,
      ShipAddress5: customer.ShipToAddr5,
      ShipAddress3Loc: customer.ShipToAddr3Loc,
      ShipPostalCode: customer.ShipPostalCode,
      State: customer.State,
      CountyZip: customer.CountyZip,
      Email: customer.Email,
      WebCreated: poKind >= 0.5 ? 'Y' : 'N',
      SalesOrderSource: poKind >= 0.5 ? 'W' : '',
      TimeStamp: db.counters.rowVersion++,
    };
    const lines = seedLines(random, header, items, status, allocated, db);
    header.NextDetailLine = lines.length + 1;
    if (status === '4' || status === '8' || status === '9') {
      header.DeliveryNote = salesOrder;
      header.LastDelNote = isoDate(orderDate + DAY);
      header.DateLastDocPrt = isoDate(orderDate + DAY);
    }
    if (status === '9') {
      header.LastInvoice = String(500_000 + i)
        .padStart(15, '0')
        .slice(-6);
      header.DateLastInvPrt = isoDate(orderDate + 2 * DAY);
    }
    db.sorMaster.insert(header);
    for (const line of lines) db.sorDetail.insert(line);

    // Completed orders shipped through the dispatch-note system have a note, invoiced.
    if (status === '9' && i % 3 === 0) {
      const note = formatPaddedKey(dispatchNote++);
      header.DispatchesMade = 'Y';
      header.NumDispatches = 1;
      db.mdnMaster.insert({
        ...MDN_MASTER_DEFAULTS,
        DispatchNote: note,
        SalesOrder: salesOrder,
        Customer: customer.Customer,
        CustomerPoNumber: header.CustomerPoNumber,
        ShippingInstrs: header.ShippingInstrs,
        ShippingInstrsCod: header.ShippingInstrsCod,
        DispatchComments1: header.ShippingInstrs ? `${header.ShippingInstrs} 1Z${999_000 + i}` : '',
        PlannedDeliverDate: isoDate(orderDate + 3 * DAY),
        ActualDeliveryDate: isoDate(orderDate + 3 * DAY),
        DispatchNoteStatus: '9',
        PrevStatus: '7',
        Invoice: header.LastInvoice,
        InvoiceCreatedDate: header.DateLastInvPrt,
        EntryDate: isoDate(orderDate + DAY),
        Operator: 'ADMIN',
        TimeStamp: db.counters.rowVersion++,
      });
      let noteLine = 1;
      for (const line of lines) {
        if (line.LineType !== '1' && line.LineType !== '7') continue;
        line.MLastDelNote = note;
        db.mdnDetail.insert({
          ...MDN_DETAIL_DEFAULTS,
          DispatchNote: note,
          DispatchNoteLine: noteLine++,
          SalesOrder: salesOrder,
          SalesOrderLine: line.SalesOrderLine,
          LineType: line.LineType,
          MStockCode: line.MStockCode,
          MStockDes: line.MStockDes,
          MWarehouse: line.MWarehouse,
          MDispatchQty: line.MOrderQty,
          MOrderUom: line.MOrderUom,
          TimeStamp: db.counters.rowVersion++,
        });
      }
    }
  }
  db.counters.nextSalesOrder = orderCount + 1;
  db.counters.nextDispatchNote = dispatchNote;

  // Stock allocated to open orders; on-hand never below what is allocated.
  for (const row of db.invWarehouse.rows) {
    const qty = allocated.get(`${row.StockCode}\u0000${row.Warehouse}`) ?? 0;
    row.QtyAllocated = qty;
    if ((row.QtyOnHand as number) < qty) row.QtyOnHand = qty + random.int(0, 20);
  }

  seedJournals(db, today);
  seedWebShop(db);
  return db;
}

function pickStatus(random: SeededRandom, index: number, ageDays: number): string {
  if (index <= ORDER_STATUSES.length) return ORDER_STATUSES[index - 1] as string;
  const r = random.next();
  if (ageDays > 45) {
    if (r < 0.82) return '9';
    if (r < 0.92) return '\\';
    if (r < 0.95) return '8';
    if (r < 0.97) return '*';
    return random.pick(['2', '3', 'S', 'F']);
  }
  if (r < 0.35) return '1';
  if (r < 0.45) return '2';
  if (r < 0.5) return '3';
  if (r < 0.62) return '4';
  if (r < 0.7) return '8';
  if (r < 0.82) return '9';
  if (r < 0.86) return 'S';
  if (r < 0.89) return 'F';
  if (r < 0.91) return '0';
  if (r < 0.93) return '*';
  return '\\';
}

function seedLines(
  random: SeededRandom,
  header: Row,
  items: SeededItem[],
  status: string,
  allocated: Map<string, number>,
  db: CompanyDatabase,
): Row[] {
  const lines: Row[] = [];
  const salesOrder = header.SalesOrder as string;
  const shipDate = header.ReqShipDate;
  let lineNo = 1;
  const merchandise = random.int(1, 4);
  const open = status === '1' || status === '2' || status === '3' || status === '4' || status === 'S';
  for (let m = 0; m < merchandise; m++) {
    const nonStocked = random.chance(0.06);
    const item = random.pick(items);
    const qty = random.chance(0.8) ? random.int(1, 10) : random.int(11, 250);
    const warehouse = item.warehouses[0] as string;
    let shipQty = 0;
    let backOrder = 0;
    let dispatched = 0;
    if (status === '9') dispatched = qty;
    else if (status === '2' && m === 0) backOrder = qty;
    else if (status === '3' && m === 0) {
      shipQty = Math.ceil(qty / 2);
      backOrder = qty - shipQty;
    } else if (status !== '\\' && status !== '*') shipQty = qty;
    if (open && !nonStocked && shipQty > 0) {
      const key = `${item.row.StockCode}\u0000${warehouse}`;
      allocated.set(key, (allocated.get(key) ?? 0) + shipQty);
    }
    lines.push({
      ...SOR_DETAIL_DEFAULTS,
      SalesOrder: salesOrder,
      SalesOrderLine: lineNo++,
      LineType: nonStocked ? '7' : '1',
      MStockCode: nonStocked ? `NS-${random.int(100, 999)}` : item.row.StockCode,
      MStockDes: nonStocked ? 'Special order: custom-cut panel 1200×600' : item.row.Description,
      MWarehouse: warehouse,
      MBin: warehouse,
      MOrderQty: qty,
      MShipQty: shipQty,
      MBackOrderQty: backOrder,
      MUnitCost: item.cost,
      MOrderUom: item.row.StockUom,
      MStockQtyToShp: shipQty,
      MStockingUom: item.row.StockUom,
      MPrice: item.price,
      MPriceUom: item.row.StockUom,
      MDiscPct1: random.chance(0.1) ? 5 : 0,
      MProductClass: item.row.ProductClass,
      MTaxCode: 'A',
      MLineShipDate: shipDate,
      MStockUnitMass: item.row.Mass,
      MStockUnitVol: item.row.Volume,
      MQtyDispatched: dispatched,
      MCustRequestDat: shipDate,
      SalesOrderInitLine: lineNo - 1,
      TimeStamp: db.counters.rowVersion++,
    });
  }
  if (random.chance(0.3)) {
    const value = money(random.int(500, 4500) / 100);
    lines.push({
      ...SOR_DETAIL_DEFAULTS,
      SalesOrder: salesOrder,
      SalesOrderLine: lineNo++,
      LineType: '4',
      NMscChargeValue: value,
      NMscChargeCost: money(value * 0.8),
      NMscProductCls: '_FRT',
      NMscChargeQty: 1,
      MStockDes: 'Freight',
      SalesOrderInitLine: lineNo - 1,
      TimeStamp: db.counters.rowVersion++,
    });
  }
  if (random.chance(0.1)) {
    const value = money(random.int(100, 2500) / 100);
    lines.push({
      ...SOR_DETAIL_DEFAULTS,
      SalesOrder: salesOrder,
      SalesOrderLine: lineNo++,
      LineType: '5',
      NMscChargeValue: value,
      NMscChargeCost: 0,
      NMscProductCls: 'HAND',
      NMscChargeQty: 1,
      MStockDes: 'Handling & packing',
      SalesOrderInitLine: lineNo - 1,
      TimeStamp: db.counters.rowVersion++,
    });
  }
  if (random.chance(0.2)) {
    lines.push({
      ...SOR_DETAIL_DEFAULTS,
      SalesOrder: salesOrder,
      SalesOrderLine: lineNo++,
      LineType: '6',
      NComment: random.pick([
        'Deliver to loading bay <B>',
        'Gift – please remove invoice',
        'Leave with reception & sign',
        'Fragile!',
      ]),
      NCommentFromLin: 1,
      SalesOrderInitLine: lineNo - 1,
      TimeStamp: db.counters.rowVersion++,
    });
  }
  return lines;
}

function seedJournals(db: CompanyDatabase, today: number): void {
  const date = new Date(today);
  for (let j = 1; j <= 5; j++) {
    const journalDate = isoDate(today - (6 - j) * 7 * DAY);
    const year = date.getUTCFullYear();
    const period = date.getUTCMonth() + 1;
    db.genJnlCtl.insert({
      ...GEN_JNL_CTL_DEFAULTS,
      JnlYear: year,
      JnlPeriod: period,
      Journal: j,
      JournalDate: journalDate,
      Reference: `FRT-WK${j}`,
      Notation: 'Weekly freight accrual',
      Source: 'GJ',
      Operator: 'ADMIN',
      TimeStamp: db.counters.rowVersion++,
    });
    const amount = 100 + j * 17.25;
    db.genJnlDetail.insert({
      ...GEN_JNL_DETAIL_DEFAULTS,
      JnlYear: year,
      JnlPeriod: period,
      Journal: j,
      EntryNumber: 1,
      GlCode: '5100-000',
      Reference: `FRT-WK${j}`,
      EntryValue: amount,
      TimeStamp: db.counters.rowVersion++,
    });
    db.genJnlDetail.insert({
      ...GEN_JNL_DETAIL_DEFAULTS,
      JnlYear: year,
      JnlPeriod: period,
      Journal: j,
      EntryNumber: 2,
      GlCode: '2150-000',
      Reference: `FRT-WK${j}`,
      EntryValue: -amount,
      TimeStamp: db.counters.rowVersion++,
    });
  }
  db.counters.nextJournal = 6;
}

/**
 * The web shop's side of the company (not random, so the rest of the seed is unchanged): the
 * stock codes the ShipStation sandbox's marketplace orders carry, in FG, a cash customer for
 * marketplace orders without an account, and one account customer whose e-mail a marketplace
 * buyer uses (the e-mail match).
 */
export const WEB_SHOP_STOCK: Array<[code: string, description: string, price: number, onHand: number]> = [
  ['WID-100', 'Widget, small', 4.5, 500],
  ['WID-200', 'Widget, large', 9.75, 300],
  ['GAD-310', 'Gadget with cable', 24, 120],
  ['BOLT-M8', 'Bolt M8 x 40 (box of 50)', 12.3, 80],
  ['TAPE-48', 'Packing tape 48 mm', 3.2, 1000],
  ['GLV-L', 'Work gloves, large', 7.99, 60],
];
export const CASH_CUSTOMER = 'CASH';
export const WEB_ACCOUNT_CUSTOMER = 'WEB-GRACE';

function seedWebShop(db: CompanyDatabase): void {
  for (const [code, description, , onHand] of WEB_SHOP_STOCK) {
    db.invMaster.insert({
      ...INV_MASTER_DEFAULTS,
      StockCode: code,
      Description: description,
      StockUom: 'EA',
      Mass: 0.5,
      Volume: 0.01,
      ProductClass: 'WEB',
      WarehouseToUse: 'FG',
      TimeStamp: db.counters.rowVersion++,
    });
    db.invWarehouse.insert({
      ...INV_WAREHOUSE_DEFAULTS,
      StockCode: code,
      Warehouse: 'FG',
      QtyOnHand: onHand,
      DefaultBin: 'FG',
      TimeStamp: db.counters.rowVersion++,
    });
  }
  const customer = (code: string, name: string, email: string): Row => ({
    ...AR_CUSTOMER_DEFAULTS,
    Customer: code,
    Name: name,
    ShortName: name.slice(0, 20).toUpperCase(),
    Branch: 'HQ',
    Area: 'W',
    TermsCode: 'CO',
    Email: email,
    CustomerOnHold: 'N',
    ShippingInstrs: 'Best way',
    SalesWarehouse: 'FG',
    TimeStamp: db.counters.rowVersion++,
  });
  db.arCustomer.insert(customer(CASH_CUSTOMER, 'Web & marketplace sales (cash)', ''));
  db.arCustomer.insert(
    customer(WEB_ACCOUNT_CUSTOMER, 'Grace Hopper (web account)', 'grace.hopper@example.com'),
  );
}
