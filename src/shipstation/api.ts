/**
 * The one ShipStation the orders and shipments flows talk to, whichever API a connection uses
 * (`shipstation.api: v1 | v2`). The flows never branch on the version: they call these methods and
 * read the records they return. Two implementations: `v1/adapter.ts` (the V1 client as it is) and
 * `v2/adapter.ts` (V2 shipments, labels and fulfillments translated).
 *
 * The records are the V1 shapes the flows were written against (a V1 order, shipment, fulfillment):
 * they are the connector's model of "an order", "a label" and "a mark-as-shipped". What differs per
 * API is said by the implementation, not guessed by the flow:
 * - ids: V1 `orderId` N is V2 `shipment_id` `se-N` (the same number), so links keep the number;
 * - record times: `recordTimes` says how their strings read: V1 Pacific wall clock without an
 *   offset, V2 ISO 8601 with one (never converted through Pacific);
 * - filters take UTC instants (epoch ms) and each implementation writes them its own way
 *   (`filterTime`: V1 Pacific `yyyy-MM-dd HH:mm:ss`, V2 ISO 8601 UTC).
 */
import type { Page } from './paging.js';
import type { V1Fulfillment, V1Order, V1OrderInput, V1Shipment } from './types.js';
import type { CreateOrdersOutcome } from './v1/orders.js';
import type { V1ResourceList } from './v1/resource.js';

export type ShipStationApiVersion = 'v1' | 'v2';

/** A closed window of UTC instants (epoch ms), both ends included. */
export interface TimeWindow {
  start: number;
  end: number;
}

/** What a webhook's resource_url lists: labels (shipments) or fulfillments, V1-shaped. */
export interface ResourceList extends V1ResourceList {
  fulfillments?: V1Fulfillment[];
}

export interface ShipStation {
  readonly api: ShipStationApiVersion;
  /** The limiter key of the credentials (a fingerprint, not the key). */
  readonly rateLimitKey: string;
  /**
   * How the date/time strings of the records read: `pacific` (V1: wall clock, any offset on them
   * ignored) or `offset` (V2: ISO 8601 with its own offset, read as written).
   */
  readonly recordTimes: 'pacific' | 'offset';
  /**
   * How `findOrderByKey` finds an order: `direct` (V2: one GET by `external_shipment_id`) or
   * `search` (V1: the `orderNumber` "starts with" list, up to 5 pages, on V1's 40/min). The orders
   * push looks up in-doubt orders never linked only when it is `direct`.
   */
  readonly keyLookup: 'direct' | 'search';
  /** An instant as this API's date filters take it (for logs and summaries too). */
  filterTime(utcMs: number): string;

  // ---- orders (V2: shipments) ----
  /** Creates or updates up to 100 orders (by `orderKey`; an update carries its `orderId`). */
  createOrUpdateOrders(orders: readonly V1OrderInput[], signal?: AbortSignal): Promise<CreateOrdersOutcome>;
  getOrder(orderId: number, signal?: AbortSignal): Promise<V1Order>;
  /** Holds an order until a calendar date (`yyyy-MM-dd`). */
  holdOrderUntil(orderId: number, holdUntilDate: string, signal?: AbortSignal): Promise<void>;

  // ---- shipments (V2: labels) and fulfillments ----
  /**
   * Labels created in `created` or voided in `voided` (one of the two), with their items, oldest
   * created first.
   */
  listLabels(
    query: { created?: TimeWindow; voided?: TimeWindow; pageSize?: number },
    signal?: AbortSignal,
  ): AsyncGenerator<Page<V1Shipment>, void, undefined>;
  /** Orders marked shipped without a label, created in the window, oldest first. */
  listFulfillments(
    query: { created: TimeWindow; pageSize?: number },
    signal?: AbortSignal,
  ): AsyncGenerator<Page<V1Fulfillment>, void, undefined>;
  /**
   * Our order by its key (V2: `external_shipment_id`), or none. V1 has no look-up by key: its
   * `orderNumber` filter is a "starts with" search (reference §1.5), matched exactly on the key
   * here, a few pages at most; `sameNumber` is an order with the exact number under another key
   * (not ours). V2 reads `GET /v2/shipments/external_shipment_id/{key}` (a 404 is none). `how` says
   * what was asked, for operators.
   */
  findOrderByKey(
    orderKey: string,
    orderNumber: string,
    signal?: AbortSignal,
  ): Promise<{ order?: V1Order; sameNumber?: V1Order; how: string }>;
  /** One page of a webhook's resource_url (refused before any request when it is not one). */
  fetchResource(
    resourceUrl: string,
    options?: { page?: number; signal?: AbortSignal },
  ): Promise<ResourceList>;
}
