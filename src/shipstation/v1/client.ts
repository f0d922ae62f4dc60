/**
 * The ShipStation V1 client (Basic auth, `https://ssapi.shipstation.com`). The flows call these
 * methods and never build a request themselves. Every request goes through one `RateLimiter` key per
 * key/secret pair and the retry rules in http.ts.
 */
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import {
  DEFAULT_RETRY,
  type RetryPolicy,
  rateLimitKey,
  ShipStationTransport,
  type TransportCall,
} from '../http.js';
import type { Page } from '../paging.js';
import type { RateLimiter } from '../rate-limit.js';
import type {
  V1Fulfillment,
  V1ListFulfillmentsQuery,
  V1ListOrdersQuery,
  V1ListShipmentsQuery,
  V1Order,
  V1OrderInput,
  V1Shipment,
  V1Store,
  V1SubscribeWebhookInput,
  V1SubscribeWebhookResponse,
  V1Warehouse,
  V1Webhook,
} from '../types.js';
import { listStores, listWarehouses } from './account.js';
import { listFulfillments } from './fulfillments.js';
import {
  type CreateOrdersOutcome,
  createOrUpdateOrder,
  createOrUpdateOrders,
  getOrder,
  holdOrderUntil,
  listOrders,
} from './orders.js';
import { fetchResource, listResourcePages, type V1ResourceList } from './resource.js';
import { listShipments } from './shipments.js';
import { deleteWebhook, listWebhooks, subscribeWebhook } from './webhooks.js';

export const SHIPSTATION_V1_URL = 'https://ssapi.shipstation.com';

export interface ShipStationV1ClientOptions {
  /** Default `https://ssapi.shipstation.com`. */
  baseUrl?: string;
  apiKey: string;
  apiSecret: string;
  limiter: RateLimiter;
  clock: Clock;
  /** Per attempt. Default 30 s. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * Hosts a `resource_url` may point at besides ShipStation's own (`host` or `host:port`). The
   * host of `baseUrl` is NOT added implicitly: list it here for the sandbox.
   */
  allowedResourceHosts?: readonly string[];
  /** Optional `x-partner` header (a partner key; its server meaning is UNCONFIRMED). */
  partnerKey?: string;
  logger?: Logger;
  random?: () => number;
  /** Told of every HTTP request (metrics), see `TransportOptions.onCall`. */
  onCall?: (call: TransportCall) => void;
}

export interface ShipStationV1Client {
  /** The limiter key used for these credentials (a fingerprint, not the key). */
  readonly rateLimitKey: string;
  createOrUpdateOrder(order: V1OrderInput, signal?: AbortSignal): Promise<V1Order>;
  createOrUpdateOrders(orders: readonly V1OrderInput[], signal?: AbortSignal): Promise<CreateOrdersOutcome>;
  getOrder(orderId: number, signal?: AbortSignal): Promise<V1Order>;
  /** Holds an order until a Pacific calendar date (`yyyy-MM-dd`): forward orders. */
  holdOrderUntil(orderId: number, holdUntilDate: string, signal?: AbortSignal): Promise<void>;
  listOrders(query?: V1ListOrdersQuery, signal?: AbortSignal): AsyncGenerator<Page<V1Order>, void, undefined>;
  listShipments(
    query?: V1ListShipmentsQuery,
    signal?: AbortSignal,
  ): AsyncGenerator<Page<V1Shipment>, void, undefined>;
  listFulfillments(
    query?: V1ListFulfillmentsQuery,
    signal?: AbortSignal,
  ): AsyncGenerator<Page<V1Fulfillment>, void, undefined>;
  listStores(
    options?: { showInactive?: boolean; marketplaceId?: number },
    signal?: AbortSignal,
  ): Promise<V1Store[]>;
  listWarehouses(signal?: AbortSignal): Promise<V1Warehouse[]>;
  subscribeWebhook(
    input: V1SubscribeWebhookInput,
    signal?: AbortSignal,
  ): Promise<{ webhookId: number; raw: V1SubscribeWebhookResponse }>;
  listWebhooks(signal?: AbortSignal): Promise<V1Webhook[]>;
  /** `false` when the hook was already gone (404). */
  deleteWebhook(webhookId: number, signal?: AbortSignal): Promise<boolean>;
  /** One page of a webhook's resource_url; refused (kind `refused_host`) before any request when the host is not allowed. */
  fetchResource(
    resourceUrl: string,
    options?: { page?: number; signal?: AbortSignal },
  ): Promise<V1ResourceList>;
  /** All pages of a webhook's resource_url (same guard). */
  listResourcePages<T extends V1Order | V1Shipment>(
    resourceUrl: string,
    signal?: AbortSignal,
  ): AsyncGenerator<Page<T>, void, undefined>;
}

export function createShipStationV1Client(options: ShipStationV1ClientOptions): ShipStationV1Client {
  const authHeaders: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${options.apiKey}:${options.apiSecret}`).toString('base64')}`,
  };
  if (options.partnerKey) authHeaders['x-partner'] = options.partnerKey;
  const key = rateLimitKey('v1', options.apiKey, options.apiSecret);
  const http = new ShipStationTransport({
    api: 'v1',
    baseUrl: options.baseUrl ?? SHIPSTATION_V1_URL,
    authHeaders,
    limiter: options.limiter,
    limiterKey: key,
    clock: options.clock,
    timeoutMs: options.timeoutMs ?? 30_000,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    logger: options.logger,
    random: options.random,
    onCall: options.onCall,
  });
  const allowed = [...(options.allowedResourceHosts ?? [])];

  return {
    rateLimitKey: key,
    createOrUpdateOrder: (order, signal) => createOrUpdateOrder(http, order, signal),
    createOrUpdateOrders: (orders, signal) => createOrUpdateOrders(http, orders, signal),
    getOrder: (orderId, signal) => getOrder(http, orderId, signal),
    holdOrderUntil: (orderId, date, signal) => holdOrderUntil(http, orderId, date, signal),
    listOrders: (query, signal) => listOrders(http, query, signal),
    listShipments: (query, signal) => listShipments(http, query, signal),
    listFulfillments: (query, signal) => listFulfillments(http, query, signal),
    listStores: (opts, signal) => listStores(http, opts, signal),
    listWarehouses: (signal) => listWarehouses(http, signal),
    subscribeWebhook: (input, signal) => subscribeWebhook(http, input, signal),
    listWebhooks: (signal) => listWebhooks(http, signal),
    deleteWebhook: (webhookId, signal) => deleteWebhook(http, webhookId, signal),
    fetchResource: (resourceUrl, opts) => fetchResource(http, resourceUrl, allowed, opts),
    listResourcePages: <T extends V1Order | V1Shipment>(resourceUrl: string, signal?: AbortSignal) =>
      listResourcePages<T>(http, resourceUrl, allowed, signal),
  };
}
