/**
 * V1 `GET /shipments`: labels created in ShipStation (reference shipstation-api.md §1.6). Orders
 * marked shipped are not here (see fulfillments.ts). Voided labels stay listed with `voided: true`;
 * poll them with `voidDateStart`/`voidDateEnd`. Line items come only with `includeShipmentItems`.
 */
import { requireBody, type ShipStationTransport } from '../http.js';
import { type Page, pageThrough, toPage } from '../paging.js';
import type { V1ListShipmentsQuery, V1Shipment, V1ShipmentsPage } from '../types.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './orders.js';

export function listShipments(
  http: ShipStationTransport,
  query: V1ListShipmentsQuery = {},
  signal?: AbortSignal,
): AsyncGenerator<Page<V1Shipment>, void, undefined> {
  const pageSize = Math.min(query.pageSize ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const { page: firstPage, ...filters } = query;
  return pageThrough(
    async (page) => {
      const response = await http.request<V1ShipmentsPage>({
        method: 'GET',
        path: '/shipments',
        query: { ...filters, pageSize, page },
        idempotent: true,
        signal,
      });
      const body = requireBody(http, response.body, 'GET /shipments');
      return toPage(body.shipments, body, page);
    },
    { firstPage, pageSize },
  );
}
