/**
 * The V2 implementation of the flows' `ShipStation` (api.ts): orders become V2 shipments, labels
 * are V1 shipments, fulfillments mark-as-shipped; records are translated by `order-mapping.ts`.
 *
 * Orders (`createOrUpdateOrders`), per order of the batch:
 * - new (no `orderId`): all of them in one `POST /v2/shipments`; per-shipment results. A create
 *   refused because our `external_shipment_id` is taken (a repeat after a lost answer, or a link
 *   lost) is resolved by reading that shipment by its key and updating it: the target is the check.
 *   One refused because the `shipment_number` is taken is sent again alone with the next suffix
 *   (`-R2`…`-R9`, see order-mapping.ts).
 * - an update (`orderId` N): the shipment `se-N` is read (or taken from the `getOrder` the flow
 *   just made), then: shipped (`label_purchased`) or cancelled → refused with V1's words ("may not
 *   be updated", so the flow closes the link, as on V1); to cancel → `PUT …/cancel`; otherwise a
 *   held shipment is restored first (V2 updates only `pending` shipments), the whole shipment is
 *   PUT (keeping its `shipment_number` and `external_shipment_id`), and held again when the order
 *   is `on_hold`.
 * - V1 `on_hold` with no date is held until `holdUntil` (default `2099-12-31`): V2 holds are dated
 *   and released automatically (reference §10); the date is configurable.
 * Every step is safe to repeat (PUT whole, cancel, hold, restore, create by unique key), so a
 * failure part way through a batch is thrown and the batch retried as a whole.
 *
 * Labels: `created` windows read `GET /v2/labels` by `created_at`. V2 has no void-date filter and no
 * hold or edit event, so a `voided` window is the reconciling poll: shipments modified in the window
 * (`modified_at_start/end`, the flow's overlap applies), then each one's labels, keeping the voided
 * ones. Label items come from the label's embedded shipment, else one `GET /v2/shipments/{id}` per
 * shipment of the page.
 */
import type { ResourceList, ShipStation } from '../api.js';
import { describeEndpoint, ShipStationError } from '../errors.js';
import type { Page } from '../paging.js';
import type { V1Order, V1OrderInput, V1Shipment } from '../types.js';
import type { CreateOrderOutcome } from '../v1/orders.js';
import type { ShipStationV2Client } from './client.js';
import {
  fulfillmentOf,
  isExternalIdTaken,
  isShipmentNumberTaken,
  MAX_NUMBER_GENERATION,
  numberOfV2Id,
  orderOfShipment,
  shipmentInputOf,
  shipmentOfLabel,
  v2Id,
} from './order-mapping.js';
import type { V2CreateShipmentResult, V2Label, V2Shipment, V2ShipmentInput } from './types.js';

export interface ShipStationV2Options {
  /** Currency of order money (V1 has none). Default `usd`. */
  currency?: string;
  /** The date an undated V1 `on_hold` is held until. Default `2099-12-31`. */
  holdUntil?: string;
  /** Hosts a webhook resource_url may name besides the V2 base URL's (the sandbox). */
  allowedResourceHosts?: readonly string[];
  /** The V2 base URL (its host is allowed for resource_urls). */
  baseUrl?: string;
  /**
   * Ship-from warehouse for orders that name none (V2 needs `warehouse_id` or `ship_from`; V1 took
   * the account's default). Default: the `is_default` one of `GET /v2/warehouses`, read once.
   */
  warehouseId?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const LOCKED = 'shipped and cancelled orders may not be updated';

function resultMessage(r: V2CreateShipmentResult | undefined): string | null {
  if (!r) return null;
  const errors: unknown[] = Array.isArray(r.errors) ? r.errors : [];
  // Each error a text, or `{ field_name?, message }` (both seen in V2 answers).
  const text = errors
    .map((e) =>
      typeof e === 'string'
        ? e
        : [(e as { field_name?: string })?.field_name, (e as { message?: string })?.message]
            .filter(Boolean)
            .join(': '),
    )
    .filter(Boolean);
  return text.length > 0 ? text.join('; ') : null;
}

function messageOf(error: unknown): string {
  if (error instanceof ShipStationError) return error.providerMessage ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

/** A refusal ShipStation gave for this one record (not a transport failure of the call). */
function isRefusal(error: unknown): error is ShipStationError {
  return error instanceof ShipStationError && (error.kind === 'bad_request' || error.kind === 'not_found');
}

export function shipStationV2(client: ShipStationV2Client, options: ShipStationV2Options = {}): ShipStation {
  const currency = options.currency ?? 'usd';
  const holdUntil = options.holdUntil ?? '2099-12-31';
  /** Shipments the flow just read with `getOrder`, used by the update that follows (then dropped). */
  const recent = new Map<number, V2Shipment>();

  let defaultWarehouse: Promise<string | undefined> | undefined =
    options.warehouseId === undefined ? undefined : Promise.resolve(v2Id(options.warehouseId));
  const warehouseFor = (signal?: AbortSignal): Promise<string | undefined> => {
    defaultWarehouse ??= client
      .listWarehouses(signal)
      .then((list) => (list.find((w) => w.is_default) ?? list[0])?.warehouse_id);
    // A failed look-up is tried again next time, not kept.
    defaultWarehouse.catch(() => {
      defaultWarehouse = undefined;
    });
    return defaultWarehouse;
  };
  const inputOf = async (order: V1OrderInput, generation: number, signal?: AbortSignal) => {
    const input = shipmentInputOf(order, { currency, generation });
    if (!input.warehouse_id && !input.ship_from) {
      const warehouse = await warehouseFor(signal);
      if (warehouse) input.warehouse_id = warehouse;
    }
    return input;
  };

  const remember = (s: V2Shipment) => {
    const id = numberOfV2Id(s.shipment_id);
    if (id === null) return;
    if (recent.size >= 1000) recent.clear();
    recent.set(id, s);
  };

  async function update(
    index: number,
    order: V1OrderInput,
    orderId: number,
    signal?: AbortSignal,
  ): Promise<CreateOrderOutcome> {
    const id = v2Id(orderId);
    const outcome = (success: boolean, errorMessage: string | null, key?: string): CreateOrderOutcome => ({
      index,
      orderKey: key ?? order.orderKey ?? null,
      orderNumber: order.orderNumber,
      orderId,
      success,
      errorMessage,
    });
    try {
      const current = recent.get(orderId) ?? (await client.getShipment(id, signal));
      recent.delete(orderId);
      const status = current.shipment_status;
      const key = current.external_shipment_id ?? order.orderKey;
      if (status === 'cancelled' && order.orderStatus === 'cancelled') return outcome(true, null, key);
      if (status === 'label_purchased' || status === 'cancelled') {
        return outcome(false, `shipment ${id} is ${status}: ${LOCKED}`, key);
      }
      if (order.orderStatus === 'cancelled') {
        await client.cancelShipment(id, signal);
        return outcome(true, null, key);
      }
      const held = status === 'on_hold' || Boolean(current.hold_until_date);
      if (held) await client.restoreShipment(id, signal);
      const body = await inputOf(order, 1, signal);
      if (current.warehouse_id && !order.advancedOptions?.warehouseId)
        body.warehouse_id = current.warehouse_id;
      body.shipment_number = current.shipment_number ?? body.shipment_number;
      body.external_shipment_id = key ?? body.external_shipment_id;
      await client.updateShipment(id, body, signal);
      if (order.orderStatus === 'on_hold')
        await client.holdShipment(id, order.holdUntilDate ?? holdUntil, signal);
      return outcome(true, null, key);
    } catch (error) {
      if (isRefusal(error)) return outcome(false, messageOf(error));
      throw error;
    }
  }

  /** After a create: put the new shipment in the state the order asks for. */
  async function settle(order: V1OrderInput, shipmentId: string, signal?: AbortSignal) {
    if (order.orderStatus === 'cancelled') await client.cancelShipment(shipmentId, signal);
    else if (order.orderStatus === 'on_hold') {
      await client.holdShipment(shipmentId, order.holdUntilDate ?? holdUntil, signal);
    }
  }

  async function createAll(
    batch: Array<{ index: number; order: V1OrderInput }>,
    signal?: AbortSignal,
  ): Promise<CreateOrderOutcome[]> {
    const out: CreateOrderOutcome[] = [];
    let pending = batch.map((b) => ({ ...b, generation: 1 }));
    while (pending.length > 0) {
      const inputs: V2ShipmentInput[] = [];
      for (const p of pending) inputs.push(await inputOf(p.order, p.generation, signal));
      const answer = await client.createShipments(inputs, signal);
      const used = new Set<number>();
      // Results by our key (in answer order), so matching a batch is one pass, not one scan each.
      const byKey = new Map<string, number[]>();
      for (const [i, r] of answer.shipments.entries()) {
        if (typeof r.external_shipment_id !== 'string') continue;
        const list = byKey.get(r.external_shipment_id);
        if (list) list.push(i);
        else byKey.set(r.external_shipment_id, [i]);
      }
      const retry: typeof pending = [];
      for (const [n, p] of pending.entries()) {
        const key = inputs[n]?.external_shipment_id;
        let found = typeof key === 'string' ? (byKey.get(key)?.find((i) => !used.has(i)) ?? -1) : -1;
        if (found < 0 && answer.shipments[n] && !used.has(n) && !answer.shipments[n]?.external_shipment_id) {
          found = n;
        }
        const result = found < 0 ? undefined : answer.shipments[found];
        if (found >= 0) used.add(found);
        const message = resultMessage(result);
        const shipmentId = result?.shipment_id;
        if (message === null && typeof shipmentId === 'string') {
          await settle(p.order, shipmentId, signal);
          out.push({
            index: p.index,
            orderKey: key ?? null,
            orderNumber: p.order.orderNumber,
            orderId: numberOfV2Id(shipmentId),
            success: true,
            errorMessage: null,
          });
          continue;
        }
        if (isExternalIdTaken(message) && key) {
          // Ours already (a repeat after a lost answer, or a lost link): read it by our key, update it.
          const existing = await client.getShipmentByExternalId(key, signal).catch((error: unknown) => {
            if (isRefusal(error)) return undefined;
            throw error;
          });
          const orderId = numberOfV2Id(existing?.shipment_id);
          if (existing && orderId !== null) {
            remember(existing);
            out.push(await update(p.index, p.order, orderId, signal));
            continue;
          }
        }
        if (isShipmentNumberTaken(message) && p.generation < MAX_NUMBER_GENERATION) {
          retry.push({ ...p, generation: p.generation + 1 });
          continue;
        }
        out.push({
          index: p.index,
          orderKey: key ?? null,
          orderNumber: p.order.orderNumber,
          orderId: null,
          success: false,
          errorMessage:
            message ??
            (answer.has_errors ? 'ShipStation returned no shipment for this order' : 'no shipment_id'),
        });
      }
      pending = retry;
    }
    return out;
  }

  async function withItems(labels: V2Label[], signal?: AbortSignal): Promise<V1Shipment[]> {
    const shipments = new Map<string, Partial<V2Shipment> | null>();
    for (const label of labels) {
      if (Array.isArray(label.shipment?.items) || shipments.has(label.shipment_id)) continue;
      const shipment = await client.getShipment(label.shipment_id, signal).catch((error: unknown) => {
        if (isRefusal(error)) return null;
        throw error;
      });
      shipments.set(label.shipment_id, shipment);
    }
    return labels.map((l) => shipmentOfLabel(l, shipments.get(l.shipment_id) ?? l.shipment));
  }

  async function* voidedLabels(
    window: { start: number; end: number },
    pageSize: number | undefined,
    signal?: AbortSignal,
  ): AsyncGenerator<Page<V1Shipment>, void, undefined> {
    const pages = client.listShipments(
      {
        modified_at_start: iso(window.start),
        modified_at_end: iso(window.end),
        sort_by: 'modified_at',
        sort_dir: 'asc',
        page_size: pageSize,
      },
      signal,
    );
    for await (const page of pages) {
      const voided: V2Label[] = [];
      for (const shipment of page.items) {
        const labels = await client.labelsOfShipment(shipment.shipment_id, signal);
        for (const label of labels) {
          if (label.voided === true || label.status === 'voided')
            voided.push({ ...label, shipment: label.shipment ?? shipment });
        }
      }
      yield { ...page, items: voided.map((l) => shipmentOfLabel(l, l.shipment)) };
    }
  }

  const allowedHosts = new Set(
    [
      ...(options.allowedResourceHosts ?? []),
      new URL(options.baseUrl ?? 'https://api.shipstation.com').host,
    ].map((h) => h.toLowerCase()),
  );

  function refuse(resourceUrl: string, reason: string): never {
    throw new ShipStationError({
      kind: 'refused_host',
      api: 'v2',
      endpoint: describeEndpoint('GET', resourceUrl.slice(0, 200)),
      providerMessage: `${reason}; only V2 webhook resources (/v2/labels?batch_id=…, /v2/fulfillments?fulfillment_id=…, /v2/shipments?batch_id=…) on the V2 host and shipstation.allowedResourceHosts are followed`,
      retryable: false,
    });
  }

  return {
    api: 'v2',
    rateLimitKey: client.rateLimitKey,
    recordTimes: 'offset',
    keyLookup: 'direct',
    filterTime: iso,

    async createOrUpdateOrders(orders, signal) {
      const results: CreateOrderOutcome[] = [];
      const creates: Array<{ index: number; order: V1OrderInput }> = [];
      for (const [index, order] of orders.entries()) {
        if (typeof order.orderId === 'number')
          results.push(await update(index, order, order.orderId, signal));
        else creates.push({ index, order });
      }
      results.push(...(await createAll(creates, signal)));
      results.sort((a, b) => a.index - b.index);
      return { hasErrors: results.some((r) => !r.success), results };
    },

    async getOrder(orderId, signal): Promise<V1Order> {
      const shipment = await client.getShipment(v2Id(orderId), signal);
      remember(shipment);
      return orderOfShipment(shipment);
    },

    holdOrderUntil: (orderId, date, signal) => client.holdShipment(v2Id(orderId), date, signal),

    listLabels(query, signal) {
      if (query.voided && !query.created) return voidedLabels(query.voided, query.pageSize, signal);
      const window = query.created;
      if (!window) throw new RangeError('listLabels needs a created or a voided window');
      const pages = client.listLabels(
        {
          created_at_start: iso(window.start),
          created_at_end: iso(window.end),
          sort_by: 'created_at',
          sort_dir: 'asc',
          page_size: query.pageSize,
        },
        signal,
      );
      return (async function* () {
        for await (const page of pages) yield { ...page, items: await withItems(page.items, signal) };
      })();
    },

    listFulfillments(query, signal) {
      const pages = client.listFulfillments(
        {
          create_date_start: iso(query.created.start),
          create_date_end: iso(query.created.end),
          sort_by: 'created_at',
          sort_dir: 'asc',
          page_size: query.pageSize,
        },
        signal,
      );
      return (async function* () {
        for await (const page of pages) yield { ...page, items: page.items.map(fulfillmentOf) };
      })();
    },

    /**
     * A V2 webhook's resource_url is read through the typed lists (never fetched as given): its host
     * must be the V2 host (or allowed), its path a labels, fulfillments or shipments list, and its
     * query only the one filter such a pointer carries.
     */
    async fetchResource(resourceUrl, opts = {}): Promise<ResourceList> {
      let url: URL;
      try {
        url = new URL(resourceUrl);
      } catch {
        return refuse(resourceUrl, 'not a URL');
      }
      if (!allowedHosts.has(url.host.toLowerCase())) refuse(resourceUrl, `host ${url.host} is not allowed`);
      const params = [...url.searchParams.keys()];
      const only = (allowed: string[]) => {
        const extra = params.filter((p) => !allowed.includes(p));
        if (extra.length > 0 || params.length === 0)
          refuse(resourceUrl, `unexpected query (${params.join(', ')})`);
      };
      const value = (name: string) => url.searchParams.get(name) ?? undefined;
      const page = opts.page ?? 1;
      const first = async <T>(pages: AsyncGenerator<Page<T>, void, undefined>): Promise<Page<T>> => {
        for await (const p of pages) return p;
        return { items: [], page, pages: page, total: 0 };
      };
      switch (url.pathname.replace(/\/+$/, '')) {
        case '/v2/labels': {
          only(['batch_id', 'shipment_id']);
          const p = await first(
            client.listLabels(
              { batch_id: value('batch_id'), shipment_id: value('shipment_id'), page },
              opts.signal,
            ),
          );
          return {
            shipments: await withItems(p.items, opts.signal),
            total: p.total,
            page: p.page,
            pages: p.pages,
          };
        }
        case '/v2/fulfillments': {
          only(['fulfillment_id', 'batch_id', 'shipment_id']);
          const p = await first(
            client.listFulfillments(
              {
                fulfillment_id: value('fulfillment_id'),
                batch_id: value('batch_id'),
                shipment_id: value('shipment_id'),
                page,
              },
              opts.signal,
            ),
          );
          return { fulfillments: p.items.map(fulfillmentOf), total: p.total, page: p.page, pages: p.pages };
        }
        default:
          return refuse(resourceUrl, `path ${url.pathname} is not a V2 labels or fulfillments list`);
      }
    },

    async findOrderByKey(orderKey, _orderNumber, signal) {
      const how = `GET /v2/shipments/external_shipment_id/${orderKey}`;
      try {
        const shipment = await client.getShipmentByExternalId(orderKey, signal);
        // Kept like getOrder's answer: the update that may follow PUTs the whole object from it.
        remember(shipment);
        return { order: orderOfShipment(shipment), how };
      } catch (error) {
        if (error instanceof ShipStationError && error.kind === 'not_found') return { how };
        throw error;
      }
    },
  };
}
