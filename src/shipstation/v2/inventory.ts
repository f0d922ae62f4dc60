/**
 * V2 inventory (reference shipstation-api.md §5): `GET /v2/inventory` (levels), `POST /v2/inventory`
 * (a transaction, answered 204), and the warehouse/location look-ups a mapping needs.
 *
 * Repeat safety: only `adjust` (set on-hand to a quantity) states an absolute value, so sending it
 * twice changes nothing more; it is retried after a timeout or 5xx. `increment`/`decrement` are
 * relative, and `modify` moves `quantity` units to a new location/condition/cost: a repeat would apply
 * twice, so those are sent once. The inventory flow should push levels with `adjust`.
 */
import { requireBody, type ShipStationTransport } from '../http.js';
import { type Page, pageThrough } from '../paging.js';
import type {
  V2InventoryLevel,
  V2InventoryLocation,
  V2InventoryLocationsPage,
  V2InventoryPage,
  V2InventoryTransaction,
  V2InventoryWarehouse,
  V2InventoryWarehousesPage,
} from '../types.js';
import { toV2Page, V2_PAGE_SIZE } from './list.js';

export { V2_PAGE_SIZE };

export function listInventory(
  http: ShipStationTransport,
  query: {
    sku?: string;
    inventory_warehouse_id?: string;
    inventory_location_id?: string;
    group_by?: 'warehouse' | 'location';
    pageSize?: number;
  } = {},
  signal?: AbortSignal,
): AsyncGenerator<Page<V2InventoryLevel>, void, undefined> {
  const { pageSize: requested, ...filters } = query;
  const pageSize = requested ?? V2_PAGE_SIZE;
  return pageThrough(
    async (page) => {
      const response = await http.request<V2InventoryPage>({
        method: 'GET',
        path: '/v2/inventory',
        query: { ...filters, page, page_size: pageSize, limit: pageSize },
        idempotent: true,
        signal,
      });
      const body = requireBody(http, response.body, 'GET /v2/inventory');
      return toV2Page(body.inventory, body, page, pageSize);
    },
    { pageSize },
  );
}

export async function modifyInventory(
  http: ShipStationTransport,
  transaction: V2InventoryTransaction,
  signal?: AbortSignal,
): Promise<void> {
  await http.request<unknown>({
    method: 'POST',
    path: '/v2/inventory',
    body: transaction,
    idempotent: transaction.transaction_type === 'adjust',
    signal,
  });
}

export async function listInventoryWarehouses(
  http: ShipStationTransport,
  signal?: AbortSignal,
): Promise<V2InventoryWarehouse[]> {
  const all: V2InventoryWarehouse[] = [];
  const pages = pageThrough(
    async (page) => {
      const response = await http.request<V2InventoryWarehousesPage>({
        method: 'GET',
        path: '/v2/inventory_warehouses',
        query: { page, page_size: V2_PAGE_SIZE },
        idempotent: true,
        signal,
      });
      const body = requireBody(http, response.body, 'GET /v2/inventory_warehouses');
      return toV2Page(body.inventory_warehouses, body, page, V2_PAGE_SIZE);
    },
    { pageSize: V2_PAGE_SIZE },
  );
  for await (const page of pages) all.push(...page.items);
  return all;
}

export async function listInventoryLocations(
  http: ShipStationTransport,
  signal?: AbortSignal,
): Promise<V2InventoryLocation[]> {
  const all: V2InventoryLocation[] = [];
  const pages = pageThrough(
    async (page) => {
      const response = await http.request<V2InventoryLocationsPage>({
        method: 'GET',
        path: '/v2/inventory_locations',
        query: { page, page_size: V2_PAGE_SIZE },
        idempotent: true,
        signal,
      });
      const body = requireBody(http, response.body, 'GET /v2/inventory_locations');
      return toV2Page(body.inventory_locations, body, page, V2_PAGE_SIZE);
    },
    { pageSize: V2_PAGE_SIZE },
  );
  for await (const page of pages) all.push(...page.items);
  return all;
}
