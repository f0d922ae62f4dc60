/**
 * V2 labels (a V1 shipment is a V2 label; reference §10): list with the documented filters, get one,
 * the labels of one shipment. Tracking number, carrier and cost live on the label.
 */
import { requireBody, type ShipStationTransport } from '../http.js';
import type { Page } from '../paging.js';
import { listV2 } from './list.js';
import type { V2Id, V2Label, V2ListLabelsQuery } from './types.js';

export const LIST_LABELS_FILTERS: readonly (keyof V2ListLabelsQuery)[] = [
  'label_status',
  'service_code',
  'carrier_id',
  'tracking_number',
  'batch_id',
  'rate_id',
  'shipment_id',
  'warehouse_id',
  'created_at_start',
  'created_at_end',
  'sort_dir',
  'sort_by',
  'page',
  'page_size',
];

export function listLabels(
  http: ShipStationTransport,
  query: V2ListLabelsQuery = {},
  signal?: AbortSignal,
): AsyncGenerator<Page<V2Label>, void, undefined> {
  return listV2<V2Label>(
    http,
    { path: '/v2/labels', items: 'labels', documented: LIST_LABELS_FILTERS, query },
    signal,
  );
}

export async function getLabel(
  http: ShipStationTransport,
  labelId: V2Id,
  signal?: AbortSignal,
): Promise<V2Label> {
  const response = await http.request<V2Label>({
    method: 'GET',
    path: `/v2/labels/${encodeURIComponent(labelId)}`,
    idempotent: true,
    signal,
  });
  return requireBody(http, response.body, 'GET /v2/labels/{label_id}');
}

/** Every label of one shipment (voided ones too). */
export async function labelsOfShipment(
  http: ShipStationTransport,
  shipmentId: V2Id,
  signal?: AbortSignal,
): Promise<V2Label[]> {
  const all: V2Label[] = [];
  for await (const page of listLabels(http, { shipment_id: shipmentId }, signal)) all.push(...page.items);
  return all;
}
