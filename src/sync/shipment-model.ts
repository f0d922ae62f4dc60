/**
 * Our model of a shipment to write back to SYSPRO, apart from ShipStation's raw shapes: what the
 * fetch side (webhook `resource_url`, reconciling poll) produces and the write-back side consumes.
 * Times are UTC (converted from ShipStation's Pacific wall clock at the edge, `pacific-time.ts`).
 *
 * One write job per shipment: kind `shipments.writeback`, idempotency key
 * `shipments.writeback:<connection>:<source>:<id>` (`shipmentKey`), payload `ShipmentWrite`. A newer
 * state of the same shipment (voided after shipped) coalesces into the queued job or follows the
 * running one; `version` orders the states so an earlier one never overwrites a later one.
 */

import type { V1OrderStatus } from '../shipstation/types.js';

export const SHIPMENT_WRITEBACK_KIND = 'shipments.writeback';

/** Where the record came from: a label (`GET /shipments`) or a mark-as-shipped (`GET /fulfillments`). */
export type ShipmentSource = 'shipment' | 'fulfillment';

export interface ShipmentLine {
  /** Our `lineItemKey` (the SYSPRO `SalesOrderLine`, as the orders mapper sends it), when present. */
  salesOrderLine?: string;
  sku: string | null;
  quantity: number;
}

export interface ShipmentWrite {
  source: ShipmentSource;
  /** `shipmentId` or `fulfillmentId`. */
  id: number;
  connection: string;
  /** Our `orderKey` (`<company>:<SalesOrder>`); null when ShipStation's record is not one of ours. */
  orderKey: string | null;
  salesOrder: string | null;
  orderId: number;
  orderNumber: string;
  carrierCode: string | null;
  serviceCode: string | null;
  /** Every tracking number of this shipment (a multi-package label has several). */
  trackingNumbers: string[];
  /** The ship date as ShipStation's Pacific calendar date (`yyyy-MM-dd`) and its UTC midnight-of-Pacific instant. */
  shipDate: string;
  shipDateUtc: number;
  /** When ShipStation created the record, UTC ms. */
  createdAtUtc: number;
  /** Null for a fulfillment or a shipment without items (then the whole open order is meant: see the write-back). */
  lines: ShipmentLine[] | null;
  /**
   * The status of ShipStation's order when the record was read with it: V2 reads a label with its
   * shipment (`shipped` = `label_purchased`, every item labelled). Absent on V1 (a V1 shipment
   * carries no order status) and on payloads queued before it existed.
   */
  orderStatus?: V1OrderStatus | null;
  shipmentCost: number | null;
  insuranceCost: number | null;
  voided: boolean;
  voidedAtUtc: number | null;
  /**
   * Orders the states of one record: createdAtUtc, or voidedAtUtc when voided. A write job whose
   * payload has a lower version than the one last written is skipped.
   */
  version: number;
  /** `webhook` or `poll`, for the audit trail. */
  via: 'webhook' | 'poll' | 'command';
}

export function shipmentKey(connection: string, source: ShipmentSource, id: number): string {
  return `${SHIPMENT_WRITEBACK_KIND}:${connection}:${source}:${id}`;
}

/** The `links` entity type of written shipments (sysproKey = `<source>:<id>`). */
export const SHIPMENT_ENTITY = 'shipment';

export function shipmentLinkKey(source: ShipmentSource, id: number): string {
  return `${source}:${id}`;
}
