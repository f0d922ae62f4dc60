/**
 * V2 fulfillments over the account's V1 fulfillments (reference §10; docs "Creating
 * Fulfillments", "Listing Fulfillments"): a shipment marked as shipped without a label.
 * `fulfillment_id` is `se-<fulfillmentId>`; a V2 fulfillment is a V1 `markasshipped` and the
 * reverse, so each is listed by both `GET /fulfillments` and `GET /v2/fulfillments`, and each fires
 * FULFILLMENT_SHIPPED (V1) and FULFILLMENT_SHIPPED_V2.
 *
 * Endpoints
 * - `POST /v2/fulfillments` `{fulfillments:[{shipment_id, tracking_number, carrier_code,
 *   ship_date?, notify_customer?, notify_order_source?}]}` (1..100 per request: our limit,
 *   UNCONFIRMED). Each item on its own; HTTP 200 even when some fail (partial success):
 *   `{has_errors, fulfillments:[…]}` in request order, a made one being the fulfillment with
 *   `errors: []`, a refused one `{shipment_id, fulfillment_id: null, errors:[text]}`. Refusals:
 *   unknown shipment, no tracking_number or carrier_code, a shipment already shipped or cancelled.
 * - `GET /v2/fulfillments`: filters `batch_id`, `create_date_start/end` (note: `create_date_*`,
 *   not `created_at_*`), `fulfillment_id`, `fulfillment_provider_code`, `order_source_id` (no
 *   order sources: nothing), `ship_date_start/end`, `ship_to_country_code`, `ship_to_name`,
 *   `shipment_id`, `shipment_number`, `tracking_number`, `sort_by` (`created_at` default,
 *   `ship_date`), `sort_dir` (`desc`), `page`, `page_size`; anything else is ignored.
 *   A fulfillment a provider rejected (V1 FULFILLMENT_REJECTED) is listed `voided: true`.
 */
import type { FastifyInstance } from 'fastify';
import { readV2JsonBody, type SandboxContext } from './context.js';
import { v2Error } from './errors.js';
import type { OrderBody } from './order-model.js';
import { type FulfillmentRecord, SandboxRuleError } from './state.js';
import { iso, money, seId, V2Query, v2Date, v2Paged } from './v2-common.js';
import { v2Address } from './v2-shipment-model.js';
import { requireShipment } from './v2-shipments.js';

export const V2_MAX_FULFILLMENTS_PER_CREATE = 100;

export function renderV2Fulfillment(
  f: FulfillmentRecord,
  ctx: SandboxContext,
  body?: OrderBody,
): Record<string, unknown> {
  const order = ctx.state.orders.get(f.orderId);
  const b = body ?? order?.body() ?? {};
  return {
    fulfillment_id: seId(f.fulfillmentId),
    shipment_id: seId(f.orderId),
    shipment_number: f.orderNumber,
    external_shipment_id: order?.orderKey ?? null,
    user_id: ctx.render.userId,
    tracking_number: f.trackingNumber,
    tracking_url: null,
    carrier_code: f.carrierCode,
    created_at: iso(f.createDate),
    ship_date: v2Date(f.shipDate),
    delivered_at: null,
    voided: f.rejected !== undefined,
    voided_at: f.rejected ? iso(f.rejected.at) : null,
    void_requested: false,
    notify_customer: f.notifyCustomer,
    notify_order_source: f.notifySalesChannel,
    order_source_notified: f.notifySalesChannel,
    notify_error_message: f.rejected ? f.rejected.reason : null,
    fulfillment_provider_code: f.rejected ? f.rejected.providerName : null,
    fulfillment_service_code: null,
    fulfillment_fee: money(0),
    ship_to: v2Address(b.shipTo),
  };
}

function shipToOf(body: OrderBody): { name: string; country: string } {
  const shipTo = (body.shipTo ?? {}) as { name?: unknown; country?: unknown };
  return {
    name: typeof shipTo.name === 'string' ? shipTo.name.toLowerCase() : '',
    country: typeof shipTo.country === 'string' ? shipTo.country.toUpperCase() : '',
  };
}

/** A V2 date-time input (`ship_date`), or undefined when it is absent; 'bad' when unreadable. */
function readShipDate(value: unknown): number | undefined | 'bad' {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return 'bad';
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T12:00:00Z` : value;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? 'bad' : ms;
}

export function registerV2FulfillmentRoutes(
  app: FastifyInstance,
  ctx: SandboxContext,
  baseUrl: () => string,
): void {
  const { state } = ctx;

  app.post('/v2/fulfillments', async (request) => {
    const body = readV2JsonBody(request);
    const list = body.fulfillments;
    if (!Array.isArray(list) || list.length === 0) {
      throw v2Error(
        400,
        'validation',
        'field_value_required',
        'fulfillments must be a non-empty list.',
        'fulfillments',
      );
    }
    if (list.length > V2_MAX_FULFILLMENTS_PER_CREATE) {
      throw v2Error(
        400,
        'validation',
        'invalid_field_value',
        `At most ${V2_MAX_FULFILLMENTS_PER_CREATE} fulfillments per request; this one has ${list.length}.`,
        'fulfillments',
      );
    }
    const results = list.map((raw: unknown) => {
      const item =
        raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
      const shipmentId = typeof item.shipment_id === 'string' ? item.shipment_id : null;
      const refuse = (message: string) => ({
        shipment_id: shipmentId,
        fulfillment_id: null,
        errors: [message],
      });
      if (!shipmentId) return refuse('shipment_id is required.');
      if (typeof item.tracking_number !== 'string' || item.tracking_number === '') {
        return refuse('tracking_number is required.');
      }
      if (typeof item.carrier_code !== 'string' || item.carrier_code === '') {
        return refuse('carrier_code is required.');
      }
      const shipDate = readShipDate(item.ship_date);
      if (shipDate === 'bad') return refuse('ship_date must be an ISO 8601 date-time.');
      try {
        const record = requireShipment(ctx, shipmentId);
        const { fulfillment } = state.markAsShipped({
          orderId: record.orderId,
          carrierCode: item.carrier_code,
          trackingNumber: item.tracking_number,
          ...(shipDate === undefined ? {} : { shipDate }),
          notifyCustomer: item.notify_customer === true,
          notifySalesChannel: item.notify_order_source === true,
        });
        return { ...renderV2Fulfillment(fulfillment, ctx), errors: [] };
      } catch (error) {
        if (error instanceof SandboxRuleError || (error instanceof Error && 'errors' in error)) {
          return refuse(error.message);
        }
        throw error;
      }
    });
    return { has_errors: results.some((r) => r.errors.length > 0), fulfillments: results };
  });

  app.get('/v2/fulfillments', async (request) => {
    const q = new V2Query(request);
    const batchId = q.id('batch_id');
    const createdStart = q.instant('create_date_start');
    const createdEnd = q.instant('create_date_end');
    const fulfillmentId = q.id('fulfillment_id');
    const providerCode = q.string('fulfillment_provider_code');
    const orderSourceId = q.string('order_source_id');
    const shipStart = q.instant('ship_date_start');
    const shipEnd = q.instant('ship_date_end');
    const country = q.string('ship_to_country_code')?.toUpperCase();
    const name = q.string('ship_to_name')?.toLowerCase();
    const shipmentId = q.id('shipment_id');
    const shipmentNumber = q.string('shipment_number');
    const trackingNumber = q.string('tracking_number');
    const sortField = q.oneOf('sort_by', ['created_at', 'ship_date'] as const) ?? 'created_at';
    const dir = q.sortDir() === 'asc' ? 1 : -1;
    const bodies = new Map<number, OrderBody>();
    const bodyOf = (orderId: number) => {
      let b = bodies.get(orderId);
      if (!b) {
        b = state.orders.get(orderId)?.body() ?? {};
        bodies.set(orderId, b);
      }
      return b;
    };
    const rows: FulfillmentRecord[] = [];
    for (const f of state.fulfillments.values()) {
      if (orderSourceId !== undefined) continue;
      if (batchId !== undefined && f.batchId !== batchId) continue;
      if (fulfillmentId !== undefined && f.fulfillmentId !== fulfillmentId) continue;
      if (providerCode !== undefined && f.rejected?.providerName !== providerCode) continue;
      if (createdStart !== undefined && f.createDate < createdStart) continue;
      if (createdEnd !== undefined && f.createDate > createdEnd) continue;
      if (shipStart !== undefined && f.shipDate < shipStart) continue;
      if (shipEnd !== undefined && f.shipDate > shipEnd) continue;
      if (shipmentId !== undefined && f.orderId !== shipmentId) continue;
      if (shipmentNumber !== undefined && f.orderNumber !== shipmentNumber) continue;
      if (trackingNumber !== undefined && f.trackingNumber !== trackingNumber) continue;
      if (country !== undefined || name !== undefined) {
        const to = shipToOf(bodyOf(f.orderId));
        if (country !== undefined && to.country !== country) continue;
        if (name !== undefined && !to.name.includes(name)) continue;
      }
      rows.push(f);
    }
    const key = sortField === 'ship_date' ? 'shipDate' : 'createDate';
    rows.sort((a, b) => dir * (a[key] - b[key] || a.fulfillmentId - b.fulfillmentId));
    const page = v2Paged(request, rows, baseUrl());
    return {
      fulfillments: page.items.map((f) => renderV2Fulfillment(f, ctx, bodyOf(f.orderId))),
      total: page.total,
      page: page.page,
      pages: page.pages,
      links: page.links,
    };
  });
}
