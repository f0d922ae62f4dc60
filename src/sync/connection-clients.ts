/**
 * Builds the clients of one connection (SYSPRO e.net, SYSPRO OData, ShipStation V1 when its
 * key/secret pair is configured, V2 when its key is) from its configuration, resolving each
 * `secret:` reference from the environment or the encrypted store. Flows, `ping` and the HTTP
 * server all get their clients here. A V2-only connection (`shipstation.api: v2`, no V1 pair: an
 * account without V1 access) gets no V1 client and so never calls V1; a V1 connection without the
 * pair is refused here with what to set (config validation refuses it first).
 *
 * The ShipStation clients spend the process's one budget per key and API (`limiters.ts`): the
 * database-backed limiter on the store's clock, so `ping`, the worker, every flow, two connections
 * on one key and every process on one PostgreSQL database share one budget.
 */
import { type Clock, systemClock } from '../clock.js';
import { UserError } from '../config/errors.js';
import type { ConnectionConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { ShipStation } from '../shipstation/api.js';
import type { RetryPolicy } from '../shipstation/http.js';
import type { RateLimiter } from '../shipstation/rate-limit.js';
import { shipStationV1 } from '../shipstation/v1/adapter.js';
import { createShipStationV1Client, type ShipStationV1Client } from '../shipstation/v1/client.js';
import { shipStationV2 } from '../shipstation/v2/adapter.js';
import { createShipStationV2Client, type ShipStationV2Client } from '../shipstation/v2/client.js';
import type { MasterKey } from '../store/master-key.js';
import type { Store } from '../store/open.js';
import { resolveSecret } from '../store/secrets.js';
import { createEnetClient, type EnetClient } from '../syspro/enet-client.js';
import { createODataReader, type ODataReader } from '../syspro/odata-reader.js';
import { callMetricsFor } from './call-metrics.js';
import { limiterFor } from './limiters.js';

export interface ConnectionClients {
  connection: ConnectionConfig;
  enet: EnetClient;
  odata: ODataReader;
  /** Only when `shipstation.apiKey`/`apiSecret` are configured (always on a V1 connection). */
  shipstation?: ShipStationV1Client;
  /** What the orders and shipments flows use: V1 or V2 by the connection's `shipstation.api`. */
  shipstationApi: ShipStation;
  /** Only when `shipstation.v2ApiKey` is configured. */
  shipstationV2?: ShipStationV2Client;
  /** Logs off SYSPRO (every logon is paired with a logoff). */
  close(): Promise<void>;
}

export interface OpenClientsOptions {
  connection: ConnectionConfig;
  /** Secrets are read from it, and the ShipStation budget is kept in it. */
  store: Store;
  masterKey: () => MasterKey;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  logger?: Logger;
  /**
   * Replaces the process's shared ShipStation budget (tests only; V1 and V2 then share it and it
   * runs on `clock`). Default: `limiterFor(store, 'v1' | 'v2', …)`.
   */
  limiter?: RateLimiter;
  /** ShipStation retry policy (ping uses one attempt so failures show at once). */
  shipstationRetry?: Partial<RetryPolicy>;
  /** Per-request timeout for every client (default: SYSPRO's `requestTimeout`, ShipStation 30 s). */
  timeoutMs?: number;
}

export interface SysproClients {
  enet: EnetClient;
  odata: ODataReader;
  /** Logs off SYSPRO. */
  close(): Promise<void>;
}

export interface ShipStationClients {
  /** Only when `shipstation.apiKey`/`apiSecret` are configured (always on a V1 connection). */
  shipstation?: ShipStationV1Client;
  shipstationApi: ShipStation;
  shipstationV2?: ShipStationV2Client;
}

/**
 * The connection's SYSPRO clients, resolving only SYSPRO's secrets (so `ping` checks SYSPRO when a
 * ShipStation secret is missing). `signal` aborts every SYSPRO request but the logoff (`ping`'s
 * deadline and Ctrl-C: the session it opened is still logged off).
 */
export async function openSysproClients(
  options: OpenClientsOptions & { signal?: AbortSignal },
): Promise<SysproClients> {
  const { connection, store } = options;
  const clock = options.clock ?? systemClock;
  const secret = secretResolver(options);
  const { syspro } = connection;
  const calls = callMetricsFor(store);
  const operatorPassword = await secret(syspro.operatorPassword);
  const companyPassword = await secret(syspro.companyPassword);
  const odataPassword = syspro.odataPassword ? await secret(syspro.odataPassword) : operatorPassword;
  const enet = createEnetClient({
    baseUrl: syspro.enetUrl,
    operator: syspro.operator,
    operatorPassword,
    company: syspro.company,
    companyPassword,
    clock,
    timeoutMs: options.timeoutMs ?? syspro.requestTimeout,
    maxUrlLength: syspro.maxUrlLength,
    queryEncoding: syspro.queryEncoding,
    responseCharset: syspro.responseCharset === 'auto' ? undefined : syspro.responseCharset,
    sessionErrorPatterns: syspro.sessionErrorPatterns.map((p) => new RegExp(p, 'i')),
    licenceWait:
      syspro.licenceWait.attempts > 0
        ? { attempts: syspro.licenceWait.attempts, delayMs: syspro.licenceWait.delay }
        : undefined,
    logger: options.logger,
    signal: options.signal,
    onCall: (call) =>
      calls.syspro({ connection: connection.name, api: 'enet', outcome: call.outcome, ms: call.ms }),
  });
  const odata = createODataReader({
    serviceUrl: syspro.odataUrl,
    username: syspro.odataUser ?? syspro.operator,
    password: odataPassword,
    timeoutMs: options.timeoutMs ?? syspro.requestTimeout,
    pageSize: syspro.odata.pageSize,
    maxUrlLength: syspro.odata.maxUrlLength,
    keyList: syspro.odata.keyList,
    clock,
    logger: options.logger,
  });
  return { enet, odata, close: () => enet.close() };
}

/** The connection's ShipStation clients (V1, and V2 when a V2 key is configured), resolving only ShipStation's secrets. */
export async function openShipStationClients(options: OpenClientsOptions): Promise<ShipStationClients> {
  const { connection, store } = options;
  const clock = options.clock ?? systemClock;
  const secret = secretResolver(options);
  const { shipstation } = connection;
  // Every request's latency, into the store's call histograms (`/metrics`).
  const calls = callMetricsFor(store);
  const onShipStationCall = (call: { api: string; ms: number; outcome: string }) =>
    calls.shipstation({ connection: connection.name, api: call.api, outcome: call.outcome, ms: call.ms });
  const apiKey = await secret(shipstation.apiKey);
  const apiSecret = await secret(shipstation.apiSecret);
  const v2ApiKey = await secret(shipstation.v2ApiKey);
  const partnerKey = await secret(shipstation.partnerKey);
  // One budget per key and API in the process, on the database's time; the clients take the
  // limiter's clock so that response times and 429 blocks are on that time too.
  const budget = (api: 'v1' | 'v2', settings: { limit: number; window: number }) => {
    if (options.limiter) return { limiter: options.limiter, clock };
    const limiter = limiterFor(store, api, { limit: settings.limit, windowMs: settings.window }, clock);
    return { limiter, clock: limiter.clock };
  };
  const shipstationRetry = {
    attempts: shipstation.retry.attempts,
    baseMs: shipstation.retry.base,
    maxMs: shipstation.retry.max,
  };
  const v1 =
    apiKey !== undefined && apiSecret !== undefined
      ? createShipStationV1Client({
          baseUrl: shipstation.v1Url,
          apiKey,
          apiSecret,
          partnerKey,
          ...budget('v1', shipstation.rateLimit),
          timeoutMs: options.timeoutMs ?? shipstation.requestTimeout,
          retry: options.shipstationRetry ?? shipstationRetry,
          allowedResourceHosts: shipstation.allowedResourceHosts,
          logger: options.logger,
          onCall: onShipStationCall,
        })
      : undefined;
  const v2 = v2ApiKey
    ? createShipStationV2Client({
        baseUrl: shipstation.v2Url,
        apiKey: v2ApiKey,
        ...budget('v2', shipstation.v2RateLimit),
        timeoutMs: options.timeoutMs ?? shipstation.requestTimeout,
        retry: options.shipstationRetry ?? shipstationRetry,
        logger: options.logger,
        onCall: onShipStationCall,
      })
    : undefined;

  return {
    shipstation: v1,
    shipstationApi:
      shipstation.api === 'v2'
        ? shipStationV2(v2 ?? missingV2Key(connection.name), {
            currency: shipstation.currency,
            holdUntil: shipstation.v2HoldUntil,
            warehouseId: shipstation.v2WarehouseId,
            baseUrl: shipstation.v2Url,
            allowedResourceHosts: shipstation.allowedResourceHosts,
          })
        : shipStationV1(v1 ?? missingV1Pair(connection.name)),
    shipstationV2: v2,
  };
}

export async function openConnectionClients(options: OpenClientsOptions): Promise<ConnectionClients> {
  const syspro = await openSysproClients(options);
  const shipstation = await openShipStationClients(options);
  return { connection: options.connection, ...syspro, ...shipstation };
}

function secretResolver(options: OpenClientsOptions) {
  const env = options.env ?? process.env;
  return async (ref: { secret: string } | undefined) =>
    ref
      ? resolveSecret(options.store.db, options.masterKey, options.connection.name, ref.secret, env)
      : undefined;
}

function missingV2Key(connection: string): never {
  throw new UserError(
    `connection ${connection}: shipstation.api is v2 but shipstation.v2ApiKey is not set (add v2ApiKey: secret:shipstation.v2ApiKey)`,
  );
}

function missingV1Pair(connection: string): never {
  throw new UserError(
    `connection ${connection}: shipstation.api is v1 but shipstation.apiKey/apiSecret are not set (add apiKey: secret:shipstation.apiKey and apiSecret: secret:shipstation.apiSecret, or use api: v2 with v2ApiKey)`,
  );
}
