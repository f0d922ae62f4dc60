/**
 * The nudge end to end: `ml-connector run` (the real binary, a child process) against both
 * sandboxes over HTTP, called by `scripts/syspro/nudge-order.sh` (bash + curl) and by fetch. The
 * orders poll is set to 1h and its schedule is written beforehand as first due in an hour, so no
 * poll can explain what moves: a nudged order reaches ShipStation (and a changed quantity follows)
 * within seconds; a wrong or missing token is 401 and changes nothing. Effects are counted in the
 * ShipStation sandbox's own orders.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { configSchema } from '../../src/config/schema.js';
import { Scheduler } from '../../src/engine/scheduler.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { listAudit } from '../../src/store/audit.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/open.js';
import { orderMapOptions } from '../../src/sync/orders.js';
import {
  type ArCustomerRow,
  mapSalesOrder,
  type SorDetailRow,
  type SorMasterRow,
} from '../../src/sync/orders-mapper.js';
import { BIN } from '../helpers/cli.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/syspro/nudge-order.sh', import.meta.url));
const TOKEN = 'e2e-nudge-token-4f1c9a7b2d8e6f30';
/** What "within seconds" means here, generous for a loaded 2-core machine. */
const WITHIN_MS = 8000;

describe('ml-connector run: the nudge moves one order within seconds', () => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let child: ChildProcess | undefined;
  let output = '';
  let address = '';
  let exited: Promise<number>;
  let config: ReturnType<typeof configSchema.parse>;

  before(async () => {
    shipstation = await startShipStationSandbox({ port: 0, seed: 21 });
    syspro = await startSysproSandbox({ port: 0, seed: 21, orders: 120 });
    dir = mkdtempSync(join(tmpdir(), 'mlc-nudge-run-'));
    const document = sandboxConfigDocument('main', {
      shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as { connections: Array<Record<string, unknown>> } & Record<string, unknown>;
    document.http = { host: '127.0.0.1', port: 0 };
    document.shutdownTimeout = '10s';
    document.log = { level: 'info' };
    document.connections[0]!.polls = { orders: '1h', shipments: 0, customers: 0 };
    document.connections[0]!.api = { token: 'secret:api.token' };
    writeFileSync(join(dir, 'ml-connector.yaml'), stringify(document));
    config = configSchema.parse(document);

    // The orders poll's schedule, first due in an hour (run keeps a stored due time whose interval
    // is unchanged), so nothing but the nudge can move an order during this test.
    const store = openStore(`sqlite:${join(dir, 'data', 'ml-connector.db')}`);
    await migrateToLatest(store);
    await new Scheduler({ store, jitter: 1, random: () => 1 }).syncFromConfig(config.connections);
    await store.close();

    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_OPERATORPASSWORD: syspro.operatorPassword,
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_COMPANYPASSWORD: syspro.companyPassword,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: shipstation.apiKey,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: shipstation.apiSecret,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_V2APIKEY: shipstation.v2ApiKey,
      ML_CONNECTOR_SECRET_MAIN_API_TOKEN: TOKEN,
    };
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
    exited = new Promise<number>((resolve) => child?.on('exit', (code) => resolve(code ?? -1)));
    await waitFor(() => /"ml-connector run started"/.test(output), 'the start line', 20_000);
    const start = output
      .split('\n')
      .filter((l) => l.includes('"ml-connector run started"'))
      .map((l) => JSON.parse(l) as { http: string; polls: string[] })[0]!;
    address = start.http;
    assert.deepEqual(start.polls, ['main:orders.poll']);
  });
  after(async () => {
    child?.kill('SIGKILL');
    await shipstation?.close();
    await syspro?.close();
  });

  async function waitFor(check: () => boolean, what: string, capMs = WITHIN_MS): Promise<number> {
    const started = Date.now();
    while (!check()) {
      if (Date.now() - started > capMs)
        throw new Error(`timed out after ${capMs} ms waiting for ${what}\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return Date.now() - started;
  }

  function script(
    salesOrder: string,
    extraEnv: NodeJS.ProcessEnv,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        'bash',
        [SCRIPT, salesOrder],
        { env: { PATH: process.env.PATH, ...extraEnv }, timeout: 20_000 },
        (err, stdout, stderr) => {
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
    });
  }

  const byKey = (salesOrder: string) => {
    const id = shipstation.state.orderIdByKey.get(`${syspro.company}:${salesOrder}`);
    return id === undefined ? undefined : shipstation.state.orders.get(id);
  };
  const quantityOf = (salesOrder: string, sku: string) =>
    (
      byKey(salesOrder)?.body() as { items?: Array<{ sku: string; quantity: number }> } | undefined
    )?.items?.find((i) => i.sku === sku)?.quantity;

  /** Open orders the mapping sends as they are (valid address, something to ship), not yet in ShipStation. */
  function pushable(): string[] {
    const options = orderMapOptions(config.connections[0]!);
    return syspro.db.sorMaster.rows
      .filter((r) => ['1', '2', '3', '4'].includes(String(r.OrderStatus)))
      .map((r) => String(r.SalesOrder))
      .filter((so) => {
        const header = syspro.db.sorMaster.get(so) as unknown as SorMasterRow;
        const result = mapSalesOrder(
          {
            header,
            lines: syspro.db.linesOf(so) as unknown as SorDetailRow[],
            customer: syspro.db.arCustomer.get(header.Customer) as unknown as ArCustomerRow | undefined,
          },
          options,
        );
        return result.action === 'push' && !byKey(so);
      });
  }
  function shipLine(salesOrder: string) {
    return syspro.db
      .linesOf(salesOrder)
      .find((l) => (l.LineType === '1' || l.LineType === '7') && Number(l.MShipQty) > 0)!;
  }

  it('creates, then updates, one order within seconds of a nudge by nudge-order.sh', async (t) => {
    const [target] = pushable();
    assert.ok(target, 'the seed has an open order to nudge');
    assert.equal(shipstation.state.orders.size, 0, 'ShipStation starts empty: no poll has run');

    const first = await script(target, { ML_CONNECTOR_URL: address, ML_CONNECTOR_TOKEN: TOKEN });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /queued: \{"queued":true,"jobId":\d+,"coalesced":false\}/);
    await waitFor(() => byKey(target) !== undefined, `sales order ${target} in ShipStation`);
    assert.equal(shipstation.state.orders.size, 1, 'only the nudged order moved');

    const line = shipLine(target);
    const sku = String(line.MStockCode).trim();
    line.MShipQty = Number(line.MShipQty) + 3;
    const started = Date.now();
    const second = await script(`  ${target} `, { ML_CONNECTOR_URL: address, ML_CONNECTOR_TOKEN: TOKEN });
    assert.equal(second.code, 0, second.stderr);
    await waitFor(
      () => quantityOf(target, sku) === Number(line.MShipQty),
      'the new ship quantity in ShipStation',
    );
    const elapsed = Date.now() - started;
    t.diagnostic(`nudge to new quantity in ShipStation: ${elapsed} ms (script included)`);
    assert.ok(elapsed < WITHIN_MS);
    assert.doesNotMatch(output, /orders poll done/, 'no poll ran: the nudge alone moved it');
  });

  it('refuses a wrong or missing token with 401 and moves nothing', async () => {
    const [changed, control] = pushable();
    assert.ok(changed && control);
    const wrong = await script(changed, {
      ML_CONNECTOR_URL: address,
      ML_CONNECTOR_TOKEN: 'wrong-token-wrong-token',
    });
    assert.equal(wrong.code, 3, wrong.stderr);
    assert.match(wrong.stderr, /refused \(HTTP 401\)/);
    const bare = await fetch(`${address}/api/connections/main/orders/${changed}/sync`, { method: 'POST' });
    assert.equal(bare.status, 401);
    assert.match(String(bare.headers.get('www-authenticate')), /^Bearer/);
    const unknown = await fetch(`${address}/api/connections/other/orders/${changed}/sync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(unknown.status, 404);

    // The control goes through a config file next to nothing on the command line.
    const conf = join(dir, 'nudge-order.conf');
    writeFileSync(conf, `# test\nURL=${address}\nCONNECTION=main\nTOKEN=${TOKEN}\n`, { mode: 0o600 });
    const ok = await script(control, { ML_CONNECTOR_NUDGE_CONF: conf });
    assert.equal(ok.code, 0, ok.stderr);
    await waitFor(() => byKey(control) !== undefined, `the control order ${control} in ShipStation`);
    assert.equal(byKey(changed), undefined, 'the refused nudge moved nothing');

    const store = openStore(`sqlite:${join(dir, 'data', 'ml-connector.db')}`);
    try {
      const refused = await listAudit(store.db, { flow: 'nudge', outcome: 'error' });
      assert.equal(refused.length, 2);
      const queuedForChanged = await store.db
        .selectFrom('jobs')
        .select('id')
        .where('idempotency_key', 'like', `%:${syspro.company}:${changed}`)
        .execute();
      assert.equal(queuedForChanged.length, 0, 'nothing was queued for the refused nudge');
    } finally {
      await store.close();
    }
  });

  it('keeps the token out of its log and stops with exit 0', async () => {
    assert.ok(!output.includes(TOKEN), 'the token is not logged');
    assert.match(output, /"nudge queued"/);
    child?.kill('SIGTERM');
    assert.equal(await exited, 0, output.slice(-2000));
    child = undefined;
  });
});
