/**
 * ShipStation V1 shipments and fulfillments → our `ShipmentWrite` (shipment-model.ts). Pure: no
 * I/O, no clock. Times are converted from Pacific wall clock to UTC here, once (pacific-time.ts).
 *
 * - A record is ours when its `orderKey` starts with this connection's `<company>:` (shipments), or
 *   when its `orderId` is an order we pushed (the caller looks the order link up and passes its
 *   orderKey: fulfillments carry no orderKey). A record whose store is known and is not one of the
 *   connection's stores (when the connection names any) is not ours either. Records not ours are
 *   skipped with a reason, never written.
 * - `lineItemKey` is our SYSPRO `SalesOrderLine` (the orders mapper sends it so). Adjustment items
 *   (misc charges sent as `adjustment: true` lines) are not parcels and are left out.
 * - V1 has one `trackingNumber` per shipment: a multi-package label batch is one shipment (its own
 *   `shipmentId`) per package, each with its own tracking number and its own write job. So
 *   `trackingNumbers` holds the shipment's one number (none when ShipStation sends none).
 * - `version`: `createdAtUtc`, or, for a voided record, its void time, never at or before the
 *   creation (a void read inside the repeated fall-back hour could otherwise look older than its
 *   label: see `voidedAt`).
 */

import { PacificTimeError, pacificToUtc, toCalendarDate } from '../shipstation/pacific-time.js';
import type { V1Fulfillment, V1Shipment } from '../shipstation/types.js';
import type { ShipmentLine, ShipmentSource, ShipmentWrite } from './shipment-model.js';

export interface ShipmentMapOptions {
  connection: string;
  /** SYSPRO company: our orderKeys are `<company>:<SalesOrder>`. */
  company: string;
  /** The ShipStation stores orders of this connection go to (empty: any store). */
  storeIds: readonly number[];
  via: ShipmentWrite['via'];
  /**
   * How the record's date/time strings read (the API's `recordTimes`): V1 Pacific wall clock (an
   * offset on them ignored), V2 ISO 8601 with an offset (read as written, no Pacific conversion).
   * Default `pacific`.
   */
  recordTimes?: 'pacific' | 'offset';
}

export type ShipmentMapResult =
  | { action: 'write'; source: ShipmentSource; id: number; write: ShipmentWrite }
  | { action: 'skip'; source: ShipmentSource; id: number; version: number | null; reason: string }
  | { action: 'invalid'; source: ShipmentSource; id: number; problem: string };

/** The sales order of one of our orderKeys (`<company>:<SalesOrder>`), else null. */
export function salesOrderOf(orderKey: string | null | undefined, company: string): string | null {
  if (typeof orderKey !== 'string') return null;
  const prefix = `${company.trim()}:`;
  if (!orderKey.startsWith(prefix)) return null;
  const salesOrder = orderKey.slice(prefix.length).trim();
  return salesOrder === '' ? null : salesOrder;
}

/**
 * The void instant of a record created at `createdAtUtc`. A wall time in the repeated fall-back hour
 * is read as its earlier instant; when that puts the void before the label, the later one is meant.
 */
function voidedAt(
  voidDate: string | null | undefined,
  createdAtUtc: number,
  offset: 'ignore' | 'honour',
): number | null {
  if (voidDate === null || voidDate === undefined || voidDate.trim() === '') return null;
  const earlier = pacificToUtc(voidDate, { offset });
  if (earlier >= createdAtUtc) return earlier;
  return Math.max(pacificToUtc(voidDate, { ambiguous: 'later', offset }), earlier);
}

/** A record's state version (see the file comment). */
export function stateVersion(createdAtUtc: number, voided: boolean, voidedAtUtc: number | null): number {
  if (!voided) return createdAtUtc;
  return Math.max(voidedAtUtc ?? createdAtUtc + 1, createdAtUtc + 1);
}

function text(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function notOurs(
  orderKey: string | null | undefined,
  storeId: number | null | undefined,
  options: ShipmentMapOptions,
): string | undefined {
  if (typeof storeId === 'number' && options.storeIds.length > 0 && !options.storeIds.includes(storeId)) {
    return `store ${storeId} is not one of this connection's stores (${options.storeIds.join(', ')})`;
  }
  if (text(orderKey) === null) return 'the order has no orderKey and is not an order we pushed';
  if (salesOrderOf(orderKey, options.company) === null) {
    return `orderKey ${JSON.stringify(orderKey)} is not one of this connection's (${options.company.trim()}:…)`;
  }
  return undefined;
}

interface Times {
  createdAtUtc: number;
  voidedAtUtc: number | null;
  shipDate: string;
  shipDateUtc: number;
  version: number;
}

/**
 * A time field as text. A record without one (or with a number or object in its place) is a bad
 * record (`invalid`, audited), not an exception that would fail the whole page it came in.
 */
function timeText(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  const shown = value === undefined ? 'missing' : JSON.stringify(value).slice(0, 40);
  throw new PacificTimeError(
    `${field} is ${value === undefined || value === null ? 'missing' : `not a date/time (${shown})`}`,
    String(value),
  );
}

function times(
  record: { createDate: string; shipDate: string; voidDate?: string | null },
  voided: boolean,
  recordTimes: ShipmentMapOptions['recordTimes'],
): Times {
  // A V2 record's times carry their offset; a V1 record's are Pacific whatever they say.
  const offset = recordTimes === 'offset' ? 'honour' : 'ignore';
  const createdAtUtc = pacificToUtc(timeText(record.createDate, 'createDate'), { offset });
  const voidDate = record.voidDate === null || record.voidDate === undefined ? null : record.voidDate;
  const voidedAtUtc = voidedAt(
    voidDate === null ? null : timeText(voidDate, 'voidDate'),
    createdAtUtc,
    offset,
  );
  const shipDate = toCalendarDate(timeText(record.shipDate, 'shipDate'));
  return {
    createdAtUtc,
    voidedAtUtc,
    shipDate,
    shipDateUtc: pacificToUtc(shipDate),
    version: stateVersion(createdAtUtc, voided, voidedAtUtc),
  };
}

function lines(items: V1Shipment['shipmentItems']): ShipmentLine[] | null {
  if (!Array.isArray(items)) return null;
  return items
    .filter((item) => item !== null && typeof item === 'object' && item.adjustment !== true)
    .map((item) => {
      const line: ShipmentLine = { sku: text(item.sku), quantity: Number(item.quantity) };
      const key = text(item.lineItemKey);
      if (key !== null) line.salesOrderLine = key;
      return line;
    });
}

function problemOf(error: unknown): string {
  if (error instanceof PacificTimeError) return error.message;
  throw error;
}

/** One V1 shipment (a label). `linkedOrderKey`: our orderKey of its orderId, when we pushed that order. */
export function mapShipment(
  shipment: V1Shipment,
  options: ShipmentMapOptions,
  linkedOrderKey?: string,
): ShipmentMapResult {
  const source = 'shipment' as const;
  const id = shipment.shipmentId;
  const voided = shipment.voided === true;
  let t: Times;
  try {
    t = times(shipment, voided, options.recordTimes);
  } catch (error) {
    return { action: 'invalid', source, id, problem: `shipment ${id}: ${problemOf(error)}` };
  }
  const own = text(shipment.orderKey);
  // Our own orderKey wins; else the order link (a fulfillment-less keyless record, or a marketplace
  // order entered in SYSPRO, whose store is not ours but whose link says it is).
  const useLink =
    linkedOrderKey !== undefined && (own === null || salesOrderOf(own, options.company) === null);
  const orderKey = useLink ? linkedOrderKey : (own ?? null);
  const reason = notOurs(orderKey, useLink ? undefined : shipment.advancedOptions?.storeId, options);
  if (reason !== undefined) return { action: 'skip', source, id, version: t.version, reason };
  return {
    action: 'write',
    source,
    id,
    write: {
      source,
      id,
      connection: options.connection,
      orderKey,
      salesOrder: salesOrderOf(orderKey, options.company),
      orderId: shipment.orderId,
      orderNumber: shipment.orderNumber ?? '',
      carrierCode: text(shipment.carrierCode),
      serviceCode: text(shipment.serviceCode),
      trackingNumbers: [text(shipment.trackingNumber)].filter((n): n is string => n !== null),
      shipDate: t.shipDate,
      shipDateUtc: t.shipDateUtc,
      createdAtUtc: t.createdAtUtc,
      lines: lines(shipment.shipmentItems),
      ...(typeof shipment.orderStatus === 'string' ? { orderStatus: shipment.orderStatus } : {}),
      shipmentCost: shipment.shipmentCost ?? null,
      insuranceCost: shipment.insuranceCost ?? null,
      voided,
      voidedAtUtc: voided ? t.voidedAtUtc : null,
      version: t.version,
      via: options.via,
    },
  };
}

/**
 * One V1 fulfillment (marked shipped, or shipped by a fill provider). It carries no orderKey and no
 * items: `linkedOrderKey` comes from our order link of its orderId, and `lines` is null (the whole
 * open order, see the write-back).
 */
export function mapFulfillment(
  fulfillment: V1Fulfillment,
  options: ShipmentMapOptions,
  linkedOrderKey?: string,
): ShipmentMapResult {
  const source = 'fulfillment' as const;
  const id = fulfillment.fulfillmentId;
  const voided = fulfillment.voided === true;
  let t: Times;
  try {
    t = times(fulfillment, voided, options.recordTimes);
  } catch (error) {
    return { action: 'invalid', source, id, problem: `fulfillment ${id}: ${problemOf(error)}` };
  }
  const orderKey = linkedOrderKey ?? null;
  const reason = notOurs(orderKey, undefined, options);
  if (reason !== undefined) return { action: 'skip', source, id, version: t.version, reason };
  return {
    action: 'write',
    source,
    id,
    write: {
      source,
      id,
      connection: options.connection,
      orderKey,
      salesOrder: salesOrderOf(orderKey, options.company),
      orderId: fulfillment.orderId,
      orderNumber: fulfillment.orderNumber ?? '',
      carrierCode: text(fulfillment.carrierCode),
      serviceCode: text(fulfillment.fulfillmentServiceCode),
      trackingNumbers: [text(fulfillment.trackingNumber)].filter((n): n is string => n !== null),
      shipDate: t.shipDate,
      shipDateUtc: t.shipDateUtc,
      createdAtUtc: t.createdAtUtc,
      lines: null,
      shipmentCost: null,
      insuranceCost: null,
      voided,
      voidedAtUtc: voided ? t.voidedAtUtc : null,
      version: t.version,
      via: options.via,
    },
  };
}

/** The `links.last_hash` form of a version, as the write-back stores it: `v<version>`. */
export function versionHash(version: number): string {
  return `v${version}`;
}

/** The version in a `last_hash` (`v<version>`), or null for anything else. */
export function versionOfHash(hash: string | null | undefined): number | null {
  if (typeof hash !== 'string') return null;
  const m = /^v(\d+)$/.exec(hash);
  return m ? Number(m[1]) : null;
}
