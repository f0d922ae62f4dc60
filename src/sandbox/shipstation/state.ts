/**
 * The sandbox's in-memory ShipStation account: stores, warehouses, orders, label shipments,
 * fulfillments and webhook subscriptions, with the business rules of reference §1 (upsert by
 * orderKey/orderId, whole replace, locked shipped/cancelled orders, labels vs. mark-as-shipped).
 * Routes and the `/_sandbox/` warehouse actions call these methods; tests may read the maps.
 */

import type { SeededRandom } from '../random.js';
import type { ModelState } from './errors.js';
import { bindObject, type JsonDoc } from './json-binding.js';
import {
  isOrderStatus,
  OPEN_STATUSES,
  ORDER_SPEC,
  type OrderBody,
  OrderRecord,
  type OrderStatus,
  type StoredItem,
} from './order-model.js';
import { pacificMidnight } from './pacific-time.js';
import { defaultServiceFor, trackingNumberFor } from './tracking-numbers.js';

export interface StoreRecord {
  storeId: number;
  storeName: string;
  marketplaceId: number;
  marketplaceName: string;
  /** A manual store takes API orders; a marketplace store is where channel orders come from. */
  manual: boolean;
  createDate: number;
}

export interface WarehouseRecord {
  warehouseId: number;
  warehouseName: string;
  originAddress: Record<string, unknown>;
  isDefault: boolean;
  createDate: number;
}

export interface ShipmentRecord {
  shipmentId: number;
  orderId: number;
  batchId: number;
  createDate: number;
  shipDate: number;
  trackingNumber: string;
  carrierCode: string;
  serviceCode: string;
  packageCode: string;
  confirmation: string;
  warehouseId: number;
  shipmentCost: number;
  insuranceCost: number;
  voided: boolean;
  voidDate: number;
  /** [orderItemId, quantity] pairs: what this package carries. */
  items: Array<[number, number]>;
  weightOunces: number;
}

export interface FulfillmentRecord {
  fulfillmentId: number;
  orderId: number;
  orderNumber: string;
  trackingNumber: string | null;
  carrierCode: string;
  createDate: number;
  shipDate: number;
  notifyCustomer: boolean;
  notifySalesChannel: boolean;
  /** The hidden `batchId` of the FULFILLMENT_SHIPPED/REJECTED resource_url (our inference, mirroring labels). */
  batchId: number;
  /**
   * A fulfillment provider refused the order (FULFILLMENT_REJECTED; inference: the reference names
   * the event only). Listed with `voided: true`, `voidDate` and the reason in `notifyErrorMessage`.
   */
  rejected?: { at: number; reason: string; providerName: string };
}

export interface WebhookSubscription {
  webhookId: number;
  event: string;
  targetUrl: string;
  storeId: number | null;
  friendlyName: string | null;
  createDate: number;
}

export type UpsertResult =
  | { ok: true; record: OrderRecord; created: boolean }
  | {
      ok: false;
      /** `locked`: the order is shipped or cancelled; `not_found`: unknown orderId; `invalid`: a rule failed. */
      code: 'locked' | 'not_found' | 'invalid';
      message: string;
      orderNumber: string | null;
      orderKey: string | null;
      orderId: number | null;
    };

export interface PackageRequest {
  /** Items in this package; omitted = every item quantity not yet on a live label. */
  items?: Array<{ orderItemId?: number; lineItemKey?: string; sku?: string; quantity?: number }>;
  weightOunces?: number;
}

export interface LabelRequest {
  orderId: number;
  carrierCode?: string;
  serviceCode?: string;
  packageCode?: string;
  shipDate?: number;
  /** One package per entry; omitted = one package with all remaining items. */
  packages?: PackageRequest[];
}

/** A business rule refused an action; `statusCode` is what the API answers (400 or 404). */
export class SandboxRuleError extends Error {
  constructor(
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

export interface StateEvents {
  /** Orders that count for ORDER_NOTIFY in one import batch (reference §4.1). */
  orderImport?(batch: string, orderIds: number[], storeIds: Set<number>): void;
  /** Labels created together (SHIP_NOTIFY / ITEM_SHIP_NOTIFY). */
  labelBatch?(batchId: number, shipmentIds: number[], storeIds: Set<number>): void;
  /** An order entered awaiting_shipment (for auto-ship). */
  awaitingShipment?(orderId: number): void;
  /** Fulfillments made together: marked as shipped (FULFILLMENT_SHIPPED) or rejected (FULFILLMENT_REJECTED). */
  fulfillmentBatch?(
    event: 'FULFILLMENT_SHIPPED' | 'FULFILLMENT_REJECTED',
    batchId: number,
    fulfillmentIds: number[],
    storeIds: Set<number>,
  ): void;
}

const CARRIERS = ['stamps_com', 'ups', 'fedex'] as const;

export class ShipStationState {
  readonly stores = new Map<number, StoreRecord>();
  readonly warehouses = new Map<number, WarehouseRecord>();
  readonly orders = new Map<number, OrderRecord>();
  readonly orderIdByKey = new Map<string, number>();
  /** orderNumber → the orders carrying it (V1 allows duplicates; V2's shipment_number does not). */
  private readonly orderIdsByNumber = new Map<string, Set<number>>();
  readonly importBatches = new Map<string, number[]>();
  readonly shipments = new Map<number, ShipmentRecord>();
  readonly shipmentIdsByOrder = new Map<number, number[]>();
  readonly labelBatches = new Map<number, number[]>();
  readonly fulfillments = new Map<number, FulfillmentRecord>();
  readonly fulfillmentBatches = new Map<number, number[]>();
  readonly webhooks = new Map<number, WebhookSubscription>();
  readonly customers = new Map<string, number>();
  /** Orders on hold with a `holdUntilDate`, released by `releaseHolds`. */
  readonly held = new Set<number>();
  readonly userId: string;
  events: StateEvents = {};

  private nextOrderId = 100_000_001;
  private nextItemId = 200_000_001;
  private nextShipmentId = 300_000_001;
  private nextFulfillmentId = 400_000_001;
  private nextBatchId = 500_000_001;
  private nextWebhookId = 600_001;
  private nextCustomerId = 700_000_001;

  constructor(
    private readonly now: () => number,
    private readonly random: SeededRandom,
  ) {
    this.userId = random.guid();
  }

  get defaultWarehouseId(): number {
    for (const w of this.warehouses.values()) if (w.isDefault) return w.warehouseId;
    return this.warehouses.keys().next().value ?? 0;
  }

  /** The first manual store: where orders without `advancedOptions.storeId` go (reference §1.3). */
  get defaultStoreId(): number {
    for (const s of this.stores.values()) if (s.manual) return s.storeId;
    return this.stores.keys().next().value ?? 0;
  }

  newImportBatch(): string {
    return this.random.guid();
  }

  newLabelBatchId(): number {
    const id = this.nextBatchId;
    this.nextBatchId += 1;
    return id;
  }

  /**
   * Binds an order body (Json.NET rules) and returns the bound document, with type errors under
   * `ModelState` keys prefixed by `prefix` (e.g. `order` or `orders[3]`).
   */
  bindOrder(raw: unknown, prefix: string, errors: ModelState): JsonDoc | undefined {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      const list = errors[prefix] ?? [];
      list.push(`Error converting value to type '${ORDER_SPEC.typeName}'. Path '${prefix}'.`);
      errors[prefix] = list;
      return undefined;
    }
    return bindObject(raw as JsonDoc, ORDER_SPEC, prefix, errors);
  }

  /**
   * Creates or replaces one order (reference §1.3). `importBatch` collects the orders that count
   * for ORDER_NOTIFY; the caller fires it once for the whole call. `at` backdates the write (seeding).
   */
  upsertOrder(
    input: JsonDoc,
    importBatch: string,
    notifying: number[],
    options: { storeId?: number; at?: number } = {},
  ): UpsertResult {
    const orderNumber = typeof input.orderNumber === 'string' ? input.orderNumber : null;
    const inputKey = typeof input.orderKey === 'string' && input.orderKey !== '' ? input.orderKey : null;
    const inputId = typeof input.orderId === 'number' ? input.orderId : null;
    let existing: OrderRecord | undefined;
    // A refusal names the order it concerns: the existing one when there is one (a re-posted
    // shipped/cancelled orderKey still has its orderId), else the orderId sent, if any.
    const refuse = (message: string, code: 'locked' | 'not_found' | 'invalid' = 'invalid'): UpsertResult => ({
      ok: false,
      code,
      message,
      orderNumber,
      orderKey: inputKey,
      orderId: existing?.orderId ?? inputId,
    });

    if (inputId !== null) {
      existing = this.orders.get(inputId);
      if (!existing) return refuse(`Order with orderId ${inputId} was not found.`, 'not_found');
      const byKey = inputKey ? this.orderIdByKey.get(inputKey) : undefined;
      if (byKey !== undefined && byKey !== inputId) {
        return refuse(`orderKey '${inputKey}' belongs to order ${byKey}, not to orderId ${inputId}.`);
      }
    } else if (inputKey) {
      const id = this.orderIdByKey.get(inputKey);
      existing = id === undefined ? undefined : this.orders.get(id);
    }

    const missing: string[] = [];
    if (!orderNumber) missing.push('orderNumber');
    if (typeof input.orderDate !== 'number') missing.push('orderDate');
    if (input.orderStatus === undefined || input.orderStatus === null) missing.push('orderStatus');
    if (!existing && !input.billTo) missing.push('billTo');
    if (!existing && !input.shipTo) missing.push('shipTo');
    if (missing.length > 0) return refuse(`Required field(s) missing: ${missing.join(', ')}.`);
    if (!isOrderStatus(input.orderStatus)) {
      return refuse(`'${String(input.orderStatus)}' is not a valid orderStatus.`);
    }
    if ((orderNumber ?? '').length > 50) return refuse('orderNumber may not be longer than 50 characters.');
    if (existing && !OPEN_STATUSES.has(existing.status)) {
      return refuse(
        `Order ${existing.orderId} (orderNumber ${existing.orderNumber}) is ${existing.status}; shipped and cancelled orders may not be updated.`,
        'locked',
      );
    }
    const items = Array.isArray(input.items) ? (input.items as JsonDoc[]) : [];
    for (const [i, item] of items.entries()) {
      if (item === null || typeof item !== 'object') return refuse(`items[${i}] is null.`);
      if (typeof item.name !== 'string') return refuse(`items[${i}].name may not be null.`);
    }

    const now = options.at ?? this.now();
    const status: OrderStatus = input.orderStatus;
    const advanced = (input.advancedOptions ?? null) as JsonDoc | null;
    const requestedStore = typeof advanced?.storeId === 'number' ? advanced.storeId : undefined;
    // storeId and orderKey can only be set at creation; later values are ignored (reference §1.3).
    const storeId = existing ? existing.storeId : (options.storeId ?? requestedStore ?? this.defaultStoreId);
    if (!existing && !this.stores.has(storeId)) return refuse(`Store ${storeId} was not found.`);

    const previousItems = existing ? (existing.body().items ?? []) : [];
    const storedItems: StoredItem[] = items.map((item) => {
      const match =
        previousItems.find(
          (p) => typeof item.orderItemId === 'number' && p.orderItemId === item.orderItemId,
        ) ??
        previousItems.find((p) => typeof item.lineItemKey === 'string' && p.lineItemKey === item.lineItemKey);
      const { orderItemId: _ignored, ...rest } = item;
      return {
        ...rest,
        orderItemId: match ? match.orderItemId : this.nextItemId++,
        createDate: match ? match.createDate : now,
        modifyDate: now,
      };
    });

    const body: OrderBody = { ...input, items: storedItems };
    delete body.orderId;
    delete body.orderKey;
    delete body.orderStatus;
    if (advanced) body.advancedOptions = { ...advanced, storeId };
    if (typeof input.customerUsername === 'string' && input.customerUsername !== '') {
      let customerId = this.customers.get(input.customerUsername);
      if (customerId === undefined) {
        customerId = this.nextCustomerId++;
        this.customers.set(input.customerUsername, customerId);
      }
      body.customerId = customerId;
    }

    const billName = ((input.billTo as JsonDoc | null)?.name as string | undefined) ?? '';
    const shipTo = input.shipTo as JsonDoc | null;
    const names = `${billName}\n${(shipTo?.name as string | undefined) ?? ''}`.toLowerCase();
    const itemText = storedItems
      .map((i) => {
        const options = Array.isArray(i.options)
          ? (i.options as Array<JsonDoc | null>).map((o) => `${o?.name ?? ''} ${o?.value ?? ''}`).join(' ')
          : '';
        return `${i.sku ?? ''} ${i.name ?? ''} ${options}`;
      })
      .join('\n')
      .toLowerCase();
    const orderDate = input.orderDate as number;
    const paymentDate = typeof input.paymentDate === 'number' ? input.paymentDate : -1;
    const country = typeof shipTo?.country === 'string' ? shipTo.country.toUpperCase() : '';
    const doc = JSON.stringify(body);

    let record: OrderRecord;
    if (existing) {
      const wasAwaitingPayment = existing.status === 'awaiting_payment';
      const previous = existing.status;
      this.indexNumber(existing.orderId, existing.orderNumber, orderNumber as string);
      existing.orderNumber = orderNumber as string;
      existing.status = status;
      existing.orderDate = orderDate;
      existing.modifyDate = now;
      existing.paymentDate = paymentDate;
      existing.names = names;
      existing.itemText = itemText;
      existing.shipToCountry = country;
      existing.doc = doc;
      existing.active = true;
      record = existing;
      this.afterStatusChange(record, previous, typeof body.holdUntilDate === 'number');
      // ORDER_NOTIFY also fires when an awaiting-payment order moves on (not to cancelled).
      if (wasAwaitingPayment && status !== 'awaiting_payment' && status !== 'cancelled') {
        this.addToImportBatch(importBatch, record.orderId, notifying);
      }
    } else {
      const orderKey = inputKey ?? this.random.guid();
      record = new OrderRecord(
        this.nextOrderId++,
        orderKey,
        orderNumber as string,
        status,
        storeId,
        orderDate,
        now,
        now,
        paymentDate,
        names,
        itemText,
        country,
        true,
        doc,
      );
      this.orders.set(record.orderId, record);
      this.orderIdByKey.set(orderKey, record.orderId);
      this.indexNumber(record.orderId, undefined, record.orderNumber);
      this.afterStatusChange(record, undefined, typeof body.holdUntilDate === 'number');
      if (status !== 'awaiting_payment') this.addToImportBatch(importBatch, record.orderId, notifying);
    }
    return { ok: true, record, created: !existing };
  }

  private indexNumber(orderId: number, previous: string | undefined, next: string): void {
    if (previous === next) return;
    if (previous !== undefined) {
      const set = this.orderIdsByNumber.get(previous);
      set?.delete(orderId);
      if (set?.size === 0) this.orderIdsByNumber.delete(previous);
    }
    const set = this.orderIdsByNumber.get(next) ?? new Set<number>();
    set.add(orderId);
    this.orderIdsByNumber.set(next, set);
  }

  /** The orders whose orderNumber is exactly `orderNumber` (any status, deleted ones included). */
  orderIdsWithNumber(orderNumber: string): number[] {
    return [...(this.orderIdsByNumber.get(orderNumber) ?? [])];
  }

  /** Whether the order has a label that is not voided. */
  hasLiveLabel(orderId: number): boolean {
    return (this.shipmentIdsByOrder.get(orderId) ?? []).some(
      (id) => this.shipments.get(id)?.voided === false,
    );
  }

  /**
   * Cancels an open order (V2 `PUT /v2/shipments/{id}/cancel`; in V1 a createorder with
   * `orderStatus: cancelled`). A live label must be voided first (reference §10); a shipped order
   * cannot be cancelled. Cancelling a cancelled order changes nothing.
   */
  cancelOrder(orderId: number): OrderRecord {
    const record = this.requireOrder(orderId);
    if (record.status === 'cancelled') return record;
    if (this.hasLiveLabel(orderId)) {
      throw new SandboxRuleError(
        `Order ${orderId} has a label that is not voided; void it before cancelling.`,
      );
    }
    if (!OPEN_STATUSES.has(record.status)) {
      throw new SandboxRuleError(`Order ${orderId} is ${record.status} and cannot be cancelled.`);
    }
    const previous = record.status;
    record.status = 'cancelled';
    record.modifyDate = this.now();
    this.setBodyField(record, 'holdUntilDate', undefined);
    this.afterStatusChange(record, previous, false);
    return record;
  }

  private addToImportBatch(batch: string, orderId: number, notifying: number[]): void {
    const list = this.importBatches.get(batch) ?? [];
    list.push(orderId);
    this.importBatches.set(batch, list);
    notifying.push(orderId);
  }

  /** Fires ORDER_NOTIFY for an import batch when it created (or released) at least one order. */
  finishImportBatch(batch: string, notifying: number[]): void {
    if (notifying.length === 0) return;
    const storeIds = new Set<number>();
    for (const id of notifying) {
      const o = this.orders.get(id);
      if (o) storeIds.add(o.storeId);
    }
    this.events.orderImport?.(batch, notifying, storeIds);
  }

  private afterStatusChange(
    record: OrderRecord,
    previous: OrderStatus | undefined,
    hasHoldDate: boolean,
  ): void {
    if (record.status === 'on_hold' && hasHoldDate) this.held.add(record.orderId);
    else this.held.delete(record.orderId);
    if (record.status === 'awaiting_shipment' && previous !== 'awaiting_shipment') {
      this.events.awaitingShipment?.(record.orderId);
    }
  }

  private setBodyField(record: OrderRecord, field: string, value: unknown): void {
    const body = record.body();
    if (value === undefined) delete body[field];
    else body[field] = value;
    record.doc = JSON.stringify(body);
  }

  requireOrder(orderId: number): OrderRecord {
    const record = this.orders.get(orderId);
    if (!record) throw new SandboxRuleError(`Order ${orderId} was not found.`, 404);
    return record;
  }

  /**
   * An operator splits an open order in the UI: the last `count` items move to a new order numbered
   * `<orderNumber>-<n>` with its own generated orderKey, and both are marked split
   * (`advancedOptions.mergedOrSplit`; the part names its `parentId`). What ShipStation does with later
   * API updates of a split order is UNCONFIRMED (its help says split orders "can not sync order
   * updates"); the sandbox still accepts them, so only the client's own check keeps them away.
   */
  splitOrder(orderId: number, count = 1): { original: OrderRecord; part: OrderRecord } {
    const original = this.requireOrder(orderId);
    if (!OPEN_STATUSES.has(original.status)) {
      throw new SandboxRuleError(`Order ${orderId} is ${original.status}; only open orders can be split.`);
    }
    const body = original.body();
    const items = body.items ?? [];
    if (items.length < 2 || count < 1 || count >= items.length) {
      throw new SandboxRuleError(
        `Order ${orderId} has ${items.length} item(s); a split needs at least one on each side.`,
      );
    }
    const moved = items.slice(items.length - count);
    const now = this.now();
    const n = (original.split?.splitIds.length ?? 0) + 1;
    const part = new OrderRecord(
      this.nextOrderId++,
      this.random.guid(),
      `${original.orderNumber}-${n}`,
      original.status,
      original.storeId,
      original.orderDate,
      now,
      now,
      original.paymentDate,
      original.names,
      original.itemText,
      original.shipToCountry,
      true,
      JSON.stringify({ ...body, items: moved }),
    );
    part.split = { parentId: original.orderId, splitIds: [] };
    this.orders.set(part.orderId, part);
    this.orderIdByKey.set(part.orderKey, part.orderId);
    this.indexNumber(part.orderId, undefined, part.orderNumber);
    original.doc = JSON.stringify({ ...body, items: items.slice(0, items.length - count) });
    original.split = { parentId: null, splitIds: [...(original.split?.splitIds ?? []), part.orderId] };
    original.modifyDate = now;
    return { original, part };
  }

  /** `DELETE /orders/{id}`: soft delete, the order becomes inactive (hidden from lists). */
  deleteOrder(orderId: number): OrderRecord {
    const record = this.requireOrder(orderId);
    record.active = false;
    record.modifyDate = this.now();
    return record;
  }

  /** `POST /orders/holduntil`. */
  holdUntil(orderId: number, holdUntil: number): OrderRecord {
    const record = this.requireOrder(orderId);
    if (!OPEN_STATUSES.has(record.status)) {
      throw new SandboxRuleError(`Order ${orderId} is ${record.status} and cannot be put on hold.`);
    }
    const previous = record.status;
    record.status = 'on_hold';
    record.modifyDate = this.now();
    this.setBodyField(record, 'holdUntilDate', holdUntil);
    this.afterStatusChange(record, previous, true);
    return record;
  }

  /** `POST /orders/restorefromhold` and the hold-date release: back to awaiting_shipment. */
  restoreFromHold(orderId: number): OrderRecord {
    const record = this.requireOrder(orderId);
    if (record.status !== 'on_hold') throw new SandboxRuleError(`Order ${orderId} is not on hold.`);
    record.status = 'awaiting_shipment';
    record.modifyDate = this.now();
    this.setBodyField(record, 'holdUntilDate', undefined);
    this.afterStatusChange(record, 'on_hold', false);
    return record;
  }

  /** Releases orders whose `holdUntilDate` (a Pacific date) has been reached. */
  releaseHolds(): number[] {
    const now = this.now();
    const released: number[] = [];
    for (const id of [...this.held]) {
      const record = this.orders.get(id);
      const until = record?.body().holdUntilDate;
      if (record && typeof until === 'number' && until <= now) {
        this.restoreFromHold(id);
        released.push(id);
      }
    }
    return released;
  }

  /**
   * `POST /orders/markasshipped` (and the UI's Mark as Shipped): a fulfillment, no shipment and no
   * SHIP_NOTIFY (reference §1.6, §4.1). It fires FULFILLMENT_SHIPPED, with a resource_url listing its
   * batch: the reference lists mark-as-shipped orders as fulfillments (§1.7) and names the event
   * "On Items Shipped by Fulfillment Provider" (§4.1); that a mark-as-shipped fires it is our
   * inference (UNCONFIRMED), as is the `/fulfillments?batchId=` shape.
   */
  markAsShipped(input: {
    orderId: number;
    carrierCode: string;
    shipDate?: number;
    trackingNumber?: string | null;
    notifyCustomer?: boolean;
    notifySalesChannel?: boolean;
  }): { order: OrderRecord; fulfillment: FulfillmentRecord } {
    const record = this.requireOrder(input.orderId);
    if (record.status === 'cancelled' || record.status === 'shipped') {
      throw new SandboxRuleError(
        `Order ${record.orderId} is ${record.status} and cannot be marked as shipped.`,
      );
    }
    const now = this.now();
    const previous = record.status;
    record.status = 'shipped';
    record.modifyDate = now;
    const shipDate = pacificMidnight(input.shipDate ?? now);
    this.setBodyField(record, 'shipDate', shipDate);
    this.afterStatusChange(record, previous, false);
    const fulfillment: FulfillmentRecord = {
      fulfillmentId: this.nextFulfillmentId++,
      orderId: record.orderId,
      orderNumber: record.orderNumber,
      trackingNumber: input.trackingNumber ?? null,
      carrierCode: input.carrierCode,
      createDate: now,
      shipDate,
      notifyCustomer: input.notifyCustomer ?? false,
      notifySalesChannel: input.notifySalesChannel ?? false,
      batchId: this.newLabelBatchId(),
    };
    this.addFulfillment(fulfillment, 'FULFILLMENT_SHIPPED', record.storeId);
    return { order: record, fulfillment };
  }

  /**
   * A fulfillment provider (FBA, Shipwire…) rejects an open order: FULFILLMENT_REJECTED ("On Items
   * Rejected by Fulfillment Provider", reference §4.1). What the rejection looks like in
   * `GET /fulfillments` is not in the reference: we list it as a voided fulfillment with the reason
   * in `notifyErrorMessage` (inference). The order stays where it was.
   */
  rejectFulfillment(input: { orderId: number; reason?: string; providerName?: string }): FulfillmentRecord {
    const record = this.requireOrder(input.orderId);
    if (!OPEN_STATUSES.has(record.status)) {
      throw new SandboxRuleError(
        `Order ${record.orderId} is ${record.status}; only an open order can be rejected by a fulfillment provider.`,
      );
    }
    const now = this.now();
    const fulfillment: FulfillmentRecord = {
      fulfillmentId: this.nextFulfillmentId++,
      orderId: record.orderId,
      orderNumber: record.orderNumber,
      trackingNumber: null,
      carrierCode: '',
      createDate: now,
      shipDate: pacificMidnight(now),
      notifyCustomer: false,
      notifySalesChannel: false,
      batchId: this.newLabelBatchId(),
      rejected: {
        at: now,
        reason: input.reason ?? 'Rejected by the fulfillment provider.',
        providerName: input.providerName ?? 'Sandbox Fulfillment',
      },
    };
    this.addFulfillment(fulfillment, 'FULFILLMENT_REJECTED', record.storeId);
    return fulfillment;
  }

  private addFulfillment(
    fulfillment: FulfillmentRecord,
    event: 'FULFILLMENT_SHIPPED' | 'FULFILLMENT_REJECTED',
    storeId: number,
  ): void {
    this.fulfillments.set(fulfillment.fulfillmentId, fulfillment);
    this.fulfillmentBatches.set(fulfillment.batchId, [fulfillment.fulfillmentId]);
    this.events.fulfillmentBatch?.(
      event,
      fulfillment.batchId,
      [fulfillment.fulfillmentId],
      new Set([storeId]),
    );
  }

  /** Quantities of each item already on a live (not voided) label. */
  private labelledQuantities(orderId: number): Map<number, number> {
    const out = new Map<number, number>();
    for (const id of this.shipmentIdsByOrder.get(orderId) ?? []) {
      const s = this.shipments.get(id);
      if (!s || s.voided) continue;
      for (const [itemId, qty] of s.items) out.set(itemId, (out.get(itemId) ?? 0) + qty);
    }
    return out;
  }

  private shippableItems(body: OrderBody): StoredItem[] {
    return (body.items ?? []).filter((i) => i.adjustment !== true && (i.quantity ?? 0) > 0);
  }

  /**
   * Creates labels (shipments) for one or more orders as one label batch, the way a warehouse does
   * in ShipStation's UI; fires one SHIP_NOTIFY for the batch. An order becomes `shipped` once every
   * item quantity is on a live label. `at` backdates the labels (seeding).
   */
  createLabelBatch(
    requests: LabelRequest[],
    options: { at?: number } = {},
  ): { batchId: number; shipments: ShipmentRecord[] } {
    const planned: Array<{
      record: OrderRecord;
      body: OrderBody;
      request: LabelRequest;
      packages: Array<Array<[number, number]>>;
    }> = [];
    for (const request of requests) {
      const record = this.requireOrder(request.orderId);
      if (!record.active) throw new SandboxRuleError(`Order ${record.orderId} is deleted.`);
      if (record.status === 'cancelled' || record.status === 'awaiting_payment') {
        throw new SandboxRuleError(
          `Order ${record.orderId} is ${record.status}; labels need a paid, open order.`,
        );
      }
      const body = record.body();
      const items = this.shippableItems(body);
      const labelled = this.labelledQuantities(record.orderId);
      const remaining = new Map(
        items.map((i) => [i.orderItemId, (i.quantity ?? 0) - (labelled.get(i.orderItemId) ?? 0)]),
      );
      const findItem = (ref: { orderItemId?: number; lineItemKey?: string; sku?: string }) =>
        items.find(
          (i) =>
            (ref.orderItemId !== undefined && i.orderItemId === ref.orderItemId) ||
            (ref.lineItemKey !== undefined && i.lineItemKey === ref.lineItemKey) ||
            (ref.sku !== undefined &&
              ref.orderItemId === undefined &&
              ref.lineItemKey === undefined &&
              i.sku === ref.sku),
        );
      const packages: Array<Array<[number, number]>> = [];
      for (const pkg of request.packages ?? [{}]) {
        if (!pkg.items) {
          let rest = [...remaining].filter(([, q]) => q > 0);
          // Everything is labelled already (a re-ship): label all items again.
          if (rest.length === 0) rest = items.map((i) => [i.orderItemId, i.quantity ?? 0]);
          for (const [id] of rest) remaining.set(id, 0);
          packages.push(rest);
          continue;
        }
        const content: Array<[number, number]> = [];
        for (const ref of pkg.items) {
          const item = findItem(ref);
          if (!item)
            throw new SandboxRuleError(`Order ${record.orderId} has no item ${JSON.stringify(ref)}.`);
          const left = remaining.get(item.orderItemId) ?? 0;
          const qty = ref.quantity ?? left;
          if (qty <= 0 || qty > left) {
            throw new SandboxRuleError(
              `Item ${item.orderItemId} (${item.sku ?? 'no sku'}) of order ${record.orderId} has ${left} left to label; asked for ${qty}.`,
            );
          }
          remaining.set(item.orderItemId, (remaining.get(item.orderItemId) ?? 0) - qty);
          content.push([item.orderItemId, qty]);
        }
        packages.push(content);
      }
      planned.push({ record, body, request, packages });
    }

    const now = options.at ?? this.now();
    const batchId = this.newLabelBatchId();
    const created: ShipmentRecord[] = [];
    const storeIds = new Set<number>();
    for (const { record, body, request, packages } of planned) {
      const carrierCode =
        request.carrierCode ??
        (typeof body.carrierCode === 'string' ? body.carrierCode : this.random.pick(CARRIERS));
      const serviceCode =
        request.serviceCode ??
        (typeof body.serviceCode === 'string' ? body.serviceCode : defaultServiceFor(carrierCode));
      const packageCode =
        request.packageCode ?? (typeof body.packageCode === 'string' ? body.packageCode : 'package');
      const advanced = (body.advancedOptions ?? {}) as JsonDoc;
      const warehouseId =
        typeof advanced.warehouseId === 'number' ? advanced.warehouseId : this.defaultWarehouseId;
      const items = new Map(this.shippableItems(body).map((i) => [i.orderItemId, i]));
      for (const [index, content] of packages.entries()) {
        const weightOunces =
          request.packages?.[index]?.weightOunces ??
          content.reduce((sum, [id, qty]) => {
            const w = items.get(id)?.weight as JsonDoc | undefined;
            const value = typeof w?.value === 'number' ? w.value : 8;
            const factor = w?.units === 'pounds' ? 16 : w?.units === 'grams' ? 0.035274 : 1;
            return sum + value * factor * qty;
          }, 0);
        const shipment: ShipmentRecord = {
          shipmentId: this.nextShipmentId++,
          orderId: record.orderId,
          batchId,
          createDate: now,
          shipDate: pacificMidnight(request.shipDate ?? now),
          trackingNumber: trackingNumberFor(carrierCode, this.random),
          carrierCode,
          serviceCode,
          packageCode,
          confirmation: typeof body.confirmation === 'string' ? body.confirmation : 'none',
          warehouseId,
          shipmentCost: Math.round(this.random.int(450, 2500)) / 100,
          insuranceCost: 0,
          voided: false,
          voidDate: -1,
          items: content,
          weightOunces: Math.round(weightOunces * 100) / 100,
        };
        this.shipments.set(shipment.shipmentId, shipment);
        const list = this.shipmentIdsByOrder.get(record.orderId) ?? [];
        list.push(shipment.shipmentId);
        this.shipmentIdsByOrder.set(record.orderId, list);
        created.push(shipment);
      }
      storeIds.add(record.storeId);
      this.updateShippedStatus(record, created[created.length - 1]?.shipDate ?? now, now);
    }
    this.labelBatches.set(
      batchId,
      created.map((s) => s.shipmentId),
    );
    this.events.labelBatch?.(
      batchId,
      created.map((s) => s.shipmentId),
      storeIds,
    );
    return { batchId, shipments: created };
  }

  private updateShippedStatus(record: OrderRecord, shipDate: number, now: number): void {
    const body = record.body();
    const labelled = this.labelledQuantities(record.orderId);
    const complete = this.shippableItems(body).every(
      (i) => (labelled.get(i.orderItemId) ?? 0) >= (i.quantity ?? 0),
    );
    const previous = record.status;
    if (complete && record.status !== 'shipped') {
      record.status = 'shipped';
      record.modifyDate = now;
      body.shipDate = shipDate;
      record.doc = JSON.stringify(body);
      this.afterStatusChange(record, previous, false);
    } else if (!complete && record.status === 'shipped') {
      // A voided label puts the order back in the queue (as ShipStation's UI does).
      record.status = 'awaiting_shipment';
      record.modifyDate = now;
      this.held.delete(record.orderId);
    }
  }

  /** Voids a label: it stays in `GET /shipments` with `voided:true` and a `voidDate` (reference §1.6). */
  voidLabel(shipmentId: number): ShipmentRecord {
    const shipment = this.shipments.get(shipmentId);
    if (!shipment) throw new SandboxRuleError(`Shipment ${shipmentId} was not found.`, 404);
    if (shipment.voided) throw new SandboxRuleError(`Shipment ${shipmentId} is already voided.`);
    shipment.voided = true;
    shipment.voidDate = this.now();
    const record = this.orders.get(shipment.orderId);
    if (record) this.updateShippedStatus(record, shipment.shipDate, shipment.voidDate);
    return shipment;
  }

  subscribeWebhook(input: Omit<WebhookSubscription, 'webhookId' | 'createDate'>): WebhookSubscription {
    const hook: WebhookSubscription = { ...input, webhookId: this.nextWebhookId++, createDate: this.now() };
    this.webhooks.set(hook.webhookId, hook);
    return hook;
  }
}
