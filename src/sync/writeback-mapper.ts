/**
 * Shipment write-back, the pure part: a `ShipmentWrite` (shipment-model.ts) and the open lines of
 * its sales order become a SORTDN dispatch note or a SORTOI change + COMSFM fields + SORTOS status.
 *
 * - Quantities never exceed what is still open on a line (`MOrderQty - MQtyDispatched`, less what
 *   earlier shipments of the same batch already take): a capped or unmatched line is reported.
 * - Lines are matched by `salesOrderLine` (our `lineItemKey`), else by SKU = stock code (spread over
 *   the order's open lines with that code, in line order). A shipment without lines (a
 *   fulfillment) ships every open merchandise line in full.
 * - Carrier text: `mappings.carriers[carrierCode]`, else the carrier code itself, upper-cased.
 * - Times: every instant is UTC already (converted from Pacific at the edge); SYSPRO's date-only
 *   fields (PlannedDispatchDate, the SHIPDATE custom field) are the ship date in SYSPRO's zone
 *   (`syspro.timezone`); the comment carries the UTC time, written with a `Z`.
 * - Tracking overflow (SYSPRO's fields are short; DispatchComments 50 characters, four of them,
 *   UserDefined1/2 30): see `dispatchTexts`. Every number is also in the audit row.
 */
import { DateTime } from 'luxon';
import type { DispatchNoteInput } from '../syspro/business-objects/sortdn.js';
import { dispatchNoteReference } from './dispatch-note-check.js';
import { type ShipmentLine, type ShipmentWrite, shipmentLinkKey } from './shipment-model.js';

/** SYSPRO's widths (reference §2.4; sandbox columns): UNCONFIRMED for a real site. */
export const COMMENT_WIDTH = 50;
export const COMMENT_LINES = 4;
export const USER_FIELD_WIDTH = 30;
/** The width used for the tracking custom form field of the order-update strategy (UNCONFIRMED). */
export const TRACKING_FIELD_WIDTH = 100;

/** One merchandise line of the sales order as SYSPRO has it now. */
export interface OpenLine {
  salesOrderLine: number;
  stockCode: string;
  /** SYSPRO line type (`1` stocked, `7` non-stocked); others are not dispatched. */
  lineType: string;
  orderQty: number;
  dispatchedQty: number;
  shipQty: number;
  warehouse?: string;
}

export interface WritebackMapOptions {
  carriers: Record<string, string>;
  /** IANA zone of SYSPRO's date-only fields. */
  sysproTimezone: string;
  merchandiseLineTypes?: readonly string[];
}

export interface PlannedLine {
  salesOrderLine: number;
  stockCode: string;
  quantity: number;
}

export interface LinePlan {
  lines: PlannedLine[];
  /** What could not be written as asked (capped, unmatched): audited with the shipment. */
  notes: string[];
}

const MERCHANDISE = ['1', '7'];

export function openQuantity(line: OpenLine): number {
  return Math.max(0, round3(line.orderQty - line.dispatchedQty));
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function sameCode(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? '').trim().toUpperCase() === (b ?? '').trim().toUpperCase();
}

/**
 * The lines and quantities to write for `shipment`, capped at what is open. `taken` holds, per
 * SalesOrderLine, what earlier shipments of the same call already take; it is updated.
 */
export function planShipmentLines(
  shipment: Pick<ShipmentWrite, 'lines'>,
  openLines: readonly OpenLine[],
  taken: Map<number, number> = new Map(),
  options: Pick<WritebackMapOptions, 'merchandiseLineTypes'> = {},
): LinePlan {
  const types = options.merchandiseLineTypes ?? MERCHANDISE;
  const merchandise = openLines
    .filter((l) => types.includes(l.lineType))
    .sort((a, b) => a.salesOrderLine - b.salesOrderLine);
  const left = (l: OpenLine) => Math.max(0, round3(openQuantity(l) - (taken.get(l.salesOrderLine) ?? 0)));
  const planned = new Map<number, PlannedLine>();
  const notes: string[] = [];
  const take = (line: OpenLine, qty: number) => {
    const existing = planned.get(line.salesOrderLine);
    if (existing) existing.quantity = round3(existing.quantity + qty);
    else
      planned.set(line.salesOrderLine, {
        salesOrderLine: line.salesOrderLine,
        stockCode: line.stockCode,
        quantity: qty,
      });
    taken.set(line.salesOrderLine, round3((taken.get(line.salesOrderLine) ?? 0) + qty));
  };

  if (shipment.lines === null || shipment.lines.length === 0) {
    for (const line of merchandise) {
      const qty = left(line);
      if (qty > 0) take(line, qty);
    }
    if (planned.size === 0) notes.push('the shipment names no items and no line of the order is open');
  } else {
    for (const item of shipment.lines) {
      let wanted = round3(item.quantity);
      if (!(wanted > 0)) continue;
      const candidates = candidatesFor(item, merchandise);
      if (candidates.length === 0) {
        notes.push(`${describeItem(item)}: no such merchandise line on the order`);
        continue;
      }
      for (const line of candidates) {
        if (wanted <= 0) break;
        const qty = Math.min(wanted, left(line));
        if (qty > 0) {
          take(line, qty);
          wanted = round3(wanted - qty);
        }
      }
      if (wanted > 0) {
        notes.push(`${describeItem(item)}: ${wanted} more than is open on the order, not written`);
      }
    }
  }
  return { lines: [...planned.values()], notes };
}

function candidatesFor(item: ShipmentLine, merchandise: readonly OpenLine[]): OpenLine[] {
  const byLine = item.salesOrderLine?.trim();
  if (byLine && /^\d+$/.test(byLine)) {
    const line = merchandise.find((l) => l.salesOrderLine === Number(byLine));
    if (line && (item.sku === null || item.sku === undefined || sameCode(item.sku, line.stockCode)))
      return [line];
  }
  if (!item.sku) return [];
  return merchandise.filter((l) => sameCode(l.stockCode, item.sku));
}

function describeItem(item: ShipmentLine): string {
  return `item ${item.sku ?? '(no SKU)'}${item.salesOrderLine ? ` (line ${item.salesOrderLine})` : ''} x${item.quantity}`;
}

/** The carrier as SYSPRO should read it: the configured text, else the ShipStation code upper-cased. */
export function carrierText(carrierCode: string | null, carriers: Record<string, string>): string {
  if (!carrierCode) return '';
  return carriers[carrierCode] ?? carrierCode.toUpperCase();
}

/** A UTC instant as `yyyy-MM-dd HH:mmZ`. */
export function formatUtcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

/** The calendar date of a UTC instant in SYSPRO's zone, `yyyy-MM-dd`. */
export function sysproDate(ms: number, zone: string): string {
  const dt = DateTime.fromMillis(ms, { zone });
  if (!dt.isValid) throw new RangeError(`invalid SYSPRO time zone ${zone}: ${dt.invalidReason ?? ''}`);
  return dt.toFormat('yyyy-MM-dd');
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, width);
}

/**
 * Packs words into lines of at most `width` characters, at most `maxLines` lines; returns the lines
 * and the words that did not fit (a word longer than a line is cut; tracking numbers never are).
 */
export function packWords(
  words: readonly string[],
  width: number,
  maxLines: number,
): { lines: string[]; left: string[] } {
  const lines: string[] = [];
  let current = '';
  for (const [i, raw] of words.entries()) {
    const word = cut(raw, width);
    if (current === '') {
      current = word;
      continue;
    }
    if (current.length + 1 + word.length <= width) {
      current += ` ${word}`;
      continue;
    }
    lines.push(current);
    if (lines.length === maxLines) return { lines, left: words.slice(i) };
    current = word;
  }
  if (current !== '') {
    if (lines.length === maxLines) return { lines, left: [current] };
    lines.push(current);
  }
  return { lines, left: [] };
}

export interface DispatchTexts {
  userDefined1: string;
  userDefined2: string;
  comments: string[];
  /** Tracking numbers that did not fit in SYSPRO's fields (kept in the audit trail). */
  overflow: string[];
}

/**
 * Where carrier and tracking go on a dispatch note:
 * - `DispatchComments` line 1: our reference `ml-connector <source>:<id>` (the in-doubt check
 *   looks for it, dispatch-note-check.ts);
 * - line 2: `Shipped <UTC time>Z <carrier> <service>`;
 * - `UserDefined1`: the carrier text (30); `UserDefined2`: the first tracking number when it fits
 *   in 30 characters, and `+N more` after it when there are more and room is left;
 * - lines 3-4, when there are several packages (or the one number is over 30 characters): every
 *   tracking number, space-separated, packed into 50 characters a line (a single package's
 *   number is in UserDefined2 only: a smaller note, more notes per post).
 * Overflow: when the numbers do not fit in lines 3-4, line 4 ends with `+N more` and the rest are
 * in the audit row only (`ml-connector shipments show <id>` lists them all). About eight UPS
 * numbers (18 characters) fit.
 */
export function dispatchTexts(shipment: ShipmentWrite, options: WritebackMapOptions): DispatchTexts {
  const carrier = carrierText(shipment.carrierCode, options.carriers);
  const tracking = [...new Set(shipment.trackingNumbers.map((t) => t.trim()).filter(Boolean))];
  const reference = dispatchNoteReference(shipmentLinkKey(shipment.source, shipment.id));
  const shipped = cut(
    ['Shipped', formatUtcMinute(shipment.createdAtUtc), carrier, shipment.serviceCode ?? '']
      .filter(Boolean)
      .join(' '),
    COMMENT_WIDTH,
  );
  const first = tracking[0] ?? '';
  const single = tracking.length === 1 && first.length <= USER_FIELD_WIDTH;
  let userDefined2 = first.length <= USER_FIELD_WIDTH ? first : '';
  const more = ` +${tracking.length - 1} more`;
  if (userDefined2 && tracking.length > 1 && (userDefined2 + more).length <= USER_FIELD_WIDTH)
    userDefined2 += more;
  // One package whose number is in UserDefined2 needs no tracking comment (it keeps posts small).
  // A number longer than a comment line is never cut into one: it goes to the overflow whole.
  const room = COMMENT_LINES - 2;
  const fits = tracking.filter((t) => t.length <= COMMENT_WIDTH);
  const tooLong = tracking.filter((t) => t.length > COMMENT_WIDTH);
  let packed = single
    ? { lines: [] as string[], left: [] as string[] }
    : packWords(fits, COMMENT_WIDTH, room);
  let overflow = [...packed.left, ...tooLong];
  if (overflow.length > 0) {
    // Make room for the `+N more` marker on the last line.
    for (let keep = fits.length - packed.left.length; keep >= 0; keep--) {
      const marker = `+${tracking.length - keep} more`;
      const attempt = packWords([...fits.slice(0, keep), marker], COMMENT_WIDTH, room);
      if (attempt.left.length === 0) {
        packed = attempt;
        overflow = [...fits.slice(keep), ...tooLong];
        break;
      }
    }
  }
  return {
    userDefined1: cut(carrier, USER_FIELD_WIDTH),
    userDefined2,
    comments: [reference, shipped, ...packed.lines],
    overflow,
  };
}

/** The SORTDN note for one shipment and its planned lines. */
export function toDispatchNote(
  shipment: ShipmentWrite,
  salesOrder: string,
  plan: LinePlan,
  options: WritebackMapOptions,
): { note: DispatchNoteInput; texts: DispatchTexts } {
  const texts = dispatchTexts(shipment, options);
  return {
    note: {
      salesOrder,
      plannedDispatchDate: sysproDate(shipment.shipDateUtc, options.sysproTimezone),
      userDefined1: texts.userDefined1 || undefined,
      userDefined2: texts.userDefined2 || undefined,
      dispatchComments: texts.comments,
      lines: plan.lines.map((l) => ({ salesOrderLine: l.salesOrderLine, dispatchQty: l.quantity })),
    },
    texts,
  };
}

/**
 * The tracking custom field of the order-update strategy after this shipment: the numbers already
 * there plus this shipment's, space-separated, within `width`; numbers that do not fit are
 * returned as overflow (the field keeps `+N more` at its end; the audit keeps them all).
 */
export function mergeTrackingField(
  existing: string | undefined,
  tracking: readonly string[],
  width = TRACKING_FIELD_WIDTH,
): { value: string; overflow: string[] } {
  // The numbers an earlier overflow left out are only counted in its `+N more`: keep counting them.
  const parts = (existing ?? '').split(/\s+/).filter(Boolean);
  const words: string[] = [];
  let hidden = 0;
  for (let i = 0; i < parts.length; i++) {
    const count = /^\+(\d+)$/.exec(parts[i] as string);
    if (count && parts[i + 1] === 'more') {
      hidden += Number(count[1]);
      i++;
    } else words.push(parts[i] as string);
  }
  for (const t of tracking.map((x) => x.trim()).filter(Boolean)) if (!words.includes(t)) words.push(t);
  for (let keep = words.length; keep >= 0; keep--) {
    const more = hidden + words.length - keep;
    const marker = more > 0 ? `+${more} more` : '';
    const value = [...words.slice(0, keep), marker].filter(Boolean).join(' ');
    if (value.length <= width) return { value, overflow: words.slice(keep) };
  }
  return { value: '', overflow: words };
}

/** Whether the tracking field of an order already holds every number of `tracking` (the order-update check). */
export function trackingFieldHolds(field: string | undefined, tracking: readonly string[]): boolean {
  const words = new Set((field ?? '').split(/\s+/).filter(Boolean));
  const wanted = tracking.map((t) => t.trim()).filter(Boolean);
  return wanted.length > 0 && wanted.some((t) => words.has(t));
}
