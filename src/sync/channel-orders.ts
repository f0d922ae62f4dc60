/**
 * Marketplace (channel) orders ShipStation → SYSPRO sales orders. Off unless
 * `channelOrders.enabled` and `channelOrders.stores` name the marketplace stores (never the
 * connector's own store: orders we pushed are SYSPRO's already).
 *
 * - `channel-orders.fetch` (one job per stored ORDER_NOTIFY, webhook-events.ts) follows the
 *   resource_url; `channel-orders.poll` (every `polls.channelOrders`) re-reads each store by modify
 *   date and by create date (V1 `GET /orders`, Pacific filters, from the checkpoint minus
 *   `channelOrders.overlap`). Both queue one `channel-orders.import` job per order whose content
 *   (items, amounts, ship-to, status: `sourceHash`) differs from what was last handled.
 * - `channel-orders.import` (one order per job): enters the order with SORTOI (mapping in
 *   channel-orders-mapper.ts), writes the SYSPRO number back to the ShipStation order
 *   (`channelOrders.linkField`), and stores the links both ways: `channel-order` (ShipStation orderId
 *   → sales order) and the orders flow's own `order` link (`<company>:<SalesOrder>` → orderId, state
 *   `channel`), so the orders flow never pushes that sales order as a new ShipStation order and the
 *   shipments flow writes the order's shipments back to it like any other.
 * - Never entered twice. Before any add, SYSPRO is asked by customer PO (OData SorMaster
 *   CustomerPoNumber + Customer): an order found there is adopted, not entered again, whether the
 *   earlier SORTOI answer was lost (in doubt), its link not stored, or the process died. A
 *   `channel-order.po` link is stored before posting, so the orders poll skips the new sales order
 *   even before its number is known.
 * - Edits and cancellations: an entered order whose content changed is carried to SYSPRO with a
 *   SORTOI change (its lines replaced) or, cancelled, with a change deleting every line (or
 *   flagged, `channelOrders.cancel: flag`); where SYSPRO has it in the warehouse, invoiced, or any
 *   line dispatched, it is flagged for the operator instead (dead job, audit row).
 * - An unknown SKU, a missing customer, SYSPRO's refusal: the order's problem (audit row with the
 *   reason, dead job), remembered by content so the poll does not queue it again until it changes.
 * - `syspro.validateOnly`: SORTOI `Process=Validate`; nothing is stored as entered (a dry run).
 */

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { waitSignal } from '../abort.js';
import type { Clock } from '../clock.js';
import type { ConnectionConfig } from '../config/schema.js';
import { PermanentError } from '../engine/errors.js';
import type { JobHandler, JobOutcome } from '../engine/handler.js';
import { POLL_KINDS } from '../engine/scheduler.js';
import { formatPacificFilter } from '../shipstation/pacific-time.js';
import type { V1Order, V1OrderInput } from '../shipstation/types.js';
import type { ShipStationV1Client } from '../shipstation/v1/client.js';
import { type AuditEntry, appendAudit } from '../store/audit.js';
import { readCheckpoint, writeCheckpoint } from '../store/checkpoints.js';
import type { Database } from '../store/database.js';
import { enqueueJobs, type NewJob } from '../store/jobs/enqueue.js';
import type { Job } from '../store/jobs/job.js';
import { findLink, findLinks, type Link, saveLink } from '../store/links.js';
import type { Store } from '../store/open.js';
import { assertSucceeded } from '../syspro/business-objects/common.js';
import { importSalesOrders, type SalesOrderInput } from '../syspro/business-objects/sortoi.js';
import type { EnetClient } from '../syspro/enet-client.js';
import { and, eq } from '../syspro/odata-filter.js';
import type { ODataReader } from '../syspro/odata-reader.js';
import {
  type ChannelMapOptions,
  changeDocument,
  channelIntent,
  customerPoFor,
  type EnteredLine,
  mapChannelOrder,
  notChangeable,
  sourceHash,
  stockCodesOf,
} from './channel-orders-mapper.js';
import { orderKeyFor } from './orders-mapper.js';
import { CHANNEL_ORDERS_FETCH_KIND } from './webhook-events.js';

export const CHANNEL_ORDERS_POLL_KIND = POLL_KINDS.channelOrders;
export const CHANNEL_ORDER_IMPORT_KIND = 'channel-orders.import';
/** ShipStation orderId → SYSPRO sales order (`shipstation_id`), `last_hash` = sourceHash handled. */
export const CHANNEL_ORDER_ENTITY = 'channel-order';
/** `<customer>|<customer PO>` → ShipStation orderId: written before SORTOI, read by the orders poll. */
export const CHANNEL_PO_ENTITY = 'channel-order.po';
/** The orders flow's `order` link state of a sales order that came from a marketplace. */
export const CHANNEL_LINK_STATE = 'channel';
const ORDER_ENTITY = 'order';
const FLOW = 'channel-orders';
const WINDOWS = { modified: 'channel-orders.poll.modified', created: 'channel-orders.poll.created' } as const;

export interface ChannelOrdersConnection {
  connection: ConnectionConfig;
  odata: Pick<ODataReader, 'pages' | 'pagesByKeys'>;
  /** Absent on a V2-only connection (no V1 key/secret): marketplace orders need V1. */
  shipstationV1?: ChannelOrdersV1;
  enet: Pick<EnetClient, 'withSession'>;
}

type ChannelOrdersV1 = Pick<
  ShipStationV1Client,
  'listOrders' | 'getOrder' | 'createOrUpdateOrder' | 'listResourcePages'
>;

/** The V1 client marketplace orders are read and updated with; refused for good without one. */
function v1Of(conn: ChannelOrdersConnection): ChannelOrdersV1 {
  if (conn.shipstationV1) return conn.shipstationV1;
  throw new PermanentError(
    `connection ${conn.connection.name}: marketplace orders (channelOrders) use ShipStation V1, and this connection has no shipstation.apiKey/apiSecret`,
  );
}

export interface ChannelOrdersDeps {
  store: Store;
  clock: Clock;
  connectionFor(name: string): Promise<ChannelOrdersConnection>;
  logger?: Logger;
}

export interface ImportPayload {
  orderId: number;
  /** The order as read by the poll or the webhook fetch (read again on a retry). */
  order?: V1Order;
  via: 'webhook' | 'poll' | 'command';
}

export function poLinkKey(customer: string, customerPo: string): string {
  return `${customer.trim()}|${customerPo.trim()}`;
}

function importJobKey(connection: string, orderId: number): string {
  return `${CHANNEL_ORDER_IMPORT_KIND}:${connection}:${orderId}`;
}

export function channelMapOptions(connection: ConnectionConfig): ChannelMapOptions {
  const c = connection.channelOrders;
  return {
    poPrefix: c.poPrefix,
    warehouse: c.warehouse,
    taxProductClass: c.taxProductClass,
    discountProductClass: c.discountProductClass,
    addressLayout: connection.orders.addressLayout,
    sysproTimezone: connection.syspro.timezone,
  };
}

/** The stores imported: the configured ones less the connector's own stores. */
export function channelStores(connection: ConnectionConfig): number[] {
  const own = new Set<number>(Object.values(connection.orders.stores));
  if (connection.shipstation.storeId !== undefined) own.add(connection.shipstation.storeId);
  return connection.channelOrders.stores.filter((s) => !own.has(s));
}

function enabled(connection: ConnectionConfig): boolean {
  return connection.channelOrders.enabled && channelStores(connection).length > 0;
}

/** Import jobs for the orders of our stores whose content differs from what was last handled. */
async function queueImports(
  deps: ChannelOrdersDeps,
  connection: ConnectionConfig,
  orders: readonly V1Order[],
  via: ImportPayload['via'],
): Promise<number> {
  const stores = new Set(channelStores(connection));
  const ours = orders.filter((o) => stores.has(Number(o.advancedOptions?.storeId)));
  if (ours.length === 0) return 0;
  const links = await findLinks(
    deps.store.db,
    connection.name,
    CHANNEL_ORDER_ENTITY,
    ours.map((o) => String(o.orderId)),
  );
  const jobs: NewJob[] = [];
  for (const order of ours) {
    const link = links.get(String(order.orderId));
    if (link?.lastHash === sourceHash(order)) continue;
    // Never seen and already cancelled or unpaid: nothing to enter.
    if (!link && channelIntent(order.orderStatus) !== 'enter') continue;
    jobs.push({
      kind: CHANNEL_ORDER_IMPORT_KIND,
      connection: connection.name,
      idempotencyKey: importJobKey(connection.name, order.orderId),
      payload: { orderId: order.orderId, order, via } satisfies ImportPayload,
    });
  }
  if (jobs.length > 0) await enqueueJobs(deps.store, jobs, deps.clock.now());
  return jobs.length;
}

/** One reconciling poll: each store by modify date and by create date. */
export async function pollChannelOrders(
  deps: ChannelOrdersDeps,
  connectionName: string,
  signal?: AbortSignal,
): Promise<{ read: number; queued: number }> {
  const conn = await deps.connectionFor(connectionName);
  const { connection } = conn;
  if (!enabled(connection)) return { read: 0, queued: 0 };
  const shipstation = v1Of(conn);
  const now = deps.clock.now();
  const { lookback, overlap } = connection.channelOrders;
  let read = 0;
  let queued = 0;
  for (const [window, checkpoint] of Object.entries(WINDOWS) as Array<[keyof typeof WINDOWS, string]>) {
    const last = await readCheckpoint(deps.store.db, connectionName, checkpoint);
    const since = last === undefined ? now - lookback : Date.parse(last) - overlap;
    for (const storeId of channelStores(connection)) {
      const query =
        window === 'modified'
          ? { modifyDateStart: formatPacificFilter(since), sortBy: 'ModifyDate' as const }
          : { createDateStart: formatPacificFilter(since), sortBy: 'CreateDate' as const };
      for await (const page of shipstation.listOrders(
        { ...query, storeId, sortDir: 'ASC', pageSize: 500 },
        signal,
      )) {
        read += page.items.length;
        queued += await queueImports(deps, connection, page.items, 'poll');
      }
    }
    await writeCheckpoint(deps.store.db, connectionName, checkpoint, new Date(now).toISOString(), now);
  }
  deps.logger?.info({ connection: connectionName, flow: FLOW, read, queued }, 'channel orders poll done');
  return { read, queued };
}

/** An ORDER_NOTIFY: the import batch's orders (those of our stores) are queued. */
export async function fetchChannelOrders(
  deps: ChannelOrdersDeps,
  job: Job,
  signal?: AbortSignal,
): Promise<{ read: number; queued: number }> {
  const conn = await deps.connectionFor(job.connection);
  const { connection } = conn;
  if (!enabled(connection)) return { read: 0, queued: 0 };
  const shipstation = v1Of(conn);
  const { resourceUrl } = job.payload as { resourceUrl: string };
  let read = 0;
  let queued = 0;
  for await (const page of shipstation.listResourcePages<V1Order>(resourceUrl, signal)) {
    read += page.items.length;
    queued += await queueImports(deps, connection, page.items, 'webhook');
  }
  return { read, queued };
}

interface SorMasterRef {
  SalesOrder: string;
  Customer: string;
  CustomerPoNumber: string;
  OrderStatus: string;
}

/** The sales order SYSPRO has for a customer PO (not one cancelled during entry), if any. */
export async function findByCustomerPo(
  odata: Pick<ODataReader, 'pages'>,
  customer: string,
  customerPo: string,
): Promise<SorMasterRef | undefined> {
  for await (const page of odata.pages<SorMasterRef>('SorMaster', {
    select: ['SalesOrder', 'Customer', 'CustomerPoNumber', 'OrderStatus'],
    filter: and(eq('CustomerPoNumber', customerPo), eq('Customer', customer)),
    orderBy: ['SalesOrder'],
  })) {
    const found = page.find((r) => String(r.OrderStatus).trim() !== '*');
    if (found) return found;
  }
  return undefined;
}

async function readOrderState(
  odata: Pick<ODataReader, 'pages'>,
  salesOrder: string,
): Promise<{ header: SorMasterRef; lines: EnteredLine[] } | undefined> {
  let header: SorMasterRef | undefined;
  for await (const page of odata.pages<SorMasterRef>('SorMaster', {
    select: ['SalesOrder', 'Customer', 'CustomerPoNumber', 'OrderStatus'],
    filter: eq('SalesOrder', salesOrder),
  })) {
    header ??= page[0];
  }
  if (!header) return undefined;
  const lines: EnteredLine[] = [];
  for await (const page of odata.pages<{
    SalesOrderLine: number;
    LineType: string;
    MQtyDispatched?: number | null;
  }>('SorDetail', {
    select: ['SalesOrder', 'SalesOrderLine', 'LineType', 'MQtyDispatched'],
    filter: eq('SalesOrder', salesOrder),
    orderBy: ['SalesOrderLine'],
  })) {
    for (const row of page)
      lines.push({
        salesOrderLine: Number(row.SalesOrderLine),
        lineType: String(row.LineType).trim(),
        dispatchedQty: Number(row.MQtyDispatched ?? 0),
      });
  }
  return { header, lines };
}

async function knownStockCodes(
  odata: Pick<ODataReader, 'pagesByKeys'>,
  codes: string[],
): Promise<Set<string>> {
  const known = new Set<string>();
  if (codes.length === 0) return known;
  for await (const page of odata.pagesByKeys<{ StockCode: string }>('InvMaster', 'StockCode', codes, {
    select: ['StockCode'],
    orderBy: ['StockCode'],
  })) {
    for (const row of page) known.add(String(row.StockCode).trim());
  }
  return known;
}

/** The SYSPRO customer of a marketplace order: the store's, else by e-mail, else the default. */
export async function customerFor(
  odata: Pick<ODataReader, 'pages'>,
  connection: ConnectionConfig,
  order: V1Order,
): Promise<{ customer: string; how: 'store' | 'email' | 'default' } | undefined> {
  const c = connection.channelOrders;
  const byStore = c.customers[String(order.advancedOptions?.storeId ?? '')];
  if (byStore) return { customer: byStore, how: 'store' };
  const email = (order.customerEmail ?? '').trim();
  if (c.matchEmail && email) {
    for await (const page of odata.pages<{ Customer: string; Email: string }>('ArCustomer', {
      select: ['Customer', 'Email'],
      filter: eq('Email', email),
      orderBy: ['Customer'],
    })) {
      if (page[0]) return { customer: String(page[0].Customer).trim(), how: 'email' };
    }
  }
  if (c.defaultCustomer) return { customer: c.defaultCustomer, how: 'default' };
  return undefined;
}

/** The text the link field carries. */
export function linkText(salesOrder: string): string {
  return `SYSPRO sales order ${salesOrder.trim()}`;
}

/** The ShipStation order with the SYSPRO number written into the configured field (whole order: V1 has no partial update). */
export function withSysproNumber(
  order: V1Order,
  salesOrder: string,
  field: ConnectionConfig['channelOrders']['linkField'],
): V1OrderInput | undefined {
  const text = linkText(salesOrder);
  const {
    createDate: _c,
    modifyDate: _m,
    orderTotal: _t,
    customerId: _cu,
    userId: _u,
    externallyFulfilled: _e,
    externallyFulfilledBy: _eb,
    externallyFulfilledById: _ei,
    externallyFulfilledByName: _en,
    labelMessages: _l,
    ...rest
  } = order;
  if (field === 'internalNotes') {
    const notes = order.internalNotes ?? '';
    if (notes.includes(text)) return undefined;
    return { ...rest, internalNotes: notes ? `${notes}\n${text}` : text } as V1OrderInput;
  }
  const advanced = order.advancedOptions ?? {};
  if (advanced[field] === text) return undefined;
  return { ...rest, advancedOptions: { ...advanced, [field]: text } } as V1OrderInput;
}

function audit(
  connection: string,
  orderId: number,
  action: string,
  outcome: AuditEntry['outcome'],
  detail: unknown,
  at: number,
  error?: string,
): AuditEntry {
  return {
    connection,
    flow: FLOW,
    entityType: CHANNEL_ORDER_ENTITY,
    entityKey: String(orderId),
    action,
    outcome,
    detail,
    error: error ?? null,
    at,
  };
}

/** Runs one import job: enter, write back, change or cancel (see the file comment). */
export async function importChannelOrder(
  deps: ChannelOrdersDeps,
  job: Job,
  signal?: AbortSignal,
): Promise<JobOutcome> {
  const { store, clock } = deps;
  const conn = await deps.connectionFor(job.connection);
  const { connection, odata, enet } = conn;
  const shipstation = v1Of(conn);
  const payload = job.payload as ImportPayload;
  const orderId = payload.orderId;
  const name = connection.name;
  const validateOnly = connection.syspro.validateOnly;
  // A retry reads the order again (it may have changed since it was queued).
  const order =
    payload.order && job.attempts <= 1 && !job.inDoubt
      ? payload.order
      : await shipstation.getOrder(orderId, signal);
  const hash = sourceHash(order);
  const customerPo = customerPoFor(order, connection.channelOrders.poPrefix);
  const link = await findLink(store.db, name, CHANNEL_ORDER_ENTITY, String(orderId));
  const intent = channelIntent(order.orderStatus);
  const base = {
    orderId,
    orderNumber: order.orderNumber,
    storeId: order.advancedOptions?.storeId,
    customerPo,
  };

  /** A problem of this order: audited, remembered by content, the job dead with the reason. */
  const problem = async (action: string, message: string, detail: Record<string, unknown> = {}) => {
    const full = `Marketplace order ${order.orderNumber} (ShipStation order ${orderId}): ${message}`;
    await appendAudit(
      store.db,
      audit(name, orderId, action, 'error', { ...base, ...detail }, clock.now(), full),
    );
    if (!validateOnly) {
      await saveLink(
        store.db,
        {
          connection: name,
          entityType: CHANNEL_ORDER_ENTITY,
          sysproKey: String(orderId),
          shipstationId: link?.shipstationId ?? null,
          lastHash: hash,
          state: link?.shipstationId ? 'flagged' : 'invalid',
        },
        clock.now(),
      );
    }
    return { ok: false as const, error: new PermanentError(full) };
  };

  const enteredLinks = (salesOrder: string, state: string) => async (db: Kysely<Database>) => {
    await saveLink(
      db,
      {
        connection: name,
        entityType: CHANNEL_ORDER_ENTITY,
        sysproKey: String(orderId),
        shipstationId: salesOrder,
        lastHash: hash,
        state,
      },
      clock.now(),
    );
    await saveLink(
      db,
      {
        connection: name,
        entityType: ORDER_ENTITY,
        sysproKey: orderKeyFor(connection.syspro.company, salesOrder),
        shipstationId: String(orderId),
        lastHash: null,
        state: CHANNEL_LINK_STATE,
      },
      clock.now(),
    );
  };

  let salesOrder = link?.shipstationId ?? undefined;
  if (!salesOrder) {
    if (intent !== 'enter') {
      return {
        ok: true,
        result: { skipped: `${order.orderStatus}: nothing to enter` },
        record: async (db) => {
          await appendAudit(
            db,
            audit(name, orderId, 'import', 'skipped', { ...base, status: order.orderStatus }, clock.now()),
          );
        },
      };
    }
    const chosen = await customerFor(odata, connection, order);
    if (!chosen) {
      return problem(
        'import',
        'no SYSPRO customer: no store mapping, no customer with its e-mail, and no channelOrders.defaultCustomer',
      );
    }
    // Asked every time before an add (not only in doubt): an order already there is adopted.
    const existing = await findByCustomerPo(odata, chosen.customer, customerPo);
    if (existing) {
      salesOrder = String(existing.SalesOrder).trim();
      await enteredLinks(salesOrder, 'entered')(store.db);
      await appendAudit(
        store.db,
        audit(name, orderId, 'import', 'info', { ...base, salesOrder, found: 'by customer PO' }, clock.now()),
      );
    } else {
      const known = await knownStockCodes(odata, stockCodesOf(order));
      const mapped = mapChannelOrder(order, chosen.customer, known, channelMapOptions(connection));
      if (mapped.action === 'invalid') {
        return problem('map', mapped.problems.map((p) => `${p.field}: ${p.message}`).join('; '), {
          problems: mapped.problems,
        });
      }
      if (!validateOnly) {
        await saveLink(
          store.db,
          {
            connection: name,
            entityType: CHANNEL_PO_ENTITY,
            sysproKey: poLinkKey(chosen.customer, customerPo),
            shipstationId: String(orderId),
            state: 'pending',
          },
          clock.now(),
        );
      }
      const result = await enet.withSession(
        (session) => importSalesOrders(session, [mapped.input], importOptions(validateOnly)),
        { waitSignal: waitSignal(signal) },
      );
      if (result.outcome.failed) {
        try {
          assertSucceeded('SORTOI', `marketplace order ${order.orderNumber}`, result);
        } catch (error) {
          return problem('import', `SYSPRO refused it: ${(error as Error).message}`, { sent: mapped.input });
        }
      }
      if (validateOnly) {
        return {
          ok: true,
          result: { validateOnly: true, customer: chosen.customer },
          record: async (db) => {
            await appendAudit(
              db,
              audit(
                name,
                orderId,
                'import (validate only)',
                'info',
                { ...base, sent: mapped.input },
                clock.now(),
              ),
            );
          },
        };
      }
      // A clean import does not echo the number (reference §2.3): look it up by customer PO.
      salesOrder =
        result.orders.find((o) => o.salesOrder)?.salesOrder?.trim() ??
        (await findByCustomerPo(odata, chosen.customer, customerPo))?.SalesOrder?.trim();
      if (!salesOrder) {
        // Retried: the next attempt asks SYSPRO by customer PO again before entering anything.
        throw new Error(
          `SORTOI reported marketplace order ${order.orderNumber} imported but SYSPRO has no sales order with customer PO ${customerPo} yet`,
        );
      }
      await enteredLinks(salesOrder, 'entered')(store.db);
      await appendAudit(
        store.db,
        audit(
          name,
          orderId,
          'import',
          'ok',
          { ...base, salesOrder, customer: chosen.customer, customerBy: chosen.how, sent: mapped.input },
          clock.now(),
        ),
      );
    }
    return writeBack(deps, conn, job, order, salesOrder, hash, base, signal);
  }

  // Entered already: carry an edit or a cancellation, or finish a write-back left undone.
  if (link?.lastHash === hash && link.state === 'linked') {
    return { ok: true, result: { unchanged: true, salesOrder } };
  }
  if (link?.lastHash === hash && link.state === 'entered') {
    return writeBack(deps, conn, job, order, salesOrder, hash, base, signal);
  }
  if (link?.state === 'cancelled') return { ok: true, result: { cancelled: salesOrder } };
  if (intent === 'wait') return { ok: true, result: { skipped: 'awaiting payment' } };
  const state = await readOrderState(odata, salesOrder);
  if (!state) return problem('change', `SYSPRO has no sales order ${salesOrder} any more`);
  const blocked = notChangeable(state.header.OrderStatus, state.lines);
  const what = intent === 'cancel' ? 'cancelled' : 'changed';
  if (blocked) {
    return problem(
      intent === 'cancel' ? 'cancel' : 'change',
      `${what} in the marketplace, but ${blocked}: carry it to sales order ${salesOrder} by hand`,
      { salesOrder },
    );
  }
  const customer = String(state.header.Customer).trim();
  let document: SalesOrderInput;
  if (intent === 'cancel') {
    if (connection.channelOrders.cancel === 'flag') {
      return problem('cancel', `cancelled in the marketplace: cancel sales order ${salesOrder} in SYSPRO`, {
        salesOrder,
      });
    }
    document = changeDocument(salesOrder, state.lines, undefined, customer, customerPo);
  } else {
    const known = await knownStockCodes(odata, stockCodesOf(order));
    const mapped = mapChannelOrder(order, customer, known, channelMapOptions(connection));
    if (mapped.action === 'invalid') {
      return problem('map', mapped.problems.map((p) => `${p.field}: ${p.message}`).join('; '), {
        salesOrder,
        problems: mapped.problems,
      });
    }
    document = changeDocument(salesOrder, state.lines, mapped.input, customer, customerPo);
  }
  const result = await enet.withSession(
    (session) => importSalesOrders(session, [document], importOptions(validateOnly)),
    { waitSignal: waitSignal(signal) },
  );
  if (result.outcome.failed) {
    try {
      assertSucceeded('SORTOI', `sales order ${salesOrder}`, result);
    } catch (error) {
      return problem(
        intent === 'cancel' ? 'cancel' : 'change',
        `SYSPRO refused the ${what} order: ${(error as Error).message}`,
        {
          salesOrder,
          sent: document,
        },
      );
    }
  }
  const action = intent === 'cancel' ? 'cancel' : 'change';
  return {
    ok: true,
    result: { [action]: salesOrder, validateOnly },
    record: async (db) => {
      if (!validateOnly) {
        await saveLink(
          db,
          {
            connection: name,
            entityType: CHANNEL_ORDER_ENTITY,
            sysproKey: String(orderId),
            shipstationId: salesOrder,
            lastHash: hash,
            state: intent === 'cancel' ? 'cancelled' : 'linked',
          },
          clock.now(),
        );
      }
      await appendAudit(
        db,
        audit(
          name,
          orderId,
          validateOnly ? `${action} (validate only)` : action,
          validateOnly ? 'info' : 'ok',
          { ...base, salesOrder, sent: document },
          clock.now(),
        ),
      );
    },
  };
}

function importOptions(validateOnly: boolean) {
  return {
    validateOnly,
    // The marketplace's prices, as charged (a zero-price free gift included).
    alwaysUsePriceEntered: true,
    allowZeroPrice: true,
    allowNonStockItems: 'N' as const,
    checkForCustomerPoNumbers: 'Y' as const,
    allowDuplicateOrderNumbers: 'N' as const,
    ignoreWarnings: 'W' as const,
  };
}

/** Writes the SYSPRO number to the ShipStation order (once) and marks the link `linked`. */
async function writeBack(
  deps: ChannelOrdersDeps,
  conn: ChannelOrdersConnection,
  job: Job,
  order: V1Order,
  salesOrder: string,
  hash: string,
  base: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<JobOutcome> {
  const { connection } = conn;
  const shipstation = v1Of(conn);
  const field = connection.channelOrders.linkField;
  // Whole order (V1 replaces it): start from ShipStation's copy as it is now.
  const current = await shipstation.getOrder(order.orderId, signal);
  const update = withSysproNumber(current, salesOrder, field);
  let written = false;
  if (update && !['shipped', 'cancelled'].includes(current.orderStatus)) {
    await shipstation.createOrUpdateOrder({ ...update, orderId: current.orderId }, signal);
    written = true;
  }
  return {
    ok: true,
    result: { salesOrder, writtenBack: written },
    record: async (db) => {
      await saveLink(
        db,
        {
          connection: job.connection,
          entityType: CHANNEL_ORDER_ENTITY,
          sysproKey: String(order.orderId),
          shipstationId: salesOrder,
          lastHash: hash,
          state: 'linked',
        },
        deps.clock.now(),
      );
      await appendAudit(
        db,
        audit(
          job.connection,
          order.orderId,
          'link',
          written ? 'ok' : 'skipped',
          { ...base, salesOrder, field, text: linkText(salesOrder) },
          deps.clock.now(),
        ),
      );
    },
  };
}

/** Whether an `order` link or customer PO belongs to a marketplace order (the orders flow leaves those alone). */
export function isChannelLink(link: Link | undefined): boolean {
  return link?.state === CHANNEL_LINK_STATE;
}

export function channelOrdersHandlers(deps: ChannelOrdersDeps): JobHandler[] {
  return [
    {
      kind: CHANNEL_ORDERS_POLL_KIND,
      batchSize: 1,
      // Reads and queues only.
      checksInDoubt: true,
      async run(jobs, context) {
        const job = jobs[0] as Job;
        return [{ ok: true, result: await pollChannelOrders(deps, job.connection, context.signal) }];
      },
    },
    {
      kind: CHANNEL_ORDERS_FETCH_KIND,
      batchSize: 1,
      checksInDoubt: true,
      async run(jobs, context) {
        const job = jobs[0] as Job;
        return [{ ok: true, result: await fetchChannelOrders(deps, job, context.signal) }];
      },
    },
    {
      kind: CHANNEL_ORDER_IMPORT_KIND,
      batchSize: 1,
      // In doubt (a SORTOI answer lost): every add first asks SYSPRO by customer PO, so a second
      // attempt adopts the order it finds instead of entering it again. A change in doubt is sent
      // again: it replaces the lines with the same lines (the deletes of lines already gone fail
      // and the job ends dead with SYSPRO's text for the operator).
      checksInDoubt: true,
      async run(jobs, context) {
        const outcomes: JobOutcome[] = [];
        for (const job of jobs) {
          try {
            outcomes.push(await importChannelOrder(deps, job, context.signal));
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
        return outcomes;
      },
    },
  ];
}
