/**
 * ShipStation writes that may have happened are never sent again blindly. Over real HTTP against the
 * ShipStation sandbox, with the worker on a fake clock and a SQLite store: 100 V2 inventory
 * `increment`s (relative, not safe to repeat) are each answered 500 once — 50 after ShipStation
 * carried them out (a gateway between us and it answered 500: a small proxy in this test), 50 by the
 * sandbox's own `error` fault (nothing done) — and end with exactly one increment each, counted from
 * the sandbox's own stock levels. The handler reads the level before sending and leaves it as the
 * in-doubt evidence; the next attempt compares the level with it before sending again.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { withInDoubtEvidence } from '../../src/engine/errors.js';
import { checkInDoubt, handleEachJob } from '../../src/engine/handler.js';
import { Worker } from '../../src/engine/worker.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { createShipStationV2Client, type ShipStationV2Client } from '../../src/shipstation/v2/client.js';
import { enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { listJobs } from '../../src/store/jobs/queries.js';
import type { Store } from '../../src/store/open.js';
import { checkIncrement, isIncrementEvidence, readOnHand } from '../../src/sync/inventory-check.js';
import { FakeClock } from '../helpers/clock.js';
import { createTestStore } from '../helpers/dialects.js';
import { CountingLimiter } from '../shipstation/helpers.js';

const MIN = 60_000;
const retry = { cadence: [1 * MIN, 5 * MIN, 15 * MIN], perKind: {}, jitter: 0 };

/**
 * Forwards everything to the sandbox; the first `POST /v2/inventory` of each SKU in `loseAnswer` is
 * carried out by the sandbox and then answered 500, as a gateway that lost ShipStation's answer would.
 */
interface LosingProxy {
  url: string;
  /** POST /v2/inventory requests seen, by SKU. */
  posts: Map<string, number>;
  close(): Promise<void>;
}

async function startLosingProxy(target: string, loseAnswer: Set<string>): Promise<LosingProxy> {
  const posts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(
          ([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'connection',
        ),
      ) as Record<string, string>;
      const answer = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers,
        body: req.method === 'GET' ? undefined : body,
      });
      const text = await answer.text();
      let sku: string | undefined;
      if (req.method === 'POST' && req.url === '/v2/inventory') {
        sku = (JSON.parse(body.toString('utf8')) as { sku?: string }).sku;
        if (sku) posts.set(sku, (posts.get(sku) ?? 0) + 1);
      }
      if (sku && answer.ok && loseAnswer.delete(sku)) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            request_id: 'proxy',
            errors: [
              {
                error_source: 'shipstation',
                error_type: 'system',
                error_code: 'unspecified',
                message: 'upstream answer lost',
              },
            ],
          }),
        );
        return;
      }
      const out: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection')
          out[name] = value;
      });
      res.writeHead(answer.status, out);
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface IncrementPayload {
  sku: string;
  quantity: number;
}

describe('in-doubt ShipStation writes against the sandbox', () => {
  let clock: FakeClock;
  let sandbox: ShipStationSandbox;
  let proxy: LosingProxy;
  const loseAnswer = new Set<string>();
  let v2: ShipStationV2Client;
  let store: Store;
  let cleanup: () => Promise<void>;
  let locationId: string;

  before(async () => {
    clock = new FakeClock(Date.parse('2026-01-15T20:00:00Z'));
    sandbox = await startShipStationSandbox({
      port: 0,
      clock,
      seed: 31,
      backgroundTimers: false,
      webhookDelayMs: 0,
    });
    proxy = await startLosingProxy(sandbox.url, loseAnswer);
    v2 = createShipStationV2Client({
      baseUrl: proxy.url,
      apiKey: sandbox.v2ApiKey,
      limiter: new CountingLimiter(clock, 200),
      clock,
      timeoutMs: 5_000,
    });
    locationId = (await v2.listInventoryLocations())[0]!.inventory_location_id;
    ({ store, cleanup } = await createTestStore('sqlite'));
  });
  after(async () => {
    await proxy.close();
    await sandbox.close();
    await cleanup();
  });

  /** On-hand of a SKU at our location, from the sandbox's own state (not through the API). */
  function sandboxOnHand(sku: string): number {
    let total = 0;
    for (const line of sandbox.inventory.stock.values())
      if (line.sku === sku && line.locationId === locationId) total += line.onHand;
    return total;
  }

  const incrementHandler = () =>
    handleEachJob(
      'test.increment',
      async (job) => {
        const p = job.payload as IncrementPayload;
        const ref = { sku: p.sku, inventoryLocationId: locationId };
        const check = await checkInDoubt(job, 'ShipStation', async (inDoubt) =>
          isIncrementEvidence(inDoubt.evidence)
            ? checkIncrement(v2, { ...ref, quantity: p.quantity }, inDoubt.evidence)
            : { state: 'unknown', reason: 'no level was read before the increment' },
        );
        if (check.done) return { onHand: check.value.onHand, found: true };
        const onHandBefore = await readOnHand(v2, ref);
        try {
          await v2.modifyInventory({
            transaction_type: 'increment',
            sku: p.sku,
            quantity: p.quantity,
            inventory_location_id: locationId,
          });
        } catch (error) {
          throw withInDoubtEvidence(error, { onHandBefore });
        }
        return { onHand: onHandBefore + p.quantity, found: false };
      },
      { checksInDoubt: true },
    );

  it('100 increments answered 500 (50 carried out, 50 not) end with 100 effects and no doubles', async () => {
    const worker = new Worker({ store, clock, retry, handlers: [incrementHandler()] });
    const payloads: IncrementPayload[] = [];
    for (let i = 1; i <= 100; i++) payloads.push({ sku: `INDOUBT-${i}`, quantity: 5 });
    const enqueue = (batch: IncrementPayload[]) =>
      enqueueJobs(
        store,
        batch.map((payload) => ({ kind: 'test.increment', connection: 'main', payload })),
        clock.now(),
      );

    // 50 carried out by ShipStation, then answered 500 (the proxy).
    for (const p of payloads.slice(0, 50)) loseAnswer.add(p.sku);
    await enqueue(payloads.slice(0, 50));
    await worker.runUntilIdle();
    assert.equal(loseAnswer.size, 0, 'each of the 50 was answered 500 once');
    // 50 answered 500 by ShipStation itself, doing nothing (the sandbox's fault).
    sandbox.faults.add({ route: '/v2/inventory', method: 'POST', error: 1, times: 50 });
    await enqueue(payloads.slice(50));
    await worker.runUntilIdle();
    // (The limiter's waits move the fake clock, so retries may already have run here.)
    for (let round = 0; round < retry.cadence.length; round++) {
      clock.advance(retry.cadence[round] as number);
      await worker.runUntilIdle();
    }

    const jobs = await listJobs(store, { kind: 'test.increment', limit: 500 });
    assert.equal(jobs.length, 100);
    assert.deepEqual(
      jobs.map((j) => j.state),
      jobs.map(() => 'succeeded'),
    );
    for (const p of payloads) assert.equal(sandboxOnHand(p.sku), 5, `${p.sku}: incremented exactly once`);
    // Sent again only where the check found the first one absent.
    for (const p of payloads.slice(0, 50)) assert.equal(proxy.posts.get(p.sku), 1, `${p.sku} sent once`);
    for (const p of payloads.slice(50)) assert.equal(proxy.posts.get(p.sku), 2, `${p.sku} sent twice`);
    assert.ok(
      jobs.every((j) => j.inDoubt === null),
      'success cleared every mark',
    );
  });
});
