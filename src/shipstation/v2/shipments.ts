/**
 * V2 shipments (a V1 order is a V2 shipment; reference §10): create in bulk, get (by id or by our
 * `external_shipment_id`), list with the documented filters, replace while `pending`, cancel, hold
 * and restore.
 *
 * Repeat safety: `external_shipment_id` is unique per account, so a create sent again after a
 * timeout or a 5xx cannot make a second shipment: the repeat is refused for the duplicate key, and
 * the caller looks the shipment up by that key (the check against the target). A create without
 * one is sent once. PUT replaces the whole shipment (same body, same result), cancel, hold (the same
 * date) and restore state an end state: all are repeated after a timeout.
 */
import { requireBody, type ShipStationTransport } from '../http.js';
import type { Page } from '../paging.js';
import { listV2 } from './list.js';
import type {
  V2CreateShipmentsResponse,
  V2Id,
  V2ListShipmentsQuery,
  V2Shipment,
  V2ShipmentInput,
} from './types.js';

/** One create call takes many shipments; we send at most what one V1 `createorders` did. */
export const MAX_SHIPMENTS_PER_CALL = 100;
/** Bulk hold and restore take at most 500 shipments per request (reference §10). */
export const MAX_HOLD_PER_CALL = 500;

export const LIST_SHIPMENTS_FILTERS: readonly (keyof V2ListShipmentsQuery)[] = [
  'shipment_status',
  'batch_id',
  'created_at_start',
  'created_at_end',
  'modified_at_start',
  'modified_at_end',
  'sales_order_id',
  'shipment_number',
  'ship_to_name',
  'item_keyword',
  'payment_date_start',
  'payment_date_end',
  'store_id',
  'external_shipment_id',
  'sort_dir',
  'sort_by',
  'page',
  'page_size',
];

const path = (id: V2Id) => `/v2/shipments/${encodeURIComponent(id)}`;

export async function createShipments(
  http: ShipStationTransport,
  shipments: readonly V2ShipmentInput[],
  signal?: AbortSignal,
): Promise<V2CreateShipmentsResponse> {
  if (shipments.length === 0) return { has_errors: false, shipments: [] };
  if (shipments.length > MAX_SHIPMENTS_PER_CALL) {
    throw new RangeError(
      `createShipments takes at most ${MAX_SHIPMENTS_PER_CALL} shipments, got ${shipments.length}`,
    );
  }
  const response = await http.request<V2CreateShipmentsResponse>({
    method: 'POST',
    path: '/v2/shipments',
    body: { shipments },
    idempotent: shipments.every(
      (s) => typeof s.external_shipment_id === 'string' && s.external_shipment_id !== '',
    ),
    signal,
  });
  const body = requireBody(http, response.body, 'POST /v2/shipments');
  return {
    has_errors: body.has_errors === true,
    shipments: Array.isArray(body.shipments) ? body.shipments : [],
  };
}

export async function getShipment(
  http: ShipStationTransport,
  shipmentId: V2Id,
  signal?: AbortSignal,
): Promise<V2Shipment> {
  const response = await http.request<V2Shipment>({
    method: 'GET',
    path: path(shipmentId),
    idempotent: true,
    signal,
  });
  return requireBody(http, response.body, 'GET /v2/shipments/{shipment_id}');
}

export async function getShipmentByExternalId(
  http: ShipStationTransport,
  externalShipmentId: string,
  signal?: AbortSignal,
): Promise<V2Shipment> {
  const response = await http.request<V2Shipment>({
    method: 'GET',
    path: `/v2/shipments/external_shipment_id/${encodeURIComponent(externalShipmentId)}`,
    idempotent: true,
    signal,
  });
  return requireBody(http, response.body, 'GET /v2/shipments/external_shipment_id/{external_shipment_id}');
}

export function listShipments(
  http: ShipStationTransport,
  query: V2ListShipmentsQuery = {},
  signal?: AbortSignal,
): AsyncGenerator<Page<V2Shipment>, void, undefined> {
  return listV2<V2Shipment>(
    http,
    { path: '/v2/shipments', items: 'shipments', documented: LIST_SHIPMENTS_FILTERS, query },
    signal,
  );
}

/** `PUT /v2/shipments/{id}` with the whole shipment (only while `pending`). */
export async function updateShipment(
  http: ShipStationTransport,
  shipmentId: V2Id,
  shipment: V2ShipmentInput,
  signal?: AbortSignal,
): Promise<V2Shipment | undefined> {
  const response = await http.request<V2Shipment>({
    method: 'PUT',
    path: path(shipmentId),
    body: shipment,
    idempotent: true,
    signal,
  });
  return response.body;
}

/** `PUT /v2/shipments/{id}/cancel` (204); its labels must be voided first. */
export async function cancelShipment(http: ShipStationTransport, shipmentId: V2Id, signal?: AbortSignal) {
  await http.request<unknown>({
    method: 'PUT',
    path: `${path(shipmentId)}/cancel`,
    idempotent: true,
    signal,
  });
}

/**
 * `PUT /v2/shipments/{id}/hold` with a date-only `hold_until_date` later than today (docs "Hold a
 * shipment"). Holding again replaces the date.
 */
export async function holdShipment(
  http: ShipStationTransport,
  shipmentId: V2Id,
  holdUntilDate: string,
  signal?: AbortSignal,
) {
  await http.request<unknown>({
    method: 'PUT',
    path: `${path(shipmentId)}/hold`,
    body: { hold_until_date: holdUntilDate.slice(0, 10) },
    idempotent: true,
    signal,
  });
}

/**
 * Releases a held shipment back to `pending`. The single-shipment path `PUT
 * /v2/shipments/{id}/restore` is UNCONFIRMED (the docs page names "restore" beside `…/hold`; see
 * docs/decisions.md "V2 client").
 */
export async function restoreShipment(http: ShipStationTransport, shipmentId: V2Id, signal?: AbortSignal) {
  await http.request<unknown>({
    method: 'PUT',
    path: `${path(shipmentId)}/restore`,
    idempotent: true,
    signal,
  });
}
