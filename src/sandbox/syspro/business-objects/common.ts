/** What every sandbox business object shares: its context, result, errors and output helpers. */
import type { CompanyDatabase, Row, Table } from '../tables.js';
import type { XNode } from '../xml.js';
import { buildXmlOut, type Element, el, errorElement, group, padCount, padNumber } from '../xml.js';

export interface SandboxQuirks {
  /** SORQRY `MOrderQty` as `1,234.000 EA` (S1 parser splits on a space and strips commas). */
  sorqryQtyWithUom: boolean;
  /**
   * Rows COMBRW returns for `ReturnRows` 30 (40 on the wire, reference §2.1). Other `ReturnRows`
   * values are honoured: the reference shows only 30.
   */
  browseMinRows: number;
  /** SORTDN moves a fully dispatched order to status 9 (UNCONFIRMED). */
  completeOrderWhenFullyDispatched: boolean;
  /**
   * Element-name casing of the `Post…` XmlOuts (SORTDN `PostDispatchNotes`, SORTOS
   * `PostSorOrderStatus`, GENTJL `PostGlJournal`). Recorded SYSPRO 7 Transaction outputs are
   * lower-case (`<postpurchaseorderreceipts>`, reference §2.0); SYSPRO 8's SORTOI answers in proper
   * case. Which casing these objects use is UNCONFIRMED: `proper` (default) or `lower`, so a client
   * can be run against both.
   */
  postOutputCase: 'proper' | 'lower';
}

export interface BusinessObjectContext {
  db: CompanyDatabase;
  now: () => number;
  operator: string;
  quirks: SandboxQuirks;
  /** Whether a business object is licensed (unlicensed ones answer e.net exception 100000). */
}

export type Outcome = 'ok' | 'invalid' | 'error';

export interface BusinessObjectResult {
  body: string;
  outcome: Outcome;
  validateOnly: boolean;
}

export interface BusinessObjectInput {
  xmlParameters: XNode | undefined;
  xmlIn: XNode;
}

export type BusinessObjectMethod =
  | 'Query/Query'
  | 'Query/Browse'
  | 'Query/Fetch'
  | 'Transaction/Post'
  | 'Setup/Add'
  | 'Setup/Update';

export interface BusinessObject {
  name: string;
  methods: BusinessObjectMethod[];
  handle(
    ctx: BusinessObjectContext,
    input: BusinessObjectInput,
    method: BusinessObjectMethod,
  ): BusinessObjectResult;
}

/** A service-level failure: the whole answer is the text `ERROR: <message>`. */
export class EnetError extends Error {}

/** Error numbers seen on the wire (reference §1.3), plus invented ones marked so. */
export const ERRORS = {
  badDate: 100028,
  blank: 100030,
  stockNotFound: 240004,
  /** Invented (UNCONFIRMED) numbers for errors no source shows. */
  notNumeric: 100029,
  notFound: 100031,
  invalidValue: 100032,
  notAllowed: 100033,
} as const;

export interface ElementError {
  element: string;
  value: string;
  number: number;
  description: string;
}

export function toErrorElements(errors: ElementError[]): Element[] {
  return errors.map((e) => errorElement(e.element, e.value, e.number, e.description));
}

/** `<StatusOfItems>` for transaction business objects. */
export function transactionStatus(processed: number, invalid: number): Element {
  return {
    name: 'StatusOfItems',
    children: [el('ItemsProcessed', padCount(processed)), el('ItemsInvalid', padCount(invalid))],
  };
}

/**
 * The answer of a `Transaction/Post`, once every item is planned (checked, nothing changed yet):
 * the valid items are applied unless `ValidateOnly`, or `ApplyIfEntireDocumentValid` with an
 * invalid item; then one `<Item>` per plan (`item` builds its elements from what `apply` returned,
 * undefined when not applied, and whether the document was applied) and `<StatusOfItems>`.
 */
export function answerPost<P extends { errors: ElementError[] }, R>(
  plans: P[],
  options: {
    root: string;
    version: string;
    validateOnly: boolean;
    entireDocument: boolean;
    /** Element names in lower case (`quirks.postOutputCase`). */
    lowerCase?: boolean;
  },
  apply: (plan: P) => R,
  item: (plan: P, index: number, result: R | undefined, documentApplied: boolean) => Element[],
): BusinessObjectResult {
  const invalid = plans.filter((plan) => plan.errors.length).length;
  const applied = !options.validateOnly && !(options.entireDocument && invalid > 0);
  const out: Element[] = plans.map((plan, index) => {
    const result = applied && !plan.errors.length ? apply(plan) : undefined;
    return group('Item', [...item(plan, index, result, applied), ...toErrorElements(plan.errors)]);
  });
  out.push(transactionStatus(plans.length - invalid, invalid));
  return {
    body: buildXmlOut({ name: options.root, version: options.version, lowerCase: options.lowerCase }, out),
    outcome: invalid ? 'invalid' : 'ok',
    validateOnly: options.validateOnly,
  };
}

/**
 * `<StatusOfItems>` for setup business objects: counts unpadded, as in the wire sample of a Setup
 * object (reference §1.3: `<RecordsRead>1</RecordsRead><RecordsInvalid>1</RecordsInvalid>`).
 */
export function setupStatus(read: number, invalid: number): Element {
  return {
    name: 'StatusOfItems',
    children: [el('RecordsRead', String(read)), el('RecordsInvalid', String(invalid))],
  };
}

/** Company "today" as CCYY-MM-DD (UTC; SYSPRO's own zone is the site's concern). */
export function todayOf(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** A row's columns as XmlOut elements: numbers right-aligned, dates CCYY-MM-DD. */
export function rowElements(table: Table, row: Row, columns?: string[], emptyDate = ''): Element[] {
  const wanted = columns ?? table.definition.columns.map((c) => c.name);
  const out: Element[] = [];
  for (const name of wanted) {
    const column = table.definition.columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!column || column.name === 'TimeStamp') continue;
    const value = row[column.name] ?? null;
    if (column.type === 'decimal') out.push(el(column.name, padNumber(Number(value), 6)));
    else if (column.type === 'date') out.push(el(column.name, value ?? emptyDate));
    else out.push(el(column.name, value));
  }
  return out;
}

export const ORDER_STATUS_DESCRIPTIONS: Record<string, string> = {
  '0': 'In process',
  '1': 'Open order',
  '2': 'Open back order',
  '3': 'Released back order',
  '4': 'In warehouse',
  '8': 'To invoice',
  '9': 'Complete',
  S: 'Suspense',
  F: 'Forward order',
  '*': 'Cancelled during entry',
  '\\': 'Cancelled',
};

/** Stock free to allocate in a warehouse. */
export function availableQty(row: Row): number {
  return (row.QtyOnHand as number) - (row.QtyAllocated as number);
}

/**
 * A sales order by key. Numeric keys match with or without zero padding ('15562', '015562' and
 * '000000000015562' all find order 015562), as SYSPRO shows keys padded to 15 in places (§2.2).
 */
export function findSalesOrder(db: CompanyDatabase, key: string): Row | undefined {
  const exact = db.sorMaster.get(key);
  if (exact || !/^\d+$/.test(key)) return exact;
  return db.sorMaster.get(key.replace(/^0+(?=\d)/, '').padStart(6, '0'));
}
