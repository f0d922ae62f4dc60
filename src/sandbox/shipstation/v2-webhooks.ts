/**
 * V2 webhook management (`/v2/environment/webhooks`, reference §4.3). Deliveries are signed with
 * RSA-SHA256 by `v2-signing.ts`; the sandbox fires `track` when a label is created, and
 * `/_sandbox/v2/webhooks/send` posts any signed payload for a receiver's tests.
 */
import type { FastifyInstance } from 'fastify';
import { readV2JsonBody } from './context.js';
import { v2Error } from './errors.js';

export const V2_WEBHOOK_EVENTS = [
  'batch',
  'carrier_connected',
  'order_source_refresh_complete',
  'rate',
  'report_complete',
  'sales_orders_imported',
  'track',
] as const;

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

  forEvent(event: string): V2WebhookSubscription[] {
    return [...this.subscriptions.values()].filter((s) => s.event === event);
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
    if (typeof body.event !== 'string' || !(V2_WEBHOOK_EVENTS as readonly string[]).includes(body.event)) {
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
      event: body.event,
      name: typeof body.name === 'string' ? body.name : null,
      store_id: typeof body.store_id === 'number' ? body.store_id : null,
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
