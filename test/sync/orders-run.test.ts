/**
 * `ml-connector run` moves SYSPRO orders into ShipStation: the real binary as a child process
 * against both sandboxes over HTTP, counted in ShipStation's own orders. Killed with SIGKILL half
 * way and started again, it leaves every order in ShipStation exactly once; SIGTERM exits 0.
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
import { listAudit } from '../../src/store/audit.js';
import { openStore } from '../../src/store/open.js';
import { BIN } from '../helpers/cli.js';

describe('ml-connector run: orders SYSPRO → ShipStation', () => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  before(async () => {
    shipstation = await startShipStationSandbox({ port: 0, seed: 5 });
    syspro = await startSysproSandbox({ port: 0, seed: 5, orders: 600 });
    dir = mkdtempSync(join(tmpdir(), 'mlc-orders-run-'));
    const document = sandboxConfigDocument('main', {
      shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as { connections: Array<Record<string, unknown>> } & Record<string, unknown>;
    document.http = { host: '127.0.0.1', port: 0 };
    document.shutdownTimeout = '10s';
    document.log = { level: 'info' };
    document.connections[0]!.polls = { orders: '1s', shipments: 0, customers: 0 };
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
    for (const c of children) c.kill('SIGKILL');
    await shipstation?.close();
    await syspro?.close();
  });

  function startRun(): { child: ChildProcess; exited: Promise<number>; output: () => string } {
    const child = spawn(process.execPath, [BIN, 'run', '--config', join(dir, 'ml-connector.yaml')], {
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
    return { child, exited, output: () => output };
  }

  const ours = () =>
    [...shipstation.state.orders.values()].filter((r) => r.orderKey.startsWith(`${syspro.company}:`));
  const expected = () =>
    syspro.db.sorMaster.rows.filter(
      (r) =>
        ['1', '2', '3', '4'].includes(String(r.OrderStatus)) &&
        syspro.db
          .linesOf(String(r.SalesOrder))
          .some((l) => (l.LineType === '1' || l.LineType === '7') && Number(l.MShipQty) > 0),
    ).length;

  async function waitFor(check: () => boolean, what: string, output: () => string, capMs = 40_000) {
    const until = Date.now() + capMs;
    while (!check()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('pushes every open order once, survives SIGKILL mid-way, and stops on SIGTERM with exit 0', async () => {
    const total = expected();
    assert.ok(total > 40, `seeded open orders: ${total}`);
    const first = startRun();
    await waitFor(() => ours().length > 0, 'the first orders in ShipStation', first.output);
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, -1);
    const pushedBeforeKill = ours().length;

    const second = startRun();
    // Let the second process poll at least twice after catching up.
    await waitFor(() => /orders poll done/.test(second.output()), 'a poll of the second run', second.output);
    const store = openStore(`sqlite:${join(dir, 'data', 'ml-connector.db')}`);
    const failed = async () => (await listAudit(store.db, { outcome: 'error', limit: 1000 })).length;
    let bad = 0;
    await waitFor(
      () => {
        void failed().then((n) => {
          bad = n;
        });
        return ours().length + bad >= total;
      },
      `${total} orders in ShipStation or failed with a reason`,
      second.output,
    );
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output().slice(-2000));
    await store.close();

    const orders = ours();
    assert.ok(pushedBeforeKill <= orders.length);
    assert.equal(orders.length + bad, total);
    assert.equal(new Set(orders.map((o) => o.orderNumber)).size, orders.length, 'no sales order twice');
    for (const o of orders) assert.equal(o.status, 'awaiting_shipment');
    assert.match(second.output(), /"ml-connector run stopped"/);
  });
});
