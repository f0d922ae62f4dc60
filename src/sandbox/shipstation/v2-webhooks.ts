/**
 * V2 webhook management (`/v2/environment/webhooks`, reference §4.3). Deliveries are signed with
 * RSA-SHA256 by `v2-signing.ts` and made by `webhook-events.ts`; `/_sandbox/v2/webhooks/send`
 * posts any signed payload for a receiver's tests.
 *
 * Events: the Aug-2025 spec's (`batch`, `track`, ...) and the ones seen in production (reference
 * §10): `shipment_created_v2` (SHIPMENT_CREATED_V2, resource_url `/v2/shipments?import_batch_id=…`),
 * `label_created_v2` (LABEL_CREATED_V2, `/v2/labels?batch_id=se-…`), `fulfillment_shipped_v2`
 * (FULFILLMENT_SHIPPED_V2, `/v2/fulfillments?fulfillment_id=se-…`), and `track_event_v2` /
 * `batch_processed_v2` as other names of `track` / `batch`. Event names are read
 * case-insensitively (`SHIPMENT_CREATED_V2` works too) and kept lower-case; which spelling the
 * real subscribe call takes is UNCONFIRMED. A `store_id` limits shipment, label and fulfillment
 * events to that store.
 */
import type { FastifyInstance } from 'fastify';
import { readV2JsonBody } from './context.js';
import { v2Error } from './errors.js';
import { parseSeId } from './v2-common.js';

export const V2_WEBHOOK_EVENTS = [
  'batch',
  'carrier_connected',
  'order_source_refresh_complete',
  'rate',
  'report_complete',
  'sales_orders_imported',
  'track',
  'shipment_created_v2',
  'label_created_v2',
  'fulfillment_shipped_v2',
  'track_event_v2',
  'batch_processed_v2',
] as const;

/** Names that mean the same event. */
const ALIASES: Record<string, string> = { track_event_v2: 'track', batch_processed_v2: 'batch' };

function canonical(event: string): string {
  const e = event.toLowerCase();
  return ALIASES[e] ?? e;
}

export interface V2WebhookSubscription {
  webhook_id: string;
  url: string;
  event: string;
  name: string | null;
  store_id: number | null;
  headers: Array<{ key: string; value: string }>;
}

export class V2Webhooks {
  readonly subscriptions = new Map<string, V2WebhookSubscription>();
  private nextId = 1;

  add(input: Omit<V2WebhookSubscription, 'webhook_id'>): V2WebhookSubscription {
    const hook = { ...input, webhook_id: `se-${900000 + this.nextId++}` };
    this.subscriptions.set(hook.webhook_id, hook);
    return hook;
  }

  /** The subscriptions to `event` (under any of its names), optionally only those for a store. */
  forEvent(event: string, storeIds?: Set<number>): V2WebhookSubscription[] {
    const wanted = canonical(event);
    return [...this.subscriptions.values()].filter(
      (s) =>
        canonical(s.event) === wanted &&
        (storeIds === undefined || s.store_id === null || storeIds.has(s.store_id)),
    );
  }
}

function readHeaders(value: unknown): Array<{ key: string; value: string }> {
  if (value === undefined || value === null) return [];
  if (
    !Array.isArray(value) ||
    !value.every((h) => h && typeof h.key === 'string' && typeof h.value === 'string')
  ) {
    throw v2Error(
      400,
      'validation',
      'invalid_field_value',
      'headers must be a list of {key, value}.',
      'headers',
    );
  }
  return value as Array<{ key: string; value: string }>;
}

/** A subscription's `url`: an absolute http(s) URL, or the V2 validation error. */
function requireUrl(url: unknown): string {
  if (typeof url === 'string' && /^https?:\/\/\S+$/i.test(url)) return url;
  throw v2Error(
    400,
    'validation',
    'field_value_required',
    'url is required and must be an absolute http(s) URL.',
    'url',
  );
}

export function registerV2WebhookRoutes(app: FastifyInstance, hooks: V2Webhooks): void {
  app.get('/v2/environment/webhooks', async () => [...hooks.subscriptions.values()]);

  app.post('/v2/environment/webhooks', async (request, reply) => {
    const body = readV2JsonBody(request);
    const url = requireUrl(body.url);
    const event = typeof body.event === 'string' ? body.event.toLowerCase() : undefined;
    if (event === undefined || !(V2_WEBHOOK_EVENTS as readonly string[]).includes(event)) {
      throw v2Error(
        400,
        'validation',
        'invalid_field_value',
        `event must be one of ${V2_WEBHOOK_EVENTS.join(', ')}.`,
        'event',
      );
    }
    const hook = hooks.add({
      url,
      event,
      name: typeof body.name === 'string' ? body.name : null,
      store_id:
        typeof body.store_id === 'number'
          ? body.store_id
          : typeof body.store_id === 'string'
            ? (parseSeId(body.store_id) ?? null)
            : null,
      headers: readHeaders(body.headers),
    });
    return reply.code(201).send(hook);
  });

  const find = (id: string) => {
    const hook = hooks.subscriptions.get(id);
    if (!hook) throw v2Error(404, 'validation', 'invalid_identifier', `Webhook '${id}' was not found.`);
    return hook;
  };
  app.get<{ Params: { id: string } }>('/v2/environment/webhooks/:id', async (request) =>
    find(request.params.id),
  );
  app.put<{ Params: { id: string } }>('/v2/environment/webhooks/:id', async (request, reply) => {
    const hook = find(request.params.id);
    const body = readV2JsonBody(request);
    const url = requireUrl(body.url);
    hook.url = url;
    if (body.headers !== undefined) hook.headers = readHeaders(body.headers);
    return reply.code(204).send();
  });
  app.delete<{ Params: { id: string } }>('/v2/environment/webhooks/:id', async (request, reply) => {
    find(request.params.id);
    hooks.subscriptions.delete(request.params.id);
    return reply.code(204).send();
  });
}
