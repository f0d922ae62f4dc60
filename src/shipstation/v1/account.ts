/**
 * V1 account look-ups: `GET /stores` and `GET /warehouses`, for the `storeId` and `warehouseId` that
 * go in `advancedOptions`, and for `ping` (a cheap authenticated call). Both return bare arrays.
 */
import { requireBody, type ShipStationTransport } from '../http.js';
import type { V1Store, V1Warehouse } from '../types.js';

export async function listStores(
  http: ShipStationTransport,
  options: { showInactive?: boolean; marketplaceId?: number } = {},
  signal?: AbortSignal,
): Promise<V1Store[]> {
  const response = await http.request<V1Store[]>({
    method: 'GET',
    path: '/stores',
    query: { showInactive: options.showInactive, marketplaceId: options.marketplaceId },
    idempotent: true,
    signal,
  });
  return requireBody(http, response.body, 'GET /stores');
}

export async function listWarehouses(
  http: ShipStationTransport,
  signal?: AbortSignal,
): Promise<V1Warehouse[]> {
  const response = await http.request<V1Warehouse[]>({
    method: 'GET',
    path: '/warehouses',
    idempotent: true,
    signal,
  });
  return requireBody(http, response.body, 'GET /warehouses');
}
