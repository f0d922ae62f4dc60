/**
 * Builds the four clients of one connection (SYSPRO e.net, SYSPRO OData, ShipStation V1 and,
 * when configured, V2) from its configuration, resolving each `secret:` reference from the
 * environment or the encrypted store. Flows, `ping` and the HTTP server all get their clients here.
 */
import type { Kysely } from 'kysely';
import { type Clock, systemClock } from '../clock.js';
import type { ConnectionConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { RetryPolicy } from '../shipstation/http.js';
import { MemoryRateLimiter } from '../shipstation/memory-rate-limiter.js';
import type { RateLimiter } from '../shipstation/rate-limit.js';
import { createShipStationV1Client, type ShipStationV1Client } from '../shipstation/v1/client.js';
import { createShipStationV2Client, type ShipStationV2Client } from '../shipstation/v2/client.js';
import type { Database } from '../store/database.js';
import type { MasterKey } from '../store/master-key.js';
import { resolveSecret } from '../store/secrets.js';
import { createEnetClient, type EnetClient } from '../syspro/enet-client.js';
import { createODataReader, type ODataReader } from '../syspro/odata-reader.js';

export interface ConnectionClients {
  connection: ConnectionConfig;
  enet: EnetClient;
  odata: ODataReader;
  shipstation: ShipStationV1Client;
  /** Only when `shipstation.v2ApiKey` is configured. */
  shipstationV2?: ShipStationV2Client;
  /** Logs off SYSPRO (every logon is paired with a logoff). */
  close(): Promise<void>;
}

export interface OpenClientsOptions {
  connection: ConnectionConfig;
  db: Kysely<Database>;
  masterKey: () => MasterKey;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  logger?: Logger;
  /** The ShipStation budget; default one in-process limiter per connection (from `shipstation.rateLimit`). */
  limiter?: RateLimiter;
  /** ShipStation retry policy (ping uses one attempt so failures show at once). */
  shipstationRetry?: Partial<RetryPolicy>;
  /** Per-request timeout for every client (default: SYSPRO's `requestTimeout`, ShipStation 30 s). */
  timeoutMs?: number;
}

export async function openConnectionClients(options: OpenClientsOptions): Promise<ConnectionClients> {
  const { connection, db } = options;
  const clock = options.clock ?? systemClock;
  const env = options.env ?? process.env;
  const secret = async (ref: { secret: string } | undefined) =>
    ref ? resolveSecret(db, options.masterKey, connection.name, ref.secret, env) : undefined;

  const { syspro, shipstation } = connection;
  const operatorPassword = await secret(syspro.operatorPassword);
  const companyPassword = await secret(syspro.companyPassword);
  const odataPassword = syspro.odataPassword ? await secret(syspro.odataPassword) : operatorPassword;
  const apiKey = (await secret(shipstation.apiKey)) as string;
  const apiSecret = (await secret(shipstation.apiSecret)) as string;
  const v2ApiKey = await secret(shipstation.v2ApiKey);

  const enet = createEnetClient({
    baseUrl: syspro.enetUrl,
    operator: syspro.operator,
    operatorPassword,
    company: syspro.company,
    companyPassword,
    clock,
    timeoutMs: options.timeoutMs ?? syspro.requestTimeout,
    maxUrlLength: syspro.maxUrlLength,
    responseCharset: syspro.responseCharset === 'auto' ? undefined : syspro.responseCharset,
    sessionErrorPatterns: syspro.sessionErrorPatterns.map((p) => new RegExp(p, 'i')),
    licenceWait:
      syspro.licenceWait.attempts > 0
        ? { attempts: syspro.licenceWait.attempts, delayMs: syspro.licenceWait.delay }
        : undefined,
    logger: options.logger,
  });
  const odata = createODataReader({
    serviceUrl: syspro.odataUrl,
    username: syspro.odataUser ?? syspro.operator,
    password: odataPassword,
    timeoutMs: options.timeoutMs ?? syspro.requestTimeout,
    pageSize: syspro.odata.pageSize,
    maxUrlLength: syspro.odata.maxUrlLength,
    clock,
    logger: options.logger,
  });
  const limiter =
    options.limiter ??
    new MemoryRateLimiter({
      clock,
      limit: shipstation.rateLimit.limit,
      windowMs: shipstation.rateLimit.window,
    });
  const shipstationRetry = {
    attempts: shipstation.retry.attempts,
    baseMs: shipstation.retry.base,
    maxMs: shipstation.retry.max,
  };
  const v1 = createShipStationV1Client({
    baseUrl: shipstation.v1Url,
    apiKey,
    apiSecret,
    limiter,
    clock,
    timeoutMs: options.timeoutMs ?? shipstation.requestTimeout,
    retry: options.shipstationRetry ?? shipstationRetry,
    allowedResourceHosts: shipstation.allowedResourceHosts,
    logger: options.logger,
  });
  const v2 = v2ApiKey
    ? createShipStationV2Client({
        baseUrl: shipstation.v2Url,
        apiKey: v2ApiKey,
        limiter,
        clock,
        timeoutMs: options.timeoutMs ?? shipstation.requestTimeout,
        retry: options.shipstationRetry ?? shipstationRetry,
        logger: options.logger,
      })
    : undefined;

  return {
    connection,
    enet,
    odata,
    shipstation: v1,
    shipstationV2: v2,
    close: () => enet.close(),
  };
}
