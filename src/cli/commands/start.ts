/**
 * `ml-connector start` (what `npm start` runs): the demo a new user gets on a fresh clone, or, when
 * there is a configuration, exactly `run` with it.
 *
 * Without a configuration (no `--config`, no `ML_CONNECTOR_CONFIG`, no `./ml-connector.yaml`):
 * both sandboxes in this process (the code `sandbox` uses; fixed seed; ephemeral ports; ShipStation
 * auto-ship on) → `./data/demo.yaml` for them (SQLite `./data/ml-connector.db`, key
 * `./data/master.key`, short polls) → their credentials stored encrypted the way
 * `sandbox --write-config` stores them → the service of `run` (`startService` +
 * `serveUntilSignal`) on 127.0.0.1:8080 → a few plain lines on stdout (where the service is, how to
 * look at what happens), then one progress line whenever the counts change. The service's JSON log
 * goes to `./data/demo.log` so that the terminal stays readable.
 *
 * Restart keeps `./data/`; `--fresh` deletes the files the demo created there first. SIGTERM/SIGINT:
 * the service stops gracefully, then the sandboxes close, exit 0.
 */
import { existsSync, mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { stringify } from 'yaml';
import { parseDuration } from '../../config/duration.js';
import { UserError } from '../../config/errors.js';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../../config/load.js';
import { generateSecret, hashSecret } from '../../http/auth.js';
import { createLogger } from '../../logger.js';
import type { ShipStationSandbox } from '../../sandbox/shipstation/index.js';
import type { SysproSandbox } from '../../sandbox/syspro/index.js';
import { loadMasterKey } from '../../store/master-key.js';
import { migrateToLatest } from '../../store/migrate.js';
import { openConfiguredStore, openStore, type Store } from '../../store/open.js';
import { putSecret } from '../../store/secrets.js';
import { durationFlag } from '../options.js';
import type { Program } from '../program.js';
import { acquireRunLock, runLockPaths } from '../run-lock.js';
import { holdSignalsDuringStart, serveUntilSignal, startService } from './run.js';
import { sandboxConfigDocument, sandboxSecretValues, shipstationApiFlag } from './sandbox.js';

/** The sandboxes' seed: fixed, so that a restart finds the same SYSPRO company and credentials. */
export const DEMO_SEED = 1;
export const DEMO_CONNECTION = 'main';
export const DEMO_DIR = 'data';
/** What the demo creates in `./data/` (and so what `--fresh` removes); nothing else is touched. */
const DEMO_FILES = [
  'demo.yaml',
  'demo.log',
  'master.key',
  'ml-connector.db',
  'ml-connector.db-wal',
  'ml-connector.db-shm',
  'ml-connector.db-journal',
];

interface StartFlags {
  fresh?: boolean;
  port?: number;
  demoInterval?: string;
  autoShip?: number | false;
  api?: 'v1' | 'v2';
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError('expected a port (0-65535)');
  return n;
}

function duration(value: string): string {
  durationFlag('15s', { positive: true })(value);
  return value;
}

export function registerStart(program: Command, app: Program): void {
  program
    .command('start')
    .description(
      'with a configuration: the same as run; without one: a demo against the built-in sandboxes (SQLite in ./data/) on http://127.0.0.1:8080',
    )
    .option('--fresh', 'demo: delete what an earlier demo left in ./data/ first')
    .option('--port <port>', 'HTTP port of the service (default 8080 for the demo; 0 = any free port)', port)
    .option('--demo-interval <duration>', 'demo: orders and shipments poll interval (default 15s)', duration)
    .option(
      '--auto-ship <delay>',
      'demo: ShipStation labels orders this long after they arrive (default 20s), or "off"',
      durationFlag('20s', { off: true }),
    )
    .option(
      '--api <v1|v2>',
      'demo: the ShipStation API the connection uses (v2: only the V2 key, as an account without V1 access; default v1)',
      shipstationApiFlag,
    )
    .action(async (flags: StartFlags) => {
      const explicit = program.opts<{ config?: string }>().config ?? app.env.ML_CONNECTOR_CONFIG;
      if (explicit !== undefined || existsSync(resolve(DEFAULT_CONFIG_FILE))) {
        const demoOnly = (['fresh', 'demoInterval', 'autoShip', 'api'] as const).filter(
          (f) => flags[f] !== undefined,
        );
        if (demoOnly.length > 0)
          throw new UserError(
            `--${demoOnly.map(kebab).join(', --')} only apply to the demo, which runs when there is no configuration; with ${explicit ?? DEFAULT_CONFIG_FILE}, \`start\` is \`run\`.`,
          );
        await runConfigured(app, flags.port);
        return;
      }
      await runDemo(app, flags);
    });
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `run`, with `--port` overriding `http.port` when given. */
async function runConfigured(app: Program, httpPort: number | undefined): Promise<void> {
  const { config: loaded } = app.context();
  const config = httpPort === undefined ? loaded : { ...loaded, http: { ...loaded.http, port: httpPort } };
  const logger = createLogger({ level: config.log.level }, pino.destination({ dest: 1, sync: true }));
  const held = holdSignalsDuringStart();
  const service = await startService({ config, env: app.env, logger });
  await serveUntilSignal(service, { timeoutMs: config.shutdownTimeout, logger, held });
}

/** Deletes the demo's files in `dir` (only those), after checking no demo is running on them. */
function removeDemoFiles(dir: string): void {
  const db = join(dir, 'ml-connector.db');
  if (existsSync(db)) acquireRunLock(db).release();
  const lock = runLockPaths(db);
  for (const path of [
    ...DEMO_FILES.map((name) => join(dir, name)),
    lock.lock,
    `${lock.lock}-journal`,
    lock.holder,
  ])
    rmSync(path, { force: true });
  try {
    rmdirSync(dir); // only when empty: whatever else is there stays
  } catch {}
}

async function runDemo(app: Program, flags: StartFlags): Promise<void> {
  const dir = resolve(DEMO_DIR);
  if (flags.fresh) removeDemoFiles(dir);
  const kept = existsSync(join(dir, 'ml-connector.db'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const interval = flags.demoInterval ?? '15s';
  const autoShipMs = flags.autoShip ?? 20_000;
  const httpPort = flags.port ?? 8080;

  // A signal while the sandboxes and the service start stops the demo cleanly once it is up.
  const held = holdSignalsDuringStart();
  const { startShipStationSandbox } = await import('../../sandbox/shipstation/index.js');
  const { startSysproSandbox } = await import('../../sandbox/syspro/index.js');
  const shipstation = await startShipStationSandbox({
    port: 0,
    seed: DEMO_SEED,
    autoShip: autoShipMs === false ? false : { delayMs: autoShipMs },
  });
  let syspro: SysproSandbox | undefined;
  let progress: Store | undefined;
  let timer: NodeJS.Timeout | undefined;
  const closeAll = async () => {
    if (timer) clearInterval(timer);
    await progress?.close().catch(() => {});
    await Promise.all([shipstation.close(), syspro?.close()]);
  };
  try {
    syspro = await startSysproSandbox({ port: 0, seed: DEMO_SEED });
    const file = join(dir, 'demo.yaml');
    // The dashboard's password and an API token: new at every start, printed below, stored hashed.
    const login = app.env.ML_CONNECTOR_DASHBOARD__PASSWORD_HASH
      ? undefined
      : { password: generateSecret(), token: generateSecret(24) };
    const dashboard = login
      ? {
          passwordHash: await hashSecret(login.password),
          apiTokens: [{ name: 'demo', hash: await hashSecret(login.token) }],
        }
      : undefined;
    await writeDemoConfig(app, file, shipstation, syspro, { interval, httpPort, dashboard, api: flags.api });

    const { config } = loadConfig({ file, env: app.env });
    const logFile = join(dir, 'demo.log');
    const logger = createLogger(
      { level: config.log.level },
      pino.destination({ dest: logFile, sync: true, mkdir: true }),
    );
    const service = await startService({ config, env: app.env, logger });
    printBanner(app, {
      address: service.address,
      shipstation,
      syspro,
      interval,
      autoShipMs,
      kept,
      example: firstOpenOrder(syspro),
      login,
    });
    progress = openStore(config.store.url);
    const store = progress;
    let last = '';
    const report = async () => {
      const line = await progressLine(store, shipstation, syspro as SysproSandbox).catch(() => undefined);
      if (line && line !== last) {
        last = line;
        app.out(`${new Date().toISOString().slice(11, 19)}  ${line}`);
      }
    };
    // A marketplace order arrives every few reports (Shopify, then Amazon): the channel-orders flow.
    let tick = 0;
    timer = setInterval(() => {
      if (++tick % 15 === 0) void marketplaceOrder(shipstation, tick % 30 === 0 ? 310003 : 310002);
      void report();
    }, 2_000);
    timer.unref();
    await serveUntilSignal(service, { timeoutMs: config.shutdownTimeout, logger, held });
  } finally {
    held.release();
    await closeAll();
  }
  app.out(
    `Stopped. ./${DEMO_DIR}/ is kept for the next \`npm start\`; \`npm start -- --fresh\` starts over.`,
  );
}

async function writeDemoConfig(
  app: Program,
  file: string,
  shipstation: ShipStationSandbox,
  syspro: SysproSandbox,
  options: {
    interval: string;
    httpPort: number;
    dashboard?: Record<string, unknown> | undefined;
    api?: 'v1' | 'v2';
  },
): Promise<void> {
  const endpoints = {
    api: options.api,
    shipstation: {
      ...pickCredentials(shipstation),
      defaultWarehouseId: shipstation.state.defaultWarehouseId,
    },
    syspro,
  };
  const document = sandboxConfigDocument(DEMO_CONNECTION, endpoints) as Record<string, unknown> & {
    connections: Array<Record<string, unknown>>;
  };
  // Paths in a configuration file are relative to its directory (./data/).
  document.store = { url: 'sqlite:./ml-connector.db' };
  document.masterKeyFile = './master.key';
  document.http = {
    host: '127.0.0.1',
    port: options.httpPort,
    ...(options.httpPort === 0 ? {} : { publicUrl: `http://127.0.0.1:${options.httpPort}` }),
  };
  document.shutdownTimeout = '10s';
  if (options.dashboard) document.dashboard = options.dashboard;
  const customers = (parseDuration(options.interval) ?? 0) < 60_000 ? '1m' : options.interval;
  (document.connections[0] as Record<string, unknown>).polls = {
    orders: options.interval,
    shipments: options.interval,
    customers: options.interval === '15s' ? '1m' : customers,
    channelOrders: options.interval,
    inventory: customers,
  };
  writeFileSync(
    file,
    '# Written by `ml-connector start` (the demo) at every start: a connection to the sandboxes it runs\n' +
      '# in memory. Credentials are in the encrypted store, not in this file. `npm start -- --fresh` removes it.\n' +
      stringify(document),
    { mode: 0o600 },
  );
  const { config } = loadConfig({ file, env: app.env });
  const store = openConfiguredStore(config.store, app.env);
  try {
    await migrateToLatest(store);
    const master = loadMasterKey({ env: app.env, file: config.masterKeyFile, create: true });
    for (const [name, value] of sandboxSecretValues(endpoints))
      await putSecret(store.db, master, DEMO_CONNECTION, name, value);
  } finally {
    await store.close();
  }
}

function pickCredentials(s: ShipStationSandbox) {
  return {
    url: s.url,
    apiKey: s.apiKey,
    apiSecret: s.apiSecret,
    v2ApiKey: s.v2ApiKey,
    inventory: s.inventory,
  };
}

/** A sales order the poll sends (open, with a line to ship), for the example command. */
function firstOpenOrder(syspro: SysproSandbox): string | undefined {
  const row = syspro.db.sorMaster.rows.find(
    (r) =>
      ['1', '2', '3', '4'].includes(String(r.OrderStatus)) &&
      syspro.db
        .linesOf(String(r.SalesOrder))
        .some((l) => (l.LineType === '1' || l.LineType === '7') && Number(l.MShipQty) > 0),
  );
  return row ? String(row.SalesOrder).trim() : undefined;
}

/** How to run the CLI from here: `node bin/ml-connector.js` (relative when inside the checkout). */
function cliCommand(): string {
  const bin = fileURLToPath(new URL('../../../bin/ml-connector.js', import.meta.url));
  const rel = relative(process.cwd(), bin);
  return `node ${rel.startsWith('..') || isAbsolute(rel) ? bin : rel} --config ${join(DEMO_DIR, 'demo.yaml')}`;
}

function printBanner(
  app: Program,
  info: {
    address: string;
    shipstation: ShipStationSandbox;
    syspro: SysproSandbox;
    interval: string;
    autoShipMs: number | false;
    kept: boolean;
    example: string | undefined;
    login: { password: string; token: string } | undefined;
  },
): void {
  const cli = cliCommand();
  const autoShip =
    info.autoShipMs === false
      ? 'auto-ship off'
      : `auto-ship labels each order ${info.autoShipMs / 1000}s after it arrives`;
  const lines = [
    `ml-connector is running at ${info.address}  (the dashboard: open ${info.address}/ in a browser)`,
    info.login
      ? `Log in with any name and the password ${info.login.password}   (new at every start; scripts: Authorization: Bearer ${info.login.token}, see ${info.address}/api/docs)`
      : 'Log in with the password whose hash is in ML_CONNECTOR_DASHBOARD__PASSWORD_HASH.',
    `Health: ${info.address}/healthz, ${info.address}/readyz; metrics: ${info.address}/metrics`,
    '',
    `Demo: no configuration found, so the built-in sandboxes run in this process (in memory, seed ${DEMO_SEED}):`,
    `  SYSPRO       ${info.syspro.url}  company ${info.syspro.company}`,
    `  ShipStation  ${info.shipstation.url}  ${autoShip}`,
    `  connector    SQLite in ./${DEMO_DIR}/ (config ${DEMO_DIR}/demo.yaml, JSON log ${DEMO_DIR}/demo.log); polls every ${info.interval}`,
    info.kept
      ? `  kept ./${DEMO_DIR}/ from an earlier start: the sandboxes start again as seeded, orders already sent are not sent again; \`npm start -- --fresh\` starts over.`
      : `  Within a minute orders leave SYSPRO, ShipStation labels them and tracking lands back in SYSPRO as dispatch notes.`,
    '',
    'From another terminal in this directory:',
    `  ${cli} jobs`,
    `  ${cli} orders show ${info.example ?? '<salesOrder>'}`,
    `  ${cli} shipments show <shipmentId|trackingNumber>`,
    '',
    'Ctrl-C stops. `npm start` again keeps ./data/; `npm start -- --fresh` starts over.',
    'With ml-connector.yaml (or --config, ML_CONNECTOR_CONFIG) `npm start` runs that instead, against real systems.',
    '',
  ];
  for (const line of lines) app.out(line);
}

async function progressLine(
  store: Store,
  shipstation: ShipStationSandbox,
  syspro: SysproSandbox,
): Promise<string> {
  const prefix = `${syspro.company}:`;
  let orders = 0;
  for (const o of shipstation.state.orders.values()) if (o.orderKey.startsWith(prefix)) orders++;
  let labels = 0;
  for (const s of shipstation.state.shipments.values()) if (!s.voided) labels++;
  const notes = await store.db
    .selectFrom('audit')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('action', '=', 'dispatch-note')
    .where('outcome', '=', 'ok')
    .executeTakeFirst();
  const dead = await store.db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('state', '=', 'dead')
    .executeTakeFirst();
  const count = async (flow: string, action: string) =>
    Number(
      (
        await store.db
          .selectFrom('audit')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('flow', '=', flow)
          .where('action', '=', action)
          .where('outcome', '=', 'ok')
          .executeTakeFirst()
      )?.n ?? 0,
    );
  const marketplace = await count('channel-orders', 'import');
  const freight = await count('freight', 'post');
  const levels = await store.db
    .selectFrom('links')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('entity_type', '=', 'inventory')
    .executeTakeFirst();
  return `orders sent to ShipStation ${orders} · labels ${labels} · dispatch notes written back to SYSPRO ${Number(notes?.n ?? 0)} · marketplace orders entered in SYSPRO ${marketplace} · freight journals ${freight} · stock levels pushed ${Number(levels?.n ?? 0)} · dead jobs ${Number(dead?.n ?? 0)}`;
}

/** A marketplace order arriving in the ShipStation sandbox (the demo's Shopify and Amazon stores). */
async function marketplaceOrder(shipstation: ShipStationSandbox, storeId: number): Promise<void> {
  await fetch(`${shipstation.url}/_sandbox/channel-orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ storeId }),
  }).catch(() => undefined);
}
