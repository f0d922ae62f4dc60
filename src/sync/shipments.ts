/**
 * Shipments ShipStation → SYSPRO, the fetching and reconciling half: every shipment or fulfillment
 * ShipStation has for one of our orders becomes one `shipments.writeback` job (shipment-model.ts),
 * keyed by `shipmentKey(connection, source, id)`. The write-back handler is another module's.
 *
 * Fetch (`shipments.fetch`, one job per stored webhook, payload `ShipmentsFetchPayload`). A V1
 * SHIP_NOTIFY is only a pointer: the job follows its `resource_url` with our credentials through
 * the client's `fetchResource`, which refuses any URL that is not a ShipStation webhook resource
 * before a request leaves (resource-url.ts). A refused URL is a permanent failure with an audit row.
 * Shipment resources are always asked for with `includeShipmentItems=True` (SHIP_NOTIFY's own URL
 * says False): without items a partial shipment would read as "the whole order" downstream.
 *
 * Poll (`shipments.poll`, every `polls.shipments`): webhooks get lost and fire for neither
 * mark-as-shipped nor voids (reference §4.1), so three windows are re-read each time, in Pacific
 * wall clock: `GET /shipments` by createDate, `GET /shipments` by voidDate, `GET /fulfillments` by
 * createDate (fulfillments have no void-date filter, §1.7). Each window runs from its checkpoint
 * minus `shipments.overlap` (first run: now minus `shipments.lookback`) to now; its checkpoint moves
 * only after a page's jobs are enqueued (to the newest createDate of the page, for the windows sorted
 * by createDate) and to the window's end when it is read through.
 *
 * "An earlier state never overwrites a later one". Each write carries `version` (creation, or void
 * time). Before a write is queued, its version must be newer than both what the write-back last
 * wrote (link `shipment`, `last_hash` = `v<version>`) and what this side last queued (link
 * `shipment.fetched`, same form): so the poll re-reading unchanged records queues nothing, and a
 * late older state cannot replace a newer one in a queued job (enqueue coalescing keeps the newest
 * *payload*, not the newest *state*). That check and the enqueue run in one write transaction with
 * the `shipment.fetched` rows locked, so two fetches of one record at once cannot both win.
 * Records not ours are audited once per state (link `shipment.skipped`), which blocks no later
 * write of that state (an order link stored late makes it ours).
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ConnectionConfig } from '../config/schema.js';
import { PermanentError } from '../engine/errors.js';
import type { JobHandler } from '../engine/handler.js';
import { POLL_KINDS } from '../engine/scheduler.js';
import type { ShipStation, TimeWindow } from '../shipstation/api.js';
import { ShipStationError } from '../shipstation/errors.js';
import { type Page, pageThrough, toPage } from '../shipstation/paging.js';
import type { V1Fulfillment, V1Shipment } from '../shipstation/types.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../shipstation/v1/orders.js';
import { V2_PAGE_SIZE } from '../shipstation/v2/list.js';
import { appendAudit } from '../store/audit.js';
import { readCheckpoint, writeCheckpoint } from '../store/checkpoints.js';
import type { Database } from '../store/database.js';
import { enqueueJobs, type NewJob } from '../store/jobs/enqueue.js';
import type { Job } from '../store/jobs/job.js';
import { withWriteTransaction } from '../store/jobs/transaction.js';
import { saveLink } from '../store/links.js';
import type { Store } from '../store/open.js';
import { ORDER_ENTITY } from './orders.js';
import {
  SHIPMENT_ENTITY,
  SHIPMENT_WRITEBACK_KIND,
  type ShipmentSource,
  type ShipmentWrite,
  shipmentKey,
  shipmentLinkKey,
} from './shipment-model.js';
import {
  mapFulfillment,
  mapShipment,
  type ShipmentMapOptions,
  type ShipmentMapResult,
  versionHash,
  versionOfHash,
} from './shipments-mapper.js';
import { V2_EVENT_KINDS, V2_FETCH_EVENTS } from './webhook-events.js';

export const SHIPMENTS_FETCH_KIND = 'shipments.fetch';
export const SHIPMENTS_POLL_KIND = POLL_KINDS.shipments;
/** Links of the highest version queued for write-back per record (`last_hash` = `v<version>`). */
export const SHIPMENT_FETCHED_ENTITY = 'shipment.fetched';
/** Links of the newest state skipped as not ours (audited once per state). */
export const SHIPMENT_SKIPPED_ENTITY = 'shipment.skipped';
const FLOW = 'shipments';

/** Checkpoints of the poll's windows (values: ISO-8601 UTC). */
export const SHIPMENT_WINDOWS = {
  shipmentsCreated: 'shipments.poll.created',
  shipmentsVoided: 'shipments.poll.voided',
  fulfillmentsCreated: 'shipments.poll.fulfillments-created',
} as const;

/**
 * The payload of a `shipments.fetch` job, as the webhook receiver stores it: the V1 event, the
 * `resource_url` of its body as received, when it was received (epoch ms, UTC) and the API.
 */
export interface ShipmentsFetchPayload {
  /** V1: SHIP_NOTIFY, ITEM_SHIP_NOTIFY, FULFILLMENT_SHIPPED; V2: the `V2_EVENT_KINDS` events. */
  event: string;
  resourceUrl: string;
  receivedAt: number;
  api: 'v1' | 'v2';
  /** V2: the event's inline `data` (TRACK_EVENT_V2), audited. */
  data?: unknown;
}

const FETCH_EVENTS: ReadonlySet<string> = new Set(['SHIP_NOTIFY', 'ITEM_SHIP_NOTIFY', 'FULFILLMENT_SHIPPED']);

/** What the handlers need of a connection: its config and its ShipStation (V1 or V2). */
export interface ShipmentsConnection {
  connection: ConnectionConfig;
  shipstation: Pick<
    ShipStation,
    'fetchResource' | 'listLabels' | 'listFulfillments' | 'recordTimes' | 'filterTime' | 'api'
  >;
}

export interface ShipmentsFlowDeps {
  store: Store;
  clock: Clock;
  connectionFor(name: string): Promise<ShipmentsConnection>;
  logger?: Logger;
  /** Records per page of the poll's lists (default `pollPageSize`: 500 on V1, 100 on V2). */
  pageSize?: number;
}

export interface ShipmentsSummary {
  /** Records read (after de-duplication by id and version within the run). */
  read: number;
  /** Write jobs inserted (a follow-up behind a running one included). */
  queued: number;
  /** Writes that joined a queued job of the same record (its payload is now this newer state). */
  coalesced: number;
  /** Records whose state was already queued or written (equal or newer version). */
  unchanged: number;
  /** Records not ours (audited once per state). */
  skipped: number;
  /** Records that cannot be read (a date ShipStation should not send), audited. */
  invalid: number;
}

function emptySummary(): ShipmentsSummary {
  return { read: 0, queued: 0, coalesced: 0, unchanged: 0, skipped: 0, invalid: 0 };
}

export function shipmentMapOptions(
  connection: ConnectionConfig,
  via: ShipmentWrite['via'],
  recordTimes?: ShipmentMapOptions['recordTimes'],
): ShipmentMapOptions {
  const storeIds = new Set<number>(Object.values(connection.orders.stores));
  if (connection.shipstation.storeId !== undefined) storeIds.add(connection.shipstation.storeId);
  return {
    connection: connection.name,
    company: connection.syspro.company,
    storeIds: [...storeIds],
    via,
    recordTimes,
  };
}

/** Our orderKeys of ShipStation orderIds, from the orders flow's links. */
async function orderKeysByOrderId(
  db: Kysely<Database>,
  connection: string,
  orderIds: readonly number[],
): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const ids = [...new Set(orderIds.map(String))];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('links')
      .select(['syspro_key', 'shipstation_id'])
      .where('connection', '=', connection)
      .where('entity_type', '=', ORDER_ENTITY)
      .where('shipstation_id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const row of rows)
      if (row.shipstation_id !== null) out.set(Number(row.shipstation_id), row.syspro_key);
  }
  return out;
}

/** Maps a page of shipments (looking up orderKeys of those that carry none). */
async function mapShipmentsPage(
  store: Store,
  options: ShipmentMapOptions,
  shipments: readonly V1Shipment[],
): Promise<ShipmentMapResult[]> {
  // Every shipment's orderId is looked up: a marketplace order (channel-orders.ts) carries the
  // marketplace's own orderKey, and its link names our sales order.
  const linked = await orderKeysByOrderId(
    store.db,
    options.connection,
    shipments.map((s) => s.orderId),
  );
  return shipments.map((s) => mapShipment(s, options, linked.get(s.orderId)));
}

async function mapFulfillmentsPage(
  store: Store,
  options: ShipmentMapOptions,
  fulfillments: readonly V1Fulfillment[],
): Promise<ShipmentMapResult[]> {
  const linked = await orderKeysByOrderId(
    store.db,
    options.connection,
    fulfillments.map((f) => f.orderId),
  );
  return fulfillments.map((f) => mapFulfillment(f, options, linked.get(f.orderId)));
}

interface Candidate {
  source: ShipmentSource;
  id: number;
  linkKey: string;
  version: number;
  result: Extract<ShipmentMapResult, { action: 'write' | 'skip' }>;
}

function candidateVersion(result: Extract<ShipmentMapResult, { action: 'write' | 'skip' }>): number | null {
  return result.action === 'write' ? result.write.version : result.version;
}

/**
 * Queues the writes of one page of mapped records and audits the rest; returns nothing, counts into
 * `summary`. `seen` (`<source>:<id>` → version) skips what this run already decided.
 */
export async function queueShipmentWrites(
  deps: Pick<ShipmentsFlowDeps, 'store' | 'clock'>,
  connectionName: string,
  results: readonly ShipmentMapResult[],
  summary: ShipmentsSummary,
  context: { jobId?: number; seen?: Map<string, number> } = {},
): Promise<void> {
  const { store, clock } = deps;
  const seen = context.seen ?? new Map<string, number>();
  const candidates = new Map<string, Candidate>();
  for (const result of results) {
    const linkKey = shipmentLinkKey(result.source, result.id);
    if (result.action === 'invalid') {
      summary.read++;
      summary.invalid++;
      await appendAudit(store.db, {
        connection: connectionName,
        flow: FLOW,
        entityType: SHIPMENT_ENTITY,
        entityKey: linkKey,
        action: 'map',
        outcome: 'error',
        jobId: context.jobId,
        error: `ShipStation ${result.source} ${result.id} cannot be read: ${result.problem}`,
        at: clock.now(),
      });
      continue;
    }
    const version = candidateVersion(result);
    if (version === null) continue;
    const before = seen.get(linkKey);
    if (before !== undefined && before >= version) continue;
    seen.set(linkKey, version);
    // Records shift between pages: the same one twice in a page keeps its newest state.
    const existing = candidates.get(linkKey);
    if (existing === undefined) summary.read++;
    if (existing === undefined || existing.version < version) {
      candidates.set(linkKey, { source: result.source, id: result.id, linkKey, version, result });
    }
  }
  if (candidates.size === 0) return;
  // Sorted, so that two transactions lock the same rows in the same order.
  const ordered = [...candidates.values()].sort((a, b) => (a.linkKey < b.linkKey ? -1 : 1));
  const now = clock.now();
  await withWriteTransaction(store, async (db) => {
    const keys = ordered.map((c) => c.linkKey);
    // A row to lock for each record that may be queued (skips need none: at worst audited twice).
    const writeKeys = ordered.filter((c) => c.result.action === 'write').map((c) => c.linkKey);
    if (writeKeys.length > 0) {
      await db
        .insertInto('links')
        .values(
          writeKeys.map((key) => ({
            connection: connectionName,
            entity_type: SHIPMENT_FETCHED_ENTITY,
            syspro_key: key,
            shipstation_id: null,
            last_hash: null,
            last_pushed_at: null,
            updated_at: now,
          })),
        )
        .onConflict((oc) => oc.columns(['connection', 'entity_type', 'syspro_key']).doNothing())
        .execute();
    }
    let lockQuery = db
      .selectFrom('links')
      .select(['syspro_key', 'last_hash'])
      .where('connection', '=', connectionName)
      .where('entity_type', '=', SHIPMENT_FETCHED_ENTITY)
      .where('syspro_key', 'in', keys)
      .orderBy('syspro_key');
    if (store.dialect === 'postgres') lockQuery = lockQuery.forUpdate();
    const fetched = new Map(
      (await lockQuery.execute()).map((r) => [r.syspro_key, versionOfHash(r.last_hash)]),
    );
    const versionsOf = async (entityType: string) =>
      new Map(
        (
          await db
            .selectFrom('links')
            .select(['syspro_key', 'last_hash'])
            .where('connection', '=', connectionName)
            .where('entity_type', '=', entityType)
            .where('syspro_key', 'in', keys)
            .execute()
        ).map((r) => [r.syspro_key, versionOfHash(r.last_hash)]),
      );
    const written = await versionsOf(SHIPMENT_ENTITY);
    const skippedBefore = await versionsOf(SHIPMENT_SKIPPED_ENTITY);
    const winners: Candidate[] = [];
    for (const c of ordered) {
      const queuedOrWritten = Math.max(fetched.get(c.linkKey) ?? -1, written.get(c.linkKey) ?? -1);
      // A skip blocks nothing: the same state may become ours (its order link stored later).
      const known =
        c.result.action === 'skip'
          ? Math.max(queuedOrWritten, skippedBefore.get(c.linkKey) ?? -1)
          : queuedOrWritten;
      if (c.version <= known) {
        summary.unchanged++;
        continue;
      }
      winners.push(c);
      if (c.result.action === 'skip') {
        await saveLink(
          db,
          {
            connection: connectionName,
            entityType: SHIPMENT_SKIPPED_ENTITY,
            sysproKey: c.linkKey,
            shipstationId: String(c.id),
            lastHash: versionHash(c.version),
          },
          now,
        );
        continue;
      }
      await db
        .updateTable('links')
        .set({
          last_hash: versionHash(c.version),
          shipstation_id: String(c.id),
          last_pushed_at: now,
          updated_at: now,
        })
        .where('connection', '=', connectionName)
        .where('entity_type', '=', SHIPMENT_FETCHED_ENTITY)
        .where('syspro_key', '=', c.linkKey)
        .execute();
    }
    const writes = winners.filter(
      (c): c is Candidate & { result: { action: 'write'; write: ShipmentWrite } } =>
        c.result.action === 'write',
    );
    const jobs: NewJob[] = writes.map((c) => ({
      kind: SHIPMENT_WRITEBACK_KIND,
      connection: connectionName,
      idempotencyKey: shipmentKey(connectionName, c.source, c.id),
      // No group key: a claim takes one job per group key, and the write-back batches up to 500
      // shipments per call. In one process the e.net client serialises the connection's calls;
      // several processes on one SYSPRO operator would evict each other's sessions (re-logon
      // recovers, at a cost): see docs/decisions.md "Shipment fetch and reconcile".
      payload: c.result.write,
    }));
    const enqueued = jobs.length === 0 ? [] : await enqueueJobs({ ...store, db }, jobs, now);
    for (const [n, c] of writes.entries()) {
      const r = enqueued[n];
      if (r?.created) summary.queued++;
      else summary.coalesced++;
      await appendAudit(db, {
        connection: connectionName,
        flow: FLOW,
        entityType: SHIPMENT_ENTITY,
        entityKey: c.linkKey,
        action: 'queue',
        outcome: 'info',
        jobId: context.jobId,
        detail: {
          writeJobId: r?.id,
          coalesced: r?.created === false,
          followUp: r?.followUp === true,
          via: c.result.write.via,
          version: c.version,
          voided: c.result.write.voided,
          orderKey: c.result.write.orderKey,
          orderNumber: c.result.write.orderNumber,
          trackingNumbers: c.result.write.trackingNumbers,
        },
        at: now,
      });
    }
    for (const c of winners) {
      if (c.result.action !== 'skip') continue;
      summary.skipped++;
      await appendAudit(db, {
        connection: connectionName,
        flow: FLOW,
        entityType: SHIPMENT_ENTITY,
        entityKey: c.linkKey,
        action: 'skip',
        outcome: 'skipped',
        jobId: context.jobId,
        detail: { reason: c.result.reason, version: c.version },
        at: now,
      });
    }
  });
}

// ---------- fetch (webhook resource_url) ----------

export function parseFetchPayload(payload: unknown): ShipmentsFetchPayload {
  const p = (payload ?? {}) as Partial<Record<keyof ShipmentsFetchPayload, unknown>>;
  const problems: string[] = [];
  const events = p.api === 'v2' ? new Set(Object.keys(V2_EVENT_KINDS)) : FETCH_EVENTS;
  if (typeof p.event !== 'string' || !events.has(p.event)) {
    problems.push(`event ${JSON.stringify(p.event)} is not one of ${[...events].join(', ')}`);
  }
  if (typeof p.resourceUrl !== 'string' || p.resourceUrl === '') problems.push('resourceUrl is missing');
  if (typeof p.receivedAt !== 'number' || !Number.isFinite(p.receivedAt))
    problems.push('receivedAt is not a number');
  if (p.api !== 'v1' && p.api !== 'v2') problems.push(`api ${JSON.stringify(p.api)} is not v1 or v2`);
  if (problems.length > 0) {
    throw new PermanentError(
      `shipments.fetch job payload is not a ShipmentsFetchPayload: ${problems.join('; ')}`,
    );
  }
  return p as ShipmentsFetchPayload;
}

/** The path a resource URL names (lower case), or undefined when it is not a URL. */
function resourcePath(resourceUrl: string): string | undefined {
  try {
    return new URL(resourceUrl).pathname.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * A `/shipments` resource URL with `includeShipmentItems=True`, whatever it said (or added), keeping
 * everything else as written so the guard sees the same shape.
 */
export function withShipmentItems(resourceUrl: string): string {
  const q = resourceUrl.indexOf('?');
  if (q < 0 || resourceUrl.includes('#')) return resourceUrl;
  const pairs = resourceUrl.slice(q + 1).split('&');
  let found = false;
  const rewritten = pairs.map((pair) => {
    const name = pair.split('=')[0] ?? '';
    if (name.toLowerCase() !== 'includeshipmentitems') return pair;
    found = true;
    return `${name}=True`;
  });
  if (!found) rewritten.push('includeShipmentItems=True');
  return `${resourceUrl.slice(0, q + 1)}${rewritten.join('&')}`;
}

async function refuse(
  deps: ShipmentsFlowDeps,
  job: Job,
  payload: ShipmentsFetchPayload,
  reason: string,
  cause?: unknown,
): Promise<never> {
  const message = `${payload.event} resource_url not fetched: ${reason}`;
  await appendAudit(deps.store.db, {
    connection: job.connection,
    flow: FLOW,
    entityType: 'webhook',
    entityKey: payload.resourceUrl.slice(0, 200),
    action: 'fetch',
    outcome: 'error',
    jobId: job.id,
    detail: { event: payload.event, receivedAt: payload.receivedAt },
    error: message,
    at: deps.clock.now(),
  });
  throw new PermanentError(message, { cause });
}

/**
 * A V2 event that leads to no write (`TRACK_EVENT_V2` with its tracking data inline,
 * `SHIPMENT_CREATED_V2`, `BATCH_PROCESSED_V2`): recorded as an audit row (the data cut to 2,000
 * characters), nothing fetched.
 */
async function recordV2Event(
  deps: ShipmentsFlowDeps,
  job: Job,
  payload: ShipmentsFetchPayload,
): Promise<ShipmentsSummary> {
  let data: unknown = payload.data;
  const text = data === undefined ? undefined : JSON.stringify(data);
  if (text !== undefined && text.length > 2000) data = { truncated: text.slice(0, 2000) };
  await appendAudit(deps.store.db, {
    connection: job.connection,
    flow: FLOW,
    entityType: 'webhook',
    entityKey: payload.resourceUrl.slice(0, 200),
    action: payload.event === 'TRACK_EVENT_V2' ? 'track-event' : 'event',
    outcome: 'info',
    jobId: job.id,
    detail: {
      event: payload.event,
      api: payload.api,
      receivedAt: payload.receivedAt,
      ...(data === undefined ? {} : { data }),
    },
    at: deps.clock.now(),
  });
  return emptySummary();
}

/** One `shipments.fetch` job: the records its resource_url lists, each queued for write-back. */
export async function fetchShipments(
  deps: ShipmentsFlowDeps,
  job: Job,
  signal?: AbortSignal,
): Promise<ShipmentsSummary> {
  const payload = parseFetchPayload(job.payload);
  if (payload.api === 'v2' && !(payload.event in V2_FETCH_EVENTS)) return recordV2Event(deps, job, payload);
  const { connection, shipstation } = await deps.connectionFor(job.connection);
  if (shipstation.api !== payload.api) {
    // A webhook of the other API (a connection switched between V1 and V2): its ids are the same
    // numbers, but its resource_url is only readable with that API's client.
    await refuse(deps, job, payload, `a ${payload.api} webhook on a connection using ${shipstation.api}`);
  }
  const options = shipmentMapOptions(connection, 'webhook', shipstation.recordTimes);
  const v2Path = V2_FETCH_EVENTS[payload.event];
  const expected =
    payload.event === 'FULFILLMENT_SHIPPED' || v2Path === '/v2/fulfillments' ? '/fulfillments' : '/shipments';
  const path = resourcePath(payload.resourceUrl);
  if (path !== undefined && path !== (v2Path ?? expected)) {
    await refuse(
      deps,
      job,
      payload,
      `a ${payload.event} resource is a ${v2Path ?? expected} list, not ${path}`,
    );
  }
  // V2 label lists carry their items through the implementation (its embedded shipment).
  const url =
    expected === '/shipments' && v2Path === undefined
      ? withShipmentItems(payload.resourceUrl)
      : payload.resourceUrl;
  const summary = emptySummary();
  const seen = new Map<string, number>();
  const pages = pageThrough<V1Shipment | V1Fulfillment>(
    async (page) => {
      const body = (await shipstation.fetchResource(url, { page, signal })) as {
        shipments?: V1Shipment[];
        fulfillments?: V1Fulfillment[];
      } & Partial<Page<unknown>>;
      const items = expected === '/shipments' ? body.shipments : body.fulfillments;
      return toPage<V1Shipment | V1Fulfillment>(items, body as Partial<Page<V1Shipment>>, page);
    },
    { pageSize: DEFAULT_PAGE_SIZE },
  );
  let first = true;
  try {
    for await (const page of pages) {
      first = false;
      signal?.throwIfAborted();
      const results =
        expected === '/shipments'
          ? await mapShipmentsPage(deps.store, options, page.items as V1Shipment[])
          : await mapFulfillmentsPage(deps.store, options, page.items as V1Fulfillment[]);
      await queueShipmentWrites(deps, job.connection, results, summary, { jobId: job.id, seen });
    }
  } catch (error) {
    if (first && error instanceof ShipStationError && error.kind === 'refused_host') {
      await refuse(deps, job, payload, error.providerMessage ?? error.message, error);
    }
    // An answer that will not change on a retry (a redirect, a 4xx, a body that is not JSON):
    // the job ends here, and the audit trail says why, like a refused URL.
    if (error instanceof ShipStationError && !error.retryable) {
      await refuse(deps, job, payload, error.message, error);
    }
    throw error;
  }
  deps.logger?.info(
    { connection: job.connection, flow: FLOW, event: payload.event, jobId: job.id, ...summary },
    'shipments fetch done',
  );
  return summary;
}

// ---------- reconciling poll ----------

export interface ShipmentsPollSummary extends ShipmentsSummary {
  windows: Record<string, { from: string; to: string; read: number }>;
}

interface PollWindow {
  checkpoint: string;
  list(
    window: TimeWindow,
  ): AsyncGenerator<Page<V1Shipment>, void, undefined> | AsyncGenerator<Page<V1Fulfillment>, void, undefined>;
  map(items: unknown[]): Promise<ShipmentMapResult[]>;
  /** The createDate of a record, when the list is sorted by it (the checkpoint then moves per page). */
  progress?: (result: ShipmentMapResult) => number | undefined;
}

function createdAtOf(result: ShipmentMapResult): number | undefined {
  return result.action === 'write' ? result.write.createdAtUtc : undefined;
}

/**
 * The reconciling poll's page on V1: the documented largest, 500 (shipstation-api.md §1). Each poll re-reads
 * its overlap (`shipments.overlap`, 2 h), so after a busy hour the same labels come back at every
 * poll: 4,000 labels were 40 requests a window at 100 a page, a minute of V1's 40-a-minute budget at
 * each 10-second poll of the soak, queued ahead of new orders; at 500 they are 8. V2's largest page
 * is not documented (UNCONFIRMED), so V2 keeps `V2_PAGE_SIZE` (100), inside its 200-a-minute budget.
 */
export function pollPageSize(api: 'v1' | 'v2'): number {
  return api === 'v1' ? MAX_PAGE_SIZE : V2_PAGE_SIZE;
}

/** One reconciling poll of one connection. */
export async function pollShipments(
  deps: ShipmentsFlowDeps,
  connectionName: string,
  signal?: AbortSignal,
): Promise<ShipmentsPollSummary> {
  const { store, clock } = deps;
  const { connection, shipstation } = await deps.connectionFor(connectionName);
  const options = shipmentMapOptions(connection, 'poll', shipstation.recordTimes);
  const pageSize = deps.pageSize ?? pollPageSize(connection.shipstation.api);
  const { overlap, lookback } = connection.shipments;
  const summary: ShipmentsPollSummary = { ...emptySummary(), windows: {} };
  const seen = new Map<string, number>();
  const windows: PollWindow[] = [
    {
      checkpoint: SHIPMENT_WINDOWS.shipmentsCreated,
      list: (created) => shipstation.listLabels({ created, pageSize }, signal),
      map: (items) => mapShipmentsPage(store, options, items as V1Shipment[]),
      progress: createdAtOf,
    },
    {
      checkpoint: SHIPMENT_WINDOWS.shipmentsVoided,
      list: (voided) => shipstation.listLabels({ voided, pageSize }, signal),
      map: (items) => mapShipmentsPage(store, options, items as V1Shipment[]),
    },
    {
      checkpoint: SHIPMENT_WINDOWS.fulfillmentsCreated,
      list: (created) => shipstation.listFulfillments({ created, pageSize }, signal),
      map: (items) => mapFulfillmentsPage(store, options, items as V1Fulfillment[]),
      progress: createdAtOf,
    },
  ];
  for (const window of windows) {
    const end = clock.now();
    const stored = await readCheckpoint(store.db, connectionName, window.checkpoint);
    const last = stored === undefined ? Number.NaN : Date.parse(stored);
    const start = Number.isNaN(last) ? end - lookback : last - overlap;
    const from = shipstation.filterTime(start);
    const to = shipstation.filterTime(end);
    let read = 0;
    let mark = Number.isNaN(last) ? undefined : last;
    for await (const page of window.list({ start, end })) {
      signal?.throwIfAborted();
      const results = await window.map(page.items);
      read += results.length;
      await queueShipmentWrites(deps, connectionName, results, summary, { seen });
      if (window.progress) {
        // Sorted by createDate: everything up to the page's newest record has been queued.
        const newest = Math.max(...results.map((r) => window.progress?.(r) ?? Number.NEGATIVE_INFINITY));
        const next = Math.min(newest, end);
        if (Number.isFinite(next) && (mark === undefined || next > mark)) {
          mark = next;
          await writeCheckpoint(
            store.db,
            connectionName,
            window.checkpoint,
            new Date(next).toISOString(),
            clock.now(),
          );
        }
      }
    }
    if (mark === undefined || end > mark) {
      await writeCheckpoint(
        store.db,
        connectionName,
        window.checkpoint,
        new Date(end).toISOString(),
        clock.now(),
      );
    }
    summary.windows[window.checkpoint] = { from, to, read };
  }
  const { windows: windowSummary, ...counts } = summary;
  deps.logger?.info(
    { connection: connectionName, flow: FLOW, ...counts, windows: windowSummary },
    'shipments poll done',
  );
  return summary;
}

export function shipmentsHandlers(deps: ShipmentsFlowDeps): JobHandler[] {
  return [
    {
      kind: SHIPMENTS_FETCH_KIND,
      batchSize: 1,
      // Reads ShipStation only (and queues write jobs): nothing outside can have happened twice.
      checksInDoubt: true,
      async run(jobs, context) {
        const job = jobs[0] as Job;
        return [{ ok: true, result: await fetchShipments(deps, job, context.signal) }];
      },
    },
    {
      kind: SHIPMENTS_POLL_KIND,
      batchSize: 1,
      // Reads ShipStation only (and queues write jobs): nothing outside can have happened twice.
      checksInDoubt: true,
      async run(jobs, context) {
        const job = jobs[0] as Job;
        return [{ ok: true, result: await pollShipments(deps, job.connection, context.signal) }];
      },
    },
  ];
}
