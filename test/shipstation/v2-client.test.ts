/** The V2 client and webhook verification against the ShipStation sandbox over real HTTP. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { ShipStationError } from '../../src/shipstation/errors.js';
import type { V2InventoryLevel } from '../../src/shipstation/types.js';
import { createShipStationV2Client, type ShipStationV2Client } from '../../src/shipstation/v2/client.js';
import { createWebhookVerifier } from '../../src/shipstation/v2/webhook-signature.js';
import { FakeClock } from '../helpers/clock.js';
import { CountingLimiter, type Receiver, startReceiver, waitUntil } from './helpers.js';

async function levels(
  client: ShipStationV2Client,
  query: Parameters<ShipStationV2Client['listInventory']>[0],
) {
  const all: V2InventoryLevel[] = [];
  for await (const page of client.listInventory(query)) all.push(...page.items);
  return all;
}

describe('ShipStation V2 client against the sandbox', () => {
  let clock: FakeClock;
  let sandbox: ShipStationSandbox;
  let limiter: CountingLimiter;
  let client: ShipStationV2Client;
  let receiver: Receiver;

  before(async () => {
    clock = new FakeClock(Date.parse('2026-01-15T20:00:00Z'));
    sandbox = await startShipStationSandbox({
      port: 0,
      clock,
      seed: 23,
      backgroundTimers: false,
      webhookDelayMs: 0,
    });
    receiver = await startReceiver();
    limiter = new CountingLimiter(clock, 200);
    client = createShipStationV2Client({
      baseUrl: sandbox.url,
      apiKey: sandbox.v2ApiKey,
      limiter,
      clock,
      timeoutMs: 5_000,
    });
  });
  after(async () => {
    await sandbox.close();
    await receiver.close();
  });

  it('reads inventory warehouses, locations and levels, page by page', async () => {
    const warehouses = await client.listInventoryWarehouses();
    assert.ok(warehouses.length > 0);
    const locations = await client.listInventoryLocations();
    assert.ok(locations.some((l) => l.name === 'Aisle A'));
    const all = await levels(client, { pageSize: 2 });
    assert.ok(all.length > 2, 'more than one page read');
    assert.ok(all.some((l) => l.sku === 'WID-100'));
  });

  it('sets a level with adjust, and a repeated adjust leaves it the same', async () => {
    const aisleA = (await client.listInventoryLocations()).find((l) => l.name === 'Aisle A')!;
    const tx = {
      transaction_type: 'adjust' as const,
      sku: 'WID-200',
      quantity: 37,
      inventory_location_id: aisleA.inventory_location_id,
    };
    await client.modifyInventory(tx);
    await client.modifyInventory(tx);
    const rows = await levels(client, {
      sku: 'WID-200',
      inventory_location_id: aisleA.inventory_location_id,
    });
    assert.equal(rows[0]?.on_hand, 37);
    const refused = await client
      .modifyInventory({ ...tx, transaction_type: 'decrement', quantity: 1000 })
      .catch((e: unknown) => e);
    assert.ok(refused instanceof ShipStationError);
    assert.equal(refused.kind, 'bad_request');
    assert.ok(refused.providerErrors && refused.providerErrors.length > 0);
    assert.match(refused.message, /only 37 on hand/);
  });

  it('waits out a V2 429 (Retry-After) and retries a 500', async () => {
    sandbox.faults.add({ route: '/v2/inventory_warehouses', rateLimited: 1, times: 1 });
    sandbox.faults.add({ route: '/v2/inventory_warehouses', error: 1, times: 1 });
    const start = clock.now();
    const blocks = limiter.blocks;
    assert.ok((await client.listInventoryWarehouses()).length > 0);
    assert.equal(limiter.blocks, blocks + 1);
    assert.ok(clock.now() - start >= 1_000);
  });

  it('reports a wrong API key as auth', async () => {
    const wrong = createShipStationV2Client({ baseUrl: sandbox.url, apiKey: 'TEST_wrong', limiter, clock });
    const error = await wrong.listInventoryWarehouses().catch((e: unknown) => e);
    assert.ok(error instanceof ShipStationError);
    assert.equal(error.kind, 'auth');
    assert.equal(error.status, 401);
  });

  it('verifies a webhook the sandbox signed, and refuses it when altered or stale', async () => {
    const response = await fetch(`${sandbox.url}/_sandbox/v2/webhooks/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${receiver.url}/hooks/v2`, event: 'track' }),
    });
    assert.equal(response.status, 200);
    await waitUntil(() => receiver.requests.some((r) => r.url === '/hooks/v2'));
    const delivery = receiver.requests.find((r) => r.url === '/hooks/v2')!;
    const verifier = createWebhookVerifier({ clock, jwksUrl: sandbox.jwksUrl });
    const ok = await verifier.verify({ headers: delivery.headers, rawBody: delivery.body });
    assert.equal(ok.ok, true);

    const altered = Buffer.from(delivery.body.toString('utf8').replace('TRACK', 'BATCH'));
    const bad = await verifier.verify({ headers: delivery.headers, rawBody: altered });
    assert.equal(bad.ok ? 'ok' : bad.reason, 'bad_signature');

    clock.advance(5 * 60_000 + 1_000);
    const stale = await verifier.verify({ headers: delivery.headers, rawBody: delivery.body });
    assert.equal(stale.ok ? 'ok' : stale.reason, 'stale_timestamp');
  });
});
