import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { stringify } from 'yaml';
import { UserError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import type { FaultSpec, ShipStationSandbox } from '../../sandbox/shipstation/index.js';
import type { SysproFaults, SysproSandbox } from '../../sandbox/syspro/index.js';
import { loadMasterKey } from '../../store/master-key.js';
import { migrateToLatest } from '../../store/migrate.js';
import { openConfiguredStore } from '../../store/open.js';
import { putSecret } from '../../store/secrets.js';
import { durationFlag } from '../options.js';
import type { Program } from '../program.js';

export const DEFAULT_SHIPSTATION_PORT = 7401;
export const DEFAULT_SYSPRO_PORT = 7402;

interface SandboxFlags {
  shipstationPort: number;
  sysproPort: number;
  host: string;
  seed: number;
  orders: number;
  autoShip: number | false;
  fault: string[];
  sysproFault: string[];
  odataNextLink?: boolean;
  writeConfig?: string;
  force?: boolean;
  connection: string;
  api: 'v1' | 'v2';
}

/** `--api v1|v2` of `sandbox` and `start`: which ShipStation API the written connection uses. */
export function shipstationApiFlag(value: string): 'v1' | 'v2' {
  if (value !== 'v1' && value !== 'v2') throw new InvalidArgumentError('expected v1 or v2');
  return value;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerSandbox(program: Command, app: Program): void {
  program
    .command('sandbox')
    .description(
      'start the built-in SYSPRO and ShipStation sandboxes (local, in memory) and print one JSON line per server when ready',
    )
    .option(
      '--shipstation-port <port>',
      'ShipStation sandbox port (0 = any free port)',
      integer,
      DEFAULT_SHIPSTATION_PORT,
    )
    .option('--syspro-port <port>', 'SYSPRO sandbox port (0 = any free port)', integer, DEFAULT_SYSPRO_PORT)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'seed for the generated data and credentials', integer, 1)
    .option('--orders <n>', 'SYSPRO sales orders to seed', integer, 200)
    .addOption(
      new Option(
        '--auto-ship <delay>',
        'label ShipStation orders awaiting shipment after this delay (e.g. 30s), or "off"',
      )
        .argParser(durationFlag('30s', { off: true }))
        .default(60_000, '1m'),
    )
    .option(
      '--fault <rule>',
      'ShipStation fault rule (repeatable; see docs/sandbox-shipstation.md)',
      collect,
      [],
    )
    .option(
      '--syspro-fault <rule>',
      'SYSPRO fault rule (repeatable; see docs/sandbox-syspro.md)',
      collect,
      [],
    )
    .option('--odata-next-link', 'SYSPRO OData pages with @odata.nextLink (server-driven paging)')
    .option(
      '--write-config <file>',
      'write a connector configuration for these sandboxes to FILE and store their credentials (encrypted) in its store',
    )
    .option('--force', '--write-config may overwrite an existing file')
    .option('--connection <name>', 'connection name used by --write-config', 'main')
    .option(
      '--api <v1|v2>',
      '--write-config: the ShipStation API of the connection (v2: only the V2 key, as an account without V1 access)',
      shipstationApiFlag,
      'v1',
    )
    .action(async (flags: SandboxFlags) => {
      // Before anything starts: an existing configuration is not replaced by surprise.
      if (flags.writeConfig && !flags.force && existsSync(resolve(flags.writeConfig))) {
        throw new UserError(
          `${resolve(flags.writeConfig)} already exists; --write-config does not overwrite it. Pass --force to replace it, or name another file.`,
        );
      }
      // Loaded here so that other commands do not pay for the sandboxes at start-up.
      const { parseFaultFlag: parseShipStationFault, startShipStationSandbox } = await import(
        '../../sandbox/shipstation/index.js'
      );
      const { parseFaultFlags: parseSysproFaults, startSysproSandbox } = await import(
        '../../sandbox/syspro/index.js'
      );
      let shipstationFaults: FaultSpec[];
      let sysproFaults: SysproFaults;
      try {
        shipstationFaults = flags.fault.map((f) => parseShipStationFault(f));
        sysproFaults = parseSysproFaults(flags.sysproFault);
      } catch (err) {
        throw new UserError(`Invalid fault rule: ${(err as Error).message}`);
      }
      const shipstation = await startShipStationSandbox({
        port: flags.shipstationPort,
        host: flags.host,
        seed: flags.seed,
        autoShip: flags.autoShip === false ? false : { delayMs: flags.autoShip },
        faults: shipstationFaults,
      }).catch((err: Error) => {
        throw new UserError(
          `Cannot start the ShipStation sandbox on port ${flags.shipstationPort}: ${err.message}. Pick another port with --shipstation-port.`,
        );
      });
      const syspro = await startSysproSandbox({
        port: flags.sysproPort,
        host: flags.host,
        seed: flags.seed,
        orders: flags.orders,
        odataNextLink: flags.odataNextLink ?? false,
        faults: sysproFaults,
      }).catch(async (err: Error) => {
        await shipstation.close();
        throw new UserError(
          `Cannot start the SYSPRO sandbox on port ${flags.sysproPort}: ${err.message}. Pick another port with --syspro-port.`,
        );
      });

      app.out(
        JSON.stringify({
          sandbox: 'shipstation',
          url: shipstation.url,
          apiKey: shipstation.apiKey,
          apiSecret: shipstation.apiSecret,
          v2ApiKey: shipstation.v2ApiKey,
        }),
      );
      app.out(syspro.readyLine());

      if (flags.writeConfig) {
        await writeSandboxConfig(app, flags, {
          api: flags.api,
          shipstation: {
            inventory: shipstation.inventory,
            defaultWarehouseId: shipstation.state.defaultWarehouseId,
            url: shipstation.url,
            apiKey: shipstation.apiKey,
            apiSecret: shipstation.apiSecret,
            v2ApiKey: shipstation.v2ApiKey,
          },
          syspro: {
            enetUrl: syspro.enetUrl,
            odataUrl: syspro.odataUrl,
            operator: syspro.operator,
            operatorPassword: syspro.operatorPassword,
            company: syspro.company,
            companyPassword: syspro.companyPassword,
          },
        });
      }

      await new Promise<void>((resolveStop) => {
        const stop = () => resolveStop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await Promise.all([shipstation.close(), syspro.close()]);
    });
}

interface SandboxEndpoints {
  /**
   * The connection's `shipstation.api` (default v1). `v2` writes a V2-only connection: `v2ApiKey`
   * and no V1 key/secret (an account without V1 access), marketplace orders off (they are V1 only).
   */
  api?: 'v1' | 'v2';
  /** With `inventory` (the sandbox in this process), the inventory push gets its location. */
  shipstation: Pick<ShipStationSandbox, 'url' | 'apiKey' | 'apiSecret' | 'v2ApiKey'> &
    Partial<Pick<ShipStationSandbox, 'inventory'>> & {
      /** V2: the ship-from warehouse (the sandbox has no `GET /v2/warehouses`). */
      defaultWarehouseId?: number;
    };
  syspro: Pick<
    SysproSandbox,
    'enetUrl' | 'odataUrl' | 'operator' | 'operatorPassword' | 'company' | 'companyPassword'
  >;
}

/** The configuration document for a connection to the sandboxes (secret references only). */
export function sandboxConfigDocument(name: string, endpoints: SandboxEndpoints): Record<string, unknown> {
  const ss = new URL(endpoints.shipstation.url);
  const v2Only = endpoints.api === 'v2';
  const location = endpoints.shipstation.inventory
    ? [...endpoints.shipstation.inventory.locations.values()][0]?.inventory_location_id
    : undefined;
  return {
    store: { url: 'sqlite:./data/ml-connector.db' },
    http: { host: '127.0.0.1', port: 8080, publicUrl: 'http://127.0.0.1:8080' },
    connections: [
      {
        name,
        syspro: {
          enetUrl: endpoints.syspro.enetUrl,
          odataUrl: endpoints.syspro.odataUrl,
          operator: endpoints.syspro.operator,
          operatorPassword: 'secret:syspro.operatorPassword',
          company: endpoints.syspro.company,
          companyPassword: 'secret:syspro.companyPassword',
        },
        shipstation: v2Only
          ? {
              api: 'v2',
              v2Url: endpoints.shipstation.url,
              v2ApiKey: 'secret:shipstation.v2ApiKey',
              ...(endpoints.shipstation.defaultWarehouseId === undefined
                ? {}
                : { v2WarehouseId: endpoints.shipstation.defaultWarehouseId }),
              allowedResourceHosts: [ss.host],
            }
          : {
              v1Url: endpoints.shipstation.url,
              v2Url: endpoints.shipstation.url,
              apiKey: 'secret:shipstation.apiKey',
              apiSecret: 'secret:shipstation.apiSecret',
              v2ApiKey: 'secret:shipstation.v2ApiKey',
              // The sandbox's webhooks point back at itself; only hosts listed here are followed.
              allowedResourceHosts: [ss.host],
            },
        polls: { orders: '1m', shipments: '1m', customers: '5m', channelOrders: '1m', inventory: '5m' },
        // The optional flows, on against the sandboxes (a real site's stay off until it names its
        // stores, ledger codes and warehouses): the sandbox's marketplace stores (Shopify 310002,
        // Amazon 310003) imported, buyers without an account on the cash customer; freight to the
        // sandbox company's freight ledger codes; FG stock pushed to the sandbox's first location.
        channelOrders: { enabled: !v2Only, stores: [310002, 310003], defaultCustomer: 'CASH' },
        freight: {
          enabled: true,
          method: 'journal',
          glAccount: '5100-000',
          insuranceGlAccount: '5110-000',
          offsetGlAccount: '2150-000',
        },
        ...(location ? { inventory: { enabled: true, locations: { FG: location } } } : {}),
      },
    ],
  };
}

/** The secrets a connection written by `sandboxConfigDocument` references, with their values. */
export function sandboxSecretValues(endpoints: SandboxEndpoints): Array<[string, string]> {
  return [
    ['syspro.operatorPassword', endpoints.syspro.operatorPassword],
    ['syspro.companyPassword', endpoints.syspro.companyPassword],
    ...(endpoints.api === 'v2'
      ? []
      : ([
          ['shipstation.apiKey', endpoints.shipstation.apiKey],
          ['shipstation.apiSecret', endpoints.shipstation.apiSecret],
        ] as Array<[string, string]>)),
    ['shipstation.v2ApiKey', endpoints.shipstation.v2ApiKey],
  ];
}

async function writeSandboxConfig(
  app: Program,
  flags: SandboxFlags,
  endpoints: SandboxEndpoints,
): Promise<void> {
  const file = resolve(flags.writeConfig as string);
  const document = sandboxConfigDocument(flags.connection, endpoints);
  writeFileSync(
    file,
    `# Written by \`ml-connector sandbox --write-config\`: a connection to the local sandboxes.\n` +
      `# Credentials are in the encrypted store (see \`ml-connector creds list\`), not in this file.\n${stringify(document)}`,
  );
  // Validate what was written with the same loader every command uses, then store the secrets.
  const { config } = loadConfig({ file, env: app.env });
  const store = openConfiguredStore(config.store, app.env);
  try {
    await migrateToLatest(store);
    const master = loadMasterKey({ env: app.env, file: config.masterKeyFile, create: true });
    for (const [name, value] of sandboxSecretValues(endpoints))
      await putSecret(store.db, master, flags.connection, name, value);
  } finally {
    await store.close();
  }
  app.err(
    `Wrote ${file} (connection "${flags.connection}") and stored its credentials encrypted in ${store.displayUrl}.`,
  );
}
