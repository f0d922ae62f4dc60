/**
 * SORQDN — dispatch note query (`Query/Query`, reference §2.4, output fields from CyberStore's
 * SORQDNOUT documentation). Reads back what SORTDN wrote: status, comments and user fields.
 * The XmlIn element names beyond `<Key><DispatchNote>` are UNCONFIRMED.
 *
 * The output is read without relying on its root name or casing: public samples (S3's SORQDN
 * output classes) name the root `DispatchNoteDetail` with the header fields flat under it and the
 * lines as `<Merchandise>` (MStockCode, MWarehouse, MQtyToDispatch, …); the sandbox used to answer
 * `<DispatchNoteQuery>` with `<DispatchLine>` lines (StockCode, Warehouse, DispatchQty). Both are
 * read, as are lines inside a container element and lower-case documents.
 */
import type { EnetSession } from '../enet-client.js';
import {
  buildXml,
  child,
  children,
  date,
  number,
  parseSysproNumber,
  schemaAttributes,
  text,
  textAny,
  type XmlNode,
} from '../xml.js';
import { type BusinessObjectResult, isNotFoundError, notFoundOutcome, readXmlOut, yn } from './common.js';

export const SORQDN = 'SORQDN';

export interface DispatchNoteQueryInput {
  dispatchNote: string;
  includeCustomForms?: boolean;
}

export interface DispatchNoteDetail extends BusinessObjectResult {
  found: boolean;
  dispatchNote?: string;
  salesOrder?: string;
  customer?: string;
  customerPoNumber?: string;
  shippingInstrs?: string;
  shippingInstrsCode?: string;
  /** DispatchComments1–4, empty ones left out. */
  comments: string[];
  userField1?: string;
  userField2?: string;
  plannedDeliverDate?: string;
  actualDeliveryDate?: string;
  invoice?: string;
  status?: string;
  previousStatus?: string;
  lines: { salesOrderLine?: number; stockCode?: string; warehouse?: string; dispatchQty?: number }[];
}

export function buildDispatchNoteQuery(input: DispatchNoteQueryInput): string {
  return buildXml(
    'Query',
    {
      Key: { DispatchNote: input.dispatchNote },
      Option: { IncludeCustomForms: yn(input.includeCustomForms ?? false), XslStylesheet: '' },
    },
    { attributes: schemaAttributes('SORQDN.XSD') },
  );
}

/** The node holding the header fields: the root itself, or a `DispatchNote`/`Header` child. */
function headerOf(root: XmlNode): XmlNode {
  for (const name of ['DispatchNoteHeader', 'Header', 'DispatchNote']) {
    const node = child(root, name);
    if (node && text(node, 'SalesOrder') !== undefined) return node;
  }
  return root;
}

export function parseDispatchNoteQuery(xmlOut: string): DispatchNoteDetail {
  const { root, outcome } = readXmlOut(SORQDN, xmlOut);
  const h = headerOf(root);
  const dispatchNote = textAny(h, 'DispatchNote', 'DispatchNoteNumber');
  const comments: string[] = [];
  for (let i = 1; i <= 4; i++) {
    const c = text(h, `DispatchComments${i}`);
    if (c) comments.push(c);
  }
  return {
    outcome,
    found: Boolean(dispatchNote) && outcome.errors.length === 0,
    dispatchNote: dispatchNote || undefined,
    salesOrder: text(h, 'SalesOrder') || undefined,
    customer: text(h, 'Customer') || undefined,
    customerPoNumber: text(h, 'CustomerPoNumber') || undefined,
    shippingInstrs: text(h, 'ShippingInstrs') || undefined,
    shippingInstrsCode: textAny(h, 'ShippingInstrsCod', 'ShippingInstrsCode') || undefined,
    comments,
    userField1: textAny(h, 'UserField1', 'UserDefined1') || undefined,
    userField2: textAny(h, 'UserField2', 'UserDefined2') || undefined,
    plannedDeliverDate: date(h, 'PlannedDeliverDate'),
    actualDeliveryDate: date(h, 'ActualDeliveryDate'),
    invoice: text(h, 'Invoice') || undefined,
    status: text(h, 'DispatchNoteStatus') || undefined,
    previousStatus: text(h, 'PrevStatus') || undefined,
    lines: lineNodes(root).map((line) => ({
      salesOrderLine: number(line, 'SalesOrderLine'),
      stockCode: textAny(line, 'MStockCode', 'StockCode') || undefined,
      warehouse: textAny(line, 'MWarehouse', 'Warehouse') || undefined,
      dispatchQty: parseSysproNumber(textAny(line, 'MQtyToDispatch', 'DispatchQty', 'MDispatchQty')),
    })),
  };
}

/** Element names a merchandise line of the note may have (any case). */
const LINE_NAMES = ['Merchandise', 'DispatchLine', 'MerchandiseLine'];
/** Containers the lines may sit in (UNCONFIRMED whether SYSPRO uses one). */
const LINE_CONTAINERS = ['DispatchNoteLines', 'DispatchLines', 'Lines', 'DispatchDetails'];

function lineNodes(root: XmlNode): XmlNode[] {
  const holders = [root, ...LINE_CONTAINERS.flatMap((name) => children(root, name))];
  return holders.flatMap((holder) => LINE_NAMES.flatMap((name) => children(holder, name)));
}

export async function queryDispatchNote(
  session: Pick<EnetSession, 'query'>,
  input: DispatchNoteQueryInput,
): Promise<DispatchNoteDetail> {
  try {
    return parseDispatchNoteQuery(await session.query(SORQDN, buildDispatchNoteQuery(input)));
  } catch (error) {
    if (!isNotFoundError(error)) throw error;
    return { outcome: notFoundOutcome(error), found: false, comments: [], lines: [] };
  }
}
