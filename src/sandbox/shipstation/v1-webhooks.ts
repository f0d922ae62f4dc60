/**
 * V1 webhook management (reference §1.8): subscribe, list (PascalCase items under `webhooks`),
 * unsubscribe. Deliveries themselves are in `webhook-delivery.ts`.
 */
import type { FastifyInstance } from 'fastify';
import { readJsonBody, type SandboxContext } from './context.js';
import { badRequest, modelStateError, notFound } from './errors.js';

export const V1_WEBHOOK_EVENTS = [
  'ORDER_NOTIFY',
  'ITEM_ORDER_NOTIFY',
  'SHIP_NOTIFY',
  'ITEM_SHIP_NOTIFY',
  'FULFILLMENT_SHIPPED',
  'FULFILLMENT_REJECTED',
] as const;

/**
 * `id`: `{"id": 123456}` (the older docs' example, what clients read); `pascal`: `{WebHookID, HookType,
 * Url, Name}` (the newer OpenAPI). Which one production returns is UNCONFIRMED.
 */
export type SubscribeResponseShape = 'id' | 'pascal';

export function registerWebhookRoutes(
  app: FastifyInstance,
  ctx: SandboxContext,
  shape: SubscribeResponseShape,
): void {
  const { state } = ctx;

  app.post('/webhooks/subscribe', async (request) => {
    const body = readJsonBody(request, 'request') as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw modelStateError({ request: ['The request field is required.'] });
    }
    const lower = new Map(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v]));
    const targetUrl = lower.get('target_url');
    const event = lower.get('event');
    const storeId = lower.get('store_id');
    const friendlyName = lower.get('friendly_name');
    if (typeof targetUrl !== 'string' || !/^https?:\/\/\S+$/i.test(targetUrl)) {
      throw badRequest('target_url is required and must be an absolute http(s) URL.');
    }
    if (
      typeof event !== 'string' ||
      !(V1_WEBHOOK_EVENTS as readonly string[]).includes(event.toUpperCase())
    ) {
      throw badRequest(`event must be one of ${V1_WEBHOOK_EVENTS.join(', ')}.`);
    }
    if (storeId !== undefined && storeId !== null && !Number.isInteger(Number(storeId))) {
      throw badRequest('store_id must be an integer.');
    }
    const hook = state.subscribeWebhook({
      event: event.toUpperCase(),
      targetUrl,
      storeId: storeId === undefined || storeId === null ? null : Number(storeId),
      friendlyName: typeof friendlyName === 'string' ? friendlyName : null,
    });
    if (shape === 'pascal') {
      return {
        WebHookID: hook.webhookId,
        HookType: hook.event,
        Url: hook.targetUrl,
        Name: hook.friendlyName,
      };
    }
    return { id: hook.webhookId };
  });

  app.get('/webhooks', async () => ({
    webhooks: [...state.webhooks.values()].map((h) => ({
      IsLabelAPIHook: false,
      WebHookID: h.webhookId,
      SellerID: 100001,
      StoreID: h.storeId,
      HookType: h.event,
      MessageFormat: 'Json',
      Url: h.targetUrl,
      Name: h.friendlyName,
      BulkCopyBatchID: null,
      BulkCopyRecordID: null,
      Active: true,
      WebhookLogs: [],
      Seller: null,
      Store: null,
    })),
  }));

  app.delete<{ Params: { webhookId: string } }>('/webhooks/:webhookId', async (request, reply) => {
    const id = Number(request.params.webhookId);
    if (!state.webhooks.delete(id)) throw notFound(`Webhook ${request.params.webhookId} was not found.`);
    // 200 with an empty body (the docs say 200; the body is UNCONFIRMED).
    return reply.code(200).send();
  });
}
