/**
 * The ShipStation budget the product's own clients get (`openConnectionClients`, used by `ping`,
 * the worker's flows and the HTTP server): one per key and API for the whole process, in the
 * database, so two callers, two connections on one key and two processes on one PostgreSQL database
 * spend one budget; V2 has its own (200/min); V1 learns its limit from `X-Rate-Limit-Limit`; a
 * partner key goes out as `x-partner`.
 *
 * The server here records requests and never answers 429, so what is measured is the limiter's own
 * throttling: with a budget of 3 per 1 s, six calls that share it take at least a window, six that
 * do not go out at once. Real time, bounded to about a second per case.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { systemClock } from '../../src/clock.js';
import { type ConnectionConfig, connectionSchema } from '../../src/config/schema.js';
import { openStore, type Store } from '../../src/store/open.js';
import { secretEnvName } from '../../src/store/secrets.js';
import { type ConnectionClients, openConnectionClients } from '../../src/sync/connection-clients.js';
import { forEachDialect } from '../helpers/dialects.js';

const WINDOW_MS = 1000;

interface Recorder {
  url: string;
  requests: Array<{ path: string; headers: IncomingHttpHeaders; at: number }>;
  /** Sent as `X-Rate-Limit-Limit` on V1 answers when set. */
  v1Limit?: number;
  close(): Promise<void>;
}

async function startRecorder(): Promise<Recorder> {
  const recorder = { requests: [] } as unknown as Recorder;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    recorder.requests.push({ path, headers: req.headers, at: Date.now() });
    res.setHeader('content-type', 'application/json');
    if (path.startsWith('/v2/')) {
      res.end(JSON.stringify({ inventory_warehouses: [], total: 0, page: 1, pages: 1, links: {} }));
      return;
    }
    if (recorder.v1Limit !== undefined) res.setHeader('X-Rate-Limit-Limit', String(recorder.v1Limit));
    res.end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  recorder.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  recorder.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return recorder;
}

function connection(name: string, url: string, shipstation: Record<string, unknown> = {}): ConnectionConfig {
  return connectionSchema.parse({
    name,
    syspro: {
      enetUrl: 'http://127.0.0.1:9/enet',
      odataUrl: 'http://127.0.0.1:9/odata',
      operator: 'ADMIN',
      company: 'EDU',
    },
    shipstation: {
      v1Url: url,
      v2Url: url,
      apiKey: 'secret:shipstation.apiKey',
      apiSecret: 'secret:shipstation.apiSecret',
      v2ApiKey: 'secret:shipstation.v2ApiKey',
      rateLimit: { limit: 3, window: WINDOW_MS },
      ...shipstation,
    },
  });
}

/** The same credentials for every connection named (so they share ShipStation keys). */
function env(key: string, names: string[]): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const n of names) {
    out[secretEnvName(n, 'shipstation.apiKey')] = `key-${key}`;
    out[secretEnvName(n, 'shipstation.apiSecret')] = `secret-${key}`;
    out[secretEnvName(n, 'shipstation.v2ApiKey')] = `v2-${key}`;
    out[secretEnvName(n, 'shipstation.partnerKey')] = `partner-${key}`;
  }
  return out;
}

forEachDialect('ShipStation budget of the product clients', (ctx) => {
  let recorder: Recorder;
  const opened: ConnectionClients[] = [];
  before(async () => {
    recorder = await startRecorder();
  });
  after(async () => {
    for (const c of opened) await c.close();
    await recorder?.close();
  });

  const open = async (store: Store, config: ConnectionConfig, vars: NodeJS.ProcessEnv) => {
    const clients = await openConnectionClients({
      connection: config,
      store,
      masterKey: () => {
        throw new Error('every secret comes from the environment here');
      },
      env: vars,
      clock: systemClock,
      shipstationRetry: { attempts: 1, rateLimitAttempts: 0 },
    });
    opened.push(clients);
    return clients;
  };

  /** Six V1 calls, three through each client at once; how long they took. */
  const sixCalls = async (a: ConnectionClients, b: ConnectionClients) => {
    const started = Date.now();
    await Promise.all([
      ...[1, 2, 3].map(() => a.shipstation!.listWarehouses()),
      ...[1, 2, 3].map(() => b.shipstation!.listWarehouses()),
    ]);
    return Date.now() - started;
  };

  it('ping and a flow (two opens), and two connections on one key, spend one budget', async () => {
    const vars = env('shared', ['a', 'b']);
    const ping = await open(ctx.store, connection('a', recorder.url), vars);
    const flow = await open(ctx.store, connection('a', recorder.url), vars);
    const elapsed = await sixCalls(ping, flow);
    assert.ok(elapsed >= WINDOW_MS, `six calls at 3 per window went out in ${elapsed} ms`);
    const other = await open(ctx.store, connection('b', recorder.url), vars);
    // The budget of the key is still spent by the calls above: connection b waits too.
    const started = Date.now();
    await Promise.all([1, 2, 3].map(() => other.shipstation!.listWarehouses()));
    assert.ok(Date.now() - started >= WINDOW_MS / 2, 'connection b on the same key got a budget of its own');
  });

  it('two processes on one database spend one budget', {
    // Two stores on one SQLite file in one process deadlock (better-sqlite3 waits for the lock
    // synchronously); OS processes sharing a SQLite budget are test/engine/rate-limiter.test.ts.
    skip: ctx.dialect === 'sqlite' ? 'two SQLite stores cannot share one process' : false,
  }, async () => {
    const second = openStore(ctx.url, { poolSize: 2 });
    try {
      const vars = env('processes', ['a']);
      const one = await open(ctx.store, connection('a', recorder.url), vars);
      const two = await open(second, connection('a', recorder.url), vars);
      const elapsed = await sixCalls(one, two);
      assert.ok(elapsed >= WINDOW_MS, `six calls at 3 per window went out in ${elapsed} ms`);
    } finally {
      await second.close();
    }
  });

  it("V2 has its own budget (200/min by default), not V1's", async () => {
    const clients = await open(ctx.store, connection('a', recorder.url), env('v2', ['a']));
    assert.ok(clients.shipstationV2);
    for (let i = 0; i < 3; i++) await clients.shipstation!.listWarehouses();
    const started = Date.now();
    for (let i = 0; i < 10; i++) await clients.shipstationV2.listInventoryWarehouses();
    const elapsed = Date.now() - started;
    // Held to V1's spent budget of 3 per window, ten calls would need at least three more windows;
    // on their own budget they go at once (the bound leaves room for a loaded machine).
    assert.ok(
      elapsed < 2.5 * WINDOW_MS,
      `ten V2 calls took ${elapsed} ms: they were held to V1's 3 per window`,
    );
  });

  it('V1 takes its limit from X-Rate-Limit-Limit, and sends the partner key as x-partner', async () => {
    recorder.v1Limit = 6;
    try {
      const clients = await open(
        ctx.store,
        connection('a', recorder.url, { partnerKey: 'secret:shipstation.partnerKey' }),
        env('partner', ['a']),
      );
      const before = recorder.requests.length;
      const started = Date.now();
      // The first answer says 6 per window: the configured 3 was only the assumption.
      for (let i = 0; i < 6; i++) await clients.shipstation!.listWarehouses();
      const elapsed = Date.now() - started;
      assert.ok(elapsed < WINDOW_MS, `six calls took ${elapsed} ms: the header did not raise the limit`);
      const sent = recorder.requests.slice(before);
      assert.deepEqual(
        sent.map((r) => r.headers['x-partner']),
        Array(6).fill('partner-partner'),
      );
    } finally {
      recorder.v1Limit = undefined;
    }
  });
});
