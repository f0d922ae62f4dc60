/**
 * The ShipStation V2 client (`API-Key` header, `https://api.shipstation.com`, paths under `/v2`).
 * V2 keys are separate from V1 key/secret pairs. Budget: 200 requests/min; a 429 carries
 * `Retry-After` (http.ts waits it out). Whether V2 also sends `X-Rate-Limit-*` is UNCONFIRMED: when
 * it does, the limiter is fed from them; otherwise it counts on its own.
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
  V2InventoryLevel,
  V2InventoryLocation,
  V2InventoryTransaction,
  V2InventoryWarehouse,
} from '../types.js';
import {
  listInventory,
  listInventoryLocations,
  listInventoryWarehouses,
  modifyInventory,
} from './inventory.js';

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
  };
}
