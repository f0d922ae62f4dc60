/**
 * `pingConnection`'s one SYSPRO deadline on the ping's own clock: against a SYSPRO sandbox whose
 * requests hang, the checks end when the clock passes `timeoutMs` once (no real waiting: the
 * per-request timeout is 10 minutes of real time and never fires here), each SYSPRO request is
 * sent once (counted by the sandbox), and ShipStation is still checked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { configSchema } from '../../src/config/schema.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import type { Store } from '../../src/store/open.js';
import { type CheckResult, pingConnection } from '../../src/sync/ping.js';
import { FakeClock } from '../helpers/clock.js';
import { createTestStore } from '../helpers/dialects.js';
import { waitFor } from '../helpers/run-process.js';
import { sandboxSecrets } from '../helpers/sandbox-connection.js';

const TEN_MINUTES = 600_000;

describe('pingConnection against a hung SYSPRO, on a fake clock', () => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let store: Store;
  let cleanup: () => Promise<void>;

  before(async () => {
    shipstation = await startShipStationSandbox({ port: 0, seed: 3 });
    syspro = await startSysproSandbox({ port: 0, seed: 3, orders: 5, faults: { maintenance: 'hang' } });
    ({ store, cleanup } = await createTestStore('sqlite'));
  });
  after(async () => {
    await shipstation?.close();
    await syspro?.close();
    await cleanup?.();
  });

  it('every SYSPRO check times out when the clock passes the one deadline', { timeout: 20_000 }, async () => {
    const config = configSchema.parse(
      sandboxConfigDocument('main', {
        shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
        syspro: { ...syspro, enetUrl: syspro.enetUrl },
      }),
    );
    const connection = config.connections[0]!;
    const clock = new FakeClock(Date.now(), { autoAdvance: false });
    const pinging = pingConnection({
      config,
      connection,
      store,
      masterKey: () => {
        throw new Error('secrets come from the environment here');
      },
      env: sandboxSecrets(shipstation, syspro),
      clock,
      timeoutMs: TEN_MINUTES,
    });
    // The logon and one read per table reach the sandbox and hang there.
    const tables = ['SorMaster', 'SorDetail', 'ArCustomer'];
    await waitFor(
      () => (syspro.faultsFired()['maintenance:hang'] ?? 0) === 1 + tables.length,
      'the SYSPRO requests to hang',
    );
    clock.advance(TEN_MINUTES);
    const results = new Map<string, CheckResult>((await pinging).map((r) => [r.check, r]));

    for (const check of ['syspro e.net logon', ...tables.map((t) => `syspro odata ${t}`)]) {
      assert.equal(results.get(check)?.kind, 'timeout', `${check}: ${results.get(check)?.detail}`);
      assert.match(results.get(check)?.detail ?? '', /^timed out: SYSPRO did not answer within 10m/);
      assert.equal(results.get(check)?.ms, TEN_MINUTES, 'on the ping clock');
    }
    assert.equal(results.get('syspro business objects')?.verdict, 'skip');
    assert.equal(results.get('shipstation v1 auth')?.verdict, 'pass', 'ShipStation is still checked');
    assert.equal(syspro.faultsFired()['maintenance:hang'], 1 + tables.length, 'nothing sent again');
    // Listed in the fixed order, whatever order they ended in.
    assert.deepEqual(
      [...results.keys()].filter((c) => c.startsWith('syspro')),
      ['syspro e.net logon', 'syspro business objects', ...tables.map((t) => `syspro odata ${t}`)],
    );
  });
});
