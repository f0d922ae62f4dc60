/** The ShipStation side of the connector: V1 and V2 clients, rate limiting, webhooks, Pacific time. */
export {
  OPERATOR_ADVICE,
  type ParsedErrorBody,
  parseErrorBody,
  ShipStationError,
  type ShipStationErrorKind,
} from './errors.js';
export { backoffDelay, DEFAULT_RETRY, type RetryPolicy, rateLimitKey } from './http.js';
export { MemoryRateLimiter, type MemoryRateLimiterOptions } from './memory-rate-limiter.js';
export {
  formatPacificDate,
  formatPacificDateTime,
  formatPacificFilter,
  type PacificParseOptions,
  PacificTimeError,
  pacificToUtc,
  pacificToUtcIso,
  pacificToUtcOrNull,
  SHIPSTATION_ZONE,
  toCalendarDate,
} from './pacific-time.js';
export type { Page } from './paging.js';
export type { RateLimiter, RateLimitObservation } from './rate-limit.js';
export { checkResourceUrl, type ResourceUrlCheck } from './resource-url.js';
export type * from './types.js';
export {
  createShipStationV1Client,
  SHIPSTATION_V1_URL,
  type ShipStationV1Client,
  type ShipStationV1ClientOptions,
} from './v1/client.js';
export type { CreateOrderOutcome, CreateOrdersOutcome } from './v1/orders.js';
export { MAX_ORDERS_PER_CALL } from './v1/orders.js';
export type { V1ResourceList } from './v1/resource.js';
export { parseV1WebhookPayload, V1_WEBHOOK_EVENTS, type V1WebhookParse } from './v1/webhook-payload.js';
export {
  createShipStationV2Client,
  SHIPSTATION_V2_URL,
  type ShipStationV2Client,
  type ShipStationV2ClientOptions,
  V2_RATE_LIMIT,
} from './v2/client.js';
export {
  createWebhookVerifier,
  type HeaderBag,
  SHIPSTATION_JWKS_URL,
  type WebhookRejection,
  type WebhookVerification,
  type WebhookVerifier,
  type WebhookVerifierOptions,
} from './v2/webhook-signature.js';
