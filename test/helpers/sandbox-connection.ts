/**
 * A connection to sandboxes started in the test: its parsed configuration (as `sandbox
 * --write-config` writes it, with optional changes) and the credentials the sandboxes print, given
 * to the clients through the environment (the `ML_CONNECTOR_SECRET_*` variables a user would set).
 */
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import type { Clock } from '../../src/clock.js';
import { type ConnectionConfig, configSchema } from '../../src/config/schema.js';
import type { ShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import type { SysproSandbox } from '../../src/sandbox/syspro/index.js';
import type { RateLimiter } from '../../src/shipstation/rate-limit.js';
import type { Store } from '../../src/store/open.js';
import { type ConnectionClients, openConnectionClients } from '../../src/sync/connection-clients.js';

export function sandboxSecrets(shipstation: ShipStationSandbox, syspro: SysproSandbox): NodeJS.ProcessEnv {
  return {
    ML_CONNECTOR_SECRET_MAIN_SYSPRO_OPERATORPASSWORD: syspro.operatorPassword,
    ML_CONNECTOR_SECRET_MAIN_SYSPRO_COMPANYPASSWORD: syspro.companyPassword,
    ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: shipstation.apiKey,
    ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: shipstation.apiSecret,
    ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_V2APIKEY: shipstation.v2ApiKey,
  };
}

export async function connectToSandboxes(options: {
  shipstation: ShipStationSandbox;
  syspro: SysproSandbox;
  store: Store;
  clock: Clock;
  /** Changes to the connection's `syspro` block (e.g. `changeColumn`). */
  sysproConfig?: Record<string, unknown>;
  limiter?: RateLimiter;
  /** The connection's `shipstation.api` (default v1). */
  api?: 'v1' | 'v2';
}): Promise<{ connection: ConnectionConfig; clients: ConnectionClients }> {
  const { shipstation, syspro } = options;
  const document = sandboxConfigDocument('main', {
    shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
    syspro: { ...syspro, enetUrl: syspro.enetUrl },
  }) as { connections: Array<Record<string, Record<string, unknown>>> };
  const first = document.connections[0]!;
  if (options.sysproConfig) first.syspro = { ...first.syspro, ...options.sysproConfig };
  if (options.api === 'v2') {
    // The sandbox has no `GET /v2/warehouses`: name its default warehouse.
    first.shipstation = {
      ...first.shipstation,
      api: 'v2',
      v2WarehouseId: shipstation.state.defaultWarehouseId,
    };
  }
  const connection = configSchema.parse(document).connections[0]!;
  const clients = await openConnectionClients({
    connection,
    store: options.store,
    masterKey: () => {
      throw new Error('secrets come from the environment here');
    },
    env: sandboxSecrets(shipstation, syspro),
    clock: options.clock,
    limiter: options.limiter,
  });
  return { connection, clients };
}

/** The ShipStation APIs the flows' suites run on, like Kysely's dialect loop. */
export const SHIPSTATION_APIS = ['v1', 'v2'] as const;
