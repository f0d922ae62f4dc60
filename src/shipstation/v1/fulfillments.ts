/**
 * V1 `GET /fulfillments`: orders marked shipped (UI or API) and fill-provider shipments (reference
 * shipstation-api.md §1.7). These never fire SHIP_NOTIFY, so they are only ever found by polling.
 */
import { requireBody, type ShipStationTransport } from '../http.js';
import { type Page, pageThrough, toPage } from '../paging.js';
import type { V1Fulfillment, V1FulfillmentsPage, V1ListFulfillmentsQuery } from '../types.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './orders.js';

export function listFulfillments(
  http: ShipStationTransport,
  query: V1ListFulfillmentsQuery = {},
  signal?: AbortSignal,
): AsyncGenerator<Page<V1Fulfillment>, void, undefined> {
  const pageSize = Math.min(query.pageSize ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const { page: firstPage, ...filters } = query;
  return pageThrough(
    async (page) => {
      const response = await http.request<V1FulfillmentsPage>({
        method: 'GET',
        path: '/fulfillments',
        query: { ...filters, pageSize, page },
        idempotent: true,
        signal,
      });
      const body = requireBody(http, response.body, 'GET /fulfillments');
      return toPage(body.fulfillments, body, page);
    },
    { firstPage, pageSize },
  );
}
