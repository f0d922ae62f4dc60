/**
 * V2 shipments over the same account as V1 orders (reference §5, §10; OpenAPI
 * `shipstation/mcp-shipstation-api` `openapi.yaml`; the newer docs for update, hold and restore).
 * A V1 order IS a V2 shipment here: create one through either API and read it through the other.
 *
 * Endpoints
 * - `POST /v2/shipments` `{shipments:[…]}` (1..100 per request, our limit: UNCONFIRMED). HTTP 200
 *   `{has_errors, shipments:[…]}` in request order: a created item is the full shipment with
 *   `errors: []` and `address_validation: null`; a refused item is
 *   `{shipment_id: null, external_shipment_id, shipment_number, shipment_status: null, errors:[text]}`.
 *   A body that is not `{shipments:[…]}` (or too many) is a 400 for the whole request.
 *   Refusals: `external_shipment_id` already used (it is unique per account and immutable),
 *   `shipment_number` already used by any shipment whatever its status (also within the request),
 *   neither given, no `ship_to` (name, address_line1, city_locality, postal_code, country_code),
 *   neither `ship_from` nor `warehouse_id`, unknown store. Both ids are cut at 50 characters, as
 *   the docs warn ("additional characters will be truncated"). New shipments are `pending`
 *   (V1 `awaiting_shipment`) and fire SHIPMENT_CREATED_V2 (and V1 ORDER_NOTIFY) for the request.
 * - `GET /v2/shipments/{shipment_id}` (`se-<orderId>`), `GET /v2/shipments/external_shipment_id/{id}`.
 * - `GET /v2/shipments`: only the documented filters — `shipment_status`, `batch_id`,
 *   `pickup_id` (no pickups: matches nothing), `created_at_start/end`, `modified_at_start/end`
 *   (inclusive, ISO 8601), `sales_order_id` (no sales orders: matches nothing), `shipment_number`
 *   (exact), `ship_to_name` (contains, case-insensitive), `item_keyword` (SKU, name, options),
 *   `payment_date_start/end`, `store_id`, `external_shipment_id`, `sort_by` (`created_at`
 *   default, `modified_at`), `sort_dir` (`desc` default), `page`, `page_size` (25; ≤ 500) — plus
 *   the hidden `import_batch_id` of SHIPMENT_CREATED_V2 resource URLs (reference §10). Anything
 *   else, a misspelled `modified_date_start` included, is silently ignored.
 * - `PUT /v2/shipments/{id}`: the whole object, only while `pending` (else 400); a different
 *   `external_shipment_id` is refused (immutable); `shipment_number` stays unique. Answers 200
 *   with the shipment. Fields V1 has and V2 cannot express are kept.
 * - `PUT /v2/shipments/{id}/cancel`: 204; 400 while a label is not voided (void it first) or once
 *   shipped; cancelling a cancelled shipment is a 204 again.
 * - `PUT /v2/shipments/{id}/hold` `{hold_until_date}` and `PUT /v2/shipments/{id}/restore`: 204.
 *   The date is date-only, must be after today, and releases the shipment to `pending` on that
 *   date; cancelled or labelled shipments cannot be held, only held ones restored (400).
 * - Bulk `PUT /v2/shipments/hold` `{shipment_ids:[…], hold_until_date}` and
 *   `PUT /v2/shipments/restore` `{shipment_ids:[…]}`, at most 500 ids, each on its own: 200
 *   `{has_errors, results:[{shipment_id, success, error_message}]}`. The bulk paths and bodies
 *   are not in the reference (UNCONFIRMED; docs/decisions.md).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readV2JsonBody, type SandboxContext } from './context.js';
import { v2Error } from './errors.js';
import type { OrderRecord } from './order-model.js';
import { pacificMidnight } from './pacific-time.js';
import { SandboxRuleError } from './state.js';
import { parseSeId, readV2Date, V2Query, v2Paged } from './v2-common.js';
import {
  orderDocFromV2,
  renderV2Shipment,
  type ShipmentRenderContext,
  V2_ID_MAX,
  V2_SHIPMENT_STATUSES,
  v2ShipmentStatus,
} from './v2-shipment-model.js';

export const V2_MAX_SHIPMENTS_PER_CREATE = 100;
export const V2_MAX_HOLD_RESTORE = 500;

function notFound(what: string): never {
  throw v2Error(404, 'validation', 'invalid_identifier', `${what} was not found.`);
}

function businessRule(message: string): never {
  throw v2Error(400, 'business_rules', 'invalid_status', message);
}

function cut(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.slice(0, V2_ID_MAX) : undefined;
}

export function shipmentRenderContext(ctx: SandboxContext): ShipmentRenderContext {
  return {
    defaultWarehouseId: ctx.state.defaultWarehouseId,
    warehouseAddress: (id) => ctx.state.warehouses.get(id)?.originAddress ?? null,
  };
}

/** `se-<orderId>` → the active order, or a V2 404. */
export function requireShipment(ctx: SandboxContext, idText: string): OrderRecord {
  const id = /^se-\d{1,15}$/i.test(idText) ? parseSeId(idText) : undefined;
  const record = id === undefined ? undefined : ctx.state.orders.get(id);
  if (!record?.active) notFound(`Shipment '${idText}'`);
  return record;
}

/** Runs a state action and turns its rule errors into V2 errors. */
function v2Rule<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof SandboxRuleError) {
      if (error.statusCode === 404) notFound(error.message.replace(/ was not found\.$/, ''));
      businessRule(error.message);
    }
    throw error;
  }
}

export function registerV2ShipmentRoutes(
  app: FastifyInstance,
  ctx: SandboxContext,
  baseUrl: () => string,
): void {
  const { state } = ctx;
  const render = (record: OrderRecord) => renderV2Shipment(record, shipmentRenderContext(ctx));

  /** Another shipment (not `self`) already has this shipment_number. */
  const numberTaken = (shipmentNumber: string, self?: number) =>
    state.orderIdsWithNumber(shipmentNumber).some((id) => id !== self);

  app.post('/v2/shipments', async (request) => {
    const body = readV2JsonBody(request);
    const list = body.shipments;
    if (!Array.isArray(list) || list.length === 0) {
      throw v2Error(
        400,
        'validation',
        'field_value_required',
        'shipments must be a non-empty list.',
        'shipments',
      );
    }
    if (list.length > V2_MAX_SHIPMENTS_PER_CREATE) {
      throw v2Error(
        400,
        'validation',
        'invalid_field_value',
        `At most ${V2_MAX_SHIPMENTS_PER_CREATE} shipments per request; this one has ${list.length}.`,
        'shipments',
      );
    }
    const batch = state.newImportBatch();
    const notifying: number[] = [];
    const numbersInRequest = new Set<string>();
    const keysInRequest = new Set<string>();
    const results = list.map((raw: unknown) => {
      const item =
        raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
      const externalId = cut(item.external_shipment_id);
      const shipmentNumber = cut(item.shipment_number) ?? externalId;
      const refuse = (message: string) => ({
        shipment_id: null,
        external_shipment_id: externalId ?? null,
        shipment_number: shipmentNumber ?? null,
        shipment_status: null,
        errors: [message],
      });
      if (!raw || typeof raw !== 'object' || Array.isArray(raw))
        return refuse('A shipment must be an object.');
      if (!shipmentNumber) return refuse('shipment_number or external_shipment_id is required.');
      if (externalId && (state.orderIdByKey.has(externalId) || keysInRequest.has(externalId))) {
        return refuse(`external_shipment_id '${externalId}' is already used by another shipment.`);
      }
      if (numberTaken(shipmentNumber) || numbersInRequest.has(shipmentNumber)) {
        return refuse(`shipment_number '${shipmentNumber}' is already used by another shipment.`);
      }
      if (
        item.shipment_status !== undefined &&
        item.shipment_status !== null &&
        item.shipment_status !== 'pending'
      ) {
        return refuse('A new shipment is pending; shipment_status may only be pending.');
      }
      const mapped = orderDocFromV2(item, { now: ctx.now() });
      if (!mapped.ok) return refuse(mapped.message);
      const doc = {
        ...mapped.doc,
        orderNumber: shipmentNumber,
        ...(externalId ? { orderKey: externalId } : {}),
      };
      const result = state.upsertOrder(doc, batch, notifying);
      if (!result.ok) return refuse(result.message);
      numbersInRequest.add(shipmentNumber);
      if (externalId) keysInRequest.add(externalId);
      return { ...render(result.record), errors: [], address_validation: null };
    });
    state.finishImportBatch(batch, notifying);
    return { has_errors: results.some((r) => r.errors.length > 0), shipments: results };
  });

  app.get('/v2/shipments', async (request) => {
    const q = new V2Query(request);
    const status = q.oneOf('shipment_status', V2_SHIPMENT_STATUSES);
    const batchId = q.id('batch_id');
    const pickupId = q.string('pickup_id');
    const createdStart = q.instant('created_at_start');
    const createdEnd = q.instant('created_at_end');
    const modifiedStart = q.instant('modified_at_start');
    const modifiedEnd = q.instant('modified_at_end');
    const salesOrderId = q.string('sales_order_id');
    const shipmentNumber = q.string('shipment_number');
    const shipToName = q.string('ship_to_name')?.toLowerCase();
    const keyword = q.string('item_keyword')?.toLowerCase();
    const paymentStart = q.instant('payment_date_start');
    const paymentEnd = q.instant('payment_date_end');
    const storeId = q.id('store_id');
    const externalId = q.string('external_shipment_id');
    const importBatch = q.string('import_batch_id');
    const sortField = q.oneOf('sort_by', ['created_at', 'modified_at'] as const) ?? 'created_at';
    const dir = q.sortDir() === 'asc' ? 1 : -1;

    let batchOrders: Set<number> | undefined;
    if (batchId !== undefined) {
      batchOrders = new Set(
        (state.labelBatches.get(batchId) ?? []).map((sid) => state.shipments.get(sid)?.orderId ?? -1),
      );
    }
    const importOrders =
      importBatch === undefined ? undefined : new Set(state.importBatches.get(importBatch) ?? []);

    const rows: OrderRecord[] = [];
    for (const r of state.orders.values()) {
      if (!r.active) continue;
      if (pickupId !== undefined || salesOrderId !== undefined) continue;
      if (status !== undefined && v2ShipmentStatus(r) !== status) continue;
      if (batchOrders && !batchOrders.has(r.orderId)) continue;
      if (importOrders && !importOrders.has(r.orderId)) continue;
      if (createdStart !== undefined && r.createDate < createdStart) continue;
      if (createdEnd !== undefined && r.createDate > createdEnd) continue;
      if (modifiedStart !== undefined && r.modifyDate < modifiedStart) continue;
      if (modifiedEnd !== undefined && r.modifyDate > modifiedEnd) continue;
      if (paymentStart !== undefined && (r.paymentDate < 0 || r.paymentDate < paymentStart)) continue;
      if (paymentEnd !== undefined && (r.paymentDate < 0 || r.paymentDate > paymentEnd)) continue;
      if (shipmentNumber !== undefined && r.orderNumber !== shipmentNumber) continue;
      if (externalId !== undefined && r.orderKey !== externalId) continue;
      if (storeId !== undefined && r.storeId !== storeId) continue;
      if (keyword !== undefined && !r.itemText.includes(keyword)) continue;
      if (shipToName !== undefined) {
        const name = (r.body().shipTo as { name?: unknown } | null | undefined)?.name;
        if (typeof name !== 'string' || !name.toLowerCase().includes(shipToName)) continue;
      }
      rows.push(r);
    }
    const key = sortField === 'modified_at' ? 'modifyDate' : 'createDate';
    rows.sort((a, b) => dir * (a[key] - b[key] || a.orderId - b.orderId));
    const page = v2Paged(request, rows, baseUrl());
    return {
      shipments: page.items.map(render),
      total: page.total,
      page: page.page,
      pages: page.pages,
      links: page.links,
    };
  });

  app.get<{ Params: { externalId: string } }>(
    '/v2/shipments/external_shipment_id/:externalId',
    async (request) => {
      const id = state.orderIdByKey.get(request.params.externalId);
      const record = id === undefined ? undefined : state.orders.get(id);
      if (!record?.active) notFound(`Shipment with external_shipment_id '${request.params.externalId}'`);
      return render(record);
    },
  );

  app.get<{ Params: { id: string } }>('/v2/shipments/:id', async (request) =>
    render(requireShipment(ctx, request.params.id)),
  );

  app.put<{ Params: { id: string } }>('/v2/shipments/:id', async (request) => {
    const record = requireShipment(ctx, request.params.id);
    const body = readV2JsonBody(request);
    if (v2ShipmentStatus(record) !== 'pending') {
      businessRule(
        `Shipment ${request.params.id} is ${v2ShipmentStatus(record)}; only a pending shipment can be updated.`,
      );
    }
    const externalId = cut(body.external_shipment_id);
    if (
      body.external_shipment_id !== undefined &&
      body.external_shipment_id !== null &&
      externalId !== record.orderKey
    ) {
      throw v2Error(
        400,
        'validation',
        'invalid_field_value',
        'external_shipment_id cannot be changed.',
        'external_shipment_id',
      );
    }
    const shipmentNumber = cut(body.shipment_number) ?? record.orderNumber;
    if (numberTaken(shipmentNumber, record.orderId)) {
      throw v2Error(
        400,
        'validation',
        'invalid_field_value',
        `shipment_number '${shipmentNumber}' is already used by another shipment.`,
        'shipment_number',
      );
    }
    const mapped = orderDocFromV2(body, { now: ctx.now(), existing: { record, body: record.body() } });
    if (!mapped.ok) throw v2Error(400, 'validation', 'invalid_field_value', mapped.message);
    const batch = state.newImportBatch();
    const notifying: number[] = [];
    const result = state.upsertOrder(
      { ...mapped.doc, orderId: record.orderId, orderNumber: shipmentNumber },
      batch,
      notifying,
    );
    state.finishImportBatch(batch, notifying);
    if (!result.ok) throw v2Error(400, 'validation', 'invalid_field_value', result.message);
    return render(result.record);
  });

  app.put<{ Params: { id: string } }>('/v2/shipments/:id/cancel', async (request, reply) => {
    const record = requireShipment(ctx, request.params.id);
    v2Rule(() => state.cancelOrder(record.orderId));
    return reply.code(204).send();
  });

  /** Holds one shipment, or throws the V2 refusal. */
  const hold = (record: OrderRecord, until: number): void => {
    if (record.status === 'cancelled')
      businessRule(`Shipment se-${record.orderId} is cancelled and cannot be held.`);
    if (record.status === 'shipped' || state.hasLiveLabel(record.orderId)) {
      businessRule(`Shipment se-${record.orderId} has a purchased label and cannot be held.`);
    }
    v2Rule(() => state.holdUntil(record.orderId, until));
  };
  const readHoldDate = (value: unknown): number => {
    const until = readV2Date(value);
    if (until === undefined) {
      throw v2Error(
        400,
        'validation',
        'field_value_required',
        'hold_until_date is required (YYYY-MM-DD).',
        'hold_until_date',
      );
    }
    if (until <= pacificMidnight(ctx.now())) {
      throw v2Error(
        400,
        'validation',
        'invalid_field_value',
        'hold_until_date must be later than today.',
        'hold_until_date',
      );
    }
    return until;
  };
  const restore = (record: OrderRecord): void => {
    if (record.status !== 'on_hold') businessRule(`Shipment se-${record.orderId} is not on hold.`);
    v2Rule(() => state.restoreFromHold(record.orderId));
  };

  app.put<{ Params: { id: string } }>('/v2/shipments/:id/hold', async (request, reply) => {
    const record = requireShipment(ctx, request.params.id);
    hold(record, readHoldDate(readV2JsonBody(request).hold_until_date));
    return reply.code(204).send();
  });

  app.put<{ Params: { id: string } }>('/v2/shipments/:id/restore', async (request, reply) => {
    restore(requireShipment(ctx, request.params.id));
    return reply.code(204).send();
  });

  /** The body of a bulk hold/restore, with its `shipment_ids` checked. */
  const readBulk = (request: FastifyRequest) => {
    const body = readV2JsonBody(request);
    const ids = body.shipment_ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
      throw v2Error(
        400,
        'validation',
        'field_value_required',
        'shipment_ids must be a non-empty list of shipment ids.',
        'shipment_ids',
      );
    }
    if (ids.length > V2_MAX_HOLD_RESTORE) {
      throw v2Error(
        400,
        'validation',
        'invalid_field_value',
        `At most ${V2_MAX_HOLD_RESTORE} shipments per request; this one has ${ids.length}.`,
        'shipment_ids',
      );
    }
    return { body, ids: ids as string[] };
  };
  const bulkResults = (ids: string[], action: (record: OrderRecord) => void) => {
    const results = ids.map((id) => {
      try {
        action(requireShipment(ctx, id));
        return { shipment_id: id, success: true, error_message: null };
      } catch (error) {
        return {
          shipment_id: id,
          success: false,
          error_message: error instanceof Error ? error.message : String(error),
        };
      }
    });
    return { has_errors: results.some((r) => !r.success), results };
  };

  app.put('/v2/shipments/hold', async (request) => {
    const { body, ids } = readBulk(request);
    const until = readHoldDate(body.hold_until_date);
    return bulkResults(ids, (record) => hold(record, until));
  });

  app.put('/v2/shipments/restore', async (request) => {
    const { ids } = readBulk(request);
    return bulkResults(ids, restore);
  });
}
