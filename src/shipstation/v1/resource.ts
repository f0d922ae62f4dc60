/**
 * Following a V1 webhook's `resource_url` (reference shipstation-api.md §4.2): SHIP_NOTIFY points at
 * a shipments list (`/shipments?batchId=…`), ORDER_NOTIFY at an orders list (`/orders?importBatch=…`).
 * The guard (resource-url.ts: host, then path and query shape) runs first; a refused URL throws
 * `refused_host` and no request leaves. Whether a resource list can span several pages is
 * UNCONFIRMED, so `listResourcePages` follows `page` like the other lists, with our page size
 * (a resource_url never carries `pageSize`: the guard refuses it).
 */
import { describeEndpoint, ShipStationError } from '../errors.js';
import { requireBody, type ShipStationTransport } from '../http.js';
import { type Page, pageThrough, toPage } from '../paging.js';
import { checkResourceUrl } from '../resource-url.js';
import type { V1ListPage, V1Order, V1Shipment } from '../types.js';
import { DEFAULT_PAGE_SIZE } from './orders.js';

/** What a resource_url returns: an orders list or a shipments list. */
export interface V1ResourceList extends V1ListPage {
  orders?: V1Order[];
  shipments?: V1Shipment[];
}

export function guardResourceUrl(resourceUrl: string, allowedHosts: readonly string[]): URL {
  const check = checkResourceUrl(resourceUrl, allowedHosts);
  if (!check.ok) {
    throw new ShipStationError({
      kind: 'refused_host',
      api: 'v1',
      endpoint: describeEndpoint('GET', safeForMessage(resourceUrl)),
      providerMessage: `${check.reason}; only webhook resources (/shipments?batchId=…, /orders?importBatch=…, /fulfillments?batchId=…) on ssapi.shipstation.com, its numbered shards and hosts listed in shipstation.allowedResourceHosts are fetched`,
      retryable: false,
    });
  }
  return check.url;
}

/** Fetches one page of a resource_url (the URL's own query first, `page` added when asked). */
export async function fetchResource(
  http: ShipStationTransport,
  resourceUrl: string,
  allowedHosts: readonly string[],
  options: { page?: number; signal?: AbortSignal } = {},
): Promise<V1ResourceList> {
  const url = guardResourceUrl(resourceUrl, allowedHosts);
  if (options.page !== undefined) url.searchParams.set('page', String(options.page));
  const response = await http.request<V1ResourceList>({
    method: 'GET',
    path: url,
    idempotent: true,
    signal: options.signal,
  });
  return requireBody(http, response.body, `GET ${url.pathname}`);
}

/** Pages of the records a resource_url points at (orders or shipments, by `resource_type`'s list). */
export function listResourcePages<T extends V1Order | V1Shipment>(
  http: ShipStationTransport,
  resourceUrl: string,
  allowedHosts: readonly string[],
  signal?: AbortSignal,
): AsyncGenerator<Page<T>, void, undefined> {
  // Refuse before the first page is asked for, not lazily on iteration.
  guardResourceUrl(resourceUrl, allowedHosts);
  const pageSize = DEFAULT_PAGE_SIZE;
  return pageThrough(
    async (page) => {
      const body = await fetchResource(http, resourceUrl, allowedHosts, { page, signal });
      const items = (body.shipments ?? body.orders ?? []) as T[];
      return toPage(items, body, page);
    },
    { pageSize },
  );
}

function safeForMessage(url: string): string {
  const oneLine = url.replace(/[\r\n\t]/g, ' ');
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}
