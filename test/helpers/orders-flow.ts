/**
 * The orders flow at the engine level against both sandboxes over HTTP, as the orders suites set
 * it up: a ShipStation and a SYSPRO sandbox on the test's fake clock, the connection to them
 * (`connectToSandboxes`), and a Worker running the flow's own handlers (`ordersHandlers`) on that
 * clock. `poll()` moves the clock a minute, queues an `orders.poll` and runs every job that is due;
 * `byKey(salesOrder)` is ShipStation's order under our key. `close()` closes all of it.
 */
import { Worker } from '../../src/engine/worker.js';
import {
  type ShipStationSandbox,
  type ShipStationSandboxOptions,
  startShipStationSandbox,
} from '../../src/sandbox/shipstation/index.js';
import {
  openEveryOrder,
  type SysproSandbox,
  type SysproSandboxOptions,
  startSysproSandbox,
} from '../../src/sandbox/syspro/index.js';
import type { RateLimiter } from '../../src/shipstation/rate-limit.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import type { Store } from '../../src/store/open.js';
import type { ConnectionClients } from '../../src/sync/connection-clients.js';
import {
  ORDERS_POLL_KIND,
  type OrdersConnection,
  type OrdersFlowDeps,
  ordersHandlers,
} from '../../src/sync/orders.js';
import type { FakeClock } from './clock.js';
import { connectToSandboxes } from './sandbox-connection.js';

export interface OrdersFlowOptions {
  /** ShipStation sandbox options (its port is free, its clock the test's). */
  shipstation: Omit<ShipStationSandboxOptions, 'port' | 'clock'>;
  /** SYSPRO sandbox options (its port is free, its clock the test's). */
  syspro: Omit<SysproSandboxOptions, 'port' | 'clock'>;
  /** Every seeded SYSPRO order in an open status with something to ship (`openEveryOrder`). */
  openEveryOrder?: boolean;
  limiter?: RateLimiter;
  /** The connection's `shipstation.api` (default v1). */
  api?: 'v1' | 'v2';
  /** More of the flow's dependencies (e.g. `pushConcurrency`). */
  deps?: Partial<Omit<OrdersFlowDeps, 'store' | 'clock' | 'connectionFor'>>;
}

export interface OrdersFlow {
  shipstation: ShipStationSandbox;
  syspro: SysproSandbox;
  clients: ConnectionClients;
  ordersConnection: OrdersConnection;
  worker: Worker;
  /** A minute later, one `orders.poll` and every job then due. */
  poll(): Promise<void>;
  /** ShipStation's order under our key for a sales order. */
  byKey(salesOrder: string): ReturnType<ShipStationSandbox['state']['orders']['get']>;
  close(): Promise<void>;
}

export async function startOrdersFlow(
  store: Store,
  clock: FakeClock,
  options: OrdersFlowOptions,
): Promise<OrdersFlow> {
  const shipstation = await startShipStationSandbox({ port: 0, ...options.shipstation, clock });
  const syspro = await startSysproSandbox({ port: 0, ...options.syspro, clock });
  if (options.openEveryOrder) openEveryOrder(syspro.db);
  const connected = await connectToSandboxes({
    shipstation,
    syspro,
    store,
    clock,
    limiter: options.limiter,
    api: options.api,
  });
  const { clients } = connected;
  const ordersConnection: OrdersConnection = {
    connection: connected.connection,
    odata: clients.odata,
    shipstation: clients.shipstationApi,
  };
  const worker = new Worker({
    store,
    clock,
    retry: { cadence: [60_000], perKind: {}, jitter: 0 },
    handlers: ordersHandlers({
      ...options.deps,
      store,
      clock,
      connectionFor: async () => ordersConnection,
    }),
  });
  return {
    shipstation,
    syspro,
    clients,
    ordersConnection,
    worker,
    async poll() {
      clock.advance(60_000);
      await enqueueJob(
        store,
        { kind: ORDERS_POLL_KIND, connection: 'main', idempotencyKey: `test-poll:${clock.now()}` },
        clock.now(),
      );
      await worker.runUntilIdle();
    },
    byKey(salesOrder) {
      const id = shipstation.state.orderIdByKey.get(`${syspro.company}:${salesOrder}`);
      return id === undefined ? undefined : shipstation.state.orders.get(id);
    },
    async close() {
      await clients.close();
      await shipstation.close();
      await syspro.close();
    },
  };
}
