/**
 * Reading what ShipStation POSTs to a V1 webhook target: `{ resource_url, resource_type }`, unsigned
 * (reference shipstation-api.md §4.2). This only checks the shape; the host of `resource_url` is
 * checked again (resource-url.ts) when the client follows it. The receiver persists the payload
 * before acknowledging and follows the URL later.
 */
import type { V1WebhookEvent, V1WebhookPayload } from '../types.js';

export const V1_WEBHOOK_EVENTS: readonly V1WebhookEvent[] = [
  'ORDER_NOTIFY',
  'ITEM_ORDER_NOTIFY',
  'SHIP_NOTIFY',
  'ITEM_SHIP_NOTIFY',
  'FULFILLMENT_SHIPPED',
  'FULFILLMENT_REJECTED',
];

/** The docs give `resource_url` a 200-character limit; we allow some slack before calling it forged. */
const MAX_RESOURCE_URL = 2_000;

export type V1WebhookParse =
  | { ok: true; payload: V1WebhookPayload & { resource_type: V1WebhookEvent | string }; known: boolean }
  | { ok: false; reason: string };

export function parseV1WebhookPayload(body: unknown): V1WebhookParse {
  let value = body;
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    try {
      value = JSON.parse(value.toString());
    } catch {
      return { ok: false, reason: 'the body is not JSON' };
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'the body is not a JSON object' };
  }
  const { resource_url: url, resource_type: type } = value as Record<string, unknown>;
  if (typeof url !== 'string' || url.trim() === '') return { ok: false, reason: 'resource_url is missing' };
  if (url.length > MAX_RESOURCE_URL) return { ok: false, reason: 'resource_url is too long' };
  if (typeof type !== 'string' || type.trim() === '')
    return { ok: false, reason: 'resource_type is missing' };
  const resourceType = type.trim().toUpperCase();
  return {
    ok: true,
    payload: { resource_url: url.trim(), resource_type: resourceType },
    known: (V1_WEBHOOK_EVENTS as readonly string[]).includes(resourceType),
  };
}
