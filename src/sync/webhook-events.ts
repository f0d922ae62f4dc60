/**
 * What the webhook receiver stores, for the flows that follow it up. A ShipStation webhook is a
 * pointer (`resource_url`), so the receiver only checks it and stores one job per event before it
 * answers 200; a fetch handler later GETs the resource (through the client's guard, again) and
 * writes back (`shipments.ts`, `channel-orders.ts`).
 *
 * - `shipments.fetch`: V1 `SHIP_NOTIFY`, `ITEM_SHIP_NOTIFY` (resource `/shipments?batchId=…`),
 *   `FULFILLMENT_SHIPPED` (resource `/fulfillments?batchId=…`, shape UNCONFIRMED), and the signed V2
 *   events (`V2_EVENT_KINDS`: `LABEL_CREATED_V2`, `FULFILLMENT_SHIPPED_V2` fetched; the others
 *   stored and audited).
 * - `channel-orders.fetch`: V1 `ORDER_NOTIFY`, `ITEM_ORDER_NOTIFY` (resource `/orders?importBatch=…`),
 *   for the marketplace-orders flow.
 *
 * A redelivery of the same event (same connection, event and resource_url) coalesces into the
 * queued job through its idempotency key (`webhookJobKey`); once that job has run, a redelivery
 * makes a new one, which the fetch handler must treat as a repeat (write-backs are keyed by
 * shipmentId / fulfillmentId).
 */
import { hash } from 'node:crypto';

export const SHIPMENTS_FETCH_KIND = 'shipments.fetch';
export const CHANNEL_ORDERS_FETCH_KIND = 'channel-orders.fetch';

export type WebhookJobKind = typeof SHIPMENTS_FETCH_KIND | typeof CHANNEL_ORDERS_FETCH_KIND;

/** The payload of a `shipments.fetch` or `channel-orders.fetch` job. */
export interface WebhookJobPayload {
  /** Which webhook API delivered it: V1 (secret URL) or V2 (RSA signature verified). */
  api: 'v1' | 'v2';
  /** `resource_type` as sent, upper-cased: `SHIP_NOTIFY`, `FULFILLMENT_SHIPPED`, `TRACK_EVENT_V2`… */
  event: string;
  /** As sent; already checked against the resource shapes (host and path) before it was stored. */
  resourceUrl: string;
  /** When we received it (epoch ms, our clock). */
  receivedAt: number;
  /** V2 only: the `data` object some events carry (TRACK_EVENT_V2 tracking fields), if any. */
  data?: unknown;
}

/** V1 events and what they become. `FULFILLMENT_REJECTED` is acknowledged and audited, not stored. */
export const V1_EVENT_KINDS: Readonly<Record<string, WebhookJobKind | null>> = {
  SHIP_NOTIFY: SHIPMENTS_FETCH_KIND,
  ITEM_SHIP_NOTIFY: SHIPMENTS_FETCH_KIND,
  FULFILLMENT_SHIPPED: SHIPMENTS_FETCH_KIND,
  ORDER_NOTIFY: CHANNEL_ORDERS_FETCH_KIND,
  ITEM_ORDER_NOTIFY: CHANNEL_ORDERS_FETCH_KIND,
  FULFILLMENT_REJECTED: null,
};

/** The resource path each V1 event points at (reference §4.2); a mismatch is refused. */
export const V1_EVENT_RESOURCE_PATHS: Readonly<Record<string, string>> = {
  SHIP_NOTIFY: '/shipments',
  ITEM_SHIP_NOTIFY: '/shipments',
  FULFILLMENT_SHIPPED: '/fulfillments',
  FULFILLMENT_REJECTED: '/fulfillments',
  ORDER_NOTIFY: '/orders',
  ITEM_ORDER_NOTIFY: '/orders',
};

/**
 * V2 resource types stored, all as `shipments.fetch` jobs (the fetch handler tells them apart):
 * `LABEL_CREATED_V2` (`/v2/labels?batch_id=…`) and `FULFILLMENT_SHIPPED_V2`
 * (`/v2/fulfillments?fulfillment_id=…`) are fetched and queued for write-back like V1's
 * SHIP_NOTIFY; `TRACK_EVENT_V2` (data inline), `SHIPMENT_CREATED_V2` (`/v2/shipments?…`, no V2
 * channel-orders flow yet) and `BATCH_PROCESSED_V2` are stored and audited, nothing written.
 * Others are acknowledged only.
 */
export const V2_EVENT_KINDS: Readonly<Record<string, WebhookJobKind>> = {
  LABEL_CREATED_V2: SHIPMENTS_FETCH_KIND,
  FULFILLMENT_SHIPPED_V2: SHIPMENTS_FETCH_KIND,
  TRACK_EVENT_V2: SHIPMENTS_FETCH_KIND,
  SHIPMENT_CREATED_V2: SHIPMENTS_FETCH_KIND,
  BATCH_PROCESSED_V2: SHIPMENTS_FETCH_KIND,
};

/**
 * The resource path each V2 event points at (the sandbox's shapes, reference §10: UNCONFIRMED
 * beyond the three list events); a mismatch is refused. `TRACK_EVENT_V2` and `BATCH_PROCESSED_V2`
 * point at one record (`/v2/labels/se-…/track`, `/v2/batches/se-…`), checked by prefix.
 */
export const V2_EVENT_RESOURCE_PATHS: Readonly<Record<string, RegExp>> = {
  LABEL_CREATED_V2: /^\/v2\/labels$/,
  FULFILLMENT_SHIPPED_V2: /^\/v2\/fulfillments$/,
  SHIPMENT_CREATED_V2: /^\/v2\/shipments$/,
  TRACK_EVENT_V2: /^\/v2\/(labels\/[^/]+\/track|tracking)$/,
  BATCH_PROCESSED_V2: /^\/v2\/batches\/[^/]+$/,
};

/** The V2 events fetched for write-back (the others are only stored and audited). */
export const V2_FETCH_EVENTS: Readonly<Record<string, '/v2/labels' | '/v2/fulfillments'>> = {
  LABEL_CREATED_V2: '/v2/labels',
  FULFILLMENT_SHIPPED_V2: '/v2/fulfillments',
};

/**
 * The V2 subscriptions a connection needs (`webhooks subscribe` on a V2 connection): the two
 * events that lead to a write-back. Event names are sent lower case (`label_created_v2`), compared
 * case-insensitively when listed (which spelling the real API takes is UNCONFIRMED).
 */
export function neededV2Subscriptions(): NeededSubscription[] {
  return [
    {
      purpose: 'labels created in ShipStation',
      subscribe: 'label_created_v2',
      satisfiedBy: ['LABEL_CREATED_V2'],
    },
    {
      purpose: 'orders marked as shipped',
      subscribe: 'fulfillment_shipped_v2',
      satisfiedBy: ['FULFILLMENT_SHIPPED_V2'],
    },
  ];
}

/** A V2 subscription as `GET /v2/environment/webhooks` lists it (the fields we read). */
export interface ListedV2Webhook {
  webhook_id: string;
  event: string;
  url: string;
}

/** Per needed V2 subscription, the hooks that satisfy it (pointing at exactly `url`). */
export function v2SubscriptionStatus(
  hooks: readonly ListedV2Webhook[],
  url: string,
): Array<{ need: NeededSubscription; hooks: ListedV2Webhook[] }> {
  return neededV2Subscriptions().map((need) => ({
    need,
    hooks: hooks.filter((h) => h.url === url && need.satisfiedBy.includes(h.event.toUpperCase())),
  }));
}

/**
 * The V1 subscriptions a connection needs, each satisfied by any one of its events. Label
 * shipments: `ITEM_SHIP_NOTIFY` is what we subscribe (its resource lists the shipment items the
 * write-back needs; `SHIP_NOTIFY` points at the same batch without them, so subscribing both
 * would fetch every batch twice), and an existing `SHIP_NOTIFY` subscription counts too.
 * Mark-as-shipped and fill-provider shipments fire no SHIP_NOTIFY (reference §4.1): they need
 * `FULFILLMENT_SHIPPED`. `ORDER_NOTIFY` joins when the channel-orders flow is on (`channelOrders.enabled`).
 */
export interface NeededSubscription {
  /** What it is for, for messages. */
  purpose: string;
  /** The event `webhooks subscribe` subscribes. */
  subscribe: string;
  /** Events that satisfy the need. */
  satisfiedBy: readonly string[];
}

export interface SubscriptionOptions {
  /** The marketplace-orders flow is on (`channelOrders.enabled`): ORDER_NOTIFY is needed too. */
  orderNotify?: boolean;
}

export function neededSubscriptions(options: SubscriptionOptions = {}): NeededSubscription[] {
  const needs: NeededSubscription[] = [
    {
      purpose: 'labels created in ShipStation',
      subscribe: 'ITEM_SHIP_NOTIFY',
      satisfiedBy: ['ITEM_SHIP_NOTIFY', 'SHIP_NOTIFY'],
    },
    {
      purpose: 'orders marked as shipped or shipped by a fulfillment provider',
      subscribe: 'FULFILLMENT_SHIPPED',
      satisfiedBy: ['FULFILLMENT_SHIPPED'],
    },
  ];
  if (options.orderNotify) {
    needs.push({
      purpose: 'marketplace orders arriving in ShipStation',
      subscribe: 'ORDER_NOTIFY',
      satisfiedBy: ['ORDER_NOTIFY', 'ITEM_ORDER_NOTIFY'],
    });
  }
  return needs;
}

/** resource_urls up to this long are written into their job's key as they are (longer: hashed). */
export const WEBHOOK_KEY_URL_MAX = 300;

/**
 * The idempotency key of a webhook job: one per (connection, event, resource_url), the URL compared
 * exactly as sent. A URL up to WEBHOOK_KEY_URL_MAX characters (ShipStation documents 200) is
 * written as it is, after `url:`: ShipStation's batch ids grow, so the keys of events arriving
 * together sort together and each group commit adds to a few pages of the key index at its end,
 * where a hash scattered every event onto its own page (each one written to the WAL and copied
 * again at the next checkpoint: the receiver's largest store cost, issue #11). A longer URL is
 * hashed (SHA-256, 32 hex digits) so the key stays short; the two forms cannot meet (`url:` is
 * no hex).
 */
export function webhookJobKey(connection: string, event: string, resourceUrl: string): string {
  if (resourceUrl.length <= WEBHOOK_KEY_URL_MAX) return `webhook:${connection}:${event}:url:${resourceUrl}`;
  return `webhook:${connection}:${event}:${hash('sha256', resourceUrl, 'hex').slice(0, 32)}`;
}

/** The route a connection's V1 webhooks are posted to, without the secret (`?token=`). */
export function webhookBaseUrl(publicUrl: string, connection: string): string {
  return new URL(`webhooks/shipstation/${connection}`, publicUrl.replace(/\/?$/, '/')).toString();
}

/** The V2 route (authenticated by the RSA signature, so it carries no secret). */
export function webhookV2Url(publicUrl: string, connection: string): string {
  return new URL(`webhooks/shipstation-v2/${connection}`, publicUrl.replace(/\/?$/, '/')).toString();
}

/** The URL ShipStation is subscribed to: the base with the connection's secret as `?token=`. */
export function webhookTargetUrl(baseUrl: string, secret: string): string {
  return `${baseUrl}?token=${encodeURIComponent(secret)}`;
}

/** The URL with its token shown as `[redacted]`, for lists and messages. */
export function redactWebhookUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

/** `url` without its query and fragment (to tell which route a subscription points at). */
export function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut < 0 ? url : url.slice(0, cut);
}

/** The `token` query parameter of a subscribed URL, if any. */
export function tokenOf(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get('token') ?? undefined;
  } catch {
    return undefined;
  }
}

/** A webhook secret must be long and URL-safe (it travels in the subscribed URL). */
export function webhookSecretProblem(secret: string): string | undefined {
  if (secret.length < 24) return 'it is shorter than 24 characters';
  if (!/^[A-Za-z0-9._~-]+$/.test(secret))
    return 'it has characters other than letters, digits and . _ ~ - (it travels in a URL)';
  return undefined;
}

export const WEBHOOK_SECRET_ADVICE =
  'generate one and store it: `openssl rand -hex 32 | ml-connector creds set <connection> shipstation.webhookSecret`';

/** A V1 subscription as `GET /webhooks` lists it (the fields we read). */
export interface ListedWebhook {
  WebHookID: number;
  HookType: string;
  Url: string;
}

/** How a subscription relates to a connection's route. */
export type WebhookOwnership = 'ours' | 'ours-old-secret' | 'other';

/**
 * `ours`: it points at this connection's route with the current secret; `ours-old-secret`: at
 * the route with another token (a rotated secret; ShipStation's deliveries get 401); `other`:
 * anything else (other apps, other connections). `target` undefined = secret unknown: every hook on
 * the route counts as ours.
 */
export function webhookOwnership(hook: ListedWebhook, base: string, target?: string): WebhookOwnership {
  if (withoutQuery(hook.Url) !== base) return 'other';
  if (target === undefined || hook.Url === target) return 'ours';
  return 'ours-old-secret';
}

/** Per needed subscription, the hooks that satisfy it (pointing at `target`). */
export function subscriptionStatus(
  hooks: readonly ListedWebhook[],
  target: string,
  options: SubscriptionOptions = {},
): Array<{ need: NeededSubscription; hooks: ListedWebhook[] }> {
  return neededSubscriptions(options).map((need) => ({
    need,
    hooks: hooks.filter((h) => h.Url === target && need.satisfiedBy.includes(h.HookType.toUpperCase())),
  }));
}
