/** Shared pieces of the ShipStation client tests: a counting limiter, a webhook receiver, an order. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../src/clock.js';
import { MemoryRateLimiter } from '../../src/shipstation/memory-rate-limiter.js';
import { formatPacificDateTime } from '../../src/shipstation/pacific-time.js';
import type { AcquireOptions, RateLimiter, RateLimitObservation } from '../../src/shipstation/rate-limit.js';
import type { V1OrderInput } from '../../src/shipstation/types.js';

/** The in-process limiter, counting what passes through it (a `block` means a 429 came back). */
export class CountingLimiter implements RateLimiter {
  readonly inner: MemoryRateLimiter;
  acquired = 0;
  blocks = 0;
  waitedMs = 0;
  constructor(clock: Clock, limit = 40, windowMs = 60_000) {
    this.inner = new MemoryRateLimiter({ clock, limit, windowMs });
  }
  async acquire(key: string, signal?: AbortSignal, options?: AcquireOptions): Promise<number> {
    this.acquired += 1;
    const waited = await this.inner.acquire(key, signal, options);
    this.waitedMs += waited;
    return waited;
  }
  observe(key: string, observation: RateLimitObservation): Promise<void> {
    return this.inner.observe(key, observation);
  }
  block(key: string, until: number): Promise<void> {
    this.blocks += 1;
    return this.inner.block(key, until);
  }
}

/** A plain HTTP server that records what is POSTed to it (webhook deliveries, forged targets). */
export interface Receiver {
  url: string;
  requests: Array<{
    method: string;
    url: string;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
  }>;
  close(): Promise<void>;
}

export async function startReceiver(status = 200): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ shipments: [], orders: [], total: 0, page: 1, pages: 0 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function testOrder(
  n: number | string,
  at: number,
  overrides: Partial<V1OrderInput> = {},
): V1OrderInput {
  return {
    orderNumber: `SO${n}`,
    orderKey: `ACME:SO${n}`,
    orderDate: formatPacificDateTime(at),
    orderStatus: 'awaiting_shipment',
    customerEmail: 'buyer@example.com',
    billTo: { name: 'Jane Buyer' },
    shipTo: {
      name: 'Jane Buyer',
      street1: '1 Main St',
      city: 'Portland',
      state: 'OR',
      postalCode: '97201',
      country: 'US',
    },
    items: [{ lineItemKey: '1', sku: 'WID-100', name: 'Widget, small', quantity: 2, unitPrice: 4.5 }],
    ...overrides,
  };
}

/** Polls `check` (real time, bounded) until it returns true. */
export async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
