/**
 * Not sent, rejected or in doubt: what each transport says about a failed request, over real HTTP
 * against the sandboxes (and a closed port), and what `classifyError` makes of it. `inDoubt` (the
 * worker's "check before sending again") is true exactly for a write that may have happened.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { classifyError } from '../../src/engine/errors.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { ShipStationError } from '../../src/shipstation/errors.js';
import { createShipStationV2Client } from '../../src/shipstation/v2/client.js';
import { createEnetClient } from '../../src/syspro/enet-client.js';
import { SysproError } from '../../src/syspro/errors.js';
import { FakeClock } from '../helpers/clock.js';
import { CountingLimiter } from '../shipstation/helpers.js';

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}

function verdict(error: unknown) {
  const v = classifyError(error);
  return {
    delivery: (error as { delivery?: unknown }).delivery,
    retryable: (error as { retryable?: unknown }).retryable,
    inDoubt: v.inDoubt,
  };
}

describe('SYSPRO e.net: not sent, rejected, in doubt', () => {
  let clock: FakeClock;
  let sandbox: SysproSandbox;
  const DISPATCH_PARAMS =
    '<PostDispatchNotes><Parameters><ValidateOnly>N</ValidateOnly></Parameters></PostDispatchNotes>';
  const DISPATCH =
    '<PostDispatchNotes><DispatchNote><DispatchHeader><SalesOrder>999999</SalesOrder></DispatchHeader></DispatchNote></PostDispatchNotes>';

  before(async () => {
    clock = new FakeClock(Date.parse('2026-01-15T20:00:00Z'));
    sandbox = await startSysproSandbox({ port: 0, clock, seed: 3, orders: 20, logger: false });
  });
  after(() => sandbox.close());

  const client = (timeoutMs = 5000, baseUrl = sandbox.enetUrl) =>
    createEnetClient({
      baseUrl,
      operator: sandbox.operator,
      operatorPassword: sandbox.operatorPassword,
      company: sandbox.company,
      companyPassword: sandbox.companyPassword,
      clock,
      timeoutMs,
    });

  it('a post whose answer is lost is in doubt and not retryable; a lost query is retryable', async () => {
    const c = client();
    sandbox.setFaults({ failures: [{ target: 'SORTDN', rate: 1, kind: 'lost' }] });
    const post = await caught(c.post('SORTDN', DISPATCH_PARAMS, DISPATCH));
    assert.ok(post instanceof SysproError);
    assert.deepEqual(verdict(post), { delivery: 'in-doubt', retryable: false, inDoubt: true });
    assert.match(post.message, /may have been carried out: check SYSPRO/);
    sandbox.setFaults({ failures: [{ target: 'SORQRY', rate: 1, kind: 'lost' }] });
    const query = await caught(
      c.query('SORQRY', '<Query><Key><SalesOrder>000001</SalesOrder></Key></Query>'),
    );
    assert.deepEqual(verdict(query), { delivery: 'in-doubt', retryable: true, inDoubt: false });
    sandbox.setFaults({});
    await c.close();
  });

  it('a post that hangs past the timeout is in doubt (the hang fault)', async () => {
    const c = client(400);
    sandbox.setFaults({ failures: [{ target: 'SORTDN', rate: 1, kind: 'hang' }] });
    const post = await caught(c.post('SORTDN', DISPATCH_PARAMS, DISPATCH));
    assert.equal((post as SysproError).kind, 'timeout');
    assert.deepEqual(verdict(post), { delivery: 'in-doubt', retryable: false, inDoubt: true });
    sandbox.setFaults({});
    await c.close();
  });

  it('a post answered HTTP 500 is in doubt; 503 from HTTP.sys was not sent', async () => {
    const c = client();
    sandbox.setFaults({ failures: [{ target: 'SORTDN', rate: 1, kind: 'http500' }] });
    assert.deepEqual(verdict(await caught(c.post('SORTDN', DISPATCH_PARAMS, DISPATCH))), {
      delivery: 'in-doubt',
      retryable: false,
      inDoubt: true,
    });
    sandbox.setFaults({ maintenance: 'down' });
    assert.deepEqual(verdict(await caught(c.post('SORTDN', DISPATCH_PARAMS, DISPATCH))), {
      delivery: 'not-sent',
      retryable: true,
      inDoubt: false,
    });
    sandbox.setFaults({});
    await c.close();
  });

  it('an ERROR text is rejected; a logon that fails before the post means the post was not sent', async () => {
    const c = client();
    sandbox.setFaults({ failures: [{ target: 'SORTDN', rate: 1, kind: 'error' }] });
    assert.deepEqual(verdict(await caught(c.post('SORTDN', DISPATCH_PARAMS, DISPATCH))), {
      delivery: 'rejected',
      retryable: false,
      inDoubt: false,
    });
    // The logon's answer is lost: a session may exist, but the post never went out.
    sandbox.setFaults({ failures: [{ target: 'LOGON', rate: 1, kind: 'lost' }] });
    const post = await caught(c.post('SORTDN', DISPATCH_PARAMS, DISPATCH));
    assert.equal((post as SysproError).endpoint, 'Logon');
    assert.deepEqual(verdict(post), { delivery: 'not-sent', retryable: true, inDoubt: false });
    sandbox.setFaults({});
    await c.close();
  });

  it('a closed port and a URL too long are not sent', async () => {
    const refused = client(5000, await closedPortUrl());
    assert.deepEqual(verdict(await caught(refused.post('SORTDN', DISPATCH_PARAMS, DISPATCH))), {
      delivery: 'not-sent',
      retryable: true,
      inDoubt: false,
    });
    await refused.close();
    const c = client();
    const tooLong = await caught(c.post('SORTDN', DISPATCH_PARAMS, `<X>${'x'.repeat(20_000)}</X>`));
    assert.equal((tooLong as SysproError).kind, 'request-too-large');
    assert.equal((tooLong as SysproError).delivery, 'not-sent');
    assert.equal(classifyError(tooLong).inDoubt, false);
    await c.close();
  });
});

describe('ShipStation: not sent, rejected, in doubt', () => {
  let clock: FakeClock;
  let sandbox: ShipStationSandbox;
  let locationId: string;

  before(async () => {
    clock = new FakeClock(Date.parse('2026-01-15T20:00:00Z'));
    sandbox = await startShipStationSandbox({
      port: 0,
      clock,
      seed: 5,
      backgroundTimers: false,
      webhookDelayMs: 0,
    });
    locationId = (await v2().listInventoryLocations())[0]!.inventory_location_id;
  });
  after(() => sandbox.close());

  function v2(baseUrl = sandbox.url, timeoutMs = 5000) {
    return createShipStationV2Client({
      baseUrl,
      apiKey: sandbox.v2ApiKey,
      limiter: new CountingLimiter(clock, 200),
      clock,
      timeoutMs,
      retry: { attempts: 1, baseMs: 1, maxMs: 1, rateLimitAttempts: 0 },
    });
  }
  const increment = () => ({
    transaction_type: 'increment' as const,
    sku: 'CLASSIFY-1',
    quantity: 1,
    inventory_location_id: locationId,
  });

  it('an increment answered 500 is in doubt; a GET answered 500 is in doubt but retryable', async () => {
    sandbox.faults.add({ route: '/v2/inventory', error: 1, times: 2 });
    const post = await caught(v2().modifyInventory(increment()));
    assert.ok(post instanceof ShipStationError);
    assert.deepEqual(verdict(post), { delivery: 'in-doubt', retryable: false, inDoubt: true });
    const list = await caught(v2().listInventory({}).next());
    assert.deepEqual(verdict(list), { delivery: 'in-doubt', retryable: true, inDoubt: false });
  });

  it('an increment that hangs past the timeout is in doubt (the hang fault)', async () => {
    sandbox.faults.add({ route: '/v2/inventory', method: 'POST', hang: 1, times: 1 });
    const post = await caught(v2(sandbox.url, 400).modifyInventory(increment()));
    assert.equal((post as ShipStationError).kind, 'timeout');
    assert.deepEqual(verdict(post), { delivery: 'in-doubt', retryable: false, inDoubt: true });
  });

  it('a refused decrement is rejected; a 429 and a closed port are not sent', async () => {
    const refused = await caught(
      v2().modifyInventory({ ...increment(), transaction_type: 'decrement', quantity: 10_000 }),
    );
    assert.deepEqual(verdict(refused), { delivery: 'rejected', retryable: false, inDoubt: false });
    sandbox.faults.add({ route: '/v2/inventory', method: 'POST', rateLimited: 1, times: 1 });
    const limited = await caught(v2().modifyInventory(increment()));
    assert.equal((limited as ShipStationError).kind, 'rate_limited');
    assert.deepEqual(verdict(limited), { delivery: 'not-sent', retryable: true, inDoubt: false });
    const down = await caught(v2(await closedPortUrl()).modifyInventory(increment()));
    assert.equal((down as ShipStationError).kind, 'unreachable');
    assert.deepEqual(verdict(down), { delivery: 'not-sent', retryable: true, inDoubt: false });
  });
});
