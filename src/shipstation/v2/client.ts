/**
 * The ShipStation V2 client (`API-Key` header, `https://api.shipstation.com`, paths under `/v2`).
 * V2 keys are separate from V1 key/secret pairs. Budget: 200 requests/min; a 429 carries
 * `Retry-After` (http.ts waits it out). Whether V2 also sends `X-Rate-Limit-*` is UNCONFIRMED: when
 * it does, the limiter is fed from them; otherwise it counts on its own.
 */

import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { ShipStationError } from '../errors.js';
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
  V2InventoryLevel,
  V2InventoryLocation,
  V2InventoryTransaction,
  V2InventoryWarehouse,
} from '../types.js';
import { type CreateFulfillmentOutcome, createFulfillments, listFulfillments } from './fulfillments.js';
import {
  listInventory,
  listInventoryLocations,
  listInventoryWarehouses,
  modifyInventory,
} from './inventory.js';
import { getLabel, labelsOfShipment, listLabels } from './labels.js';
import {
  cancelShipment,
  createShipments,
  getShipment,
  getShipmentByExternalId,
  holdShipment,
  listShipments,
  restoreShipment,
  updateShipment,
} from './shipments.js';
import type {
  V2CreateShipmentsResponse,
  V2Fulfillment,
  V2FulfillmentInput,
  V2Id,
  V2Label,
  V2ListFulfillmentsQuery,
  V2ListLabelsQuery,
  V2ListShipmentsQuery,
  V2Shipment,
  V2ShipmentInput,
} from './types.js';

/** A V2 webhook subscription (reference §4.3; the fields we read). */
export interface V2Webhook {
  webhook_id: string;
  url: string;
  event: string;
  name?: string | null;
}

export const SHIPSTATION_V2_URL = 'https://api.shipstation.com';
export const V2_RATE_LIMIT = 200;

export interface ShipStationV2ClientOptions {
  /** Default `https://api.shipstation.com` (the `/v2` prefix is added per call). */
  baseUrl?: string;
  apiKey: string;
  /** Give V2 its own limiter (or keys): its budget (200/min) is not V1's. */
  limiter: RateLimiter;
  clock: Clock;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
  random?: () => number;
  /** Told of every HTTP request (metrics), see `TransportOptions.onCall`. */
  onCall?: (call: TransportCall) => void;
}

export interface ShipStationV2Client {
  readonly rateLimitKey: string;
  listInventory(
    query?: {
      sku?: string;
      inventory_warehouse_id?: string;
      inventory_location_id?: string;
      group_by?: 'warehouse' | 'location';
      pageSize?: number;
    },
    signal?: AbortSignal,
  ): AsyncGenerator<Page<V2InventoryLevel>, void, undefined>;
  /** `POST /v2/inventory` (204). `adjust` is retried; `increment`/`decrement`/`modify` are sent once. */
  modifyInventory(transaction: V2InventoryTransaction, signal?: AbortSignal): Promise<void>;
  listInventoryWarehouses(signal?: AbortSignal): Promise<V2InventoryWarehouse[]>;
  listInventoryLocations(signal?: AbortSignal): Promise<V2InventoryLocation[]>;

  // Shipments (a V1 order), labels (a V1 shipment), fulfillments (mark shipped): see each module.
  createShipments(
    shipments: readonly V2ShipmentInput[],
    signal?: AbortSignal,
  ): Promise<V2CreateShipmentsResponse>;
  getShipment(shipmentId: V2Id, signal?: AbortSignal): Promise<V2Shipment>;
  getShipmentByExternalId(externalShipmentId: string, signal?: AbortSignal): Promise<V2Shipment>;
  listShipments(
    query?: V2ListShipmentsQuery,
    signal?: AbortSignal,
  ): AsyncGenerator<Page<V2Shipment>, void, undefined>;
  /** Replaces the whole shipment (only while `pending`). */
  updateShipment(
    shipmentId: V2Id,
    shipment: V2ShipmentInput,
    signal?: AbortSignal,
  ): Promise<V2Shipment | undefined>;
  cancelShipment(shipmentId: V2Id, signal?: AbortSignal): Promise<void>;
  holdShipment(shipmentId: V2Id, holdUntilDate: string, signal?: AbortSignal): Promise<void>;
  restoreShipment(shipmentId: V2Id, signal?: AbortSignal): Promise<void>;
  listLabels(query?: V2ListLabelsQuery, signal?: AbortSignal): AsyncGenerator<Page<V2Label>, void, undefined>;
  getLabel(labelId: V2Id, signal?: AbortSignal): Promise<V2Label>;
  labelsOfShipment(shipmentId: V2Id, signal?: AbortSignal): Promise<V2Label[]>;
  createFulfillments(
    fulfillments: readonly V2FulfillmentInput[],
    signal?: AbortSignal,
  ): Promise<{ hasErrors: boolean; results: CreateFulfillmentOutcome[] }>;
  listFulfillments(
    query?: V2ListFulfillmentsQuery,
    signal?: AbortSignal,
  ): AsyncGenerator<Page<V2Fulfillment>, void, undefined>;
  /** `GET /v2/warehouses` (ship-from warehouses; `is_default` marks the account's default). */
  /** `GET /v2/environment/webhooks`: every V2 subscription of the account. */
  listWebhooks(signal?: AbortSignal): Promise<V2Webhook[]>;
  /** `POST /v2/environment/webhooks`, sent once (a repeat would subscribe twice). */
  subscribeWebhook(
    input: { url: string; event: string; name?: string },
    signal?: AbortSignal,
  ): Promise<V2Webhook>;
  listWarehouses(
    signal?: AbortSignal,
  ): Promise<Array<{ warehouse_id: V2Id; name?: string; is_default?: boolean }>>;
  /** `DELETE /v2/environment/webhooks/{id}`: true when removed, false when it was already gone (404). */
  deleteWebhook(webhookId: string, signal?: AbortSignal): Promise<boolean>;
}

export function createShipStationV2Client(options: ShipStationV2ClientOptions): ShipStationV2Client {
  const key = rateLimitKey('v2', options.apiKey);
  const http = new ShipStationTransport({
    api: 'v2',
    baseUrl: options.baseUrl ?? SHIPSTATION_V2_URL,
    authHeaders: { 'api-key': options.apiKey },
    limiter: options.limiter,
    limiterKey: key,
    clock: options.clock,
    timeoutMs: options.timeoutMs ?? 30_000,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    logger: options.logger,
    random: options.random,
    onCall: options.onCall,
  });
  return {
    rateLimitKey: key,
    listInventory: (query, signal) => listInventory(http, query, signal),
    modifyInventory: (transaction, signal) => modifyInventory(http, transaction, signal),
    listInventoryWarehouses: (signal) => listInventoryWarehouses(http, signal),
    listInventoryLocations: (signal) => listInventoryLocations(http, signal),
    createShipments: (shipments, signal) => createShipments(http, shipments, signal),
    getShipment: (id, signal) => getShipment(http, id, signal),
    getShipmentByExternalId: (id, signal) => getShipmentByExternalId(http, id, signal),
    listShipments: (query, signal) => listShipments(http, query, signal),
    updateShipment: (id, shipment, signal) => updateShipment(http, id, shipment, signal),
    cancelShipment: (id, signal) => cancelShipment(http, id, signal),
    holdShipment: (id, date, signal) => holdShipment(http, id, date, signal),
    restoreShipment: (id, signal) => restoreShipment(http, id, signal),
    listLabels: (query, signal) => listLabels(http, query, signal),
    getLabel: (id, signal) => getLabel(http, id, signal),
    labelsOfShipment: (id, signal) => labelsOfShipment(http, id, signal),
    createFulfillments: (fulfillments, signal) => createFulfillments(http, fulfillments, signal),
    listFulfillments: (query, signal) => listFulfillments(http, query, signal),
    listWebhooks: async (signal) => {
      const response = await http.request<V2Webhook[]>({
        method: 'GET',
        path: '/v2/environment/webhooks',
        idempotent: true,
        signal,
      });
      return Array.isArray(response.body) ? response.body : [];
    },
    subscribeWebhook: async (input, signal) => {
      const response = await http.request<V2Webhook>({
        method: 'POST',
        path: '/v2/environment/webhooks',
        body: input,
        idempotent: false,
        signal,
      });
      if (!response.body || typeof response.body.webhook_id !== 'string')
        throw new Error('POST /v2/environment/webhooks answered without a webhook_id');
      return response.body;
    },
    listWarehouses: async (signal) => {
      const response = await http.request<{
        warehouses?: Array<{ warehouse_id: V2Id; is_default?: boolean }>;
      }>({
        method: 'GET',
        path: '/v2/warehouses',
        idempotent: true,
        signal,
      });
      return response.body?.warehouses ?? [];
    },
    deleteWebhook: async (webhookId, signal) => {
      try {
        await http.request<unknown>({
          method: 'DELETE',
          path: `/v2/environment/webhooks/${encodeURIComponent(webhookId)}`,
          idempotent: true,
          signal,
        });
        return true;
      } catch (error) {
        if (error instanceof ShipStationError && error.kind === 'not_found') return false;
        throw error;
      }
    },
  };
}
