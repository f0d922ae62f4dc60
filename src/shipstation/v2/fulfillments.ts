/**
 * V2 fulfillments: mark shipped without a label (`POST /v2/fulfillments`, a batch that can succeed
 * in part with HTTP 200: `{ has_errors, fulfillments[] }`) and list them (docs "List fulfillments":
 * its date filters are `create_date_*` / `ship_date_*`, not `created_at_*`).
 *
 * A create is sent once: sent again it would be a second fulfillment (nothing in the body is a key
 * V2 is documented to refuse twice). A timeout or 5xx is in doubt, to be checked with
 * `GET /v2/fulfillments?shipment_id=…` before anything is sent again.
 */
import { requireBody, type ShipStationTransport } from '../http.js';
import type { Page } from '../paging.js';
import { listV2 } from './list.js';
import type {
  V2CreateFulfillmentResult,
  V2CreateFulfillmentsResponse,
  V2Fulfillment,
  V2FulfillmentInput,
  V2ListFulfillmentsQuery,
} from './types.js';

export const LIST_FULFILLMENTS_FILTERS: readonly (keyof V2ListFulfillmentsQuery)[] = [
  'ship_to_name',
  'ship_to_country_code',
  'shipment_number',
  'shipment_id',
  'fulfillment_id',
  'batch_id',
  'order_source_id',
  'fulfillment_provider_code',
  'tracking_number',
  'ship_date_start',
  'ship_date_end',
  'create_date_start',
  'create_date_end',
  'sort_dir',
  'sort_by',
  'page',
  'page_size',
];

export interface CreateFulfillmentOutcome {
  index: number;
  shipmentId: string;
  success: boolean;
  fulfillmentId: string | null;
  errorMessage: string | null;
}

export function listFulfillments(
  http: ShipStationTransport,
  query: V2ListFulfillmentsQuery = {},
  signal?: AbortSignal,
): AsyncGenerator<Page<V2Fulfillment>, void, undefined> {
  return listV2<V2Fulfillment>(
    http,
    { path: '/v2/fulfillments', items: 'fulfillments', documented: LIST_FULFILLMENTS_FILTERS, query },
    signal,
  );
}

function resultMessage(r: V2CreateFulfillmentResult): string | null {
  if (typeof r.error_message === 'string' && r.error_message !== '') return r.error_message;
  const messages = (Array.isArray(r.errors) ? r.errors : []).map((e) => e?.message).filter(Boolean);
  return messages.length > 0 ? messages.join('; ') : null;
}

/**
 * Marks shipments shipped. One outcome per input, in input order, matched by `shipment_id` (else
 * position). A result is a failure when it says so (`success: false`, an error message or errors)
 * or carries no `fulfillment_id`; an input without a result failed only when `has_errors` was set.
 */
export async function createFulfillments(
  http: ShipStationTransport,
  fulfillments: readonly V2FulfillmentInput[],
  signal?: AbortSignal,
): Promise<{ hasErrors: boolean; results: CreateFulfillmentOutcome[] }> {
  if (fulfillments.length === 0) return { hasErrors: false, results: [] };
  const response = await http.request<V2CreateFulfillmentsResponse>({
    method: 'POST',
    path: '/v2/fulfillments',
    body: { fulfillments },
    idempotent: false,
    signal,
  });
  const body = requireBody(http, response.body, 'POST /v2/fulfillments');
  const raw = Array.isArray(body.fulfillments) ? body.fulfillments : [];
  const used = new Set<number>();
  const results = fulfillments.map((f, index): CreateFulfillmentOutcome => {
    let found = raw.findIndex((r, i) => !used.has(i) && r.shipment_id === f.shipment_id);
    if (found < 0 && raw[index] && !used.has(index) && raw[index]?.shipment_id === undefined) found = index;
    if (found < 0) {
      return {
        index,
        shipmentId: f.shipment_id,
        success: body.has_errors !== true,
        fulfillmentId: null,
        errorMessage: body.has_errors === true ? 'ShipStation returned no result for this fulfillment' : null,
      };
    }
    used.add(found);
    const r = raw[found] as V2CreateFulfillmentResult;
    const message = resultMessage(r);
    const success = r.success !== false && message === null && typeof r.fulfillment_id === 'string';
    return {
      index,
      shipmentId: f.shipment_id,
      success,
      fulfillmentId: typeof r.fulfillment_id === 'string' ? r.fulfillment_id : null,
      errorMessage: success ? null : (message ?? 'ShipStation reported a failure without a message'),
    };
  });
  return { hasErrors: body.has_errors === true || results.some((r) => !r.success), results };
}
