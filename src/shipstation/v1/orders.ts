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
  orderKey: string | null;
  orderNumber: string;
  /** ShipStation's id when it accepted the order. */
  orderId: number | null;
  success: boolean;
  errorMessage: string | null;
}

export interface CreateOrdersOutcome {
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
 * whether its results keep the request order is UNCONFIRMED, so results are matched to the orders
 * sent by `orderKey` (or `orderNumber` when a result has no key), and an order with no result is reported
 * as failed.
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
  const raw = Array.isArray(body.results) ? body.results : [];
  const unused = new Set(raw.map((_, i) => i));
  const take = (match: (i: number) => boolean): number | undefined => {
    for (const i of unused) {
      if (match(i)) {
        unused.delete(i);
        return i;
      }
    }
    return undefined;
  };
  const results = orders.map((order, index): CreateOrderOutcome => {
    const key = order.orderKey ?? null;
    const found =
      (key !== null ? take((i) => raw[i]!.orderKey === key) : undefined) ??
      take((i) => !raw[i]!.orderKey && raw[i]!.orderNumber === order.orderNumber);
    if (found === undefined) {
      return {
        index,
        orderKey: key,
        orderNumber: order.orderNumber,
        orderId: null,
        success: false,
        errorMessage: 'ShipStation returned no result for this order',
      };
    }
    const r = raw[found]!;
    return {
      index,
      orderKey: r.orderKey ?? key,
      orderNumber: order.orderNumber,
      orderId: r.orderId ?? null,
      success: r.success === true,
      errorMessage:
        r.success === true ? null : (r.errorMessage ?? 'ShipStation reported a failure without a message'),
    };
  });
  return { hasErrors: results.some((r) => !r.success), results };
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
