/**
 * V1 shipments and fulfillments (reference §1.6, §1.7). `GET /shipments` lists only labels made in
 * ShipStation (voided ones stay, `voided:true`); orders marked as shipped appear only under
 * `GET /fulfillments`. `batchId` is the hidden filter of SHIP_NOTIFY resource URLs (§4.2) and, by
 * our inference, of FULFILLMENT_SHIPPED/REJECTED ones on `/fulfillments`.
 */
import type { FastifyInstance } from 'fastify';
import { readJsonBody, type SandboxContext } from './context.js';
import { modelStateError } from './errors.js';
import { paginate, QueryReader, sortBy } from './list-query.js';
import { type OrderBody, renderAddress, renderItem, type StoredItem } from './order-model.js';
import { formatDateOnly, formatDotNet7, formatMidnight7 } from './pacific-time.js';
import type { FulfillmentRecord, ShipmentRecord, ShipStationState } from './state.js';
import { orderNumberStartsWith } from './v1-orders.js';

/** Parses order bodies once per response. */
function bodyCache(state: ShipStationState): (orderId: number) => OrderBody {
  const cache = new Map<number, OrderBody>();
  return (orderId) => {
    let body = cache.get(orderId);
    if (!body) {
      body = state.orders.get(orderId)?.body() ?? {};
      cache.set(orderId, body);
    }
    return body;
  };
}

function shipToName(body: OrderBody): string {
  const shipTo = body.shipTo as { name?: unknown } | null | undefined;
  return typeof shipTo?.name === 'string' ? shipTo.name.toLowerCase() : '';
}

function shipToCountry(body: OrderBody): string {
  const shipTo = body.shipTo as { country?: unknown } | null | undefined;
  return typeof shipTo?.country === 'string' ? shipTo.country.toUpperCase() : '';
}

export function renderShipment(
  s: ShipmentRecord,
  ctx: SandboxContext,
  body: OrderBody,
  includeItems: boolean,
): Record<string, unknown> {
  const order = ctx.state.orders.get(s.orderId);
  const advanced = (body.advancedOptions ?? {}) as Record<string, unknown>;
  const items = new Map((body.items ?? []).map((i) => [i.orderItemId, i]));
  const dims = body.dimensions as Record<string, unknown> | null | undefined;
  return {
    shipmentId: s.shipmentId,
    orderId: s.orderId,
    orderKey: order?.orderKey ?? null,
    userId: ctx.render.userId,
    customerEmail: typeof body.customerEmail === 'string' ? body.customerEmail : null,
    orderNumber: order?.orderNumber ?? null,
    createDate: formatDotNet7(s.createDate),
    shipDate: formatDateOnly(s.shipDate),
    shipmentCost: s.shipmentCost,
    insuranceCost: s.insuranceCost,
    trackingNumber: s.trackingNumber,
    isReturnLabel: false,
    batchNumber: String(s.batchId),
    carrierCode: s.carrierCode,
    serviceCode: s.serviceCode,
    packageCode: s.packageCode,
    confirmation: s.confirmation,
    warehouseId: s.warehouseId,
    voided: s.voided,
    voidDate: s.voided ? formatDotNet7(s.voidDate) : null,
    marketplaceNotified: false,
    notifyErrorMessage: null,
    shipTo: renderAddress(body.shipTo, false),
    weight: { value: s.weightOunces, units: 'ounces', WeightUnits: 1 },
    dimensions: dims
      ? {
          units: dims.units ?? 'inches',
          length: dims.length ?? 0,
          width: dims.width ?? 0,
          height: dims.height ?? 0,
        }
      : null,
    insuranceOptions: { provider: null, insureShipment: false, insuredValue: 0 },
    advancedOptions: {
      billToParty: advanced.billToParty ?? null,
      billToAccount: advanced.billToAccount ?? null,
      billToPostalCode: advanced.billToPostalCode ?? null,
      billToCountryCode: advanced.billToCountryCode ?? null,
      storeId: order?.storeId ?? null,
    },
    shipmentItems: includeItems
      ? s.items.flatMap(([itemId, quantity]) => {
          const item = items.get(itemId) as StoredItem | undefined;
          return item ? [{ ...renderItem(item), quantity }] : [];
        })
      : null,
    labelData: null,
    formData: null,
  };
}

function renderFulfillment(
  f: FulfillmentRecord,
  ctx: SandboxContext,
  body: OrderBody,
): Record<string, unknown> {
  return {
    fulfillmentId: f.fulfillmentId,
    orderId: f.orderId,
    orderNumber: f.orderNumber,
    userId: ctx.render.userId,
    customerEmail: typeof body.customerEmail === 'string' ? body.customerEmail : null,
    trackingNumber: f.trackingNumber,
    createDate: formatDotNet7(f.createDate),
    shipDate: formatMidnight7(f.shipDate),
    voidDate: f.rejected ? formatDotNet7(f.rejected.at) : null,
    deliveryDate: null,
    carrierCode: f.carrierCode,
    sellerFillProviderId: f.rejected ? 1 : null,
    sellerFillProviderName: f.rejected ? f.rejected.providerName : null,
    fulfillmentServiceCode: null,
    fulfillmentProviderCode: null,
    fulfillmentFee: 0,
    voidRequested: false,
    voided: f.rejected !== undefined,
    marketplaceNotified: f.notifySalesChannel,
    notifyErrorMessage: f.rejected ? f.rejected.reason : null,
    shipTo: renderAddress(body.shipTo, false),
  };
}

export function registerShipmentRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const { state } = ctx;

  app.get('/shipments', async (request) => {
    const q = new QueryReader(request.query as Record<string, string>, ctx.filterTimeRule);
    const recipientName = q.string('recipientName')?.toLowerCase();
    const recipientCountry = q.string('recipientCountryCode')?.toUpperCase();
    const orderNumber = q.string('orderNumber')?.toLowerCase();
    const orderId = q.int('orderId');
    const carrierCode = q.string('carrierCode')?.toLowerCase();
    const serviceCode = q.string('serviceCode')?.toLowerCase();
    const trackingNumber = q.string('trackingNumber');
    const createStart = q.date('createDateStart', 'start');
    const createEnd = q.date('createDateEnd', 'end');
    const shipStart = q.date('shipDateStart', 'start');
    const shipEnd = q.date('shipDateEnd', 'end');
    const voidStart = q.date('voidDateStart', 'start');
    const voidEnd = q.date('voidDateEnd', 'end');
    const storeId = q.int('storeId');
    const batchId = q.int('batchId');
    const includeItems = q.bool('includeShipmentItems') ?? false;
    const sortField = q.oneOf('sortBy', ['ShipDate', 'CreateDate'] as const);
    const sortDir = q.oneOf('sortDir', ['ASC', 'DESC'] as const) ?? 'ASC';
    const { page, pageSize } = q.paging();
    q.check();

    const bodyOf = bodyCache(state);
    const source: Iterable<ShipmentRecord> =
      batchId !== undefined
        ? (state.labelBatches.get(batchId) ?? []).flatMap((id) => {
            const s = state.shipments.get(id);
            return s ? [s] : [];
          })
        : orderId !== undefined
          ? (state.shipmentIdsByOrder.get(orderId) ?? []).flatMap((id) => {
              const s = state.shipments.get(id);
              return s ? [s] : [];
            })
          : state.shipments.values();
    const matches: ShipmentRecord[] = [];
    const hasVoidFilter = voidStart !== undefined || voidEnd !== undefined;
    for (const s of source) {
      if (orderId !== undefined && s.orderId !== orderId) continue;
      if (carrierCode !== undefined && s.carrierCode.toLowerCase() !== carrierCode) continue;
      if (serviceCode !== undefined && s.serviceCode.toLowerCase() !== serviceCode) continue;
      if (trackingNumber !== undefined && s.trackingNumber !== trackingNumber) continue;
      if (createStart !== undefined && s.createDate < createStart) continue;
      if (createEnd !== undefined && s.createDate > createEnd) continue;
      if (shipStart !== undefined && s.shipDate < shipStart) continue;
      if (shipEnd !== undefined && s.shipDate > shipEnd) continue;
      if (hasVoidFilter) {
        if (!s.voided) continue;
        if (voidStart !== undefined && s.voidDate < voidStart) continue;
        if (voidEnd !== undefined && s.voidDate > voidEnd) continue;
      }
      const order = state.orders.get(s.orderId);
      if (storeId !== undefined && order?.storeId !== storeId) continue;
      if (orderNumber !== undefined && !orderNumberStartsWith(order?.orderNumber ?? '', orderNumber))
        continue;
      if (recipientName !== undefined && !shipToName(bodyOf(s.orderId)).includes(recipientName)) continue;
      if (recipientCountry !== undefined && shipToCountry(bodyOf(s.orderId)) !== recipientCountry) continue;
      matches.push(s);
    }
    // Default: ascending createDate (reference §1.6); ties by shipmentId.
    const key =
      sortField === 'ShipDate' ? (s: ShipmentRecord) => s.shipDate : (s: ShipmentRecord) => s.createDate;
    sortBy(matches, key, (s) => s.shipmentId, sortDir);
    const result = paginate(matches, page, pageSize);
    return {
      shipments: result.items.map((s) => renderShipment(s, ctx, bodyOf(s.orderId), includeItems)),
      total: result.total,
      page: result.page,
      pages: result.pages,
    };
  });

  // The documented V1 void call (reference §2: `{"approved": true, "message": "Label voided successfully"}`).
  app.post('/shipments/voidlabel', async (request) => {
    const body = readJsonBody(request, 'request') as { shipmentId?: unknown } | undefined;
    const id = Number(body?.shipmentId);
    if (!Number.isInteger(id))
      throw modelStateError({ 'request.shipmentId': ['The shipmentId field is required.'] });
    state.voidLabel(id);
    return { approved: true, message: 'Label voided successfully' };
  });

  app.get('/fulfillments', async (request) => {
    const q = new QueryReader(request.query as Record<string, string>, ctx.filterTimeRule);
    const fulfillmentId = q.int('fulfillmentId');
    const orderId = q.int('orderId');
    const orderNumber = q.string('orderNumber')?.toLowerCase();
    const trackingNumber = q.string('trackingNumber');
    const recipientName = q.string('recipientName')?.toLowerCase();
    const createStart = q.date('createDateStart', 'start');
    const createEnd = q.date('createDateEnd', 'end');
    const shipStart = q.date('shipDateStart', 'start');
    const shipEnd = q.date('shipDateEnd', 'end');
    const sortField = q.oneOf('sortBy', ['ShipDate', 'CreateDate'] as const);
    const sortDir = q.oneOf('sortDir', ['ASC', 'DESC'] as const) ?? 'ASC';
    // The hidden filters of FULFILLMENT_* resource URLs (our inference, mirroring /shipments).
    const batchId = q.int('batchId');
    const storeId = q.int('storeId');
    const { page, pageSize } = q.paging();
    q.check();

    const bodyOf = bodyCache(state);
    const matches: FulfillmentRecord[] = [];
    const source: Iterable<FulfillmentRecord> =
      batchId !== undefined
        ? (state.fulfillmentBatches.get(batchId) ?? []).flatMap((id) => {
            const f = state.fulfillments.get(id);
            return f ? [f] : [];
          })
        : state.fulfillments.values();
    for (const f of source) {
      if (storeId !== undefined && state.orders.get(f.orderId)?.storeId !== storeId) continue;
      if (fulfillmentId !== undefined && f.fulfillmentId !== fulfillmentId) continue;
      if (orderId !== undefined && f.orderId !== orderId) continue;
      if (orderNumber !== undefined && !orderNumberStartsWith(f.orderNumber, orderNumber)) continue;
      if (trackingNumber !== undefined && f.trackingNumber !== trackingNumber) continue;
      if (createStart !== undefined && f.createDate < createStart) continue;
      if (createEnd !== undefined && f.createDate > createEnd) continue;
      if (shipStart !== undefined && f.shipDate < shipStart) continue;
      if (shipEnd !== undefined && f.shipDate > shipEnd) continue;
      if (recipientName !== undefined && !shipToName(bodyOf(f.orderId)).includes(recipientName)) continue;
      matches.push(f);
    }
    const key =
      sortField === 'ShipDate'
        ? (f: FulfillmentRecord) => f.shipDate
        : (f: FulfillmentRecord) => f.createDate;
    sortBy(matches, key, (f) => f.fulfillmentId, sortDir);
    const result = paginate(matches, page, pageSize);
    return {
      fulfillments: result.items.map((f) => renderFulfillment(f, ctx, bodyOf(f.orderId))),
      total: result.total,
      page: result.page,
      pages: result.pages,
    };
  });
}
