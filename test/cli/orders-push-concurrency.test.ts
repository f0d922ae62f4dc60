/**
 * `backfill orders` and `sync orders --once` push as many batches at once as `run` does
 * (`shipstation.pushConcurrency`), run as a user would: the real binary against both sandboxes on
 * 127.0.0.1. ShipStation's `createorders` answers after a fixed latency (a sandbox fault), so calls
 * made one after another arrive at least that far apart; the calls' arrival times in the sandbox's
 * own request log tell how many were in flight at once. The budget is kept (no 429).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { openEveryOrder, type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { runCli } from '../helpers/cli.js';
import { sandboxSecrets } from '../helpers/sandbox-connection.js';

const LATENCY_MS = 1500;
const CONCURRENCY = 3;

describe('orders commands push shipstation.pushConcurrency batches at once', () => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let cwd: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    shipstation = await startShipStationSandbox({
      port: 0,
      seed: 51,
      faults: [{ route: '/orders/createorders', method: 'POST', latencyMs: LATENCY_MS }],
    });
    syspro = await startSysproSandbox({ port: 0, seed: 51, orders: 700 });
    openEveryOrder(syspro.db);
    cwd = mkdtempSync(join(tmpdir(), 'mlc-push-concurrency-'));
    const document = sandboxConfigDocument('main', {
      shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as { connections: Array<Record<string, Record<string, unknown>>> };
    const connection = document.connections[0]!;
    connection.polls = { orders: '1m', shipments: 0, customers: 0 };
    connection.shipstation = { ...connection.shipstation, pushConcurrency: CONCURRENCY };
    writeFileSync(join(cwd, 'ml-connector.yaml'), stringify(document));
    env = sandboxSecrets(shipstation, syspro);
  });
  after(async () => {
    await shipstation?.close();
    await syspro?.close();
  });

  /** The createorders calls since `since` (request log index): how many, and the most in flight at once. */
  function creates(since: number): { calls: number; peak: number } {
    const at = shipstation
      .requests()
      .slice(since)
      .filter((r) => r.method === 'POST' && r.url.startsWith('/orders/createorders'))
      .map((r) => r.at);
    // A call arriving less than the latency after another came before that one could be answered.
    const peak = Math.max(0, ...at.map((t) => at.filter((u) => u >= t && u < t + LATENCY_MS).length));
    return { calls: at.length, peak };
  }

  const entered = () =>
    syspro.db.sorMaster.rows
      .map((r) => String(r.EntrySystemDate).slice(0, 10))
      .sort((a, b) => a.localeCompare(b));

  it('backfill orders runs up to pushConcurrency createorders at once', async () => {
    const dates = entered();
    const to = dates[Math.floor(dates.length / 2)]!;
    const since = shipstation.requests().length;
    const result = await runCli(['backfill', 'orders', '--from', dates[0]!, '--to', to], {
      cwd,
      env,
      timeoutMs: 120_000,
    });
    assert.ok(result.code === 0 || result.code === 1, result.stdout + result.stderr);
    const { calls, peak } = creates(since);
    assert.ok(calls > CONCURRENCY, `createorders calls: ${calls}\n${result.stdout}`);
    assert.equal(peak, CONCURRENCY, `${calls} createorders calls, ${peak} in flight at most`);
    assert.equal(shipstation.budget().v1.refused, 0, 'no 429: the limiter kept the budget');
  });

  it('sync orders --once runs up to pushConcurrency createorders at once', async () => {
    const since = shipstation.requests().length;
    const result = await runCli(['sync', 'orders', '--once'], { cwd, env, timeoutMs: 120_000 });
    assert.ok(result.code === 0 || result.code === 1, result.stdout + result.stderr);
    const { calls, peak } = creates(since);
    assert.ok(calls > CONCURRENCY, `createorders calls: ${calls}\n${result.stdout}`);
    assert.equal(peak, CONCURRENCY, `${calls} createorders calls, ${peak} in flight at most`);
    assert.equal(shipstation.budget().v1.refused, 0, 'no 429: the limiter kept the budget');
  });
});
