/**
 * A V2-only connection (issue #13: many accounts have no V1 access): `shipstation.api: v2` with
 * only the V2 key configured, no V1 key/secret anywhere (not in the file, not in the environment).
 * The real binary against both sandboxes over HTTP: `config check` and `ping` pass (ping skips V1
 * and says the connection uses V2), `run` pushes orders and writes the labels ShipStation makes back
 * to SYSPRO as dispatch notes, `orders show` reads the shipment, the webhooks commands work; and the
 * ShipStation sandbox's own request log holds not one V1 request.
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
import { dispatchNoteReference } from '../../src/sync/dispatch-note-check.js';
import { shipmentLinkKey } from '../../src/sync/shipment-model.js';
import { BIN, runCli } from '../helpers/cli.js';

describe('a V2-only connection (no V1 key/secret) under the real binary', () => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let child: ChildProcess | undefined;
  let output = '';

  before(async () => {
    shipstation = await startShipStationSandbox({ port: 0, seed: 31, autoShip: { delayMs: 300 } });
    syspro = await startSysproSandbox({ port: 0, seed: 31, orders: 60 });
    dir = mkdtempSync(join(tmpdir(), 'mlc-v2-only-'));
    const document = sandboxConfigDocument('main', {
      api: 'v2',
      shipstation: {
        url: shipstation.url,
        apiKey: '',
        apiSecret: '',
        v2ApiKey: '',
        defaultWarehouseId: shipstation.state.defaultWarehouseId,
      },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as { connections: Array<Record<string, Record<string, unknown>>> } & Record<string, unknown>;
    const connection = document.connections[0]!;
    assert.equal(connection.shipstation!.apiKey, undefined, 'the written connection names no V1 key');
    assert.equal(connection.shipstation!.apiSecret, undefined);
    document.http = { host: '127.0.0.1', port: 0, publicUrl: 'http://127.0.0.1:9' };
    document.shutdownTimeout = '10s';
    document.jobLease = '5s';
    connection.polls = { orders: '1s', shipments: '1s', customers: 0 };
    writeFileSync(join(dir, 'ml-connector.yaml'), stringify(document));
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_OPERATORPASSWORD: syspro.operatorPassword,
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_COMPANYPASSWORD: syspro.companyPassword,
      // Only the V2 key: no ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY / _APISECRET.
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_V2APIKEY: shipstation.v2ApiKey,
    };
  });
  after(async () => {
    child?.kill('SIGKILL');
    await shipstation?.close();
    await syspro?.close();
  });

  const v1Requests = () => shipstation.requests().filter((r) => r.api === 'v1');
  const ours = () =>
    [...shipstation.state.orders.values()].filter((r) => r.orderKey.startsWith(`${syspro.company}:`));
  const notesFor = (shipmentId: number) =>
    syspro.db.mdnMaster.rows.filter(
      (n) => n.DispatchComments1 === dispatchNoteReference(shipmentLinkKey('shipment', shipmentId)),
    );

  async function waitFor(check: () => boolean, what: string, capMs = 45_000) {
    const until = Date.now() + capMs;
    while (!check()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('config check and ping pass with only the V2 key; ping checks V2, not V1, and says the connection uses V2', async () => {
    const check = await runCli(['config', 'check'], { cwd: dir, env });
    assert.equal(check.code, 0, check.stdout + check.stderr);

    const ping = await runCli(['ping', '--json'], { cwd: dir, env });
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    const results = new Map(
      ping.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { check: string; verdict: string; detail: string })
        .map((r) => [r.check, r]),
    );
    assert.equal(results.get('credentials')?.verdict, 'pass');
    assert.equal(results.get('shipstation v1 auth')?.verdict, 'skip');
    assert.match(results.get('shipstation v1 auth')?.detail ?? '', /uses ShipStation V2.*V1 not checked/);
    assert.equal(results.get('shipstation v2 auth')?.verdict, 'pass', JSON.stringify([...results]));
    assert.match(results.get('shipstation v2 auth')?.detail ?? '', /authenticated; \d+ shipment\(s\)/);
    assert.equal(results.get('shipstation api')?.verdict, 'pass');
    assert.match(results.get('shipstation api')?.detail ?? '', /use ShipStation V2 \(shipstation\.api\)/);
    assert.ok(
      shipstation.requests().some((r) => r.api === 'v2'),
      'ping called V2',
    );
    assert.deepEqual(v1Requests(), [], 'ping sent nothing to V1');
  });

  it('run pushes orders as V2 shipments and writes the labels back to SYSPRO, never calling V1', async () => {
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
    const running = child;
    const exited = new Promise<number>((resolve) => running.on('exit', (code) => resolve(code ?? -1)));

    await waitFor(() => ours().length >= 5, 'orders pushed to ShipStation');
    // Auto-ship labels them in ShipStation; the V2 shipments poll brings the labels back.
    const labelled = () =>
      [...shipstation.state.shipments.values()].filter((s) => ours().some((o) => o.orderId === s.orderId));
    await waitFor(() => labelled().length >= 3, 'labels made by auto-ship');
    const first = labelled()[0]!;
    await waitFor(() => notesFor(first.shipmentId).length > 0, 'a dispatch note in SYSPRO for a label');
    assert.equal(notesFor(first.shipmentId).length, 1, 'one note per label');

    running.kill('SIGTERM');
    assert.equal(await exited, 0, output.slice(-2000));
    child = undefined;
    assert.doesNotMatch(output, /apiKey|apiSecret/i, 'no complaint about V1 credentials');
    assert.deepEqual(v1Requests(), [], 'run sent nothing to V1');
  });

  it('orders show reads the shipment through V2; the webhooks commands need no V1 key', async () => {
    const order = ours()[0]!;
    const shown = await runCli(['orders', 'show', order.orderNumber], { cwd: dir, env });
    assert.equal(shown.code, 0, shown.stdout + shown.stderr);
    assert.match(
      shown.stdout,
      new RegExp(
        `^ShipStation \\(GET /v2/shipments/se-${order.orderId}\\)\\n {2}orderId ${order.orderId}, `,
        'm',
      ),
    );
    const json = JSON.parse(
      (await runCli(['orders', 'show', order.orderNumber, '--json'], { cwd: dir, env })).stdout,
    ) as { shipstation: { how: string; order: { orderKey: string } } };
    assert.equal(json.shipstation.order.orderKey, order.orderKey);

    const listed = await runCli(['webhooks', 'list'], { cwd: dir, env });
    assert.equal(listed.code, 0, listed.stdout + listed.stderr);
    assert.match(listed.stdout, /main: 0 V2 subscription\(s\)/);
    const removed = await runCli(['webhooks', 'unsubscribe'], { cwd: dir, env });
    assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    assert.match(removed.stdout, /main: 0 removed\./);
    assert.deepEqual(v1Requests(), [], 'nothing sent to V1');
  });
});
