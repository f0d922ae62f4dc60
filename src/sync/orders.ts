/**
 * Orders SYSPRO → ShipStation: the poll and the push, as job handlers over the clients and the store.
 *
 * Poll (`orders.poll`, a singleton per connection). SYSPRO has no "last modified" column on
 * SorMaster, so each poll reads, page by page, the orders in the configured statuses plus those
 * entered since the last entry watermark (with an overlap), with their lines and customers; maps
 * each (`orders-mapper.ts`) and compares its hash with the one last pushed (the `links` table).
 * Only new or changed orders become `orders.push` jobs (one per order, keyed by orderKey, carrying
 * the mapped body). Orders ShipStation has as open that this poll did not see have left the polled
 * statuses (cancelled, complete, suspended, deleted): each gets one follow-up push job that reads
 * the order again in whatever status it has now; an order whose shipment write-back found it
 * shipped as a whole in ShipStation had its link closed there (`closeShippedOrder`) and needs none.
 * A site with a change column (`syspro.changeColumn`)
 * reads only rows past the last value instead, in any status, and needs no follow-ups. Memory stays
 * bounded by a page (plus the set of keys seen and the customers of the pass).
 *
 * Push (`orders.push`, up to 100 jobs per call of `createorders`). ShipStation upserts by orderKey,
 * so sending an order again is safe: an attempt whose answer was lost or in doubt is resent as is
 * (the upsert is the check). Per-order results: a refused order is that job's error and audit row,
 * the rest land; an order ShipStation has as shipped or cancelled is not overwritten (recorded as
 * skipped, its link closed), and one split in ShipStation is not re-pushed whole (`split-check.ts`:
 * skipped, link closed, and a Problem for the operator). A push in doubt with no link asks
 * ShipStation by key first where that is one GET (V2), so an order an earlier attempt created is
 * updated and checked, not sent as new.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ConnectionConfig } from '../config/schema.js';
import { PermanentError } from '../engine/errors.js';
import type { JobHandler, JobOutcome } from '../engine/handler.js';
import { POLL_KINDS } from '../engine/scheduler.js';
import type { ShipStation } from '../shipstation/api.js';
import type { V1Order, V1OrderInput } from '../shipstation/types.js';
import { appendAudit, latestAuditDetails, listAudit } from '../store/audit.js';
import { readCheckpoint, writeCheckpoint } from '../store/checkpoints.js';
import type { Database } from '../store/database.js';
import { enqueueJobs, type NewJob } from '../store/jobs/enqueue.js';
import type { Job } from '../store/jobs/job.js';
import { findLinks, listLinkKeys, saveLink } from '../store/links.js';
import type { Store } from '../store/open.js';
import {
  and,
  dateLiteral,
  dateTimeLiteral,
  ge,
  gt,
  lt,
  type ODataFilter,
  type ODataLiteral,
  oneOf,
  or,
} from '../syspro/odata-filter.js';
import type { ODataReader } from '../syspro/odata-reader.js';
import { CHANNEL_LINK_STATE, CHANNEL_PO_ENTITY, poLinkKey } from './channel-orders.js';
import { recordFirstLinksApi } from './links-api.js';
import {
  AR_CUSTOMER_COLUMNS,
  type ArCustomerRow,
  canonicalJson,
  DEFAULT_ORDER_MAP_OPTIONS,
  type MapProblem,
  type MapResult,
  mapSalesOrder,
  type OrderMapOptions,
  orderKeyFor,
  SOR_DETAIL_COLUMNS,
  SOR_MASTER_COLUMNS,
  type SorDetailRow,
  type SorMasterRow,
} from './orders-mapper.js';
import { splitInShipStation } from './split-check.js';

export const ORDERS_POLL_KIND = POLL_KINDS.orders;
export const ORDERS_PUSH_KIND = 'orders.push';
export const ORDER_ENTITY = 'order';
/** Links that remember the last problems reported for an order that cannot be mapped. */
export const ORDER_PROBLEM_ENTITY = 'order.problem';
/** The `field` of the problem an order split in ShipStation is reported with (problems.ts words it). */
export const SPLIT_PROBLEM_FIELD = 'shipstation';
const FLOW = 'orders';
const ENTRY_WATERMARK = 'orders.entry-watermark';
const CHANGE_WATERMARK = 'orders.change-watermark';

/** What the handlers need of a connection: its config and its clients (made once per process). */
export interface OrdersConnection {
  connection: ConnectionConfig;
  odata: ODataReader;
  shipstation: Pick<
    ShipStation,
    'api' | 'keyLookup' | 'createOrUpdateOrders' | 'getOrder' | 'holdOrderUntil' | 'findOrderByKey'
  >;
}

export interface OrdersFlowDeps {
  store: Store;
  clock: Clock;
  /** The connection's config and clients, by connection name. */
  connectionFor(name: string): Promise<OrdersConnection>;
  logger?: Logger;
  /** Rows per OData page of SorMaster (default: the connection's `syspro.odata.pageSize`). */
  pageSize?: number;
  /** Push batches run at once by the push handler (default 1; `ordersPushConcurrency`). */
  pushConcurrency?: number;
  /** Orders per push call (default 100, ShipStation's most; `ordersPushBatchSize`). */
  pushBatchSize?: number;
  /**
   * Push calls each connection's ShipStation key may still send now (`JobHandler.capacity`), so
   * the push claims a connection with budget left instead of waiting on a spent key.
   */
  pushCapacity?: () => Promise<ReadonlyMap<string, number>>;
}

/** Push batches in flight at once when none is configured: V2's budget needs several (schema.ts). */
export const DEFAULT_PUSH_CONCURRENCY = { v1: 1, v2: 4 } as const;

/**
 * The push handler's concurrency for these connections: the largest `shipstation.pushConcurrency`
 * (default by API, `DEFAULT_PUSH_CONCURRENCY`). The worker's concurrency is per job kind, not per
 * connection; each connection's limiter still holds its calls to its budget.
 */
export function ordersPushConcurrency(connections: readonly ConnectionConfig[]): number {
  let most = 1;
  for (const c of connections) {
    const n = c.shipstation.pushConcurrency ?? DEFAULT_PUSH_CONCURRENCY[c.shipstation.api];
    most = Math.max(most, n);
  }
  return most;
}

/** Orders per push call for these connections: the smallest `shipstation.pushBatchSize` (100 if none). */
export function ordersPushBatchSize(connections: readonly ConnectionConfig[]): number {
  let least = MAX_PUSH_BATCH;
  for (const c of connections) least = Math.min(least, c.shipstation.pushBatchSize);
  return least;
}

/** ShipStation's most orders per create call (V1 `createorders`, V2 bulk create). */
export const MAX_PUSH_BATCH = 100;

export interface PushPayload {
  orderKey: string;
  salesOrder: string;
  /** Absent for a follow-up: the handler reads the order again. */
  order?: V1OrderInput;
  hash?: string;
  holdUntil?: string;
  /** What was read from SYSPRO, for the audit trail (the mapped body is in `order`). */
  read?: SysproReadSummary;
}

/** The SYSPRO rows an order was mapped from, in brief (status, lines, customer, what they came to). */
export interface SysproReadSummary {
  orderStatus: string;
  customer: string;
  lines: Array<{ line: number; type: string; stockCode: string | null; shipQty: number | null }>;
}

function summariseRead(header: SorMasterRow, lines: readonly SorDetailRow[]): SysproReadSummary {
  return {
    orderStatus: header.OrderStatus,
    customer: header.Customer,
    lines: lines.map((l) => ({
      line: Number(l.SalesOrderLine),
      type: l.LineType,
      stockCode: l.MStockCode?.trim() || null,
      shipQty: l.MShipQty ?? null,
    })),
  };
}

/**
 * What a poll may be asked beyond the scheduled pass (`sync orders`, `backfill orders`). Without
 * options a poll does exactly what the scheduled `orders.poll` job does.
 */
export interface PollOptions {
  /**
   * Map, validate and compare with the links, and tell `onDecision`; write nothing at all (no
   * jobs, links, audit rows or watermarks) and call nothing but SYSPRO's OData.
   */
  dryRun?: boolean;
  /** Only these sales orders, in whatever status SYSPRO has them. */
  salesOrders?: readonly string[];
  /** Only orders entered (`EntrySystemDate`) on or after this date, `YYYY-MM-DD` (SYSPRO's date). */
  entryFrom?: string;
  /** Only orders entered on or before this date (inclusive), `YYYY-MM-DD`. */
  entryTo?: string;
  /** Told what is decided for each order read (and, in a full pass, each follow-up). */
  onDecision?: (decision: OrderDecision) => void;
  /** Awaited after each page with the summary so far (a backfill pushes what the page queued). */
  onPage?: (summary: PollSummary) => Promise<void> | void;
}

/**
 * What a poll decides for one order: `new`/`changed` are sent (queued), `unchanged` is not,
 * `invalid` cannot be mapped (problems), `skipped` has nothing to send (reason), `closed` is one
 * ShipStation has shipped or cancelled (never overwritten), `follow-up` is an order open in
 * ShipStation that left the polled statuses (read again by its push job), `not-found` is a sales
 * order asked for by name that SYSPRO does not have.
 */
export interface OrderDecision {
  salesOrder: string;
  orderKey: string;
  decision: 'new' | 'changed' | 'unchanged' | 'invalid' | 'skipped' | 'closed' | 'follow-up' | 'not-found';
  /** The body that is (or would be) sent. */
  order?: V1OrderInput;
  hash?: string;
  /** `changed`: the top-level fields that differ from the body last sent. */
  changed?: string[];
  problems?: MapProblem[];
  reason?: string;
}

export interface PollSummary {
  read: number;
  queued: number;
  unchanged: number;
  skipped: number;
  invalid: number;
  followUps: number;
  odataRequests: number;
}

export function orderMapOptions(connection: ConnectionConfig): OrderMapOptions {
  const o = connection.orders;
  return {
    ...DEFAULT_ORDER_MAP_OPTIONS,
    company: connection.syspro.company,
    sysproTimezone: connection.syspro.timezone,
    orderNumberPadding: o.orderNumberPadding,
    orderNumberPrefix: o.orderNumberPrefix,
    addressLayout: o.addressLayout,
    defaultCountry: o.defaultCountry,
    massUnit: o.massUnit,
    warehouses: connection.mappings.warehouses,
    stores: o.stores,
    storeId: connection.shipstation.storeId,
    shippingInstructions: o.shippingInstructions,
    customerPoField: o.customerPoField,
    itemLineTypes: o.itemLineTypes,
  };
}

function pushJobKey(connection: string, orderKey: string): string {
  return `${ORDERS_PUSH_KIND}:${connection}:${orderKey}`;
}

/**
 * Queues a sync of single orders (a nudge from a SYSPRO trigger, a customer change): a push job
 * with no body, which reads each order again as SYSPRO has it now. Coalesced by the job key with
 * the poll's jobs for the same order, so a nudge during a poll adds nothing twice.
 */
export async function queueOrderSyncs(
  store: Store,
  connection: ConnectionConfig,
  salesOrders: readonly string[],
  now: number,
): Promise<Array<{ salesOrder: string; jobId: number; created: boolean }>> {
  const jobs: NewJob[] = salesOrders.map((salesOrder) => {
    const orderKey = orderKeyFor(connection.syspro.company, salesOrder);
    return {
      kind: ORDERS_PUSH_KIND,
      connection: connection.name,
      idempotencyKey: pushJobKey(connection.name, orderKey),
      payload: { orderKey, salesOrder: salesOrder.trim() } satisfies PushPayload,
    };
  });
  const results = jobs.length === 0 ? [] : await enqueueJobs(store, jobs, now);
  return results.map((r, i) => ({ salesOrder: salesOrders[i] as string, jobId: r.id, created: r.created }));
}

/** Lines and customers of a page of headers, read with as few OData requests as fit the URL limit. */
async function readDetails(
  odata: ODataReader,
  headers: readonly SorMasterRow[],
  customers: Map<string, ArCustomerRow>,
): Promise<Map<string, SorDetailRow[]>> {
  const lines = new Map<string, SorDetailRow[]>();
  const salesOrders = headers.map((h) => h.SalesOrder);
  if (salesOrders.length > 0) {
    for await (const page of odata.pagesByKeys<SorDetailRow>('SorDetail', 'SalesOrder', salesOrders, {
      select: SOR_DETAIL_COLUMNS,
      orderBy: ['SalesOrder', 'SalesOrderLine'],
    })) {
      for (const row of page) {
        const list = lines.get(row.SalesOrder) ?? [];
        list.push(row);
        lines.set(row.SalesOrder, list);
      }
    }
  }
  const missing = [...new Set(headers.map((h) => h.Customer))].filter((c) => c && !customers.has(c));
  if (missing.length > 0) {
    for await (const page of odata.pagesByKeys<ArCustomerRow>('ArCustomer', 'Customer', missing, {
      select: AR_CUSTOMER_COLUMNS,
      orderBy: ['Customer'],
    })) {
      for (const row of page) customers.set(row.Customer, row);
    }
  }
  return lines;
}

function maxDate(a: string | undefined, b: string | null | undefined): string | undefined {
  if (!b) return a;
  return a === undefined || b > a ? b : a;
}

/** `YYYY-MM-DD` as a date literal of the site's OData (`syspro.odata.dateType`), at SYSPRO midnight. */
function entryDateLiteral(connection: ConnectionConfig, date: string): ODataLiteral {
  return connection.syspro.odata.dateType === 'Date'
    ? dateLiteral(date)
    : dateTimeLiteral(`${date}T00:00:00Z`);
}

/** The day after a `YYYY-MM-DD` date, same form. */
function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** The filter of a targeted poll (sales orders named, an entry-date range), or undefined for a full pass. */
function targetFilter(connection: ConnectionConfig, options: PollOptions): ODataFilter | undefined {
  const { salesOrders, entryFrom, entryTo } = options;
  if (salesOrders === undefined && entryFrom === undefined && entryTo === undefined) return undefined;
  const dates = entryFrom !== undefined || entryTo !== undefined;
  return and(
    salesOrders === undefined
      ? undefined
      : oneOf(
          'SalesOrder',
          salesOrders.map((s) => s.trim()),
        ),
    // A range reads the orders in the configured statuses only, like the scheduled pass.
    dates ? oneOf('OrderStatus', connection.syspro.orderStatuses) : undefined,
    entryFrom === undefined ? undefined : ge('EntrySystemDate', entryDateLiteral(connection, entryFrom)),
    entryTo === undefined ? undefined : lt('EntrySystemDate', entryDateLiteral(connection, nextDay(entryTo))),
  ) as ODataFilter;
}

/**
 * One orders poll of one connection. Returns what it did (also logged and audited per order).
 *
 * With `options` (see `PollOptions`): `salesOrders` and/or an entry-date range make a targeted
 * poll, which reads only those orders and leaves the watermarks and the follow-ups to the
 * scheduled pass (it did not see every open order, so it cannot tell which left the statuses);
 * `dryRun` writes nothing. Without options it is the scheduled poll, unchanged.
 */
export async function pollOrders(
  deps: OrdersFlowDeps,
  connectionName: string,
  signal?: AbortSignal,
  pollOptions: PollOptions = {},
): Promise<PollSummary> {
  const { store, clock } = deps;
  const { connection, odata } = await deps.connectionFor(connectionName);
  const options = orderMapOptions(connection);
  const requestsBefore = odata.stats.requests;
  const dryRun = pollOptions.dryRun === true;
  const summary: PollSummary = {
    read: 0,
    queued: 0,
    unchanged: 0,
    skipped: 0,
    invalid: 0,
    followUps: 0,
    odataRequests: 0,
  };
  const targeted = targetFilter(connection, pollOptions);
  const changeColumn = connection.syspro.changeColumn;
  const overlapMs = connection.orders.entryOverlap;
  let filter: ODataFilter | undefined;
  let lastChange: string | undefined;
  if (targeted) {
    filter = targeted;
  } else if (changeColumn) {
    lastChange = await readCheckpoint(store.db, connectionName, CHANGE_WATERMARK);
    filter = lastChange === undefined ? undefined : gt(changeColumn, Number(lastChange));
  } else {
    const watermark = await readCheckpoint(store.db, connectionName, ENTRY_WATERMARK);
    const since = watermark === undefined ? undefined : Date.parse(watermark) - overlapMs;
    filter = or(
      oneOf('OrderStatus', connection.syspro.orderStatuses),
      since === undefined || Number.isNaN(since) ? undefined : ge('EntrySystemDate', dateTimeLiteral(since)),
    );
  }
  const select = changeColumn ? [...SOR_MASTER_COLUMNS, changeColumn] : [...SOR_MASTER_COLUMNS];
  const customers = new Map<string, ArCustomerRow>();
  const seen = new Set<string>();
  let entryWatermark: string | undefined;
  let changeWatermark = lastChange === undefined ? undefined : Number(lastChange);

  for await (const headers of odata.pages<SorMasterRow & Record<string, unknown>>('SorMaster', {
    select,
    filter,
    orderBy: ['SalesOrder'],
    pageSize: deps.pageSize,
    signal,
  })) {
    signal?.throwIfAborted();
    const lines = await readDetails(odata, headers, customers);
    const results = headers.map((header) => {
      entryWatermark = maxDate(entryWatermark, header.EntrySystemDate);
      if (changeColumn) {
        const value = Number(header[changeColumn]);
        if (Number.isFinite(value) && (changeWatermark === undefined || value > changeWatermark)) {
          changeWatermark = value;
        }
      }
      const orderLines = lines.get(header.SalesOrder) ?? [];
      return {
        header,
        lines: orderLines,
        result: mapSalesOrder(
          { header, lines: orderLines, customer: customers.get(header.Customer) },
          options,
        ),
      };
    });
    summary.read += results.length;
    const jobs = await decidePage(deps, connectionName, results, summary, pollOptions);
    for (const r of results) seen.add(r.result.orderKey);
    if (jobs.length > 0 && !dryRun) await enqueueJobs(store, jobs, clock.now());
    summary.queued += jobs.length;
    await pollOptions.onPage?.({ ...summary, odataRequests: odata.stats.requests - requestsBefore });
  }

  if (targeted) {
    const missing = (pollOptions.salesOrders ?? [])
      .map((salesOrder) => ({
        salesOrder: salesOrder.trim(),
        orderKey: orderKeyFor(connection.syspro.company, salesOrder),
      }))
      .filter((m) => !seen.has(m.orderKey));
    const byRange = pollOptions.entryFrom !== undefined || pollOptions.entryTo !== undefined;
    const links = byRange
      ? new Map()
      : await findLinks(
          store.db,
          connectionName,
          ORDER_ENTITY,
          missing.map((m) => m.orderKey),
        );
    const followUps: NewJob[] = [];
    for (const { salesOrder, orderKey } of missing) {
      if (links.get(orderKey)?.state === 'open') {
        // Named, open in ShipStation, gone from SYSPRO: its push job cancels it there (as a follow-up would).
        pollOptions.onDecision?.({
          salesOrder,
          orderKey,
          decision: 'follow-up',
          reason: 'open in ShipStation but SYSPRO no longer has it: read again, and cancelled in ShipStation',
        });
        followUps.push({
          kind: ORDERS_PUSH_KIND,
          connection: connectionName,
          idempotencyKey: pushJobKey(connectionName, orderKey),
          payload: { orderKey, salesOrder } satisfies PushPayload,
        });
      } else
        pollOptions.onDecision?.({
          salesOrder,
          orderKey,
          decision: 'not-found',
          reason: byRange
            ? 'not in SYSPRO in the configured statuses and entry dates'
            : 'SYSPRO has no such sales order',
        });
    }
    if (followUps.length > 0 && !dryRun) await enqueueJobs(store, followUps, clock.now());
    summary.followUps = followUps.length;
  } else if (!changeColumn) {
    // Orders still open in ShipStation that this pass did not see have left the polled statuses.
    const open = await listLinkKeys(store.db, connectionName, ORDER_ENTITY, 'open');
    const followUps: NewJob[] = open
      .filter((key) => !seen.has(key))
      .map((orderKey) => ({
        kind: ORDERS_PUSH_KIND,
        connection: connectionName,
        idempotencyKey: pushJobKey(connectionName, orderKey),
        payload: { orderKey, salesOrder: orderKey.slice(orderKey.indexOf(':') + 1) } satisfies PushPayload,
      }));
    for (const job of followUps) {
      const { orderKey, salesOrder } = job.payload as PushPayload;
      pollOptions.onDecision?.({
        salesOrder,
        orderKey,
        decision: 'follow-up',
        reason:
          'open in ShipStation but no longer in the polled statuses: read again and sent as SYSPRO has it now',
      });
    }
    if (followUps.length > 0 && !dryRun) await enqueueJobs(store, followUps, clock.now());
    summary.followUps = followUps.length;
    if (entryWatermark && !dryRun)
      await writeCheckpoint(store.db, connectionName, ENTRY_WATERMARK, entryWatermark, clock.now());
  } else if (changeWatermark !== undefined && !dryRun) {
    await writeCheckpoint(store.db, connectionName, CHANGE_WATERMARK, String(changeWatermark), clock.now());
  }
  summary.odataRequests = odata.stats.requests - requestsBefore;
  deps.logger?.info({ connection: connectionName, flow: FLOW, ...summary, dryRun }, 'orders poll done');
  return summary;
}

/** Which orders of a page to push (changed or new), and the audit rows of those that cannot go. */
async function decidePage(
  deps: OrdersFlowDeps,
  connectionName: string,
  results: Array<{ header: SorMasterRow; lines: readonly SorDetailRow[]; result: MapResult }>,
  summary: PollSummary,
  options: PollOptions,
): Promise<NewJob[]> {
  const { store, clock } = deps;
  const dryRun = options.dryRun === true;
  const tell = options.onDecision;
  const keys = results.map((r) => r.result.orderKey);
  const links = await findLinks(store.db, connectionName, ORDER_ENTITY, keys);
  const problemLinks = await findLinks(store.db, connectionName, ORDER_PROBLEM_ENTITY, keys);
  // Sales orders entered from marketplace orders (channel-orders.ts) are in ShipStation already.
  const poKey = (h: SorMasterRow) => poLinkKey(h.Customer ?? '', h.CustomerPoNumber ?? '');
  const channelPos = await findLinks(
    store.db,
    connectionName,
    CHANNEL_PO_ENTITY,
    results.filter((r) => (r.header.CustomerPoNumber ?? '').trim() !== '').map((r) => poKey(r.header)),
  );
  const jobs: NewJob[] = [];
  // Orders whose reported mapping problems are gone: they map now (pushed, unchanged or nothing to send).
  const mapsNow: string[] = [];
  for (const { header, lines, result } of results) {
    const link = links.get(result.orderKey);
    const salesOrder = header.SalesOrder.trim();
    const orderKey = result.orderKey;
    const problem = problemLinks.get(orderKey);
    if (result.action !== 'invalid' && problem?.state === 'invalid' && !splitProblem(problem.lastHash))
      mapsNow.push(orderKey);
    if (link?.state === CHANNEL_LINK_STATE || channelPos.has(poKey(header))) {
      summary.skipped++;
      tell?.({
        salesOrder,
        orderKey,
        decision: 'skipped',
        reason: 'entered from a marketplace order in ShipStation: that order is its ShipStation order',
      });
      continue;
    }
    if (result.action === 'push') {
      if (link?.lastHash === result.hash) {
        summary.unchanged++;
        tell?.({ salesOrder, orderKey, decision: 'unchanged', hash: result.hash });
        continue;
      }
      if (link?.state === 'closed') {
        summary.skipped++;
        tell?.({
          salesOrder,
          orderKey,
          decision: 'closed',
          order: result.order,
          hash: result.hash,
          reason:
            problem?.state === 'invalid' && splitProblem(problem.lastHash)
              ? 'split in ShipStation (see Problems): SYSPRO changes are not sent to it'
              : 'ShipStation has it as shipped or cancelled: never overwritten',
        });
        continue;
      }
      if (tell) {
        const isNew = !link?.lastHash;
        tell({
          salesOrder,
          orderKey,
          decision: isNew ? 'new' : 'changed',
          order: result.order,
          hash: result.hash,
          changed: isNew
            ? undefined
            : changedFields(await previousBody(store, connectionName, orderKey), result.order),
        });
      }
      jobs.push({
        kind: ORDERS_PUSH_KIND,
        connection: connectionName,
        idempotencyKey: pushJobKey(connectionName, result.orderKey),
        payload: {
          orderKey: result.orderKey,
          salesOrder: header.SalesOrder,
          order: result.order,
          hash: result.hash,
          holdUntil: result.holdUntil,
          read: summariseRead(header, lines),
        } satisfies PushPayload,
      });
    } else if (result.action === 'invalid') {
      summary.invalid++;
      tell?.({ salesOrder, orderKey, decision: 'invalid', problems: result.problems });
      const problemHash = canonicalJson(result.problems);
      // Reported once while it stays the same; again when it comes back after being resolved.
      if (dryRun || (problem?.state === 'invalid' && problem.lastHash === problemHash)) continue;
      await appendAudit(store.db, {
        connection: connectionName,
        flow: FLOW,
        entityType: ORDER_ENTITY,
        entityKey: result.orderKey,
        action: 'map',
        outcome: 'error',
        detail: { salesOrder: header.SalesOrder, problems: result.problems },
        error: `Sales order ${header.SalesOrder} cannot be sent to ShipStation: ${result.problems
          .map((p) => `${p.field}: ${p.message}`)
          .join('; ')}. Correct it in SYSPRO; the next poll sends it.`,
        at: clock.now(),
      });
      await saveLink(
        store.db,
        {
          connection: connectionName,
          entityType: ORDER_PROBLEM_ENTITY,
          sysproKey: result.orderKey,
          lastHash: problemHash,
          state: 'invalid',
        },
        clock.now(),
      );
    } else {
      summary.skipped++;
      tell?.({
        salesOrder,
        orderKey,
        decision: 'skipped',
        reason:
          link?.state === 'open'
            ? `${result.reason} (its link is closed: left alone from now on)`
            : result.reason,
      });
      // An order we pushed that SYSPRO has now completed or invoiced: left alone from now on, once.
      if (link?.state === 'open' && !dryRun) {
        await recordSkip(deps, connectionName, result.orderKey, result.reason);
      }
    }
  }
  if (mapsNow.length > 0 && !dryRun)
    await resolveOrderProblems(store.db, connectionName, mapsNow, clock.now(), 'maps');
  return jobs;
}

/**
 * Marks the open Problems (`order.problem` links in state `invalid`) of these orders `resolved`, so
 * the operator's list shows live problems only: `maps` after a poll mapped them (their mapping
 * problems are gone; a split in ShipStation is kept, the order itself being fine), `pushed` after
 * ShipStation accepted them (every problem of the order, a split included: it was pushed as is).
 * The row stays (`orders show` prints it) with its last problems; a problem that comes back is
 * reported again, even the same one (the poll compares only with an `invalid` row), and a
 * dismissal made before the resolution no longer hides it (`store/problems.ts`).
 */
export async function resolveOrderProblems(
  db: Kysely<Database>,
  connection: string,
  orderKeys: readonly string[],
  now: number,
  why: 'maps' | 'pushed',
): Promise<void> {
  for (let i = 0; i < orderKeys.length; i += 500) {
    const part = orderKeys.slice(i, i + 500);
    let q = db
      .updateTable('links')
      .set({ state: 'resolved', updated_at: now })
      .where('connection', '=', connection)
      .where('entity_type', '=', ORDER_PROBLEM_ENTITY)
      .where('syspro_key', 'in', part)
      .where('state', '=', 'invalid');
    // A split is a problem of the order in ShipStation, not of its mapping: only a push clears it.
    if (why === 'maps')
      q = q.where((eb) =>
        eb.or([
          eb('last_hash', 'is', null),
          eb('last_hash', 'not like', `%"field":"${SPLIT_PROBLEM_FIELD}"%`),
        ]),
      );
    await q.execute();
  }
}

/** Is an `order.problem` link's text the problem of an order split in ShipStation (`recordSplit`)? */
function splitProblem(lastHash: string | null | undefined): boolean {
  if (!lastHash) return false;
  try {
    const problems = JSON.parse(lastHash) as Array<{ field?: string }>;
    return Array.isArray(problems) && problems.some((p) => p.field === SPLIT_PROBLEM_FIELD);
  } catch {
    return false;
  }
}

async function recordSkip(deps: OrdersFlowDeps, connectionName: string, orderKey: string, reason: string) {
  const { store, clock } = deps;
  await saveLink(
    store.db,
    { connection: connectionName, entityType: ORDER_ENTITY, sysproKey: orderKey, state: 'closed' },
    clock.now(),
  );
  await appendAudit(store.db, {
    connection: connectionName,
    flow: FLOW,
    entityType: ORDER_ENTITY,
    entityKey: orderKey,
    action: 'skip',
    outcome: 'skipped',
    detail: { reason },
    at: clock.now(),
  });
}

/** One sales order as SYSPRO has it: its header, lines and customer rows (undefined when there is no such order). */
export async function readSalesOrder(
  odata: ODataReader,
  salesOrder: string,
): Promise<SalesOrderRows | undefined> {
  return (await readSalesOrders(odata, [salesOrder])).get(salesOrder.trim());
}

/** A sales order's rows as the mapper takes them. */
export interface SalesOrderRows {
  header: SorMasterRow;
  lines: SorDetailRow[];
  customer: ArCustomerRow | undefined;
}

/**
 * Several sales orders as SYSPRO has them, by sales order number (trimmed; absent when SYSPRO has
 * no such order), read with as few OData requests as fit the URL limit: a key list of SorMaster,
 * then their lines and customers as a poll page reads them. A batch of follow-ups costs a few
 * requests, not three per order (the chaos suite's follow-ups after 5,000 labels drained at about
 * 1.5 orders a second when each read its own order).
 */
export async function readSalesOrders(
  odata: ODataReader,
  salesOrders: readonly string[],
): Promise<Map<string, SalesOrderRows>> {
  const found = new Map<string, SalesOrderRows>();
  const wanted = [...new Set(salesOrders.map((s) => s.trim()))].filter((s) => s !== '');
  if (wanted.length === 0) return found;
  const headers: SorMasterRow[] = [];
  const seen = new Set<string>();
  for await (const page of odata.pagesByKeys<SorMasterRow>('SorMaster', 'SalesOrder', wanted, {
    select: SOR_MASTER_COLUMNS,
    orderBy: ['SalesOrder'],
  })) {
    for (const header of page) {
      const key = String(header.SalesOrder).trim();
      if (seen.has(key)) continue;
      seen.add(key);
      headers.push(header);
    }
  }
  if (headers.length === 0) return found;
  const customers = new Map<string, ArCustomerRow>();
  const lines = await readDetails(odata, headers, customers);
  for (const header of headers) {
    found.set(String(header.SalesOrder).trim(), {
      header,
      lines: lines.get(header.SalesOrder) ?? [],
      customer: customers.get(header.Customer),
    });
  }
  return found;
}

const LOCKED = /shipped and cancelled orders may not be updated|may not be updated|cannot be updated/i;

/** The top-level fields (and item lines) that differ between two versions of an order body. */
export function changedFields(previous: V1OrderInput | undefined, next: V1OrderInput): string[] {
  if (!previous) return ['(new)'];
  const keys = new Set([...Object.keys(previous), ...Object.keys(next)]);
  const changed: string[] = [];
  // The orderId rides on updates only (it is ShipStation's id, not content).
  keys.delete('orderId');
  for (const key of [...keys].sort()) {
    const a = (previous as unknown as Record<string, unknown>)[key];
    const b = (next as unknown as Record<string, unknown>)[key];
    if (canonicalJson(a) !== canonicalJson(b)) changed.push(key);
  }
  return changed;
}

/** The body last sent for an order (from its newest successful audit row). */
export async function previousBody(
  store: Store,
  connection: string,
  orderKey: string,
): Promise<V1OrderInput | undefined> {
  return (await previousBodies(store, connection, [orderKey])).get(orderKey);
}

/** `previousBody` of a batch of orders, in one query (a push batch's bookkeeping is per batch). */
export async function previousBodies(
  store: Store,
  connection: string,
  orderKeys: readonly string[],
): Promise<Map<string, V1OrderInput>> {
  const details = await latestAuditDetails(
    store.db,
    { connection, entityType: ORDER_ENTITY, outcome: 'ok' },
    orderKeys,
  );
  const bodies = new Map<string, V1OrderInput>();
  for (const [key, detail] of details) {
    if (!detail) continue;
    try {
      const sent = (JSON.parse(detail) as { sent?: V1OrderInput }).sent;
      if (sent) bodies.set(key, sent);
    } catch {
      // Not JSON: no body on record.
    }
  }
  return bodies;
}

/** What the push of one order ended as, stored with its job's completion (`record`). */
interface OrderRecordInput {
  connection: string;
  orderKey: string;
  salesOrder: string;
  jobId: number;
  /** Link fields to store (left as they are when undefined). */
  link: { shipstationId?: string | null; lastHash?: string | null; state: 'open' | 'closed' };
  action: string;
  outcome: 'ok' | 'skipped';
  detail: Record<string, unknown>;
  at: number;
}

function recordOrder(input: OrderRecordInput): (db: Kysely<Database>) => Promise<void> {
  return async (db) => {
    await saveLink(
      db,
      { connection: input.connection, entityType: ORDER_ENTITY, sysproKey: input.orderKey, ...input.link },
      input.at,
    );
    // In ShipStation as sent: whatever Problem the order had is over.
    if (input.outcome === 'ok')
      await resolveOrderProblems(db, input.connection, [input.orderKey], input.at, 'pushed');
    await appendAudit(db, {
      connection: input.connection,
      flow: FLOW,
      entityType: ORDER_ENTITY,
      entityKey: input.orderKey,
      action: input.action,
      outcome: input.outcome,
      jobId: input.jobId,
      detail: { salesOrder: input.salesOrder, ...input.detail },
      at: input.at,
    });
  };
}

/**
 * An order ShipStation already has, read before it is updated: shipped or cancelled ones are not
 * overwritten (the link is closed with the reason). An order split in ShipStation is caught next by
 * `splitInShipStation` (split-check.ts).
 */
function closedInShipStation(
  order: Pick<V1Order, 'orderId' | 'orderNumber' | 'orderStatus'>,
): string | undefined {
  if (order.orderStatus === 'shipped' || order.orderStatus === 'cancelled') {
    return `order ${order.orderId} (${order.orderNumber}) is ${order.orderStatus} in ShipStation: not overwritten`;
  }
  return undefined;
}

/**
 * The record of an order ShipStation has as shipped or cancelled (`closedInShipStation`): its link
 * closed (never overwritten, no follow-up), the reason in an `update` / `skipped` audit row.
 */
function recordClosed(
  input: Omit<OrderRecordInput, 'link' | 'action' | 'outcome' | 'detail'> & {
    link: Omit<OrderRecordInput['link'], 'state'>;
    orderId: number | undefined;
    reason: string;
    detail?: Record<string, unknown>;
  },
): (db: Kysely<Database>) => Promise<void> {
  const { orderId, reason, detail, ...rest } = input;
  return recordOrder({
    ...rest,
    link: { ...input.link, state: 'closed' },
    action: 'update',
    outcome: 'skipped',
    detail: { orderId, reason, ...detail },
  });
}

/** What the shipment write-back knows of an order it found shipped as a whole in ShipStation. */
export interface ShippedOrder {
  connection: string;
  orderKey: string;
  /** ShipStation's orderId (V2: the number of `shipment_id`) the shipment belongs to. */
  orderId: number;
  orderNumber: string;
  /** The write-back job, and the shipment (`<source>:<id>`) that shipped it. */
  jobId: number;
  shipment: string;
  at: number;
}

/**
 * Moves the order's link from state `from` to `to` in one conditional update (it locks the row on
 * PostgreSQL), only while it is on that same ShipStation order; the link as it was, or undefined
 * when it was not in `from` there.
 */
async function moveOrderLink(db: Kysely<Database>, order: ShippedOrder, from: string, to: string) {
  const [link] = await db
    .updateTable('links')
    .set({ state: to, updated_at: order.at })
    .where('connection', '=', order.connection)
    .where('entity_type', '=', ORDER_ENTITY)
    .where('syspro_key', '=', order.orderKey)
    .where('state', '=', from)
    .where('shipstation_id', '=', String(order.orderId))
    .returning(['shipstation_id', 'last_hash'])
    .execute();
  return link;
}

/**
 * Closes the link of an order the shipment write-back found shipped as a whole in ShipStation
 * (writeback.ts), as a push would on reading it shipped (`recordClosed`, the same reason), so the
 * next poll gives it no follow-up push. Run in the write-back's completing transaction, after the
 * shipment is recorded as written. Only a link still `open` on that same ShipStation order is
 * closed: a marketplace order's link (`CHANNEL_LINK_STATE`), one closed already, or one now on
 * another ShipStation order are left alone. Its ShipStation id and hash are kept (a later void or
 * fulfillment of that order is still found by its orderId). True when it closed the link.
 */
export async function closeShippedOrder(db: Kysely<Database>, order: ShippedOrder): Promise<boolean> {
  // One conditional update (it locks the row on PostgreSQL): a push recording the link at the same
  // time cannot slip between the check and the close.
  const link = await moveOrderLink(db, order, 'open', 'closed');
  if (!link) return false;
  const reason = closedInShipStation({
    orderId: order.orderId,
    orderNumber: order.orderNumber,
    orderStatus: 'shipped',
  }) as string;
  await recordClosed({
    connection: order.connection,
    orderKey: order.orderKey,
    salesOrder: order.orderKey.slice(order.orderKey.indexOf(':') + 1),
    jobId: order.jobId,
    at: order.at,
    link: { shipstationId: link.shipstation_id, lastHash: link.last_hash },
    orderId: order.orderId,
    reason,
    detail: { closedBy: closedByShipment(order.shipment) },
  })(db);
  return true;
}

function closedByShipment(shipment: string): string {
  return `shipment ${shipment} written to SYSPRO`;
}

/**
 * A label voided after its write-back closed the order's link (`closeShippedOrder`): ShipStation
 * has the order open again, so the link is opened again as it was, and the next poll decides as it
 * did before the close (a follow-up push reads the order again if it left the polled statuses).
 * Only when the link is still closed on that ShipStation order and the order's newest audit row is
 * that close: anything recorded since (a push, a skip, another close) stands. True when reopened.
 */
export async function reopenVoidedOrder(db: Kysely<Database>, order: ShippedOrder): Promise<boolean> {
  const [newest] = await listAudit(db, {
    connection: order.connection,
    entityType: ORDER_ENTITY,
    entityKey: order.orderKey,
    limit: 1,
  });
  let closedBy: unknown;
  try {
    closedBy = (JSON.parse(newest?.detail ?? '{}') as { closedBy?: unknown }).closedBy;
  } catch {
    return false;
  }
  if (closedBy !== closedByShipment(order.shipment)) return false;
  if (!(await moveOrderLink(db, order, 'closed', 'open'))) return false;
  await appendAudit(db, {
    connection: order.connection,
    flow: FLOW,
    entityType: ORDER_ENTITY,
    entityKey: order.orderKey,
    action: 'reopen',
    outcome: 'info',
    jobId: order.jobId,
    detail: {
      salesOrder: order.orderKey.slice(order.orderKey.indexOf(':') + 1),
      orderId: order.orderId,
      reason: `the label of shipment ${order.shipment} was voided in ShipStation after its write-back closed this link: open again, the next orders poll decides`,
    },
    at: order.at,
  });
  return true;
}

/**
 * An order split in ShipStation (or with lines taken out there), which a SYSPRO change is not
 * pushed over: the link is closed (never re-pushed whole), an audit row says what was not sent,
 * and the order is a Problem for the operator (an `order.problem` record in state `invalid`, with
 * the reason), until dismissed.
 */
function recordSplit(
  input: Omit<OrderRecordInput, 'link' | 'action' | 'outcome'> & { hash: string; reason: string },
): (db: Kysely<Database>) => Promise<void> {
  const closed = recordOrder({
    ...input,
    link: { state: 'closed', lastHash: input.hash },
    action: 'update',
    outcome: 'skipped',
  });
  const problem = canonicalJson([{ field: SPLIT_PROBLEM_FIELD, message: input.reason }]);
  return async (db) => {
    await closed(db);
    // Found split again (a nudge, a retry): the Problem stays as it was, so its time and any
    // dismissal of it stand (a dismissal made before the Problem's time no longer hides it).
    const existing = await findLinks(db, input.connection, ORDER_PROBLEM_ENTITY, [input.orderKey]);
    const same = existing.get(input.orderKey);
    if (same?.state === 'invalid' && same.lastHash === problem) return;
    await saveLink(
      db,
      {
        connection: input.connection,
        entityType: ORDER_PROBLEM_ENTITY,
        sysproKey: input.orderKey,
        lastHash: problem,
        state: 'invalid',
      },
      input.at,
    );
  };
}

/** One call of `createorders` for a batch of push jobs (all of one connection). */
export async function pushOrders(
  deps: OrdersFlowDeps,
  jobs: Job[],
  signal?: AbortSignal,
): Promise<JobOutcome[]> {
  const { store, clock } = deps;
  const connectionName = jobs[0]?.connection as string;
  const { connection, odata, shipstation } = await deps.connectionFor(connectionName);
  const options = orderMapOptions(connection);
  const outcomes: JobOutcome[] = jobs.map(() => ({ ok: true }));
  const payloads = jobs.map((j) => j.payload as PushPayload);
  const links = await findLinks(
    store.db,
    connectionName,
    ORDER_ENTITY,
    payloads.map((p) => p.orderKey),
  );
  const base = (index: number) => {
    const payload = payloads[index] as PushPayload;
    return {
      connection: connectionName,
      orderKey: payload.orderKey,
      salesOrder: payload.salesOrder,
      jobId: (jobs[index] as Job).id,
      at: clock.now(),
    };
  };

  // Follow-ups and nudges carry no body: read every one of the batch from SYSPRO at once.
  const reread = payloads
    .filter((p) => !p.order && links.get(p.orderKey)?.state !== CHANNEL_LINK_STATE)
    .map((p) => p.salesOrder);
  const rows = reread.length > 0 ? await readSalesOrders(odata, reread) : new Map<string, SalesOrderRows>();

  const toSend: Array<{
    index: number;
    orderKey: string;
    order: V1OrderInput;
    hash: string;
    holdUntil?: string;
    existing?: number;
    /** Found in ShipStation by our key (an in-doubt job never linked), not by a link. */
    foundByKey?: boolean;
    /** What the look-up by key read: the current order, so it is not read a second time. */
    found?: V1Order;
  }> = [];
  for (const [index, payload] of payloads.entries()) {
    const link = links.get(payload.orderKey);
    if (link?.state === CHANNEL_LINK_STATE) {
      // A sales order entered from a marketplace order: never pushed as a second ShipStation order.
      outcomes[index] = { ok: true, result: { skipped: 'entered from a marketplace order in ShipStation' } };
      continue;
    }
    let order = payload.order;
    let hash = payload.hash;
    let holdUntil = payload.holdUntil;
    if (!order) {
      // A follow-up or a nudge: read the order as SYSPRO has it now.
      const input = rows.get(payload.salesOrder.trim());
      const result = input === undefined ? undefined : mapSalesOrder(input, options);
      if (result === undefined) {
        // Deleted in SYSPRO: cancel it in ShipStation (V1 takes whole orders, so start from its copy).
        const orderId = Number(link?.shipstationId);
        if (!link || !Number.isFinite(orderId)) continue;
        const current = await shipstation.getOrder(orderId, signal);
        order = {
          ...stripReadOnly(current as unknown as V1OrderInput & Record<string, unknown>),
          orderKey: payload.orderKey,
          orderStatus: 'cancelled',
        };
        hash = `deleted:${payload.orderKey}`;
      } else if (result.action === 'push') {
        order = result.order;
        hash = result.hash;
        holdUntil = result.holdUntil;
      } else if (result.action === 'skip') {
        if (link?.state === 'open') {
          outcomes[index] = {
            ok: true,
            result: { skipped: result.reason },
            record: recordOrder({
              ...base(index),
              link: { state: 'closed' },
              action: 'skip',
              outcome: 'skipped',
              detail: { reason: result.reason },
            }),
          };
        }
        continue;
      } else {
        outcomes[index] = {
          ok: false,
          error: new PermanentError(
            `Sales order ${payload.salesOrder} cannot be sent to ShipStation: ${result.problems
              .map((p) => `${p.field}: ${p.message}`)
              .join('; ')}`,
          ),
        };
        continue;
      }
    }
    if (link?.lastHash === hash) {
      outcomes[index] = { ok: true, result: { unchanged: true } };
      continue;
    }
    let existing = link?.shipstationId ? Number(link.shipstationId) : undefined;
    let foundByKey = false;
    let found: V1Order | undefined;
    if (
      (existing === undefined || !Number.isFinite(existing)) &&
      jobs[index]?.inDoubt &&
      shipstation.keyLookup === 'direct'
    ) {
      // In doubt and never linked: an earlier attempt may have created it. Ask ShipStation by our
      // key, so that it is updated (and checked, split or shipped) rather than sent as new. Only
      // where the look-up is one GET (V2, which costs what its taken-key create path costs); on V1
      // it is a search per order on 40/min, and the create is an upsert by key (a split made
      // within the in-doubt window is then overwritten: docs/decisions.md).
      const lookup = await shipstation.findOrderByKey(payload.orderKey, order.orderNumber, signal);
      if (lookup.order) {
        existing = lookup.order.orderId;
        foundByKey = true;
        found = lookup.order;
      }
    }
    toSend.push({
      index,
      orderKey: payload.orderKey,
      order,
      hash: hash as string,
      holdUntil,
      existing: existing !== undefined && Number.isFinite(existing) ? existing : undefined,
      foundByKey,
      found,
    });
  }

  // The bodies last sent (the split check, the audit rows' `changed`, create/update): one query for
  // the batch. Nothing writes them before the batch's outcomes are recorded.
  const previousSent = await previousBodies(
    store,
    connectionName,
    toSend.map((s) => s.orderKey),
  );
  // Updates: read what ShipStation has first (one GET each; creates cost nothing here).
  const sendable: typeof toSend = [];
  for (const sent of toSend) {
    if (sent.existing === undefined) {
      sendable.push(sent);
      continue;
    }
    // Found by key just now: that answer is the current order (one GET, not two).
    const current =
      sent.found ??
      (await shipstation.getOrder(sent.existing, signal).catch((err: unknown) => {
        // Deleted in ShipStation (404): create it again under its key; anything else fails the batch.
        if ((err as { kind?: string }).kind === 'not_found') return undefined;
        throw err;
      }));
    const closed = current ? closedInShipStation(current) : undefined;
    // Split in ShipStation: compared with what was last sent (or, found by key after a lost answer
    // with nothing on record, with what is about to be sent).
    const lastSent = current && !closed ? previousSent.get(sent.orderKey) : undefined;
    const split =
      current && !closed
        ? splitInShipStation(current, lastSent ?? (sent.foundByKey ? sent.order : undefined), sent.order)
        : undefined;
    if (split) {
      outcomes[sent.index] = {
        ok: true,
        result: { split: split.reason },
        record: recordSplit({
          ...base(sent.index),
          hash: sent.hash,
          reason: split.reason,
          detail: {
            orderId: sent.existing,
            reason: split.reason,
            linesTaken: split.lines,
            notSent: { changed: changedFields(lastSent, sent.order), order: sent.order },
          },
        }),
      };
      deps.logger?.warn(
        { connection: connectionName, flow: FLOW, orderKey: sent.orderKey, orderId: sent.existing },
        'order split in ShipStation: SYSPRO change not pushed over it',
      );
      continue;
    }
    if (closed) {
      outcomes[sent.index] = {
        ok: true,
        result: { closed },
        record: recordClosed({
          ...base(sent.index),
          link: { lastHash: sent.hash },
          orderId: sent.existing,
          reason: closed,
        }),
      };
      continue;
    }
    // Including the orderId on an update "will help prevent duplicate order records" (reference §1.3).
    if (current) sent.order = { ...sent.order, orderId: sent.existing };
    sendable.push(sent);
  }
  if (sendable.length === 0) return outcomes;
  // A new connection's first links: record the API they are made on (ping compares it).
  if (sendable.some((s) => s.existing === undefined))
    await recordFirstLinksApi(store, connectionName, shipstation.api, ORDER_ENTITY, clock.now());

  const answer = await shipstation.createOrUpdateOrders(
    sendable.map((s) => s.order),
    signal,
  );
  for (const [n, sent] of sendable.entries()) {
    const result = answer.results[n];
    const job = jobs[sent.index] as Job;
    if (result?.success) {
      const previous = previousSent.get(sent.orderKey);
      const state = sent.order.orderStatus === 'cancelled' ? 'closed' : 'open';
      let held: string | undefined;
      if (sent.holdUntil && result.orderId !== null) {
        // A forward order: on hold until its requested ship date (holduntil is safe to repeat).
        await shipstation.holdOrderUntil(result.orderId, sent.holdUntil, signal);
        held = sent.holdUntil;
      }
      outcomes[sent.index] = {
        ok: true,
        result: { orderId: result.orderId, state },
        record: recordOrder({
          ...base(sent.index),
          link: {
            shipstationId: result.orderId === null ? null : String(result.orderId),
            lastHash: sent.hash,
            state,
          },
          action: previous ? 'update' : 'create',
          outcome: 'ok',
          detail: {
            orderId: result.orderId,
            attempt: job.attempts,
            changed: changedFields(previous, sent.order),
            read: payloads[sent.index]?.read,
            sent: sent.order,
            ...(held ? { holdUntil: held } : {}),
          },
        }),
      };
    } else if (result && LOCKED.test(result.errorMessage ?? '')) {
      // ShipStation has shipped or cancelled it since we read it: never overwritten; the link is closed.
      // With no successful push on record, an earlier attempt created it and its answer or its record
      // was lost (the process killed between ShipStation's answer and the commit): the order is under
      // our key, so that create is recorded now, or the order would have no trail of how it got there
      // (found by the chaos suite).
      const created = !previousSent.has(sent.orderKey);
      outcomes[sent.index] = {
        ok: true,
        result: { locked: result.errorMessage },
        record: recordOrder({
          ...base(sent.index),
          link: {
            shipstationId: result.orderId === null ? null : String(result.orderId),
            lastHash: sent.hash,
            state: 'closed',
          },
          action: created ? 'create' : 'update',
          outcome: created ? 'ok' : 'skipped',
          detail: created
            ? {
                orderId: result.orderId,
                attempt: job.attempts,
                foundBy: `ShipStation has it under its key already (${result.errorMessage}): an earlier attempt created it and its answer or record was lost; not overwritten`,
                read: payloads[sent.index]?.read,
                sent: sent.order,
              }
            : { reason: result.errorMessage },
        }),
      };
    } else {
      const message = result?.errorMessage ?? 'ShipStation returned no result for this order';
      const payload = payloads[sent.index] as PushPayload;
      await appendAudit(store.db, {
        connection: connectionName,
        flow: FLOW,
        entityType: ORDER_ENTITY,
        entityKey: sent.orderKey,
        action: 'push',
        outcome: 'error',
        jobId: job.id,
        detail: { salesOrder: payload.salesOrder, attempt: job.attempts, sent: sent.order },
        error: message,
        at: clock.now(),
      });
      outcomes[sent.index] = {
        ok: false,
        error: new PermanentError(`ShipStation refused sales order ${payload.salesOrder}: ${message}`),
      };
    }
  }
  return outcomes;
}

/** An order as ShipStation returns it, less what it computes itself, to send back whole. */
function stripReadOnly(order: V1OrderInput & Record<string, unknown>): V1OrderInput {
  const {
    orderId: _id,
    createDate: _c,
    modifyDate: _m,
    orderTotal: _t,
    customerId: _cu,
    userId: _u,
    externallyFulfilled: _e,
    externallyFulfilledBy: _eb,
    ...rest
  } = order;
  return rest as V1OrderInput;
}

export function ordersHandlers(deps: OrdersFlowDeps): JobHandler[] {
  return [
    {
      kind: ORDERS_POLL_KIND,
      batchSize: 1,
      // Reads only (and queues push jobs): nothing outside can have happened twice.
      checksInDoubt: true,
      async run(jobs, context) {
        const job = jobs[0] as Job;
        const summary = await pollOrders(deps, job.connection, context.signal);
        return [{ ok: true, result: summary }];
      },
    },
    {
      kind: ORDERS_PUSH_KIND,
      batchSize: Math.min(MAX_PUSH_BATCH, Math.max(1, deps.pushBatchSize ?? MAX_PUSH_BATCH)),
      // Batches are disjoint sets of orders (a key's queued job waits while its running one runs,
      // store/jobs/enqueue.ts), so several may run at once; the limiter keeps the budget.
      concurrency: Math.max(1, deps.pushConcurrency ?? 1),
      // A batch of a connection whose key has no request left in its window would only wait in
      // the limiter (up to a window) while other connections' orders could go: pass it over.
      capacity: deps.pushCapacity,
      // An in-doubt push (its answer lost, or its link and audit rows not stored) is resolved by
      // sending it again: createorders upserts by orderKey, so ShipStation itself is the check and
      // a second send cannot make a second order.
      checksInDoubt: true,
      run: (jobs, context) => pushOrders(deps, jobs, context.signal),
    },
  ];
}
