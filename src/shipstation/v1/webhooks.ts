/**
 * V1 webhook management: `POST /webhooks/subscribe`, `GET /webhooks`, `DELETE /webhooks/{id}`
 * (reference shipstation-api.md §1.8). Subscribing is not safe to repeat (a second call makes a
 * second hook), so it is sent once; callers list first and subscribe only what is missing.
 */
import { ShipStationError } from '../errors.js';
import { requireBody, type ShipStationTransport } from '../http.js';
import type {
  V1SubscribeWebhookInput,
  V1SubscribeWebhookResponse,
  V1Webhook,
  V1WebhooksList,
} from '../types.js';

/**
 * Returns the new hook's id. The response is `{ id }` in the older docs and `{ WebHookID, ... }` in
 * the newer OpenAPI (UNCONFIRMED which production sends): both are read.
 */
export async function subscribeWebhook(
  http: ShipStationTransport,
  input: V1SubscribeWebhookInput,
  signal?: AbortSignal,
): Promise<{ webhookId: number; raw: V1SubscribeWebhookResponse }> {
  const response = await http.request<V1SubscribeWebhookResponse>({
    method: 'POST',
    path: '/webhooks/subscribe',
    body: input,
    idempotent: false,
    signal,
  });
  const body = requireBody(http, response.body, 'POST /webhooks/subscribe');
  const webhookId = body.id ?? body.WebHookID;
  if (typeof webhookId !== 'number') {
    throw new ShipStationError({
      kind: 'invalid_response',
      api: 'v1',
      endpoint: 'POST /webhooks/subscribe',
      status: response.status,
      providerMessage: 'the response carries neither "id" nor "WebHookID"',
      retryable: false,
    });
  }
  return { webhookId, raw: body };
}

/** `GET /webhooks` answers `{ webhooks: [...] }`; a bare array (as one library types it) is accepted too. */
export async function listWebhooks(http: ShipStationTransport, signal?: AbortSignal): Promise<V1Webhook[]> {
  const response = await http.request<V1WebhooksList | V1Webhook[]>({
    method: 'GET',
    path: '/webhooks',
    idempotent: true,
    signal,
  });
  const body = requireBody(http, response.body, 'GET /webhooks');
  return Array.isArray(body) ? body : Array.isArray(body.webhooks) ? body.webhooks : [];
}

/** Unsubscribes. A hook that is already gone (404) counts as deleted: returns `false` then. */
export async function deleteWebhook(
  http: ShipStationTransport,
  webhookId: number,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    await http.request<unknown>({
      method: 'DELETE',
      path: `/webhooks/${encodeURIComponent(String(webhookId))}`,
      idempotent: true,
      signal,
    });
    return true;
  } catch (error) {
    if (error instanceof ShipStationError && error.kind === 'not_found') return false;
    throw error;
  }
}
