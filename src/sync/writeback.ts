/**
 * Shipments ShipStation → SYSPRO: the write-back (`shipments.writeback` jobs, payload
 * `ShipmentWrite`, produced from webhooks and the reconciling poll). Per connection
 * (`syspro.writeback`):
 *
 * - `dispatch-note`: one SORTDN dispatch note per shipment, several notes per post (a backlog goes
 *   in as few posts as the e.net URL limit allows), per-item results: a refused note fails only
 *   its own job. Quantities are capped at what is open on each line (OData SorDetail).
 * - `order-update`: per shipment, SORQRY of the order, SORTOI change (ship quantities, carrier in
 *   ShippingInstrs), COMSFM custom fields (tracking, carrier, ship date), SORTOS status
 *   (`ValidateOnly=N`) once every merchandise line is shipped.
 *
 * Exactly once in effect. A write is recorded (link `shipment` `<source>:<id>`, `last_hash`
 * `v<version>`, and its audit row) in the `record` callback, i.e. with the completion of its job.
 * A job in doubt (an answer lost, the record failed, the process died) asks SYSPRO first:
 * dispatch-note → the note carrying `ml-connector <source>:<id>` (dispatch-note-check.ts);
 * order-update → the tracking custom field of the order. Found → success without posting.
 * Because that check only sees each line's LAST dispatch note, two shipments of one sales order
 * never go in the same post, and once a post is in doubt no later post of this call touches the
 * same orders.
 *
 * A shipment that ShipStation shipped the order with as a whole (a label carrying every line last
 * pushed; V2: its shipment `label_purchased`) closes the order's link in that same record, so the
 * orders poll gives it no follow-up push (`findShippedWhole`, orders.ts `closeShippedOrder`); a void
 * of it opens the link again (`reopenVoidedOrder`).
 *
 * Versions: a payload whose `version` is not above the one written is skipped (audited). A voided
 * shipment that was written is flagged for the operator (dead job, plain message, audit row) or,
 * with `shipments.voids: reverse` and the order-update strategy, reversed (ship quantities taken
 * back). Dispatch notes are always flagged: SORTDC (cancel dispatch notes) exists but its document
 * is not in the reference (docs/decisions.md "Shipment write-back").
 *
 * `syspro.validateOnly`: every post goes with ValidateOnly=Y (SORTOI Process=Validate); nothing is
 * recorded as written, only an audit row per shipment (a dry run).
 */

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { waitSignal } from '../abort.js';
import type { Clock } from '../clock.js';
import type { ConnectionConfig } from '../config/schema.js';
import { classifyError, PermanentError, RetryableError } from '../engine/errors.js';
import { checkInDoubt, type JobHandler, type JobOutcome } from '../engine/handler.js';
import { appendAudit, listAudit } from '../store/audit.js';
import type { Database } from '../store/database.js';
import type { Job } from '../store/jobs/job.js';
import { findLink, findLinks, type Link, saveLink } from '../store/links.js';
import type { Store } from '../store/open.js';
import { readXmlOut } from '../syspro/business-objects/common.js';
import { setCustomFormFields } from '../syspro/business-objects/comsfm.js';
import { querySalesOrder, type SalesOrderDetail } from '../syspro/business-objects/sorqry.js';
import {
  buildDispatchNoteParameters,
  buildDispatchNotes,
  type DispatchNoteInput,
  SORTDN,
} from '../syspro/business-objects/sortdn.js';
import { importSalesOrders } from '../syspro/business-objects/sortoi.js';
import { changeOrderStatus } from '../syspro/business-objects/sortos.js';
import {
  type EnetClient,
  type EnetSession,
  encodeQueryValue,
  type QueryEncoding,
} from '../syspro/enet-client.js';
import { and, ge, le, or } from '../syspro/odata-filter.js';
import type { ODataReader } from '../syspro/odata-reader.js';
import { describeProblems, type ItemProblem, readOutcome } from '../syspro/outcome.js';
import { children, text, textAny, type XmlNode } from '../syspro/xml.js';
import { dispatchNoteReference, findDispatchNoteByReference } from './dispatch-note-check.js';
import { planOpenLineReads } from './open-line-reads.js';
import {
  closeShippedOrder,
  ORDER_ENTITY,
  previousBodies,
  reopenVoidedOrder,
  type ShippedOrder,
} from './orders.js';
import {
  SHIPMENT_ENTITY,
  SHIPMENT_WRITEBACK_KIND,
  type ShipmentWrite,
  shipmentLinkKey,
} from './shipment-model.js';
import { shippedAsAWhole } from './split-check.js';
import {
  carrierText,
  type DispatchTexts,
  type LinePlan,
  mergeTrackingField,
  type OpenLine,
  openQuantity,
  planShipmentLines,
  sysproDate,
  toDispatchNote,
  trackingFieldHolds,
  type WritebackMapOptions,
} from './writeback-mapper.js';

export const SHIPMENTS_FLOW = 'shipments';
/** Per sales order, what our order-update writes have shipped on each line (`last_hash` = JSON). */
export const SHIPMENT_ORDER_ENTITY = 'shipment.order';

export interface WritebackConnection {
  connection: ConnectionConfig;
  enet: Pick<EnetClient, 'withSession'>;
  odata: OpenLineReader;
}

export interface WritebackDeps {
  store: Store;
  clock: Clock;
  connectionFor(name: string): Promise<WritebackConnection>;
  logger?: Logger;
}

/** SORDetail columns read for the open quantities. */
const OPEN_LINE_COLUMNS = [
  'SalesOrder',
  'SalesOrderLine',
  'LineType',
  'MStockCode',
  'MWarehouse',
  'MOrderQty',
  'MShipQty',
  'MQtyDispatched',
];

interface OpenLineRow {
  SalesOrder: string;
  SalesOrderLine: number;
  LineType: string;
  MStockCode?: string | null;
  MWarehouse?: string | null;
  MOrderQty?: number | null;
  MShipQty?: number | null;
  MQtyDispatched?: number | null;
}

/** A post whose answer did not name this item: it may have been posted. */
class WritebackInDoubt extends Error {
  override readonly name = 'WritebackInDoubt';
  readonly retryable = false;
  readonly delivery = 'in-doubt' as const;
  readonly system = 'SYSPRO';
}

interface Entry {
  index: number;
  job: Job;
  shipment: ShipmentWrite;
  key: string;
  salesOrder: string;
  link: Link | undefined;
}

export function versionOfLink(link: Link | undefined): number | undefined {
  const match = /^v(-?\d+)$/.exec(link?.lastHash ?? '');
  return match ? Number(match[1]) : undefined;
}

function mapOptions(connection: ConnectionConfig): WritebackMapOptions {
  return { carriers: connection.mappings.carriers, sysproTimezone: connection.syspro.timezone };
}

/** The parts of a payload the write needs, checked (the producer is another module). */
export function parseShipmentWrite(payload: unknown): ShipmentWrite {
  const p = payload as Partial<ShipmentWrite> | null;
  const problems: string[] = [];
  if (!p || typeof p !== 'object') throw new PermanentError('shipment write payload is not an object');
  if (p.source !== 'shipment' && p.source !== 'fulfillment') problems.push('source');
  if (typeof p.id !== 'number') problems.push('id');
  if (typeof p.version !== 'number') problems.push('version');
  if (!Array.isArray(p.trackingNumbers)) problems.push('trackingNumbers');
  if (typeof p.createdAtUtc !== 'number') problems.push('createdAtUtc');
  if (typeof p.shipDateUtc !== 'number') problems.push('shipDateUtc');
  if (p.lines !== null && !Array.isArray(p.lines)) problems.push('lines');
  if (problems.length > 0) {
    throw new PermanentError(`shipment write payload is missing or has bad fields: ${problems.join(', ')}`);
  }
  return p as ShipmentWrite;
}

/** What came from ShipStation, for the audit trail. */
function received(s: ShipmentWrite) {
  return {
    source: s.source,
    id: s.id,
    orderNumber: s.orderNumber,
    orderId: s.orderId,
    salesOrder: s.salesOrder,
    carrierCode: s.carrierCode,
    serviceCode: s.serviceCode,
    trackingNumbers: s.trackingNumbers,
    shipDate: s.shipDate,
    createdAtUtc: new Date(s.createdAtUtc).toISOString(),
    lines: s.lines,
    voided: s.voided,
    voidedAtUtc: s.voidedAtUtc === null ? null : new Date(s.voidedAtUtc).toISOString(),
    version: s.version,
    via: s.via,
  };
}

function itemErrorsOf(item: XmlNode): ItemProblem[] {
  return readOutcome(item).errors;
}

/** Per-item results of a SORTDN answer, in item order (ItemNumber when SYSPRO gives it). */
export function readDispatchItems(
  xmlOut: string,
  count: number,
): Array<{ dispatchNote?: string; status?: string; errors: ItemProblem[] } | undefined> {
  const { root } = readXmlOut(SORTDN, xmlOut);
  const items = [...children(root, 'Item'), ...children(root, 'DispatchNote')];
  const out: Array<{ dispatchNote?: string; status?: string; errors: ItemProblem[] } | undefined> = new Array(
    count,
  ).fill(undefined);
  items.forEach((item, position) => {
    const numbered = Number(text(item, 'ItemNumber'));
    const index = Number.isInteger(numbered) && numbered >= 1 ? numbered - 1 : position;
    if (index >= count) return;
    const header = children(item, 'DispatchHeader')[0] ?? item;
    out[index] = {
      dispatchNote: textAny(header, 'DispatchNoteNumber', 'DispatchNote')?.trim() || undefined,
      status: text(item, 'Status')?.trim() || undefined,
      errors: itemErrorsOf(item),
    };
  });
  return out;
}

/** The length of the e.net URL a SORTDN post of `notes` makes (as the client builds it). */
export function dispatchPostUrlLength(
  enetUrl: string,
  notes: readonly DispatchNoteInput[],
  validateOnly: boolean,
  encoding: QueryEncoding = 'compact',
): number {
  const params = encodeQueryValue(buildDispatchNoteParameters({ validateOnly }), encoding).length;
  const xmlIn = encodeQueryValue(buildDispatchNotes(notes), encoding).length;
  // `/Transaction/Post?UserId=<36 characters>&BusinessObject=SORTDN&XmlParameters=…&XmlIn=…`
  return enetUrl.replace(/\/+$/, '').length + 160 + params + xmlIn;
}

type OpenLineReader = Pick<
  ODataReader,
  'pagesByKeys' | 'pages' | 'keyListRequests' | 'keyListFilter' | 'fitsUrl'
>;

export interface OpenLineReadOptions {
  rangeReads: boolean;
  rangePageSize: number;
  /** Lines per order assumed before any range read has measured it (updated by each read). */
  linesPerOrder?: { value: number };
}

const OPEN_LINE_ORDER = ['SalesOrder', 'SalesOrderLine'];

/** Share of a request's rows a range is planned to read (the rest is room for variation). */
const RANGE_ROW_MARGIN = 0.95;

/** Per OData reader (one per connection), the SorDetail lines per order the last range read measured. */
const LINES_PER_ORDER = new WeakMap<object, { value: number }>();

function toOpenLine(row: OpenLineRow): OpenLine {
  return {
    salesOrderLine: Number(row.SalesOrderLine),
    stockCode: String(row.MStockCode ?? '').trim(),
    lineType: String(row.LineType ?? '').trim(),
    orderQty: Number(row.MOrderQty ?? 0),
    dispatchedQty: Number(row.MQtyDispatched ?? 0),
    shipQty: Number(row.MShipQty ?? 0),
    warehouse: row.MWarehouse ?? undefined,
  };
}

/**
 * The SorDetail lines of `salesOrders`, by key list, or by number range where the orders are dense
 * (open-line-reads.ts). A range read keeps only the wanted orders, stops after twice the rows it
 * was expected to read (a range sparser than measured never reads on through the table), and every
 * wanted order it did not cover (stopped early, or no rows in the range: a server that orders the
 * text differently) is read again by key, so a range read never loses an order's lines.
 */
export async function readOpenLines(
  odata: OpenLineReader,
  salesOrders: readonly string[],
  options: OpenLineReadOptions = { rangeReads: false, rangePageSize: 5000 },
): Promise<Map<string, OpenLine[]>> {
  const byOrder = new Map<string, OpenLine[]>();
  if (salesOrders.length === 0) return byOrder;
  const wanted = new Map(salesOrders.map((s) => [s.trim().toUpperCase(), s]));
  const add = (row: OpenLineRow) => {
    const key = wanted.get(String(row.SalesOrder).trim().toUpperCase()) ?? String(row.SalesOrder).trim();
    const list = byOrder.get(key) ?? [];
    list.push(toOpenLine(row));
    byOrder.set(key, list);
  };
  let byKey = [...wanted.values()];
  if (options.rangeReads && byKey.length > 1) {
    const read = { select: OPEN_LINE_COLUMNS, orderBy: OPEN_LINE_ORDER };
    const requests = odata.keyListRequests('SorDetail', 'SalesOrder', byKey, read);
    const estimate = options.linesPerOrder ?? { value: 4 };
    const keysPerRequest = byKey.length / Math.max(1, requests);
    const planRest = (orders: readonly string[]) =>
      planOpenLineReads(orders, {
        linesPerOrder: estimate.value,
        // A margin, so that a range a little denser in lines than measured still fits one request.
        rowsPerRequest: Math.floor(options.rangePageSize * RANGE_ROW_MARGIN),
        keysPerRequest,
        // A range's terms take about as much URL as two keys (`fitsUrl` trims what does not fit).
        keysPerRange: Math.max(0, Math.floor(keysPerRequest) - 2),
      });
    // One range at a time, the rest planned again after each read with the lines per order it
    // measured (the first batch plans with a guess).
    const unread = new Set(byKey);
    const reread: string[] = [];
    for (let plan = planRest(byKey); plan.ranges.length > 0; plan = planRest([...unread])) {
      const range = plan.ranges[0] as (typeof plan.ranges)[number];
      for (const order of [...range.orders, ...(range.extra ?? [])]) unread.delete(order);
      const inRange = new Map(range.orders.map((o) => [o, o]));
      const span = Number(range.to) - Number(range.from) + 1;
      const within = and(ge('SalesOrder', range.from), le('SalesOrder', range.to));
      // Extra keys in the URL the range leaves: as many as fit (the rest are planned again).
      const extra = [...(range.extra ?? [])];
      const filterOf = () =>
        extra.length === 0 ? within : or(within, odata.keyListFilter('SalesOrder', extra));
      while (
        extra.length > 0 &&
        !odata.fitsUrl('SorDetail', { ...read, filter: filterOf(), pageSize: options.rangePageSize })
      )
        unread.add(extra.pop() as string);
      const extraSet = new Set(extra);
      const cap = Math.max(options.rangePageSize, Math.ceil(2 * (span + extra.length) * estimate.value));
      const rows: OpenLineRow[] = [];
      let stoppedAt: string | undefined;
      for await (const page of odata.pages<OpenLineRow>('SorDetail', {
        ...read,
        filter: filterOf(),
        pageSize: options.rangePageSize,
      })) {
        rows.push(...page);
        if (rows.length >= cap) {
          // Sorted by SalesOrder: the last order may go on in the next page, so it is read by key.
          stoppedAt = String(page[page.length - 1]?.SalesOrder ?? '').trim();
          break;
        }
      }
      const covered = new Set<string>();
      let rangeRows = 0;
      for (const row of rows) {
        const order = String(row.SalesOrder).trim();
        if (order <= range.to) rangeRows++;
        if (stoppedAt !== undefined && order >= stoppedAt) continue;
        if (!inRange.has(order) && !extraSet.has(order)) continue;
        covered.add(order);
        add(row);
      }
      if (stoppedAt === undefined && rangeRows > 0) {
        estimate.value = Math.max(0.1, rangeRows / span);
      }
      for (const order of range.orders) if (!covered.has(order)) reread.push(order);
      // An extra key with no rows has no lines (as in a key-list read), unless the read stopped first.
      if (stoppedAt !== undefined)
        for (const order of extra) if (!covered.has(order) && order >= stoppedAt) reread.push(order);
    }
    byKey = [...unread, ...reread];
  }
  if (byKey.length === 0) return byOrder;
  for await (const page of odata.pagesByKeys<OpenLineRow>('SorDetail', 'SalesOrder', byKey, {
    select: OPEN_LINE_COLUMNS,
    orderBy: OPEN_LINE_ORDER,
  })) {
    for (const row of page) add(row);
  }
  return byOrder;
}

export class WritebackRun {
  readonly outcomes: Array<JobOutcome | undefined>;
  readonly connectionName: string;

  constructor(
    private readonly deps: WritebackDeps,
    private readonly jobs: Job[],
    private readonly wb: WritebackConnection,
    /** Aborted when the service stops: nothing more is posted (the job's `waitSignal`, abort.ts). */
    private readonly stop?: AbortSignal,
  ) {
    this.outcomes = jobs.map(() => undefined);
    this.connectionName = wb.connection.name;
  }

  private get store(): Store {
    return this.deps.store;
  }

  private now(): number {
    return this.deps.clock.now();
  }

  private audit(
    entry: Entry,
    action: string,
    outcome: 'ok' | 'error' | 'skipped' | 'info',
    detail: Record<string, unknown>,
    error?: string,
  ) {
    return {
      connection: this.connectionName,
      flow: SHIPMENTS_FLOW,
      entityType: SHIPMENT_ENTITY,
      entityKey: entry.key,
      action,
      outcome,
      jobId: entry.job.id,
      detail: { received: received(entry.shipment), attempt: entry.job.attempts, ...detail },
      error: error ?? null,
      at: this.now(),
    };
  }

  /** A job that ends without writing anything (skipped, superseded): audited with its completion. */
  private finishSkipped(entry: Entry, action: string, reason: string, link?: Partial<Link>) {
    this.outcomes[entry.index] = {
      ok: true,
      result: { skipped: reason },
      record: async (db) => {
        if (link) {
          await saveLink(
            db,
            {
              connection: this.connectionName,
              entityType: SHIPMENT_ENTITY,
              sysproKey: entry.key,
              shipstationId: String(entry.shipment.id),
              lastHash: `v${entry.shipment.version}`,
              state: link.state ?? null,
            },
            this.now(),
          );
        }
        await appendAudit(db, this.audit(entry, action, 'skipped', { reason }));
      },
    };
  }

  /**
   * Stopping (SIGTERM): the entries not settled yet are given back with the stop's reason, as
   * nothing of theirs was posted; true when so.
   */
  private stopped(entries: Entry[]): boolean {
    if (!this.stop?.aborted) return false;
    for (const entry of entries) this.outcomes[entry.index] ??= { ok: false, error: this.stop.reason };
    return true;
  }

  /** A job that fails for good: audited now (a failed job has no completing transaction). */
  private async fail(entry: Entry, action: string, error: Error, detail: Record<string, unknown> = {}) {
    await appendAudit(this.store.db, this.audit(entry, action, 'error', detail, error.message));
    this.outcomes[entry.index] = { ok: false, error };
  }

  private written(
    entry: Entry,
    action: string,
    detail: Record<string, unknown>,
    extra?: (db: Kysely<Database>) => Promise<void>,
  ) {
    const validateOnly = this.wb.connection.syspro.validateOnly;
    const shippedWhole = this.shippedWhole.has(entry.index);
    this.outcomes[entry.index] = {
      ok: true,
      result: { action, validateOnly, ...detail },
      record: async (db) => {
        let orderClosed = false;
        if (!validateOnly) {
          await saveLink(
            db,
            {
              connection: this.connectionName,
              entityType: SHIPMENT_ENTITY,
              sysproKey: entry.key,
              shipstationId: String(entry.shipment.id),
              lastHash: `v${entry.shipment.version}`,
              state: 'written',
            },
            this.now(),
          );
          await extra?.(db);
          // Shipped as a whole in ShipStation and now written: the order's link is closed with it.
          const order = this.orderOf(entry);
          if (shippedWhole && order) orderClosed = await closeShippedOrder(db, order);
        }
        await appendAudit(
          db,
          this.audit(
            entry,
            validateOnly ? `${action} (validate only)` : action,
            validateOnly ? 'info' : 'ok',
            orderClosed ? { ...detail, orderLink: 'closed: shipped as a whole in ShipStation' } : detail,
          ),
        );
      },
    };
  }

  /**
   * Entries (by index) whose shipment ShipStation shipped the order with as a whole, so that
   * writing it closes the order's link (`closeShippedOrder`) and the next orders poll gives the
   * order no follow-up push. Conservative; anything unsure leaves the link open, and the follow-up
   * stays the safety net (docs/decisions.md "Order links closed by the write-back"):
   * - a label (not a fulfillment: no items), not voided, on the ShipStation order the link is on,
   *   while the link is `open` (a marketplace order's link is `channel`: never);
   * - its lines carry every line last sent, with at least the units sent (`shippedAsAWhole`): a
   *   label of some items, one package of several, or the part of a split order is not whole;
   * - where the record says what ShipStation's order is now (V2 reads a label with its shipment),
   *   that is `shipped`; a V2 label read without it is not known to be whole.
   */
  private readonly shippedWhole = new Set<number>();

  /** The order of an entry's shipment, as `closeShippedOrder` and `reopenVoidedOrder` take it. */
  private orderOf(entry: Entry): ShippedOrder | undefined {
    const { orderKey, orderId, orderNumber } = entry.shipment;
    if (!orderKey) return undefined;
    return {
      connection: this.connectionName,
      orderKey,
      orderId,
      orderNumber,
      jobId: entry.job.id,
      shipment: entry.key,
      at: this.now(),
    };
  }

  /** A void of a written shipment: the order's link, if its write-back closed it, is open again. */
  private async reopenOrder(db: Kysely<Database>, entry: Entry): Promise<boolean> {
    const order = this.orderOf(entry);
    if (!order || this.wb.connection.syspro.validateOnly) return false;
    return reopenVoidedOrder(db, order);
  }

  private async findShippedWhole(entries: readonly Entry[]): Promise<void> {
    if (this.wb.connection.syspro.validateOnly) return;
    const api = this.wb.connection.shipstation.api;
    const candidates = entries.filter((e) => {
      const s = e.shipment;
      if (s.source !== 'shipment' || s.voided || s.lines === null || !s.orderKey) return false;
      if (typeof s.orderStatus === 'string') return s.orderStatus === 'shipped';
      return api === 'v1';
    });
    if (candidates.length === 0) return;
    const keys = [...new Set(candidates.map((e) => e.shipment.orderKey as string))];
    const links = await findLinks(this.store.db, this.connectionName, ORDER_ENTITY, keys);
    const open = candidates.filter((e) => {
      const link = links.get(e.shipment.orderKey as string);
      return link?.state === 'open' && link.shipstationId === String(e.shipment.orderId);
    });
    if (open.length === 0) return;
    const sent = await previousBodies(
      this.store,
      this.connectionName,
      open.map((e) => e.shipment.orderKey as string),
    );
    for (const entry of open) {
      if (shippedAsAWhole(sent.get(entry.shipment.orderKey as string), entry.shipment.lines))
        this.shippedWhole.add(entry.index);
    }
  }

  async run(): Promise<JobOutcome[]> {
    const entries: Entry[] = [];
    for (const [index, job] of this.jobs.entries()) {
      let shipment: ShipmentWrite;
      try {
        shipment = parseShipmentWrite(job.payload);
      } catch (error) {
        await appendAudit(this.store.db, {
          connection: this.connectionName,
          flow: SHIPMENTS_FLOW,
          entityType: SHIPMENT_ENTITY,
          entityKey: `job:${job.id}`,
          action: 'write',
          outcome: 'error',
          jobId: job.id,
          error: (error as Error).message,
          at: this.now(),
        });
        this.outcomes[index] = { ok: false, error };
        continue;
      }
      const key = shipmentLinkKey(shipment.source, shipment.id);
      entries.push({
        index,
        job,
        shipment,
        key,
        salesOrder: shipment.salesOrder?.trim() ?? '',
        link: undefined,
      });
    }
    const links = await findLinks(
      this.store.db,
      this.connectionName,
      SHIPMENT_ENTITY,
      entries.map((e) => e.key),
    );
    const writes: Entry[] = [];
    const voids: Entry[] = [];
    for (const entry of entries) {
      entry.link = links.get(entry.key);
      const stored = versionOfLink(entry.link);
      const { shipment } = entry;
      if (!entry.salesOrder) {
        this.finishSkipped(entry, 'write', 'not one of our sales orders (no orderKey / sales order)');
      } else if (stored !== undefined && shipment.version <= stored) {
        this.finishSkipped(
          entry,
          'write',
          shipment.version === stored
            ? `already ${entry.link?.state ?? 'written'} (version ${stored})`
            : `superseded: version ${shipment.version} is older than version ${stored} already handled`,
        );
      } else if (shipment.voided) {
        if (entry.link?.state === 'written') voids.push(entry);
        else
          this.finishSkipped(entry, 'void', 'voided before it was written to SYSPRO: nothing to undo', {
            state: 'voided',
          });
      } else if (entry.link?.state === 'written') {
        // A newer state of a shipment already written (not a void): SYSPRO already has it.
        this.finishSkipped(
          entry,
          'write',
          'a newer state of a shipment already written; SYSPRO is not changed',
          {
            state: 'written',
          },
        );
      } else {
        writes.push(entry);
      }
    }

    if (writes.length > 0) await this.findShippedWhole(writes);
    if (writes.length > 0 || voids.length > 0) {
      try {
        await this.wb.enet.withSession(
          async (session) => {
            for (const entry of voids) if (!this.stopped([entry])) await this.handleVoid(session, entry);
            if (this.wb.connection.syspro.writeback === 'dispatch-note') {
              await this.writeDispatchNotes(session, writes);
            } else {
              for (const entry of writes) {
                if (this.stopped([entry])) continue;
                try {
                  await this.writeOrderUpdate(session, entry);
                } catch (error) {
                  // SYSPRO not reached: the rest of the batch would fail the same way.
                  if (classifyError(error).delivery === 'not-sent') throw error;
                  if (this.outcomes[entry.index] === undefined) {
                    await appendAudit(
                      this.store.db,
                      this.audit(entry, 'order-update', 'error', {}, (error as Error).message),
                    );
                    this.outcomes[entry.index] = { ok: false, error };
                  }
                }
              }
            }
          },
          // Stopped while another batch holds the session: nothing was sent, the jobs are given back.
          { waitSignal: this.stop },
        );
      } catch (error) {
        // SYSPRO unreachable, in maintenance, the logon refused…: the jobs not yet settled fail with
        // it, and the engine decides (retry on its cadence, dead with the reason at the end).
        for (const entry of [...voids, ...writes]) {
          if (this.outcomes[entry.index] === undefined) this.outcomes[entry.index] = { ok: false, error };
        }
      }
    }
    return this.outcomes.map((o) => o ?? { ok: true });
  }

  // ── dispatch-note ────────────────────────────────────────────────────────────────────────────

  private async writeDispatchNotes(session: EnetSession, entries: Entry[]): Promise<void> {
    const pending: Entry[] = [];
    for (const entry of entries) {
      const reference = dispatchNoteReference(entry.key);
      try {
        const check = await checkInDoubt(entry.job, 'SYSPRO', () =>
          findDispatchNoteByReference(session, { salesOrder: entry.salesOrder, reference }),
        );
        if (check.done) {
          this.written(entry, 'dispatch-note', {
            answer: { dispatchNote: check.value.dispatchNote, foundBy: 'in-doubt check (SORQRY + SORQDN)' },
          });
          continue;
        }
      } catch (error) {
        this.outcomes[entry.index] = { ok: false, error };
        if ((error as { unresolved?: boolean }).unresolved) {
          await appendAudit(
            this.store.db,
            this.audit(entry, 'dispatch-note', 'error', {}, (error as Error).message),
          );
        }
        continue;
      }
      pending.push(entry);
    }
    if (pending.length === 0) return;

    const odataConfig = this.wb.connection.syspro.odata;
    let linesPerOrder = LINES_PER_ORDER.get(this.wb.odata);
    if (!linesPerOrder) {
      linesPerOrder = { value: 4 };
      LINES_PER_ORDER.set(this.wb.odata, linesPerOrder);
    }
    const openLines = await readOpenLines(this.wb.odata, [...new Set(pending.map((e) => e.salesOrder))], {
      rangeReads: odataConfig.rangeReads,
      rangePageSize: odataConfig.rangePageSize,
      linesPerOrder,
    });
    // Rounds: the n-th shipment of each sales order goes in round n, so no post carries two notes
    // of one order (the in-doubt check sees only each line's last note).
    const byOrder = new Map<string, Entry[]>();
    for (const entry of pending) {
      const list = byOrder.get(entry.salesOrder) ?? [];
      list.push(entry);
      byOrder.set(entry.salesOrder, list);
    }
    for (const list of byOrder.values()) {
      list.sort((a, b) => a.shipment.createdAtUtc - b.shipment.createdAtUtc || a.shipment.id - b.shipment.id);
    }
    const taken = new Map<string, Map<number, number>>();
    const blocked = new Set<string>();
    const options = mapOptions(this.wb.connection);
    const validateOnly = this.wb.connection.syspro.validateOnly;
    const maxUrl = this.wb.connection.syspro.maxUrlLength;
    for (let round = 0; ; round++) {
      const roundEntries = [...byOrder.values()]
        .map((l) => l[round])
        .filter((e): e is Entry => e !== undefined);
      if (roundEntries.length === 0) break;
      const items: Array<{ entry: Entry; note: DispatchNoteInput; plan: LinePlan; texts: DispatchTexts }> =
        [];
      for (const entry of roundEntries) {
        if (blocked.has(entry.salesOrder)) {
          this.outcomes[entry.index] = {
            ok: false,
            error: new RetryableError(
              `not sent: an earlier dispatch note of sales order ${entry.salesOrder} in this run is in doubt; it is checked first`,
            ),
          };
          continue;
        }
        const lines = openLines.get(entry.salesOrder);
        if (!lines || lines.length === 0) {
          await this.fail(
            entry,
            'dispatch-note',
            new PermanentError(
              `shipment ${entry.key} (order ${entry.shipment.orderNumber}): sales order ${entry.salesOrder} has no lines in SYSPRO (SorDetail), so nothing can be dispatched`,
            ),
          );
          continue;
        }
        const orderTaken = taken.get(entry.salesOrder) ?? new Map<number, number>();
        const trial = new Map(orderTaken);
        const plan = planShipmentLines(entry.shipment, lines, trial);
        if (plan.lines.length === 0) {
          await this.fail(
            entry,
            'dispatch-note',
            new PermanentError(
              `shipment ${entry.key} (order ${entry.shipment.orderNumber}): nothing is left open on sales order ${entry.salesOrder} to dispatch (${plan.notes.join('; ') || 'every line is dispatched'}). If a voided label's dispatch note is still in SYSPRO, reverse it and replay this job`,
            ),
            { notes: plan.notes },
          );
          continue;
        }
        const { note, texts } = toDispatchNote(entry.shipment, entry.salesOrder, plan, options);
        items.push({ entry, note, plan, texts });
      }
      if (items.length === 0) continue;

      const chunks = chunkByUrl(
        items,
        (chunk) =>
          dispatchPostUrlLength(
            this.wb.connection.syspro.enetUrl,
            chunk.map((c) => c.note),
            validateOnly,
            this.wb.connection.syspro.queryEncoding,
          ) <= maxUrl,
      );
      for (const chunk of chunks) {
        if (chunk.length === 0 || this.stopped(chunk.map((c) => c.entry))) continue;
        const notes = chunk.map((c) => c.note);
        let answer: ReturnType<typeof readDispatchItems>;
        try {
          const xmlOut = await session.post(
            SORTDN,
            buildDispatchNoteParameters({ validateOnly }),
            buildDispatchNotes(notes),
          );
          answer = readDispatchItems(xmlOut, chunk.length);
        } catch (error) {
          for (const { entry, note } of chunk) {
            blocked.add(entry.salesOrder);
            await appendAudit(
              this.store.db,
              this.audit(entry, 'dispatch-note', 'error', { posted: note }, (error as Error).message),
            );
            this.outcomes[entry.index] = { ok: false, error };
          }
          continue;
        }
        for (const [i, { entry, note, plan, texts }] of chunk.entries()) {
          const item = answer[i];
          const posted = { ...note, overflowTracking: texts.overflow, notes: plan.notes };
          if (!item) {
            blocked.add(entry.salesOrder);
            await this.fail(
              entry,
              'dispatch-note',
              new WritebackInDoubt(
                `SYSPRO's SORTDN answer has no result for the dispatch note of shipment ${entry.key} (sales order ${entry.salesOrder}); it may have been posted and is checked before anything is sent again`,
              ),
              { posted },
            );
            continue;
          }
          const failed = item.errors.length > 0 || /fail/i.test(item.status ?? '');
          if (failed) {
            const what = item.errors.length > 0 ? describeProblems(item.errors) : `status ${item.status}`;
            await this.fail(
              entry,
              'dispatch-note',
              new PermanentError(
                `SYSPRO refused the dispatch note of shipment ${entry.key} (order ${entry.shipment.orderNumber}) for sales order ${entry.salesOrder}: ${what}`,
              ),
              { posted, answer: item },
            );
            continue;
          }
          const orderTaken = taken.get(entry.salesOrder) ?? new Map<number, number>();
          for (const l of plan.lines) {
            orderTaken.set(l.salesOrderLine, (orderTaken.get(l.salesOrderLine) ?? 0) + l.quantity);
          }
          taken.set(entry.salesOrder, orderTaken);
          this.written(entry, 'dispatch-note', { posted, answer: item });
        }
      }
    }
  }

  // ── order-update ─────────────────────────────────────────────────────────────────────────────

  /**
   * What our order updates have shipped on each line of a sales order. The link is saved with each
   * job's completion, after the whole batch; so within a batch (several packages of one order in
   * one label batch) the run's own totals are the truth, or each package would set the line's ship
   * quantity to its own share instead of adding to the one before.
   */
  private readonly shippedInRun = new Map<string, Record<string, number>>();

  private noteShipped(salesOrder: string, after: Record<string, number>): void {
    if (!this.wb.connection.syspro.validateOnly) this.shippedInRun.set(salesOrder, after);
  }

  private async shippedByUs(salesOrder: string): Promise<Record<string, number>> {
    const inRun = this.shippedInRun.get(salesOrder);
    if (inRun) return { ...inRun };
    const link = await findLink(this.store.db, this.connectionName, SHIPMENT_ORDER_ENTITY, salesOrder);
    try {
      return link?.lastHash ? (JSON.parse(link.lastHash) as Record<string, number>) : {};
    } catch {
      return {};
    }
  }

  private async writeOrderUpdate(session: EnetSession, entry: Entry): Promise<void> {
    const { connection } = this.wb;
    const syspro = connection.syspro;
    const fields = connection.shipments.orderUpdate;
    const validateOnly = syspro.validateOnly;
    const order = await querySalesOrder(session, {
      salesOrder: entry.salesOrder,
      options: { includeCustomForms: true, includeCompletedLines: true },
    });
    if (!order.found) {
      await this.fail(
        entry,
        'order-update',
        new PermanentError(`shipment ${entry.key}: sales order ${entry.salesOrder} was not found in SYSPRO`),
      );
      return;
    }
    const tracking = entry.shipment.trackingNumbers;
    const current = fieldValue(order, fields.trackingField);
    // In doubt: the tracking field is written after the ship quantities; if it holds our numbers,
    // the update went through. Every step sets absolute values, so redoing them is harmless.
    const check = await checkInDoubt(entry.job, 'SYSPRO', async () =>
      trackingFieldHolds(current, tracking) ? { state: 'done', value: true } : { state: 'absent' },
    );
    if (check.done) {
      this.written(entry, 'order-update', {
        answer: { foundBy: `in-doubt check (SORQRY ${fields.trackingField})` },
      });
      return;
    }
    const lines: OpenLine[] = order.lines
      .filter((l) => l.type === 'merchandise' && l.line !== undefined)
      .map((l) => ({
        salesOrderLine: l.line as number,
        stockCode: l.stockCode ?? '',
        lineType: '1',
        orderQty: l.orderQty ?? 0,
        dispatchedQty: l.dispatchedQty ?? 0,
        shipQty: l.shipQty ?? 0,
      }));
    const before = await this.shippedByUs(entry.salesOrder);
    // What is open for this shipment: the line's open quantity less what earlier shipments set.
    const taken = new Map<number, number>(Object.entries(before).map(([k, v]) => [Number(k), v]));
    const plan = planShipmentLines(entry.shipment, lines, taken);
    if (plan.lines.length === 0) {
      await this.fail(
        entry,
        'order-update',
        new PermanentError(
          `shipment ${entry.key}: nothing is left open on sales order ${entry.salesOrder} (${plan.notes.join('; ') || 'every line is shipped'})`,
        ),
        { notes: plan.notes },
      );
      return;
    }
    const after: Record<string, number> = { ...before };
    for (const l of plan.lines)
      after[String(l.salesOrderLine)] = (after[String(l.salesOrderLine)] ?? 0) + l.quantity;
    const carrier = carrierText(entry.shipment.carrierCode, connection.mappings.carriers);
    const merged = mergeTrackingField(current, tracking, fields.trackingWidth);
    const shipDate = sysproDate(entry.shipment.shipDateUtc, syspro.timezone);
    const byLine = new Map(order.lines.map((l) => [l.line, l]));
    const posted = {
      salesOrder: entry.salesOrder,
      shippingInstrs: carrier.slice(0, 30),
      lines: plan.lines.map((l) => ({
        salesOrderLine: l.salesOrderLine,
        shipQty: Math.min(
          after[String(l.salesOrderLine)] ?? 0,
          openQuantity(lines.find((x) => x.salesOrderLine === l.salesOrderLine) as OpenLine),
        ),
      })),
      customForm: {
        [fields.trackingField]: merged.value,
        [fields.carrierField]: carrier,
        [fields.shipDateField]: shipDate,
      },
      /** What this shipment adds per line (the ship quantities above are the order's totals). */
      planned: plan.lines,
      overflowTracking: merged.overflow,
      notes: plan.notes,
    };
    const importResult = await importSalesOrders(
      session,
      [
        {
          action: 'change',
          salesOrder: entry.salesOrder,
          customer: order.customer ?? '',
          customerPoNumber: order.customerPoNumber ?? '',
          shippingInstrs: carrier ? carrier.slice(0, 30) : undefined,
          lines: posted.lines.map((l) => {
            const line = byLine.get(l.salesOrderLine);
            return {
              kind: 'stock' as const,
              action: 'change' as const,
              customerPoLine: line?.customerPoLine || String(l.salesOrderLine),
              salesOrderLine: l.salesOrderLine,
              stockCode: line?.stockCode ?? '',
              orderQty: line?.orderQty ?? 0,
              shipQty: l.shipQty,
            };
          }),
        },
      ],
      { validateOnly },
    );
    if (importResult.outcome.failed) {
      await this.fail(
        entry,
        'order-update',
        new PermanentError(
          `SYSPRO refused the order update of shipment ${entry.key} for sales order ${entry.salesOrder}: ${describeProblems(importResult.outcome.errors) || 'SORTOI reported a failure'}`,
        ),
        { posted, answer: { sortoi: importResult.outcome } },
      );
      return;
    }
    this.noteShipped(entry.salesOrder, after);
    const formType = syspro.customFormType;
    const formResult = await setCustomFormFields(
      session,
      [
        { formType, keyField: entry.salesOrder, fieldName: fields.carrierField, alphaValue: carrier },
        { formType, keyField: entry.salesOrder, fieldName: fields.shipDateField, dateValue: shipDate },
        // Last: its presence is what the in-doubt check looks for.
        { formType, keyField: entry.salesOrder, fieldName: fields.trackingField, alphaValue: merged.value },
      ],
      { validateOnly, mode: 'update' },
    );
    if (formResult.outcome.failed) {
      await this.fail(
        entry,
        'order-update',
        new PermanentError(
          `SYSPRO refused the custom form fields of shipment ${entry.key} on sales order ${entry.salesOrder}: ${describeProblems(formResult.outcome.errors)}`,
        ),
        { posted, answer: { comsfm: formResult.outcome } },
      );
      return;
    }
    const complete = lines.every(
      (l) => openQuantity(l) <= 0 || (after[String(l.salesOrderLine)] ?? 0) >= openQuantity(l),
    );
    let status: string | undefined;
    if (complete && fields.completeStatus !== 'none') {
      const statusResult = await changeOrderStatus(
        session,
        [{ salesOrder: entry.salesOrder, newStatus: fields.completeStatus }],
        { validateOnly },
      );
      if (statusResult.outcome.failed) {
        await this.fail(
          entry,
          'order-update',
          new PermanentError(
            `SYSPRO refused the status change of sales order ${entry.salesOrder} to ${fields.completeStatus} after shipment ${entry.key}: ${describeProblems(statusResult.outcome.errors)}`,
          ),
          { posted, answer: { sortos: statusResult.outcome } },
        );
        return;
      }
      status = fields.completeStatus;
    }
    this.written(entry, 'order-update', { posted, answer: { status: status ?? null } }, async (db) => {
      await this.saveOrderShipped(db, entry, after);
    });
  }

  /** What the order-update strategy has written on the order (ship quantities, tracking), for the next write. */
  private saveOrderShipped(db: Kysely<Database>, entry: Entry, after: unknown): Promise<void> {
    // The run's latest totals of the order: the jobs of one batch complete in any order.
    const latest = this.shippedInRun.get(entry.salesOrder) ?? after;
    return saveLink(
      db,
      {
        connection: this.connectionName,
        entityType: SHIPMENT_ORDER_ENTITY,
        sysproKey: entry.salesOrder,
        lastHash: JSON.stringify(latest),
      },
      this.now(),
    );
  }

  // ── voids ────────────────────────────────────────────────────────────────────────────────────

  private async lastWrite(entry: Entry): Promise<Record<string, unknown> | undefined> {
    const rows = await listAudit(this.store.db, {
      connection: this.connectionName,
      entityType: SHIPMENT_ENTITY,
      entityKey: entry.key,
      outcome: 'ok',
      limit: 20,
    });
    for (const row of rows) {
      if (row.action !== 'dispatch-note' && row.action !== 'order-update') continue;
      try {
        return { action: row.action, ...(JSON.parse(row.detail ?? '{}') as Record<string, unknown>) };
      } catch {
        return { action: row.action };
      }
    }
    return undefined;
  }

  private async handleVoid(session: EnetSession, entry: Entry): Promise<void> {
    const mode = this.wb.connection.shipments.voids;
    const written = await this.lastWrite(entry);
    const answer = written?.answer as { dispatchNote?: string } | undefined;
    const posted = written?.posted as
      | { lines?: Array<{ salesOrderLine: number; shipQty: number }> }
      | undefined;
    const strategy = written?.action ?? this.wb.connection.syspro.writeback;
    if (mode === 'reverse' && strategy === 'order-update' && posted?.lines) {
      await this.reverseOrderUpdate(session, entry, written as Record<string, unknown>);
      return;
    }
    const what =
      strategy === 'dispatch-note'
        ? `reverse dispatch note ${answer?.dispatchNote ?? '(see the audit trail)'} of sales order ${entry.salesOrder} by hand`
        : `take the ship quantities of this shipment off sales order ${entry.salesOrder} by hand`;
    const why =
      mode === 'reverse' && strategy === 'dispatch-note'
        ? ' (shipments.voids is reverse, but a dispatch note cannot be cancelled through the write-back: SORTDC is not supported)'
        : '';
    const message = `label voided in ShipStation after it was written to SYSPRO: ${what}${why}. Shipment ${entry.key}, order ${entry.shipment.orderNumber}, tracking ${entry.shipment.trackingNumbers.join(' ') || '(none)'}`;
    // Flagged, not undone: the job fails (no completing transaction), so this is stored now too.
    const reopened = await this.reopenOrder(this.store.db, entry);
    await this.fail(entry, 'void', new PermanentError(message), {
      flagged: true,
      dispatchNote: answer?.dispatchNote ?? null,
      ...(reopened ? { orderLink: 'open again: the label was voided' } : {}),
    });
  }

  /** The opposite movement of an order update: the shipment's ship quantities taken off again. */
  private async reverseOrderUpdate(session: EnetSession, entry: Entry, written: Record<string, unknown>) {
    const fields = this.wb.connection.shipments.orderUpdate;
    const validateOnly = this.wb.connection.syspro.validateOnly;
    const order = await querySalesOrder(session, {
      salesOrder: entry.salesOrder,
      options: { includeCustomForms: true },
    });
    if (!order.found) {
      await this.fail(
        entry,
        'void',
        new PermanentError(
          `label voided in ShipStation after it was written to SYSPRO, and sales order ${entry.salesOrder} is no longer in SYSPRO: check it by hand`,
        ),
      );
      return;
    }
    const before = await this.shippedByUs(entry.salesOrder);
    const shipped = (written.posted as { lines: Array<{ salesOrderLine: number }> }).lines;
    // The quantities this shipment added, from what was planned (shipQty in the audit is the total).
    const planned = planFromAudit(written);
    const after: Record<string, number> = { ...before };
    for (const { salesOrderLine, quantity } of planned) {
      after[String(salesOrderLine)] = Math.max(0, (after[String(salesOrderLine)] ?? 0) - quantity);
    }
    const byLine = new Map(order.lines.map((l) => [l.line, l]));
    const lines = shipped.map((l) => {
      const line = byLine.get(l.salesOrderLine);
      const open = Math.max(0, (line?.orderQty ?? 0) - (line?.dispatchedQty ?? 0));
      return {
        kind: 'stock' as const,
        action: 'change' as const,
        customerPoLine: line?.customerPoLine || String(l.salesOrderLine),
        salesOrderLine: l.salesOrderLine,
        stockCode: line?.stockCode ?? '',
        orderQty: line?.orderQty ?? 0,
        shipQty: Math.min(open, after[String(l.salesOrderLine)] ?? 0),
      };
    });
    const result = await importSalesOrders(
      session,
      [
        {
          action: 'change',
          salesOrder: entry.salesOrder,
          customer: order.customer ?? '',
          customerPoNumber: order.customerPoNumber ?? '',
          lines,
        },
      ],
      { validateOnly },
    );
    if (result.outcome.failed) {
      await this.fail(
        entry,
        'void',
        new PermanentError(
          `label voided in ShipStation after it was written to SYSPRO; reversing the ship quantities of sales order ${entry.salesOrder} failed: ${describeProblems(result.outcome.errors)}. Reverse them by hand`,
        ),
      );
      return;
    }
    this.noteShipped(entry.salesOrder, after);
    const current = fieldValue(order, fields.trackingField) ?? '';
    const voidedNumbers = new Set(entry.shipment.trackingNumbers.map((t) => t.trim()));
    const remaining = current
      .split(/\s+/)
      .filter((w) => w && !voidedNumbers.has(w))
      .join(' ');
    await setCustomFormFields(
      session,
      [
        {
          formType: this.wb.connection.syspro.customFormType,
          keyField: entry.salesOrder,
          fieldName: fields.trackingField,
          alphaValue: remaining,
        },
      ],
      { validateOnly, mode: 'update' },
    );
    const reason = 'label voided in ShipStation after it was written to SYSPRO: ship quantities reversed';
    this.outcomes[entry.index] = {
      ok: true,
      result: { reversed: true },
      record: async (db) => {
        if (validateOnly) {
          await appendAudit(
            db,
            this.audit(entry, 'void (validate only)', 'info', { reason, reversed: lines }),
          );
          return;
        }
        await saveLink(
          db,
          {
            connection: this.connectionName,
            entityType: SHIPMENT_ENTITY,
            sysproKey: entry.key,
            shipstationId: String(entry.shipment.id),
            lastHash: `v${entry.shipment.version}`,
            state: 'reversed',
          },
          this.now(),
        );
        await this.saveOrderShipped(db, entry, after);
        const reopened = await this.reopenOrder(db, entry);
        await appendAudit(
          db,
          this.audit(entry, 'void', 'ok', {
            reason,
            reversed: lines,
            ...(reopened ? { orderLink: 'open again: the label was voided' } : {}),
          }),
        );
      },
    };
  }
}

function planFromAudit(
  written: Record<string, unknown>,
): Array<{ salesOrderLine: number; quantity: number }> {
  const posted = written.posted as
    | { planned?: Array<{ salesOrderLine: number; quantity: number }> }
    | undefined;
  return posted?.planned ?? [];
}

function fieldValue(order: SalesOrderDetail, name: string): string | undefined {
  const key = Object.keys(order.customForms).find((k) => k.toUpperCase() === name.toUpperCase());
  return key === undefined ? undefined : order.customForms[key];
}

/** Greedy chunks within the URL limit; an item that does not fit alone gets a chunk of its own (and fails as too large). */
function chunkByUrl<T>(items: readonly T[], fits: (chunk: readonly T[]) => boolean): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  for (const item of items) {
    if (current.length === 0 || fits([...current, item])) {
      current.push(item);
      continue;
    }
    chunks.push(current);
    current = [item];
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export function writebackHandlers(deps: WritebackDeps): JobHandler[] {
  return [
    {
      kind: SHIPMENT_WRITEBACK_KIND,
      // A backlog of 1,000 goes through one e.net session: ~44 posts within the URL limit, one logon
      // and one logoff, and one read of the open lines (bench/writeback.ts).
      batchSize: 1000,
      // In doubt: the dispatch note (or the order's tracking field) is looked for before posting.
      checksInDoubt: true,
      async run(jobs, context) {
        const name = jobs[0]?.connection as string;
        const connection = await deps.connectionFor(name);
        return new WritebackRun(deps, jobs, connection, waitSignal(context?.signal)).run();
      },
    },
  ];
}
