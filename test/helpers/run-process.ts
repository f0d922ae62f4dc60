/**
 * `ml-connector run` as a child process against both sandboxes over HTTP, for end-to-end tests of
 * the flows: the sandboxes in the test process (so their own records can be counted), a
 * configuration written as `sandbox --write-config` would (with the test's changes), the
 * credentials in the environment, and the real binary started, killed and started again.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import {
  type ShipStationSandbox,
  type ShipStationSandboxOptions,
  startShipStationSandbox,
} from '../../src/sandbox/shipstation/index.js';
import {
  type SysproSandbox,
  type SysproSandboxOptions,
  startSysproSandbox,
} from '../../src/sandbox/syspro/index.js';
import { BIN, type CliResult, runCli } from './cli.js';
import { sandboxSecrets } from './sandbox-connection.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Waits (checking every 100 ms of real time) until `check` holds; fails with the run's output. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  output: () => string = () => '',
  capMs = 45_000,
): Promise<void> {
  const until = Date.now() + capMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RunChild {
  child: ChildProcess;
  output(): string;
  exited: Promise<number>;
  /** SIGTERM once the service has started (or ended), and the exit code. */
  stop(): Promise<number>;
  /** SIGKILL, and the exit code (-1). */
  kill(): Promise<number>;
}

export type ConfigDocument = { connections: Array<Record<string, Record<string, unknown>>> } & Record<
  string,
  unknown
>;

export interface RunSetup {
  shipstation: ShipStationSandbox;
  syspro: SysproSandbox;
  dir: string;
  configFile: string;
  env: NodeJS.ProcessEnv;
  /** The run server's address, e.g. `http://127.0.0.1:40123`. */
  address: string;
  webhookSecret: string;
  storeUrl: string;
  start(): RunChild;
  /** Another `ml-connector` command on the same configuration. */
  cli(args: string[]): Promise<CliResult>;
  /** A POST to the ShipStation sandbox's `/_sandbox/` controls, expecting 200. */
  sandboxPost<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export interface RunSetupOptions {
  prefix: string;
  seed?: number;
  /** SYSPRO sales orders to seed (default 60). */
  orders?: number;
  shipstation?: ShipStationSandboxOptions;
  syspro?: SysproSandboxOptions;
  /** A store URL (default: SQLite in the run's directory). */
  storeUrl?: string;
  /** Changes to the configuration document and its one connection before it is written. */
  configure?: (
    document: ConfigDocument,
    connection: Record<string, Record<string, unknown>>,
    sandboxes: { shipstation: ShipStationSandbox; syspro: SysproSandbox },
  ) => void;
}

const WEBHOOK_SECRET = '0123456789abcdef0123456789abcdef0123456789abcdef';

/** Starts both sandboxes and writes a configuration of one connection `main` with webhooks on. */
export async function setupRun(options: RunSetupOptions): Promise<RunSetup> {
  const seed = options.seed ?? 9;
  // A budget the 1 s polls cannot use up (V1's 40 a minute would throttle them; not under test here).
  const shipstation = await startShipStationSandbox({
    port: 0,
    seed,
    webhookDelayMs: 0,
    rateLimit: { limit: 100_000, windowMs: 60_000 },
    ...options.shipstation,
  });
  const syspro = await startSysproSandbox({ port: 0, seed, orders: options.orders ?? 60, ...options.syspro });
  const dir = mkdtempSync(join(tmpdir(), `mlc-${options.prefix}-`));
  const port = await freePort();
  const address = `http://127.0.0.1:${port}`;
  const document = sandboxConfigDocument('main', {
    shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
    syspro: { ...syspro, enetUrl: syspro.enetUrl },
  }) as ConfigDocument;
  const storeUrl = options.storeUrl ?? `sqlite:${join(dir, 'data', 'ml-connector.db')}`;
  document.store = { url: storeUrl };
  document.http = { host: '127.0.0.1', port, publicUrl: address };
  document.shutdownTimeout = '10s';
  document.jobLease = '3s';
  const connection = document.connections[0] as Record<string, Record<string, unknown>>;
  connection.polls = { orders: '1s', shipments: '1s', customers: 0 };
  connection.shipstation = { ...connection.shipstation, webhookSecret: 'secret:shipstation.webhookSecret' };
  options.configure?.(document, connection, { shipstation, syspro });
  const configFile = join(dir, 'ml-connector.yaml');
  writeFileSync(configFile, stringify(document));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...sandboxSecrets(shipstation, syspro),
    ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_WEBHOOKSECRET: WEBHOOK_SECRET,
  };
  const children: ChildProcess[] = [];

  const start = (): RunChild => {
    const child = spawn(process.execPath, [BIN, 'run', '--config', configFile], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    return {
      child,
      output: () => output,
      exited,
      // After the start has logged (or the process has ended): a test's SIGTERM stops a running
      // service. Sent sooner, it can land before Node runs the bin's first line, and kill.
      stop: async () => {
        const until = Date.now() + 60_000;
        while (!output.includes('"msg":"ml-connector run started"') && child.exitCode === null) {
          if (child.signalCode !== null || Date.now() > until) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        child.kill('SIGTERM');
        return exited;
      },
      kill: () => {
        child.kill('SIGKILL');
        return exited;
      },
    };
  };

  return {
    shipstation,
    syspro,
    dir,
    configFile,
    env,
    address,
    webhookSecret: WEBHOOK_SECRET,
    storeUrl,
    start,
    cli: (args) => runCli(args, { cwd: dir, env }),
    async sandboxPost<T>(path: string, body: unknown = {}): Promise<T> {
      const res = await fetch(`${shipstation.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as T;
    },
    async close() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await shipstation.close();
      await syspro.close();
    },
  };
}

/** The sales order of one of our orderKeys (`<company>:<SalesOrder>`). */
export function salesOrderOfKey(orderKey: string): string {
  return orderKey.slice(orderKey.indexOf(':') + 1);
}
