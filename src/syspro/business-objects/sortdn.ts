/**
 * SORTDN — dispatch note posting (`Transaction/Post`, reference §2.4). Root `PostDispatchNotes`;
 * one `<DispatchNote>` per note with a `<DispatchHeader>` and `<DispatchDetails><MerchandiseLine>`.
 * Carrier and tracking go in `DispatchComments` (repeating) and `UserDefined1/2`. The parameter
 * list comes from third-party code (S9), not the XSD; the XmlOut shape is UNCONFIRMED, so the
 * note number is read from `DispatchNote`/`DispatchNoteNumber` wherever it appears.
 */
import type { EnetSession } from '../enet-client.js';
import {
  buildXml,
  child,
  children,
  formatDecimal,
  schemaAttributes,
  text,
  textAny,
  type XmlNode,
} from '../xml.js';
import { type BusinessObjectResult, type PostOptions, readXmlOut, yn } from './common.js';

export const SORTDN = 'SORTDN';

export interface DispatchLineInput {
  salesOrderLine: number;
  dispatchQty: number;
  units?: string;
  pieces?: number;
  bins?: { binLocation: string; binQuantity: number }[];
}

export interface DispatchNoteInput {
  salesOrder: string;
  /** Leave unset to let SYSPRO number the note. */
  dispatchNoteNumber?: string;
  shippingInstrs?: string;
  plannedDispatchDate?: string;
  /** Free text lines (carrier, tracking number, …). */
  dispatchComments?: string[];
  userDefined1?: string;
  userDefined2?: string;
  specialInstrs?: string;
  lines: DispatchLineInput[];
}

export interface DispatchNoteOptions extends PostOptions {
  /** `C` current (default) or `P` previous. */
  postingPeriod?: 'C' | 'P';
  /** Decimals for quantities (default 3). */
  quantityDecimals?: number;
  basisForDispatch?: string;
  copyCustomForm?: boolean;
}

export interface DispatchNoteResult extends BusinessObjectResult {
  notes: PostedDispatchNote[];
  validateOnly: boolean;
}

export function buildDispatchNoteParameters(options: DispatchNoteOptions = {}): string {
  return buildXml(
    'PostDispatchNotes',
    {
      Parameters: {
        PostingPeriod: options.postingPeriod ?? 'C',
        ValidateOnly: yn(options.validateOnly ?? false),
        IgnoreWarnings: options.ignoreWarnings ?? 'W',
        BasisForDispatch: options.basisForDispatch,
        CopyCustomForm: yn(options.copyCustomForm),
      },
    },
    { attributes: schemaAttributes('SORTDN.XSD') },
  );
}

export function buildDispatchNotes(
  notes: readonly DispatchNoteInput[],
  options: DispatchNoteOptions = {},
): string {
  const dp = options.quantityDecimals ?? 3;
  return buildXml(
    'PostDispatchNotes',
    {
      DispatchNote: notes.map((note) => {
        if (note.lines.length === 0)
          throw new RangeError(`dispatch note for ${note.salesOrder} has no lines`);
        return {
          DispatchHeader: {
            SalesOrder: note.salesOrder,
            DispatchNoteNumber: note.dispatchNoteNumber,
            ShippingInstrs: note.shippingInstrs,
            PlannedDispatchDate: note.plannedDispatchDate,
            SpecialInstrs: note.specialInstrs,
            UserDefined1: note.userDefined1,
            UserDefined2: note.userDefined2,
            DispatchComments: note.dispatchComments,
          },
          DispatchDetails: {
            MerchandiseLine: note.lines.map((line) => ({
              SalesOrderLine: line.salesOrderLine,
              DispatchQty: formatDecimal(line.dispatchQty, dp),
              Units: line.units,
              Pieces: line.pieces,
              Bins: line.bins?.map((b) => ({
                BinLocation: b.binLocation,
                BinQuantity: formatDecimal(b.binQuantity, dp),
              })),
            })),
          },
        };
      }),
    },
    { attributes: schemaAttributes('SORTDNDOC.XSD') },
  );
}

export interface PostedDispatchNote {
  salesOrder?: string;
  /** The note number SYSPRO gave (missing on a failed item or when SYSPRO does not echo it). */
  dispatchNote?: string;
  /** Per-item status text when SYSPRO gives one (e.g. Posted, Valid, Failed). */
  status?: string;
}

/** Parses the SORTDN XmlOut: one `<Item>` (or `<DispatchNote>`) per note. */
export function parseDispatchNotes(xmlOut: string, validateOnly = false): DispatchNoteResult {
  const { root, outcome } = readXmlOut(SORTDN, xmlOut);
  const notes: PostedDispatchNote[] = [...children(root, 'Item'), ...children(root, 'DispatchNote')].map(
    (item: XmlNode) => {
      const header = child(item, 'DispatchHeader') ?? item;
      return {
        salesOrder: text(header, 'SalesOrder') || undefined,
        dispatchNote: textAny(header, 'DispatchNoteNumber', 'DispatchNote') || undefined,
        status: text(item, 'Status') || undefined,
      };
    },
  );
  return { outcome, notes, validateOnly };
}

export async function postDispatchNotes(
  session: Pick<EnetSession, 'post'>,
  notes: readonly DispatchNoteInput[],
  options: DispatchNoteOptions = {},
): Promise<DispatchNoteResult> {
  const xmlOut = await session.post(
    SORTDN,
    buildDispatchNoteParameters(options),
    buildDispatchNotes(notes, options),
  );
  return parseDispatchNotes(xmlOut, options.validateOnly ?? false);
}
