/**
 * Is ShipStation's copy of an order still ours as a whole? An order split in ShipStation (V1: in
 * the UI, `advancedOptions.mergedOrSplit`; V2: a shipment becomes several shipments) must not be
 * re-pushed whole when SYSPRO changes it: V1 and V2 replace the whole order, so the lines moved to
 * the other part would be added back and ship twice (reference shipstation-api.md §1.3 "No partial
 * updates", §10 "PUT … with the whole object"; anchors.md §5.2).
 *
 * Two signs, either is enough:
 * - V1's `advancedOptions.mergedOrSplit` (read-only, documented on the Order model);
 * - lines taken away: a line we last sent (by `lineItemKey`, V2 `external_order_item_id`) that
 *   ShipStation's copy no longer has, or has fewer units of. V2 names no split marker on a
 *   shipment (UNCONFIRMED: docs/decisions.md), so on V2 this is the sign; it also catches a line
 *   taken out by hand in ShipStation, which a whole re-push would equally undo. Adjustment lines
 *   (V1 charges, which V2 does not carry) and lines sent without a key are not compared.
 *   Only lines the body about to be sent would add units back to count: ShipStation's copy may
 *   hold fewer units than last sent because our own later write got there (an update whose
 *   answer was lost, after SYSPRO lowered the line), and sending that again takes nothing back.
 *
 * Pure: the flow (`orders.ts`) reads both records and decides.
 */
import type { V1Order, V1OrderInput } from '../shipstation/types.js';

export interface TakenLine {
  lineItemKey: string;
  sku: string | null;
  /** Units last sent. */
  sent: number;
  /** Units ShipStation's copy has now (0: the line is gone). */
  now: number;
}

/** Units per line key of an order's items (adjustment lines and lines without a key left out). */
function unitsByLine(
  items:
    | ReadonlyArray<{
        lineItemKey?: string | null;
        quantity: number;
        adjustment?: boolean;
        sku?: string | null;
      }>
    | undefined,
) {
  const units = new Map<string, { sku: string | null; quantity: number }>();
  for (const item of items ?? []) {
    if (item.adjustment === true || !item.lineItemKey) continue;
    const prev = units.get(item.lineItemKey);
    units.set(item.lineItemKey, {
      sku: item.sku ?? null,
      quantity: (prev?.quantity ?? 0) + Number(item.quantity),
    });
  }
  return units;
}

/**
 * Lines last sent that ShipStation's copy has fewer units of (or none), and that `next` (the body
 * about to be sent, when given) would add units back to.
 */
export function linesTakenAway(
  current: V1Order,
  lastSent: V1OrderInput | undefined,
  next?: V1OrderInput,
): TakenLine[] {
  if (!lastSent) return [];
  const units = unitsByLine(current.items);
  const toSend = next ? unitsByLine(next.items) : undefined;
  const taken: TakenLine[] = [];
  for (const [lineItemKey, s] of unitsByLine(lastSent.items)) {
    const now = units.get(lineItemKey)?.quantity ?? 0;
    const adds = toSend === undefined || (toSend.get(lineItemKey)?.quantity ?? 0) > now;
    if (now < s.quantity && adds) taken.push({ lineItemKey, sku: s.sku, sent: s.quantity, now });
  }
  return taken;
}

/**
 * Why ShipStation's order is no longer ours as a whole (split or merged, or lines taken away), in
 * words for the operator, or undefined when it still is.
 */
export function splitInShipStation(
  current: V1Order,
  lastSent: V1OrderInput | undefined,
  next?: V1OrderInput,
): { reason: string; lines: TakenLine[] } | undefined {
  const lines = linesTakenAway(current, lastSent, next);
  const flagged = current.advancedOptions?.mergedOrSplit === true;
  if (!flagged && lines.length === 0) return undefined;
  const what = flagged
    ? 'was split or merged in ShipStation'
    : `no longer has what was sent of line(s) ${lines
        .map((l) => `${l.lineItemKey}${l.sku ? ` (${l.sku})` : ''} ${l.now}/${l.sent}`)
        .join(', ')} (split in ShipStation, or taken out there)`;
  return {
    reason: `order ${current.orderId} (${current.orderNumber}) ${what}: not re-pushed whole, which would add the lines back and ship them twice; make the SYSPRO change in ShipStation by hand`,
    lines,
  };
}

/**
 * Does one shipment (its lines, by our `lineItemKey` = SYSPRO `SalesOrderLine`) carry the whole of
 * what was last sent of an order? Every line last sent (adjustment lines aside) must be on it with
 * at least the units sent. No body on record, a line sent without a key (it cannot be matched), or
 * a shipment without lines (a fulfillment) is not known to be whole: false. A split in ShipStation
 * reads as not whole too (the part's label lacks the lines moved away), as does a label of some
 * items or one package of several. The write-back (writeback.ts) closes the order's link on it.
 */
export function shippedAsAWhole(
  lastSent: V1OrderInput | undefined,
  lines: ReadonlyArray<{ salesOrderLine?: string; sku: string | null; quantity: number }> | null,
): boolean {
  if (!lastSent || !lines) return false;
  const sent = lastSent.items ?? [];
  if (sent.some((item) => item.adjustment !== true && !item.lineItemKey)) return false;
  const wanted = unitsByLine(sent);
  if (wanted.size === 0) return false;
  const shipped = unitsByLine(
    lines.map((l) => ({ lineItemKey: l.salesOrderLine ?? null, sku: l.sku, quantity: l.quantity })),
  );
  for (const [lineItemKey, s] of wanted) {
    if (!((shipped.get(lineItemKey)?.quantity ?? 0) >= s.quantity)) return false;
  }
  return true;
}
