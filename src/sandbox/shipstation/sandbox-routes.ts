/**
 * `/_sandbox/`: what happens in ShipStation's UI or inside ShipStation, exposed for tests, benches
 * and demos. This is NOT ShipStation API: no auth, no rate limit, no faults. Errors here are plain
 * `{error}` bodies with 400/404.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SeededRandom } from '../random.js';
import type { SandboxContext } from './context.js';
import { type FaultRules, type FaultSpec, parseFaultFlag } from './faults.js';
import { renderOrder } from './order-model.js';
import { pacificToInstant } from './pacific-time.js';
import { randomOrderBody } from './seed.js';
import { type LabelRequest, type PackageRequest, SandboxRuleError, type ShipmentRecord } from './state.js';
import { renderShipment } from './v1-shipments.js';
import { parseSeId } from './v2-common.js';
import { renderV2Shipment } from './v2-shipment-model.js';
import { shipmentRenderContext } from './v2-shipments.js';
import type { WebhookDeliveries } from './webhook-delivery.js';

export interface SandboxControls {
  faults: FaultRules;
  deliveries: WebhookDeliveries;
  random: SeededRandom;
  autoShip: {
    get(): { delayMs: number } | false;
    set(value: { delayMs: number } | false): void;
    run(): Promise<number[]>;
  };
  /** Runs everything due now: hold releases, auto-ship, webhook deliveries. */
  tick(): Promise<void>;
  /** Queues a signed V2 webhook and delivers it at once. */
  sendV2Webhook(url: string, event: string, payload: unknown): Promise<unknown>;
  credentials: { apiKey: string; apiSecret: string; v2ApiKey: string };
  /** The V2 label view of a label (V1 shipment), for the label actions' answers. */
  renderV2Label?(shipment: ShipmentRecord): unknown;
}

/** Runs a fault-rule change; a malformed rule is the caller's mistake (400), not a sandbox failure. */
function faultInput<T>(change: () => T): T {
  try {
    return change();
  } catch (error) {
    throw new SandboxRuleError(error instanceof Error ? error.message : String(error));
  }
}

function fail(reply: FastifyReply, status: number, error: string) {
  return reply.code(status).send({ error });
}

function readObject(body: unknown): Record<string, unknown> {
  if (typeof body === 'string') {
    if (body.trim() === '') return {};
    const parsed: unknown = JSON.parse(body);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new SandboxRuleError('Expected a JSON object body.');
    return parsed as Record<string, unknown>;
  }
  return (body ?? {}) as Record<string, unknown>;
}

function readLabelRequest(orderId: number, body: Record<string, unknown>): LabelRequest {
  const shipDate = typeof body.shipDate === 'string' ? pacificToInstant(body.shipDate) : undefined;
  if (typeof body.shipDate === 'string' && shipDate === undefined) {
    throw new SandboxRuleError(`shipDate '${body.shipDate}' is not a date (yyyy-mm-dd).`);
  }
  const packages = body.packages;
  if (packages !== undefined && !Array.isArray(packages))
    throw new SandboxRuleError('packages must be a list.');
  const request: LabelRequest = { orderId };
  if (typeof body.carrierCode === 'string') request.carrierCode = body.carrierCode;
  if (typeof body.serviceCode === 'string') request.serviceCode = body.serviceCode;
  if (typeof body.packageCode === 'string') request.packageCode = body.packageCode;
  if (shipDate !== undefined) request.shipDate = shipDate;
  // `items` at top level = one package with those items.
  if (Array.isArray(body.items)) request.packages = [{ items: body.items as PackageRequest['items'] }];
  if (packages) request.packages = packages as PackageRequest[];
  return request;
}

export function registerSandboxRoutes(
  app: FastifyInstance,
  ctx: SandboxContext,
  controls: SandboxControls,
): void {
  const { state } = ctx;

  app.get('/_sandbox', async () => ({
    sandbox: 'shipstation',
    note: 'Sandbox controls; not part of the ShipStation API. See docs/sandbox-shipstation.md.',
    endpoints: [
      'GET  /_sandbox/state',
      'POST /_sandbox/orders/:orderId/labels',
      'POST /_sandbox/labels',
      'POST /_sandbox/shipments/:shipmentId/void',
      'POST /_sandbox/labels/:shipmentId/track',
      'POST /_sandbox/orders/:orderId/mark-shipped',
      'POST /_sandbox/orders/:orderId/reject-fulfillment',
      'POST /_sandbox/channel-orders',
      'GET|POST|PUT|DELETE /_sandbox/faults, DELETE /_sandbox/faults/:id',
      'GET  /_sandbox/webhooks/deliveries',
      'POST /_sandbox/webhooks/flush',
      'GET|PUT /_sandbox/auto-ship, POST /_sandbox/auto-ship/run',
      'POST /_sandbox/tick',
      'POST /_sandbox/v2/webhooks/send',
    ],
  }));

  app.get('/_sandbox/state', async () => ({
    orders: state.orders.size,
    shipments: state.shipments.size,
    fulfillments: state.fulfillments.size,
    webhooks: state.webhooks.size,
    labelBatches: state.labelBatches.size,
    importBatches: state.importBatches.size,
    autoShip: controls.autoShip.get(),
    faults: controls.faults.list(),
    faultsFired: controls.faults.counts(),
    now: new Date(ctx.now()).toISOString(),
  }));

  const labelResponse = (result: { batchId: number; shipments: ShipmentRecord[] }) => ({
    batchId: result.batchId,
    shipments: result.shipments.map((s) =>
      renderShipment(s, ctx, state.orders.get(s.orderId)?.body() ?? {}, true),
    ),
    // The same labels as V2 sees them (`label_id` se-<shipmentId>).
    labels: controls.renderV2Label ? result.shipments.map((s) => controls.renderV2Label?.(s)) : [],
  });

  app.post<{ Params: { orderId: string } }>('/_sandbox/orders/:orderId/labels', async (request, reply) => {
    const orderId = Number(request.params.orderId.replace(/^se-/i, ''));
    if (!Number.isInteger(orderId)) return fail(reply, 400, `'${request.params.orderId}' is not an orderId.`);
    const result = state.createLabelBatch([readLabelRequest(orderId, readObject(request.body))]);
    return labelResponse(result);
  });

  // An operator splits an order in the UI: the last `count` items (default 1) become a new order.
  app.post<{ Params: { orderId: string } }>('/_sandbox/orders/:orderId/split', async (request, reply) => {
    const orderId = Number(request.params.orderId.replace(/^se-/i, ''));
    if (!Number.isInteger(orderId)) return fail(reply, 400, `'${request.params.orderId}' is not an orderId.`);
    const count = Number(readObject(request.body).count ?? 1);
    const { original, part } = state.splitOrder(orderId, count);
    return { original: renderOrder(original, ctx.render), part: renderOrder(part, ctx.render) };
  });

  // The same split as V2 sees it: the shipment keeps its shipment_id, external_shipment_id and
  // number with fewer items; the part is a new shipment numbered `<shipment_number>-<n>`. V2 names
  // no split marker on either (no `mergedOrSplit`): UNCONFIRMED what production shows, see
  // docs/decisions.md.
  app.post<{ Params: { shipmentId: string } }>(
    '/_sandbox/v2/shipments/:shipmentId/split',
    async (request, reply) => {
      const orderId = parseSeId(request.params.shipmentId);
      if (orderId === undefined)
        return fail(reply, 400, `'${request.params.shipmentId}' is not a shipment_id (se-…).`);
      const count = Number(readObject(request.body).count ?? 1);
      const { original, part } = state.splitOrder(orderId, count);
      const render = shipmentRenderContext(ctx);
      return { original: renderV2Shipment(original, render), part: renderV2Shipment(part, render) };
    },
  );

  app.post('/_sandbox/labels', async (request, reply) => {
    const body = readObject(request.body);
    if (!Array.isArray(body.orders) || body.orders.length === 0) {
      return fail(reply, 400, 'orders must be a non-empty list of {orderId, carrierCode?, packages?}.');
    }
    const requests = (body.orders as Array<Record<string, unknown>>).map((o) => {
      const orderId = Number(o?.orderId);
      if (!Number.isInteger(orderId)) throw new SandboxRuleError('each entry of orders needs an orderId.');
      return readLabelRequest(orderId, o);
    });
    return labelResponse(state.createLabelBatch(requests));
  });

  app.post<{ Params: { shipmentId: string } }>('/_sandbox/shipments/:shipmentId/void', async (request) => {
    const shipment = state.voidLabel(Number(request.params.shipmentId.replace(/^se-/i, '')));
    return renderShipment(shipment, ctx, state.orders.get(shipment.orderId)?.body() ?? {}, true);
  });

  // The UI's "Mark as Shipped" (the same as POST /orders/markasshipped): FULFILLMENT_SHIPPED.
  app.post<{ Params: { orderId: string } }>(
    '/_sandbox/orders/:orderId/mark-shipped',
    async (request, reply) => {
      const orderId = Number(request.params.orderId.replace(/^se-/i, ''));
      if (!Number.isInteger(orderId))
        return fail(reply, 400, `'${request.params.orderId}' is not an orderId.`);
      const body = readObject(request.body);
      const shipDate = typeof body.shipDate === 'string' ? pacificToInstant(body.shipDate) : undefined;
      if (typeof body.shipDate === 'string' && shipDate === undefined)
        return fail(reply, 400, `shipDate '${body.shipDate}' is not a date (yyyy-mm-dd).`);
      const { fulfillment } = state.markAsShipped({
        orderId,
        carrierCode: typeof body.carrierCode === 'string' ? body.carrierCode : 'other',
        shipDate,
        trackingNumber: typeof body.trackingNumber === 'string' ? body.trackingNumber : null,
      });
      return { fulfillmentId: fulfillment.fulfillmentId, batchId: fulfillment.batchId, orderId };
    },
  );

  // A fulfillment provider rejects an open order: FULFILLMENT_REJECTED (inference, see state.ts).
  app.post<{ Params: { orderId: string } }>(
    '/_sandbox/orders/:orderId/reject-fulfillment',
    async (request, reply) => {
      const orderId = Number(request.params.orderId.replace(/^se-/i, ''));
      if (!Number.isInteger(orderId))
        return fail(reply, 400, `'${request.params.orderId}' is not an orderId.`);
      const body = readObject(request.body);
      const fulfillment = state.rejectFulfillment({
        orderId,
        reason: typeof body.reason === 'string' ? body.reason : undefined,
        providerName: typeof body.providerName === 'string' ? body.providerName : undefined,
      });
      return { fulfillmentId: fulfillment.fulfillmentId, batchId: fulfillment.batchId, orderId };
    },
  );

  // An order arriving from a marketplace channel (Shopify, Amazon...): one import batch, ORDER_NOTIFY.
  app.post('/_sandbox/channel-orders', async (request, reply) => {
    const body = readObject(request.body);
    const defaultChannel = [...state.stores.values()].find((s) => !s.manual)?.storeId;
    const storeId = typeof body.storeId === 'number' ? body.storeId : defaultChannel;
    if (storeId === undefined || !state.stores.has(storeId))
      return fail(reply, 400, `store ${String(storeId)} was not found.`);
    const count = typeof body.count === 'number' ? Math.min(Math.max(1, Math.floor(body.count)), 500) : 1;
    const batch = state.newImportBatch();
    const notifying: number[] = [];
    const created = [];
    for (let i = 0; i < count; i += 1) {
      const orderNumber = `CH-${controls.random.digits(7)}`;
      const base = randomOrderBody(controls.random, orderNumber, ctx.now(), 'awaiting_shipment');
      const given = (body.order ?? {}) as Record<string, unknown>;
      const input: Record<string, unknown> = {
        ...base,
        ...given,
        orderKey: given.orderKey ?? `${storeId}-${controls.random.digits(12)}`,
      };
      if (count > 1 && typeof given.orderNumber === 'string')
        input.orderNumber = `${given.orderNumber}-${i + 1}`;
      const errors = {};
      const doc = state.bindOrder(input, 'order', errors);
      if (!doc || Object.keys(errors).length > 0)
        return fail(reply, 400, `order does not bind: ${JSON.stringify(errors)}`);
      const result = state.upsertOrder(doc, batch, notifying, { storeId });
      if (!result.ok) return fail(reply, 400, result.message);
      created.push(result.record);
    }
    state.finishImportBatch(batch, notifying);
    return { importBatch: batch, orders: created.map((o) => renderOrder(o, ctx.render)) };
  });

  app.get('/_sandbox/faults', async () => controls.faults.list());
  app.post('/_sandbox/faults', async (request) => {
    const body = readObject(request.body);
    return faultInput(() => {
      const spec: FaultSpec = typeof body.flag === 'string' ? parseFaultFlag(body.flag) : (body as FaultSpec);
      return controls.faults.add(spec);
    });
  });
  app.put('/_sandbox/faults', async (request) => {
    const raw =
      typeof request.body === 'string' ? (JSON.parse(request.body || '[]') as unknown) : request.body;
    if (!Array.isArray(raw)) throw new SandboxRuleError('PUT /_sandbox/faults takes a list of fault rules.');
    return controls.faults.replace(
      raw.map((r) => (typeof r === 'string' ? parseFaultFlag(r) : (r as FaultSpec))),
    );
  });
  app.delete('/_sandbox/faults', async () => {
    controls.faults.clear();
    return [];
  });
  app.delete<{ Params: { id: string } }>('/_sandbox/faults/:id', async (request, reply) => {
    if (!controls.faults.remove(request.params.id))
      return fail(reply, 404, `fault ${request.params.id} was not found.`);
    return controls.faults.list();
  });

  app.get('/_sandbox/webhooks/deliveries', async () => controls.deliveries.list());
  app.post('/_sandbox/webhooks/flush', async (request) => {
    const q = request.query as Record<string, string>;
    if (q.all === 'true' || q.all === '1') controls.deliveries.makeAllDue();
    await controls.deliveries.flush();
    return controls.deliveries.list();
  });

  app.get('/_sandbox/auto-ship', async () => ({ autoShip: controls.autoShip.get() }));
  app.put('/_sandbox/auto-ship', async (request) => {
    const body = readObject(request.body);
    if (body.enabled === false) controls.autoShip.set(false);
    else if (typeof body.delayMs === 'number' && body.delayMs >= 0)
      controls.autoShip.set({ delayMs: body.delayMs });
    else
      throw new SandboxRuleError('send {"delayMs": n} to enable auto-ship or {"enabled": false} to stop it.');
    return { autoShip: controls.autoShip.get() };
  });
  app.post('/_sandbox/auto-ship/run', async () => ({ labelled: await controls.autoShip.run() }));

  app.post('/_sandbox/tick', async () => {
    await controls.tick();
    return { now: new Date(ctx.now()).toISOString() };
  });

  app.post('/_sandbox/v2/webhooks/send', async (request, reply) => {
    const body = readObject(request.body);
    if (typeof body.url !== 'string') return fail(reply, 400, 'url is required.');
    const event = typeof body.event === 'string' ? body.event : 'track';
    const payload = body.payload ?? {
      resource_url: `${ctx.resourceBaseUrl()}/v2/labels/se-0/track`,
      resource_type: 'TRACK_EVENT_V2',
    };
    return controls.sendV2Webhook(body.url, event, payload);
  });
}
