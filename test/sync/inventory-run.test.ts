/**
 * Stock levels SYSPRO → ShipStation V2 under `ml-connector run`: the available quantity of each
 * stock code in the mapped warehouse is pushed with `adjust`, once; an unchanged level sends
 * nothing (counted in the ShipStation sandbox's own request log), a changed one is sent once, and a
 * SKU ShipStation does not know is reported once, not every poll.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { WEB_SHOP_STOCK } from '../../src/sandbox/syspro/seed.js';
import { listAudit } from '../../src/store/audit.js';
import { openStore } from '../../src/store/open.js';
import { BIN } from '../helpers/cli.js';

describe('ml-connector run: inventory → ShipStation V2', () => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let child: ChildProcess | undefined;
  let output = '';
  let location = '';

  before(async () => {
    shipstation = await startShipStationSandbox({ port: 0, seed: 15 });
    syspro = await startSysproSandbox({ port: 0, seed: 15, orders: 60 });
    location = [...shipstation.inventory.locations.values()].find(
      (l) => l.name === 'Aisle A',
    )!.inventory_location_id;
    // ShipStation knows the web shop's products only: every other SYSPRO stock code is unknown there.
    shipstation.inventory.knownSkus = new Set(WEB_SHOP_STOCK.map(([code]) => code));
    dir = mkdtempSync(join(tmpdir(), 'mlc-inventory-run-'));
    const document = sandboxConfigDocument('main', {
      shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as { connections: Array<Record<string, Record<string, unknown>>> } & Record<string, unknown>;
    document.http = { host: '127.0.0.1', port: 0 };
    document.shutdownTimeout = '10s';
    document.jobLease = '5s';
    const connection = document.connections[0]!;
    connection.polls = { orders: 0, shipments: 0, customers: 0, channelOrders: 0, inventory: '1s' };
    connection.inventory = { enabled: true, locations: { FG: location }, subtract: ['QtyAllocated'] };
    connection.channelOrders = { enabled: false };
    connection.freight = { enabled: false };
    writeFileSync(join(dir, 'ml-connector.yaml'), stringify(document));
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_OPERATORPASSWORD: syspro.operatorPassword,
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_COMPANYPASSWORD: syspro.companyPassword,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: shipstation.apiKey,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: shipstation.apiSecret,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_V2APIKEY: shipstation.v2ApiKey,
    };
  });
  after(async () => {
    child?.kill('SIGKILL');
    await shipstation?.close();
    await syspro?.close();
  });

  async function waitFor(check: () => boolean | Promise<boolean>, what: string, capMs = 45_000) {
    const until = Date.now() + capMs;
    while (!(await check())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const posts = () =>
    shipstation.requests().filter((r) => r.method === 'POST' && r.url.startsWith('/v2/inventory'));
  const level = (sku: string) =>
    [...shipstation.inventory.stock.values()].find(
      (l) => l.sku === sku && l.locationId === location && l.condition === 'sellable',
    )?.onHand;
  const passes = () => (output.match(/"inventory push done"/g) ?? []).length;
  const fg = () => syspro.db.invWarehouse.rows.filter((r) => r.Warehouse === 'FG');
  const available = (code: string) => {
    const row = fg().find((r) => r.StockCode === code)!;
    return Math.max(0, Math.floor(Number(row.QtyOnHand) - Number(row.QtyAllocated)));
  };

  it('pushes each level once, nothing when unchanged, a change once; an unknown SKU is reported once', async () => {
    child = spawn(process.execPath, [BIN, 'run', '--config', join(dir, 'ml-connector.yaml')], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<number>((resolve) => child?.on('exit', (code) => resolve(code ?? -1)));
    await waitFor(() => passes() >= 1, 'the first inventory pass');
    const rows = fg().length;
    assert.equal(posts().length, rows, 'one adjust per stock code of FG on the first pass');
    for (const [code] of WEB_SHOP_STOCK)
      assert.equal(level(code), available(code), `${code} level in ShipStation`);

    const first = passes();
    await waitFor(() => passes() >= first + 2, 'two more passes');
    assert.equal(posts().length, rows, 'an unchanged level sends nothing');

    // A stock change in SYSPRO: that one level is sent, once.
    const row = fg().find((r) => r.StockCode === 'WID-200')!;
    row.QtyOnHand = Number(row.QtyOnHand) - 25;
    const before = passes();
    await waitFor(() => passes() >= before + 2, 'two passes after the change');
    assert.equal(posts().length, rows + 1);
    assert.equal(level('WID-200'), available('WID-200'));

    const store = openStore(`sqlite:${join(dir, 'data', 'ml-connector.db')}`);
    try {
      const unknown = (
        await listAudit(store.db, { flow: 'inventory', outcome: 'error', limit: 1000 })
      ).filter((r) => /does not know SKU/.test(r.error ?? ''));
      assert.equal(
        unknown.length,
        rows - WEB_SHOP_STOCK.length,
        'each unknown SKU reported once over four passes',
      );
    } finally {
      await store.close();
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output.slice(-2000));
  });
});
