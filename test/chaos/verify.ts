/**
 * The chaos suite's verdict, from the sandboxes' own records (ShipStation's orders and labels,
 * SYSPRO's sales orders and dispatch notes) and the store's jobs and audit rows: what was lost,
 * doubled or wrong.
 */
import type { ShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import type { SysproSandbox } from '../../src/sandbox/syspro/index.js';
import type { Store } from '../../src/store/open.js';
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import { shipmentLinkKey } from '../../src/sync/shipment-model.js';

export interface Verdict {
  ordersExpected: number;
  ordersMissing: string[];
  ordersDoubled: string[];
  ordersWrong: string[];
  shipmentsExpected: number;
  shipmentsMissing: string[];
  shipmentsDoubled: string[];
  shipmentsWrong: string[];
  strayNotes: string[];
  deadJobs: Array<{ id: number; kind: string; error: string | null }>;
  unfinishedJobs: number;
  ordersWithoutAudit: string[];
  shipmentsWithoutAudit: string[];
}

const MERCHANDISE = new Set(['1', '7']);

export async function verify(
  shipstation: ShipStationSandbox,
  syspro: SysproSandbox,
  store: Store,
  /** Quantities each SYSPRO line had to ship when the run started (the order's content then). */
  shipQtyAtStart: Map<string, number>,
): Promise<Verdict> {
  const company = syspro.company;
  const v: Verdict = {
    ordersExpected: 0,
    ordersMissing: [],
    ordersDoubled: [],
    ordersWrong: [],
    shipmentsExpected: 0,
    shipmentsMissing: [],
    shipmentsDoubled: [],
    shipmentsWrong: [],
    strayNotes: [],
    deadJobs: [],
    unfinishedJobs: 0,
    ordersWithoutAudit: [],
    shipmentsWithoutAudit: [],
  };

  // Orders: every SYSPRO order once in ShipStation, with its lines.
  const byNumber = new Map<string, ReturnType<ShipStationSandbox['state']['orders']['get']>[]>();
  for (const order of shipstation.state.orders.values()) {
    const list = byNumber.get(order.orderNumber) ?? [];
    list.push(order);
    byNumber.set(order.orderNumber, list);
  }
  const orderKeys: string[] = [];
  for (const header of syspro.db.sorMaster.rows) {
    const so = String(header.SalesOrder);
    const key = `${company}:${so}`;
    v.ordersExpected++;
    orderKeys.push(key);
    const found = (byNumber.get(so) ?? []).filter((o) => o !== undefined);
    const keyed = found.filter((o) => o.orderKey === key);
    if (keyed.length === 0) {
      v.ordersMissing.push(so);
      continue;
    }
    if (found.length > 1) v.ordersDoubled.push(so);
    const items = (keyed[0]!.body().items ?? []).filter((i) => i.adjustment !== true);
    const want = syspro.db
      .linesOf(so)
      .filter((l) => MERCHANDISE.has(String(l.LineType).trim()))
      .map((l) => ({
        line: String(l.SalesOrderLine),
        sku: String(l.MStockCode).trim(),
        qty: shipQtyAtStart.get(`${so}/${l.SalesOrderLine}`) ?? 0,
      }))
      .filter((l) => l.qty > 0);
    const got = items.map((i) => ({
      line: String(i.lineItemKey),
      sku: String(i.sku),
      qty: Number(i.quantity),
    }));
    const same =
      got.length === want.length &&
      want.every((w) => got.some((g) => g.line === w.line && g.sku === w.sku && g.qty === w.qty));
    if (!same) v.ordersWrong.push(`${so}: want ${JSON.stringify(want)} got ${JSON.stringify(got)}`);
  }
  for (const [number, list] of byNumber) {
    if (!list.some((o) => o?.orderKey.startsWith(`${company}:`))) v.ordersDoubled.push(`unknown ${number}`);
  }

  // Shipments: every live label once in SYSPRO as a dispatch note with its lines and tracking.
  const notesByRef = new Map<string, Array<Record<string, unknown>>>();
  for (const note of syspro.db.mdnMaster.rows) {
    const ref = String(note.DispatchComments1 ?? '');
    if (!ref.startsWith('ml-connector ')) continue;
    const list = notesByRef.get(ref) ?? [];
    list.push(note);
    notesByRef.set(ref, list);
  }
  const shipmentKeys: string[] = [];
  const expectedRefs = new Set<string>();
  for (const shipment of shipstation.state.shipments.values()) {
    if (shipment.voided) continue;
    const key = shipmentLinkKey('shipment', shipment.shipmentId);
    const ref = dispatchNoteReference(key);
    expectedRefs.add(ref);
    shipmentKeys.push(key);
    v.shipmentsExpected++;
    const notes = notesByRef.get(ref) ?? [];
    if (notes.length === 0) {
      v.shipmentsMissing.push(key);
      continue;
    }
    if (notes.length > 1) v.shipmentsDoubled.push(`${key} (${notes.length} notes)`);
    const order = shipstation.state.orders.get(shipment.orderId);
    const items = new Map((order?.body().items ?? []).map((i) => [i.orderItemId, i]));
    const want = new Map<string, number>();
    for (const [itemId, qty] of shipment.items) {
      const item = items.get(itemId);
      if (!item || item.adjustment === true) continue;
      const line = String(item.lineItemKey);
      want.set(line, (want.get(line) ?? 0) + qty);
    }
    const note = notes[0]!;
    const got = new Map<string, number>();
    for (const line of syspro.db.mdnDetail.group(String(note.DispatchNote))) {
      const k = String(line.SalesOrderLine);
      got.set(k, (got.get(k) ?? 0) + Number(line.MDispatchQty));
    }
    const sameLines = want.size === got.size && [...want].every(([k, q]) => got.get(k) === q);
    const salesOrder = order?.orderNumber;
    if (!sameLines || String(note.SalesOrder) !== salesOrder || note.UserField2 !== shipment.trackingNumber) {
      v.shipmentsWrong.push(
        `${key}: order ${salesOrder} lines ${JSON.stringify([...want])} tracking ${shipment.trackingNumber}; note ${note.DispatchNote} order ${note.SalesOrder} lines ${JSON.stringify([...got])} tracking ${note.UserField2}`,
      );
    }
  }
  for (const ref of notesByRef.keys()) if (!expectedRefs.has(ref)) v.strayNotes.push(ref);

  // Jobs and audit rows (the store's record of what it did).
  const dead = await store.db
    .selectFrom('jobs')
    .select(['id', 'kind', 'last_error'])
    .where('state', '=', 'dead')
    .execute();
  v.deadJobs = dead.map((j) => ({ id: Number(j.id), kind: j.kind, error: j.last_error }));
  const unfinished = await store.db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('state', 'in', ['queued', 'running'])
    .where('kind', 'not in', ['orders.poll', 'shipments.poll', 'customers.poll', 'inventory.poll'])
    .executeTakeFirst();
  v.unfinishedJobs = Number(unfinished?.n ?? 0);
  const audited = await store.db
    .selectFrom('audit')
    .select(['entity_type', 'entity_key'])
    .where('outcome', '=', 'ok')
    .distinct()
    .execute();
  const auditedKeys = new Set(audited.map((a) => `${a.entity_type}|${a.entity_key}`));
  v.ordersWithoutAudit = orderKeys.filter((k) => !auditedKeys.has(`order|${k}`));
  const shipmentAudited = new Set(audited.map((a) => a.entity_key));
  v.shipmentsWithoutAudit = shipmentKeys.filter((k) => !shipmentAudited.has(k));
  return v;
}

export function verdictPassed(v: Verdict): boolean {
  return (
    v.ordersMissing.length +
      v.ordersDoubled.length +
      v.ordersWrong.length +
      v.shipmentsMissing.length +
      v.shipmentsDoubled.length +
      v.shipmentsWrong.length +
      v.strayNotes.length +
      v.deadJobs.length +
      v.unfinishedJobs +
      v.ordersWithoutAudit.length +
      v.shipmentsWithoutAudit.length ===
    0
  );
}
