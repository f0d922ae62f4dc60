/**
 * From account events to webhook deliveries. `state.ts` reports what happened (an import batch, a
 * label batch, a fulfillment batch...) through `StateEvents`; each API family turns that into its
 * own webhooks here: V1 `{resource_url, resource_type}` for the subscriptions of `/webhooks`
 * (reference §4.1), V2 signed payloads for `/v2/environment/webhooks` (reference §4.3, §10).
 * `combineEvents` lets several listeners (V1 webhooks, V2 webhooks, auto-ship) share the state.
 */
import type { ShipmentRecord, ShipStationState, StateEvents } from './state.js';
import { renderTracking, type TrackingBook } from './v2-labels.js';
import type { V2WebhookSubscription, V2Webhooks } from './v2-webhooks.js';
import type { WebhookDeliveries } from './webhook-delivery.js';

type Listener = { [K in keyof StateEvents]-?: NonNullable<StateEvents[K]> };

/** One `StateEvents` that calls every listener's handler in turn. */
export function combineEvents(...parts: StateEvents[]): StateEvents {
  const all = <K extends keyof StateEvents>(key: K) =>
    parts.map((p) => p[key]).filter((f): f is NonNullable<StateEvents[K]> => typeof f === 'function');
  const combined: Partial<Listener> = {};
  for (const key of ['orderImport', 'labelBatch', 'awaitingShipment', 'fulfillmentBatch'] as const) {
    const handlers = all(key);
    if (handlers.length === 0) continue;
    // biome-ignore lint/suspicious/noExplicitAny: each handler gets the arguments of its own event.
    (combined as any)[key] = (...args: unknown[]) => {
      // biome-ignore lint/suspicious/noExplicitAny: see above.
      for (const h of handlers) (h as any)(...args);
    };
  }
  return combined;
}

export interface WebhookEventsContext {
  state: ShipStationState;
  deliveries: WebhookDeliveries;
  resourceBaseUrl(): string;
}

/** V1 webhooks: ORDER_NOTIFY, SHIP_NOTIFY / ITEM_SHIP_NOTIFY, FULFILLMENT_SHIPPED / _REJECTED. */
export function v1WebhookEvents({ state, deliveries, resourceBaseUrl }: WebhookEventsContext): StateEvents {
  return {
    orderImport(batch, _orderIds, storeIds) {
      for (const hook of state.webhooks.values()) {
        if (hook.event !== 'ORDER_NOTIFY' && hook.event !== 'ITEM_ORDER_NOTIFY') continue;
        if (hook.storeId !== null && !storeIds.has(hook.storeId)) continue;
        const store = hook.storeId !== null ? `storeID=${hook.storeId}&` : '';
        deliveries.enqueue({
          api: 'v1',
          event: hook.event,
          webhookId: hook.webhookId,
          targetUrl: hook.targetUrl,
          payload: {
            resource_url: `${resourceBaseUrl()}/orders?${store}importBatch=${batch}`,
            resource_type: hook.event,
          },
        });
      }
    },
    labelBatch(batchId, _shipmentIds, storeIds) {
      for (const hook of state.webhooks.values()) {
        if (hook.event !== 'SHIP_NOTIFY' && hook.event !== 'ITEM_SHIP_NOTIFY') continue;
        if (hook.storeId !== null && !storeIds.has(hook.storeId)) continue;
        const store = hook.storeId !== null ? `storeID=${hook.storeId}&` : '';
        const items = hook.event === 'ITEM_SHIP_NOTIFY' ? 'True' : 'False';
        deliveries.enqueue({
          api: 'v1',
          event: hook.event,
          webhookId: hook.webhookId,
          targetUrl: hook.targetUrl,
          payload: {
            resource_url: `${resourceBaseUrl()}/shipments?${store}batchId=${batchId}&includeShipmentItems=${items}`,
            resource_type: hook.event,
          },
        });
      }
    },
    fulfillmentBatch(event, batchId, _fulfillmentIds, storeIds) {
      for (const hook of state.webhooks.values()) {
        if (hook.event !== event) continue;
        if (hook.storeId !== null && !storeIds.has(hook.storeId)) continue;
        const store = hook.storeId !== null ? `storeID=${hook.storeId}&` : '';
        deliveries.enqueue({
          api: 'v1',
          event: hook.event,
          webhookId: hook.webhookId,
          targetUrl: hook.targetUrl,
          payload: {
            resource_url: `${resourceBaseUrl()}/fulfillments?${store}batchId=${batchId}`,
            resource_type: hook.event,
          },
        });
      }
    },
  };
}

/**
 * V2 webhooks (signed, reference §4.3, §10): SHIPMENT_CREATED_V2 per import batch (orders made
 * through V1 or V2, the same batches as ORDER_NOTIFY), LABEL_CREATED_V2 and BATCH_PROCESSED_V2
 * per label batch, FULFILLMENT_SHIPPED_V2 per fulfillment, each a pointer (`resource_url`) to a
 * list; TRACK_EVENT_V2 per label when it is made and at every carrier scan, with its data inline.
 */
export function v2WebhookEvents(
  { state, deliveries, resourceBaseUrl }: WebhookEventsContext,
  v2Webhooks: V2Webhooks,
  tracking: TrackingBook,
): StateEvents {
  const send = (
    hook: V2WebhookSubscription,
    event: string,
    payload: { resource_url: string; resource_type: string; data?: unknown },
  ) =>
    deliveries.enqueue({
      api: 'v2',
      event,
      webhookId: hook.webhook_id,
      targetUrl: hook.url,
      headers: Object.fromEntries(hook.headers.map((h) => [h.key, h.value])),
      payload,
    });
  const track = (s: ShipmentRecord) => {
    for (const hook of v2Webhooks.forEvent('track', storesOf(state, [s.orderId]))) {
      send(hook, 'track', {
        resource_url: `${resourceBaseUrl()}/v2/labels/se-${s.shipmentId}/track`,
        resource_type: 'TRACK_EVENT_V2',
        data: renderTracking(s, tracking),
      });
    }
  };
  tracking.onEvent = track;
  return {
    orderImport(batch, _orderIds, storeIds) {
      for (const hook of v2Webhooks.forEvent('shipment_created_v2', storeIds)) {
        send(hook, 'SHIPMENT_CREATED_V2', {
          resource_url: `${resourceBaseUrl()}/v2/shipments?import_batch_id=${batch}`,
          resource_type: 'SHIPMENT_CREATED_V2',
        });
      }
    },
    labelBatch(batchId, shipmentIds, storeIds) {
      for (const hook of v2Webhooks.forEvent('batch')) {
        send(hook, 'batch', {
          resource_url: `${resourceBaseUrl()}/v2/batches/se-${batchId}`,
          resource_type: 'BATCH_PROCESSED_V2',
        });
      }
      for (const hook of v2Webhooks.forEvent('label_created_v2', storeIds)) {
        send(hook, 'LABEL_CREATED_V2', {
          resource_url: `${resourceBaseUrl()}/v2/labels?batch_id=se-${batchId}`,
          resource_type: 'LABEL_CREATED_V2',
        });
      }
      for (const id of shipmentIds) {
        const s = state.shipments.get(id);
        if (s) track(s);
      }
    },
    fulfillmentBatch(event, _batchId, fulfillmentIds, storeIds) {
      if (event !== 'FULFILLMENT_SHIPPED') return;
      for (const hook of v2Webhooks.forEvent('fulfillment_shipped_v2', storeIds)) {
        for (const id of fulfillmentIds) {
          send(hook, 'FULFILLMENT_SHIPPED_V2', {
            resource_url: `${resourceBaseUrl()}/v2/fulfillments?fulfillment_id=se-${id}`,
            resource_type: 'FULFILLMENT_SHIPPED_V2',
          });
        }
      }
    },
  };
}

function storesOf(state: ShipStationState, orderIds: number[]): Set<number> {
  const out = new Set<number>();
  for (const id of orderIds) {
    const o = state.orders.get(id);
    if (o) out.add(o.storeId);
  }
  return out;
}
