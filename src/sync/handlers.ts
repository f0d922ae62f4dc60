/**
 * The job handlers `ml-connector run` gives its worker: one entry per job kind a flow handles.
 * `run` only schedules the polls whose kind has a handler (see `scheduledPolls` in
 * `cli/commands/run.ts`), so a poll without one never piles up as queued jobs.
 *
 * Each connection's clients are opened once per process, on first use, and shared by every job of
 * that connection (one e.net session queue, one ShipStation limiter). The e.net client logs off
 * whenever its queue is empty, so nothing needs closing at shutdown.
 */
import type { Clock } from '../clock.js';
import type { Config, ConnectionConfig } from '../config/schema.js';
import type { JobHandler } from '../engine/handler.js';
import type { Logger } from '../logger.js';
import type { ShipStation } from '../shipstation/api.js';
import type { ShipStationV1Client } from '../shipstation/v1/client.js';
import type { ShipStationV2Client } from '../shipstation/v2/client.js';
import type { MasterKey } from '../store/master-key.js';
import type { Store } from '../store/open.js';
import type { EnetClient } from '../syspro/enet-client.js';
import type { ODataReader } from '../syspro/odata-reader.js';
import { channelOrdersHandlers } from './channel-orders.js';
import { openConnectionClients } from './connection-clients.js';
import { customersHandlers } from './customers.js';
import { freightHandlers, withFreightFollowUps } from './freight.js';
import { inventoryHandlers } from './inventory-push.js';
import { limiterFor, type ShipStationApi } from './limiters.js';
import { ordersHandlers, ordersPushBatchSize, ordersPushConcurrency } from './orders.js';
import { shipmentsHandlers } from './shipments.js';
import { writebackHandlers } from './writeback.js';

/** What a flow's handlers may use; built once by `run`. */
export interface HandlerContext {
  config: Config;
  store: Store;
  /** Loads the master key on first use (secrets are resolved when a handler needs them). */
  masterKey: () => MasterKey;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  logger: Logger;
}

/** A connection's config and the clients the flows use (each flow's own type picks from it). */
interface OpenedConnection {
  connection: ConnectionConfig;
  odata: ODataReader;
  /** The connection's ShipStation, V1 or V2 (`shipstation.api`). */
  shipstation: ShipStation;
  /** The V1 client itself, for the flows that speak V1 only (marketplace orders); absent without a V1 pair. */
  shipstationV1?: ShipStationV1Client;
  shipstationV2?: ShipStationV2Client;
  enet: EnetClient;
}

export function jobHandlers(context: HandlerContext): JobHandler[] {
  const opened = new Map<string, Promise<OpenedConnection>>();
  const connectionFor = (name: string): Promise<OpenedConnection> => {
    let clients = opened.get(name);
    if (!clients) {
      const connection = context.config.connections.find((c) => c.name === name);
      if (!connection) return Promise.reject(new Error(`connection ${name} is not in the configuration`));
      clients = openConnectionClients({
        connection,
        store: context.store,
        masterKey: context.masterKey,
        env: context.env,
        clock: context.clock,
        logger: context.logger,
      }).then((c) => ({
        connection,
        odata: c.odata,
        shipstation: c.shipstationApi,
        shipstationV1: c.shipstation,
        shipstationV2: c.shipstationV2,
        enet: c.enet,
      }));
      // A failure (a secret not yet stored) is retried on the next job, not cached.
      clients.catch(() => opened.delete(name));
      opened.set(name, clients);
    }
    return clients;
  };
  // Requests each opened connection's ShipStation key may still send now (the API its pushes use),
  // read from the shared budget in one query per API: the push claims only where a call could go.
  const pushCapacity = async (): Promise<Map<string, number>> => {
    const byApi = new Map<
      ShipStationApi,
      Array<{ name: string; key: string; limit: number; windowMs: number }>
    >();
    for (const [name, pending] of opened) {
      const c = await pending.catch(() => undefined);
      if (!c) continue;
      const api = c.shipstation.api;
      const budget = api === 'v1' ? c.connection.shipstation.rateLimit : c.connection.shipstation.v2RateLimit;
      const list = byApi.get(api) ?? [];
      list.push({ name, key: c.shipstation.rateLimitKey, limit: budget.limit, windowMs: budget.window });
      byApi.set(api, list);
    }
    const capacity = new Map<string, number>();
    for (const [api, list] of byApi) {
      // The clients' own limiter (made when they were opened; these settings only if it was not).
      const first = list[0] as { limit: number; windowMs: number };
      const limiter = limiterFor(context.store, api, first, context.clock);
      const free = await limiter.freeSlots(
        list.map((l) => l.key),
        first.limit,
      );
      for (const l of list) capacity.set(l.name, free.get(l.key) ?? l.limit);
    }
    return capacity;
  };
  const deps = {
    store: context.store,
    clock: context.clock,
    logger: context.logger,
    connectionFor,
    pushConcurrency: ordersPushConcurrency(context.config.connections),
    pushBatchSize: ordersPushBatchSize(context.config.connections),
    pushCapacity,
  };
  return [
    ...ordersHandlers(deps),
    ...customersHandlers(deps),
    ...shipmentsHandlers(deps),
    ...writebackHandlers(deps).map((h) => withFreightFollowUps(h, context.store, connectionFor)),
    ...channelOrdersHandlers(deps),
    ...freightHandlers(deps),
    ...inventoryHandlers(deps),
  ];
}
