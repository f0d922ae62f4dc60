/**
 * V1 orders (reference §1.2–§1.5): createorder, createorders, list, get, delete, markasshipped,
 * holduntil, restorefromhold.
 */
import type { FastifyInstance } from 'fastify';
import { readJsonBody, type SandboxContext } from './context.js';
import {
  badRequest,
  type ModelState,
  modelStateError,
  NoRouteError,
  notFound,
  V1HttpError,
} from './errors.js';
import { bindObject, type JsonDoc, type ObjectSpec } from './json-binding.js';
import { paginate, QueryReader, sortBy } from './list-query.js';
import { ORDER_STATUSES, type OrderRecord, renderOrder } from './order-model.js';
import { pacificMidnight } from './pacific-time.js';
import type { UpsertResult } from './state.js';

export const MAX_ORDERS_PER_CALL = 100;

const MARK_AS_SHIPPED: ObjectSpec = {
  typeName: 'SS.OpenApi.Models.MarkAsShippedRequest',
  fields: {
    orderId: 'int',
    carrierCode: 'string',
    shipDate: 'datetime',
    trackingNumber: 'string',
    notifyCustomer: 'bool',
    notifySalesChannel: 'bool',
  },
};
const HOLD_UNTIL: ObjectSpec = {
  typeName: 'SS.OpenApi.Models.HoldUntilRequest',
  fields: { orderId: 'int', holdUntilDate: 'datetime' },
};
const ORDER_ID_ONLY: ObjectSpec = {
  typeName: 'SS.OpenApi.Models.OrderIdRequest',
  fields: { orderId: 'int' },
};

function bindCommand(body: unknown, spec: ObjectSpec, parameter: string, required: string[]): JsonDoc {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw modelStateError({ [parameter]: [`The ${parameter} field is required.`] });
  }
  const errors: ModelState = {};
  const doc = bindObject(body as JsonDoc, spec, parameter, errors);
  for (const field of required) {
    if (doc[field] === undefined || doc[field] === null)
      errors[`${parameter}.${field}`] = [`The ${field} field is required.`];
  }
  if (Object.keys(errors).length > 0) throw modelStateError(errors);
  return doc;
}

/** `{orderId}` only matches a number (a route constraint): anything else is no route (405/404). */
function parseOrderId(text: string): number {
  if (!/^\d+$/.test(text)) throw new NoRouteError();
  return Number(text);
}

/**
 * The `orderNumber` filter: starts-with, case-insensitive (SQL Server's default collation is
 * case-insensitive; our inference, docs/decisions.md). Also used by shipments and fulfillments.
 */
export function orderNumberStartsWith(orderNumber: string, lowerCasePrefix: string): boolean {
  return orderNumber.toLowerCase().startsWith(lowerCasePrefix);
}

export function registerOrderRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const { state } = ctx;

  const refusal = (result: Extract<UpsertResult, { ok: false }>): V1HttpError => {
    if (result.code === 'locked')
      return new V1HttpError(ctx.lockedOrderStatusCode, { Message: result.message });
    if (result.code === 'not_found') return notFound(result.message);
    return badRequest(result.message);
  };

  app.post('/orders/createorder', async (request) => {
    const body = readJsonBody(request, 'order');
    if (body === undefined) throw modelStateError({ order: ['The order field is required.'] });
    const errors: ModelState = {};
    const doc = state.bindOrder(body, 'order', errors);
    if (!doc || Object.keys(errors).length > 0) throw modelStateError(errors);
    const batch = state.newImportBatch();
    const notifying: number[] = [];
    const result = state.upsertOrder(doc, batch, notifying);
    state.finishImportBatch(batch, notifying);
    if (!result.ok) throw refusal(result);
    return renderOrder(result.record, ctx.render);
  });

  app.post('/orders/createorders', async (request) => {
    const body = readJsonBody(request, 'orders');
    if (body === undefined) throw modelStateError({ orders: ['The orders field is required.'] });
    if (!Array.isArray(body)) {
      throw modelStateError({
        orders: [
          'Cannot deserialize the current JSON object (e.g. {"name":"value"}) into type \'System.Collections.Generic.List`1[SS.OpenApi.Models.Order]\' because the type requires a JSON array (e.g. [1,2,3]) to deserialize correctly. Path \'\', line 1, position 1.',
        ],
      });
    }
    if (body.length > MAX_ORDERS_PER_CALL) {
      throw modelStateError({
        orders: [
          `The maximum number of orders per request is ${MAX_ORDERS_PER_CALL}; this request has ${body.length}.`,
        ],
      });
    }
    // Binding (types) fails the whole request, as model binding does; business rules fail per order.
    const errors: ModelState = {};
    const docs = body.map((raw, i) => state.bindOrder(raw, `orders[${i}]`, errors));
    if (Object.keys(errors).length > 0) throw modelStateError(errors);
    const batch = state.newImportBatch();
    const notifying: number[] = [];
    const results = docs.map((doc) => {
      const result = doc ? state.upsertOrder(doc, batch, notifying) : undefined;
      if (result?.ok) {
        return {
          orderId: result.record.orderId,
          orderNumber: result.record.orderNumber,
          orderKey: result.record.orderKey,
          success: true,
          errorMessage: null,
        };
      }
      return {
        orderId: result?.orderId ?? 0,
        orderNumber: result?.orderNumber ?? null,
        orderKey: result?.orderKey ?? null,
        success: false,
        errorMessage: result?.message ?? 'The order could not be read.',
      };
    });
    state.finishImportBatch(batch, notifying);
    return { hasErrors: results.some((r) => !r.success), results };
  });

  app.get('/orders', async (request) => {
    const q = new QueryReader(request.query as Record<string, string>, ctx.filterTimeRule);
    const customerName = q.string('customerName')?.toLowerCase();
    const itemKeyword = q.string('itemKeyword')?.toLowerCase();
    const createStart = q.date('createDateStart', 'start');
    const createEnd = q.date('createDateEnd', 'end');
    const modifyStart = q.date('modifyDateStart', 'start');
    const modifyEnd = q.date('modifyDateEnd', 'end');
    const orderStart = q.date('orderDateStart', 'start');
    const orderEnd = q.date('orderDateEnd', 'end');
    const paymentStart = q.date('paymentDateStart', 'start');
    const paymentEnd = q.date('paymentDateEnd', 'end');
    const orderNumber = q.string('orderNumber')?.toLowerCase();
    const status = q.oneOf('orderStatus', ORDER_STATUSES);
    const storeId = q.int('storeId');
    const country = q.string('customsCountryCode')?.toUpperCase();
    const importBatch = q.string('importBatch');
    const sortField = q.oneOf('sortBy', ['OrderDate', 'ModifyDate', 'CreateDate'] as const);
    const sortDir = q.oneOf('sortDir', ['ASC', 'DESC'] as const) ?? 'ASC';
    const { page, pageSize } = q.paging();
    q.check();

    const hasPaymentFilter = paymentStart !== undefined || paymentEnd !== undefined;
    const source: Iterable<OrderRecord> =
      importBatch !== undefined
        ? (state.importBatches.get(importBatch) ?? []).flatMap((id) => {
            const o = state.orders.get(id);
            return o ? [o] : [];
          })
        : state.orders.values();
    const matches: OrderRecord[] = [];
    const seen = new Set<number>();
    for (const o of source) {
      if (!o.active) continue;
      if (status !== undefined && o.status !== status) continue;
      if (storeId !== undefined && o.storeId !== storeId) continue;
      if (orderNumber !== undefined && !orderNumberStartsWith(o.orderNumber, orderNumber)) continue;
      if (createStart !== undefined && o.createDate < createStart) continue;
      if (createEnd !== undefined && o.createDate > createEnd) continue;
      if (modifyStart !== undefined && o.modifyDate < modifyStart) continue;
      if (modifyEnd !== undefined && o.modifyDate > modifyEnd) continue;
      if (orderStart !== undefined && o.orderDate < orderStart) continue;
      if (orderEnd !== undefined && o.orderDate > orderEnd) continue;
      if (hasPaymentFilter) {
        if (o.paymentDate < 0) continue;
        if (paymentStart !== undefined && o.paymentDate < paymentStart) continue;
        if (paymentEnd !== undefined && o.paymentDate > paymentEnd) continue;
      }
      if (country !== undefined && o.shipToCountry !== country) continue;
      if (customerName !== undefined && !o.names.includes(customerName)) continue;
      if (itemKeyword !== undefined && !o.itemText.includes(itemKeyword)) continue;
      if (seen.has(o.orderId)) continue;
      seen.add(o.orderId);
      matches.push(o);
    }
    // Default: ascending orderId ("If left empty, the response will be sorted by ascending orderId").
    if (sortField) {
      const key =
        sortField === 'OrderDate'
          ? (o: OrderRecord) => o.orderDate
          : sortField === 'ModifyDate'
            ? (o: OrderRecord) => o.modifyDate
            : (o: OrderRecord) => o.createDate;
      sortBy(matches, key, (o) => o.orderId, sortDir);
    } else if (sortDir === 'DESC') {
      matches.reverse();
    } else if (importBatch !== undefined) {
      matches.sort((a, b) => a.orderId - b.orderId);
    }
    const result = paginate(matches, page, pageSize);
    return {
      orders: result.items.map((o) => renderOrder(o, ctx.render)),
      total: result.total,
      page: result.page,
      pages: result.pages,
    };
  });

  app.get<{ Params: { orderId: string } }>('/orders/:orderId', async (request) => {
    const orderId = parseOrderId(request.params.orderId);
    const record = state.orders.get(orderId);
    if (!record) throw notFound(`Order ${orderId} was not found.`);
    return renderOrder(record, ctx.render);
  });

  app.delete<{ Params: { orderId: string } }>('/orders/:orderId', async (request) => {
    const orderId = parseOrderId(request.params.orderId);
    state.deleteOrder(orderId);
    return { success: true, message: 'The requested order has been deleted.' };
  });

  app.post('/orders/markasshipped', async (request) => {
    const doc = bindCommand(readJsonBody(request, 'request'), MARK_AS_SHIPPED, 'request', [
      'orderId',
      'carrierCode',
    ]);
    const { order } = state.markAsShipped({
      orderId: doc.orderId as number,
      carrierCode: doc.carrierCode as string,
      shipDate: typeof doc.shipDate === 'number' ? pacificMidnight(doc.shipDate) : undefined,
      trackingNumber: typeof doc.trackingNumber === 'string' ? doc.trackingNumber : null,
      notifyCustomer: doc.notifyCustomer === true,
      notifySalesChannel: doc.notifySalesChannel === true,
    });
    return { orderId: order.orderId, orderNumber: order.orderNumber };
  });

  app.post('/orders/holduntil', async (request) => {
    const doc = bindCommand(readJsonBody(request, 'request'), HOLD_UNTIL, 'request', [
      'orderId',
      'holdUntilDate',
    ]);
    state.holdUntil(doc.orderId as number, pacificMidnight(doc.holdUntilDate as number));
    return { success: true, message: 'Order held successfully.' };
  });

  app.post('/orders/restorefromhold', async (request) => {
    const doc = bindCommand(readJsonBody(request, 'request'), ORDER_ID_ONLY, 'request', ['orderId']);
    state.restoreFromHold(doc.orderId as number);
    return { success: true, message: 'Order restored successfully.' };
  });
}
