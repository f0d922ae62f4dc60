/**
 * V1 orders: `POST /orders/createorder`, `POST /orders/createorders`, `GET /orders`, `GET /orders/{id}`
 * (reference shipstation-api.md §1.3–1.5). Create/update is an upsert keyed by `orderKey` (or
 * `orderId`), replacing the whole order; so it is safe to repeat after a timeout or 5xx only when
 * every order carries one of those keys. Without a key a repeat could create a duplicate order, so
 * such a call is sent once.
 */
import { requireBody, type ShipStationTransport } from '../http.js';
import { type Page, pageThrough, toPage } from '../paging.js';
import type {
  V1CreateOrdersResponse,
  V1CreateOrdersResult,
  V1ListOrdersQuery,
  V1Order,
  V1OrderInput,
  V1OrdersPage,
} from '../types.js';

export const MAX_ORDERS_PER_CALL = 100;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 100;

/** One order's outcome in a `createorders` call, matched to the order we sent. */
export interface CreateOrderOutcome {
  /** Index of the order in the request. */
  index: number;
  /** The key ShipStation returned (generated for an order sent without one), else the key sent. */
  orderKey: string | null;
  orderNumber: string;
  /** ShipStation's id for the order (the id sent when its result gave none), or null when unknown. */
  orderId: number | null;
  success: boolean;
  errorMessage: string | null;
}

export interface CreateOrdersOutcome {
  /** ShipStation's `hasErrors` as it sent it (computed from the results only when it sent none). */
  hasErrors: boolean;
  /** One per order sent, in request order. */
  results: CreateOrderOutcome[];
}

function isKeyed(order: V1OrderInput): boolean {
  return (typeof order.orderKey === 'string' && order.orderKey !== '') || typeof order.orderId === 'number';
}

export async function createOrUpdateOrder(
  http: ShipStationTransport,
  order: V1OrderInput,
  signal?: AbortSignal,
): Promise<V1Order> {
  const response = await http.request<V1Order>({
    method: 'POST',
    path: '/orders/createorder',
    body: order,
    idempotent: isKeyed(order),
    signal,
  });
  return requireBody(http, response.body, 'POST /orders/createorder');
}

/**
 * Sends up to 100 orders in one call. ShipStation answers per order (`success`, `errorMessage`);
 * whether its results keep the request order is UNCONFIRMED, and every result carries an `orderKey`
 * (ShipStation generates one for an order sent without), so each order sent is matched to a result
 * in passes, strongest first: the `orderKey` we sent, else the `orderId` we sent, else an
 * `orderNumber` that only one order of the call has, else the result at the order's position. A
 * result is taken once, and never by an order whose key or id it contradicts. `hasErrors` is
 * ShipStation's, never turned from false to true: an order left without a result is reported as
 * failed only when ShipStation said the call had errors (or said nothing); when it said none, that
 * order succeeded and its `orderId` is the one we sent, or `null` when unknown. Reporting it failed
 * would make a caller send it again, and a keyless order sent twice is two orders.
 */
export async function createOrUpdateOrders(
  http: ShipStationTransport,
  orders: readonly V1OrderInput[],
  signal?: AbortSignal,
): Promise<CreateOrdersOutcome> {
  if (orders.length === 0) return { hasErrors: false, results: [] };
  if (orders.length > MAX_ORDERS_PER_CALL) {
    throw new RangeError(
      `createOrUpdateOrders takes at most ${MAX_ORDERS_PER_CALL} orders per call, got ${orders.length}`,
    );
  }
  const response = await http.request<V1CreateOrdersResponse>({
    method: 'POST',
    path: '/orders/createorders',
    body: orders,
    idempotent: orders.every(isKeyed),
    signal,
  });
  const body = requireBody(http, response.body, 'POST /orders/createorders');
  const raw: V1CreateOrdersResult[] = Array.isArray(body.results) ? body.results : [];
  const matched = matchResults(orders, raw);
  const shipStationHasErrors = body.hasErrors !== false;
  const results = orders.map((order, index): CreateOrderOutcome => {
    const key = keyOf(order);
    const found = matched[index];
    if (found === undefined) {
      return {
        index,
        orderKey: key,
        orderNumber: order.orderNumber,
        orderId: idOf(order),
        success: !shipStationHasErrors,
        errorMessage: shipStationHasErrors ? 'ShipStation returned no result for this order' : null,
      };
    }
    const r = raw[found] as V1CreateOrdersResult;
    return {
      index,
      orderKey: textOrNull(r.orderKey) ?? key,
      orderNumber: order.orderNumber,
      orderId: positiveId(r.orderId) ?? idOf(order),
      success: r.success === true,
      errorMessage:
        r.success === true ? null : (r.errorMessage ?? 'ShipStation reported a failure without a message'),
    };
  });
  // ShipStation's own summary when it gave one; ours only when it did not.
  const hasErrors = typeof body.hasErrors === 'boolean' ? body.hasErrors : results.some((r) => !r.success);
  return { hasErrors, results };
}

function textOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** An `orderId` that names an order (a refused result may carry 0). */
function positiveId(value: unknown): number | null {
  return typeof value === 'number' && value > 0 ? value : null;
}

const keyOf = (order: V1OrderInput): string | null => textOrNull(order.orderKey);
const idOf = (order: V1OrderInput): number | null => positiveId(order.orderId);

/** For each order sent, the index of its result in `raw`, or undefined. */
function matchResults(
  orders: readonly V1OrderInput[],
  raw: readonly V1CreateOrdersResult[],
): (number | undefined)[] {
  const sentKeys = new Set(orders.map(keyOf).filter((k) => k !== null));
  const sentIds = new Set(orders.map(idOf).filter((id) => id !== null));
  const numberCount = new Map<string, number>();
  for (const order of orders)
    numberCount.set(order.orderNumber, (numberCount.get(order.orderNumber) ?? 0) + 1);

  /** False when the result names a key or id that is not this order's (another order's, or a different one). */
  const compatible = (order: V1OrderInput, r: V1CreateOrdersResult): boolean => {
    const rKey = textOrNull(r.orderKey);
    const key = keyOf(order);
    // An order sent without a key gets a generated one: any key no other order of the call sent.
    if (rKey !== null && (key !== null ? rKey !== key : sentKeys.has(rKey))) return false;
    const rId = positiveId(r.orderId);
    const id = idOf(order);
    if (rId !== null && (id !== null ? rId !== id : sentIds.has(rId))) return false;
    return true;
  };

  const matched: (number | undefined)[] = orders.map(() => undefined);
  const unused = new Set(raw.map((_, i) => i));
  const pass = (pick: (order: V1OrderInput, index: number) => number | undefined) => {
    orders.forEach((order, index) => {
      if (matched[index] !== undefined) return;
      const found = pick(order, index);
      if (found === undefined) return;
      matched[index] = found;
      unused.delete(found);
    });
  };
  const first = (order: V1OrderInput, match: (r: V1CreateOrdersResult) => boolean) => {
    for (const i of unused) {
      const r = raw[i] as V1CreateOrdersResult;
      if (match(r) && compatible(order, r)) return i;
    }
    return undefined;
  };

  pass((order) => {
    const key = keyOf(order);
    return key === null ? undefined : first(order, (r) => r.orderKey === key);
  });
  pass((order) => {
    const id = idOf(order);
    return id === null ? undefined : first(order, (r) => r.orderId === id);
  });
  pass((order) => {
    if (numberCount.get(order.orderNumber) !== 1) return undefined;
    const candidates = [...unused].filter((i) => {
      const r = raw[i] as V1CreateOrdersResult;
      return r.orderNumber === order.orderNumber && compatible(order, r);
    });
    return candidates.length === 1 ? candidates[0] : undefined;
  });
  pass((order, index) => {
    if (!unused.has(index)) return undefined;
    const r = raw[index] as V1CreateOrdersResult;
    const number = textOrNull(r.orderNumber);
    if (number !== null && number !== order.orderNumber) return undefined;
    return compatible(order, r) ? index : undefined;
  });
  return matched;
}

export async function getOrder(
  http: ShipStationTransport,
  orderId: number,
  signal?: AbortSignal,
): Promise<V1Order> {
  const response = await http.request<V1Order>({
    method: 'GET',
    path: `/orders/${encodeURIComponent(String(orderId))}`,
    idempotent: true,
    signal,
  });
  return requireBody(http, response.body, 'GET /orders/{orderId}');
}

/** Pages of `GET /orders`. `orderNumber` is a starts-with search: match exactly on your side. */
export function listOrders(
  http: ShipStationTransport,
  query: V1ListOrdersQuery = {},
  signal?: AbortSignal,
): AsyncGenerator<Page<V1Order>, void, undefined> {
  const pageSize = Math.min(query.pageSize ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const { page: firstPage, ...filters } = query;
  return pageThrough(
    async (page) => {
      const response = await http.request<V1OrdersPage>({
        method: 'GET',
        path: '/orders',
        query: { ...filters, pageSize, page },
        idempotent: true,
        signal,
      });
      const body = requireBody(http, response.body, 'GET /orders');
      return toPage(body.orders, body, page);
    },
    { firstPage, pageSize },
  );
}

/**
 * `POST /orders/holduntil` (reference §1.2): the order goes `on_hold` until the given date (Pacific
 * calendar date, `yyyy-MM-dd`), when ShipStation moves it back to `awaiting_shipment`. Setting the
 * same date again is harmless, so the call may be repeated after a timeout.
 */
export async function holdOrderUntil(
  http: ShipStationTransport,
  orderId: number,
  holdUntilDate: string,
  signal?: AbortSignal,
): Promise<void> {
  await http.request<{ success?: boolean; message?: string }>({
    method: 'POST',
    path: '/orders/holduntil',
    body: { orderId, holdUntilDate },
    idempotent: true,
    signal,
  });
}
