/**
 * Scale-out on PostgreSQL: K `ml-connector run` processes (K = 1, 2, 3) on one database serve C
 * connections, each a pair of sandbox accounts (its own ShipStation account and key, its own SYSPRO
 * company), all hosted by this process (one HTTP server per account, as every account of the real
 * services has its own credentials and budget). Each connection has O open SYSPRO orders; the
 * figure is how long until every order of every connection is in its ShipStation account.
 *
 *   npm run bench:scale-out              (TEST_DATABASE_URL or BENCH_DATABASE_URL: a PostgreSQL server)
 *   BENCH_CONNECTIONS=50 BENCH_ORDERS=200 BENCH_PROCESSES=1,2,3 BENCH_KILL=1 npm run bench:scale-out
 *   BENCH_SHIPSTATION_LATENCY_MS=500 BENCH_SYSPRO_LATENCY_MS=100 npm run bench:scale-out
 *
 * Latency: the sandboxes answer on the spot (a millisecond), so without added latency the run
 * measures CPU (of the connector, PostgreSQL and the 100 sandbox servers on one machine), not the
 * connector. Real ShipStation answers in hundreds of ms (a `createorders` of 100 orders more) and a
 * site's SYSPRO OData over its network in tens to hundreds, so every request to the sandboxes waits
 * a fixed `BENCH_SHIPSTATION_LATENCY_MS` (default 400) and `BENCH_SYSPRO_LATENCY_MS` (default 80,
 * OData and e.net) before it is handled; `0` turns it off. A process runs one batch of a kind at
 * a time, so with latency its throughput is latency bound and more processes add batches in flight.
 *
 * For each K it prints the wall time and orders/s, each process's share of the ShipStation calls
 * (from its own /metrics), the requests each key sent and the 429s the ShipStation sandboxes
 * answered for a used-up window (the budget, counted by the sandbox: 0 means no key's budget was
 * exceeded across the processes). With BENCH_KILL=1, in each run with K > 1 one process is
 * SIGKILLed once a third of the orders are in, and not restarted: the others finish its work (its
 * leases expire after `jobLease`), and the run checks from the sandboxes that every order is in its
 * account exactly once and that no job is dead.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sandboxConfigDocument } from '../src/cli/commands/sandbox.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../src/sandbox/shipstation/index.js';
import { openEveryOrder, type SysproSandbox, startSysproSandbox } from '../src/sandbox/syspro/index.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { openStore } from '../src/store/open.js';
import { ConnectorProcess } from '../test/chaos/connector.js';
import { createPgDatabase } from '../test/helpers/dialects.js';

const PG = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ORDERS = Number(process.env.BENCH_ORDERS ?? 200);
const PROCESSES = (process.env.BENCH_PROCESSES ?? '1,2,3').split(',').map(Number);
const KILL = process.env.BENCH_KILL !== '0';
const SHIPSTATION_LATENCY_MS = Number(process.env.BENCH_SHIPSTATION_LATENCY_MS ?? 400);
const SYSPRO_LATENCY_MS = Number(process.env.BENCH_SYSPRO_LATENCY_MS ?? 80);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 900) * 1000;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Pair {
  name: string;
  shipstation: ShipStationSandbox;
  syspro: SysproSandbox;
}

function inShipStation(pair: Pair): number {
  let n = 0;
  for (const o of pair.shipstation.state.orders.values())
    if (o.orderKey.startsWith(`${pair.syspro.company}:`)) n++;
  return n;
}

function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm')))
    sum += Number(m[1]);
  return sum;
}

async function runWith(k: number) {
  const pairs: Pair[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const name = `c${String(i + 1).padStart(2, '0')}`;
    const shipstation = await startShipStationSandbox({
      port: 0,
      seed: 100 + i,
      autoShip: false,
      faults: SHIPSTATION_LATENCY_MS > 0 ? [{ latencyMs: SHIPSTATION_LATENCY_MS, latencyRate: 1 }] : [],
    });
    const syspro = await startSysproSandbox({
      port: 0,
      seed: 100 + i,
      orders: ORDERS,
      company: `CO${i + 1}`,
      faults: SYSPRO_LATENCY_MS > 0 ? { latencyMs: SYSPRO_LATENCY_MS } : {},
    });
    openEveryOrder(syspro.db);
    // Held back until every process is up (see below), so the figure is not the processes' start.
    for (const header of syspro.db.sorMaster.rows) header.OrderStatus = '9';
    pairs.push({ name, shipstation, syspro });
  }
  const { url, drop } = await createPgDatabase(PG as string);
  const store = openStore(url);
  await migrateToLatest(store);
  const dir = mkdtempSync(join(tmpdir(), 'mlc-scale-out-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  const connections = pairs.map((pair) => {
    const document = sandboxConfigDocument(pair.name, {
      shipstation: { url: pair.shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...pair.syspro, enetUrl: pair.syspro.enetUrl },
    }) as { connections: Array<Record<string, Record<string, unknown>>> };
    const c = document.connections[0]!;
    c.polls = { orders: '5s', shipments: 0, customers: 0 };
    const up = pair.name.toUpperCase();
    env[`ML_CONNECTOR_SECRET_${up}_SYSPRO_OPERATORPASSWORD`] = pair.syspro.operatorPassword;
    env[`ML_CONNECTOR_SECRET_${up}_SYSPRO_COMPANYPASSWORD`] = pair.syspro.companyPassword;
    env[`ML_CONNECTOR_SECRET_${up}_SHIPSTATION_APIKEY`] = pair.shipstation.apiKey;
    env[`ML_CONNECTOR_SECRET_${up}_SHIPSTATION_APISECRET`] = pair.shipstation.apiSecret;
    env[`ML_CONNECTOR_SECRET_${up}_SHIPSTATION_V2APIKEY`] = pair.shipstation.v2ApiKey;
    return c;
  });
  const configFile = join(dir, 'ml-connector.yaml');
  writeFileSync(
    configFile,
    stringify({
      store: { url },
      http: { host: '127.0.0.1', port: 0 },
      jobLease: '10s',
      log: { level: 'warn' },
      connections,
    }),
  );
  const processes: Array<{ proc: ConnectorProcess; port: number }> = [];
  for (let i = 0; i < k; i++) {
    const port = await freePort();
    processes.push({
      port,
      proc: new ConnectorProcess({
        configFile,
        cwd: dir,
        env: { ...env, ML_CONNECTOR_HTTP__PORT: String(port) },
        logFile: join(dir, `connector-${i + 1}.log`),
        healthUrl: `http://127.0.0.1:${port}/healthz`,
      }),
    });
  }
  const total = CONNECTIONS * ORDERS;
  const expected = pairs.reduce((n, p) => n + p.syspro.db.sorMaster.rows.length, 0);
  try {
    // Start every process, let each run a first (empty) poll, then open the orders: the clock
    // measures the work, not how long `run` takes to start on a loaded machine.
    await Promise.all(processes.map((p) => p.proc.start()));
    await new Promise((r) => setTimeout(r, 2_000));
    for (const pair of pairs) for (const header of pair.syspro.db.sorMaster.rows) header.OrderStatus = '1';
    const started = Date.now();
    let killed: number | undefined;
    let done = 0;
    for (;;) {
      done = pairs.reduce((n, p) => n + inShipStation(p), 0);
      if (done >= expected) break;
      if (Date.now() - started > TIMEOUT_MS)
        throw new Error(`timed out with ${done} of ${expected} orders in`);
      if (KILL && k > 1 && killed === undefined && done >= expected / 3) {
        killed = k - 1;
        await processes[killed]!.proc.kill();
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const wallMs = Date.now() - started;
    const calls: number[] = [];
    for (const [i, p] of processes.entries()) {
      if (i === killed) {
        calls.push(Number.NaN);
        continue;
      }
      const text = await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text();
      calls.push(metricSum(text, 'mlc_shipstation_call_duration_seconds_count'));
    }
    const refused = pairs.reduce((n, p) => n + p.shipstation.budget().v1.refused, 0);
    const perKey = pairs.map((p) => p.shipstation.budget().v1.admitted);
    let doubled = 0;
    for (const p of pairs) {
      const keys = new Set<string>();
      for (const o of p.shipstation.state.orders.values()) {
        if (keys.has(o.orderKey)) doubled++;
        keys.add(o.orderKey);
      }
    }
    const odata = pairs.reduce((n, p) => n + p.syspro.odataRequests.count(), 0);
    const polls = await store.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('kind', '=', 'orders.poll')
      .where('state', '=', 'succeeded')
      .executeTakeFirst();
    const dead = await store.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'dead')
      .executeTakeFirst();
    await Promise.all(processes.map((p) => p.proc.stop()));
    return {
      k,
      total,
      expected,
      done,
      wallMs,
      calls,
      killed,
      refused,
      perKeyMax: Math.max(...perKey),
      doubled,
      dead: Number(dead?.n ?? 0),
      odataPerConnection: odata / CONNECTIONS,
      pollsPerConnection: Number(polls?.n ?? 0) / CONNECTIONS,
    };
  } finally {
    for (const p of processes) p.proc.close();
    await store.close();
    if (process.env.BENCH_KEEP === '1') console.log(`kept ${url} and ${dir}`);
    else await drop();
    for (const pair of pairs) {
      await pair.shipstation.close();
      await pair.syspro.close();
    }
    if (process.env.BENCH_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!PG) {
    console.log('scale-out skipped: set TEST_DATABASE_URL (or BENCH_DATABASE_URL) to a PostgreSQL server');
    return;
  }
  console.log(
    `scale-out: ${CONNECTIONS} connections × ${ORDERS} open orders, ShipStation 40 requests per 60 s per key, latency ShipStation ${SHIPSTATION_LATENCY_MS} ms, SYSPRO ${SYSPRO_LATENCY_MS} ms, processes ${PROCESSES.join(', ')}${KILL ? ', one process SIGKILLed a third of the way when K > 1' : ''}; load average ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}`,
  );
  let failed = false;
  for (const k of PROCESSES) {
    const r = await runWith(k);
    const rate = r.done / (r.wallMs / 1000);
    const shares = r.calls.map((c, i) => (i === r.killed ? 'killed' : String(c))).join(' / ');
    const ok = r.doubled === 0 && r.dead === 0 && r.refused === 0 && r.done === r.expected;
    if (!ok) failed = true;
    console.log(
      `scale-out: ${k} process${k > 1 ? 'es' : ''}  ${String(r.done).padStart(6)} orders in ${(r.wallMs / 1000).toFixed(1).padStart(6)} s  ${rate.toFixed(0).padStart(5)} orders/s  ShipStation calls per process ${shares}  most requests by one key ${r.perKeyMax}  429s for a used-up window ${r.refused}  doubled ${r.doubled}  dead jobs ${r.dead}  per connection ${r.pollsPerConnection.toFixed(1)} polls, ${r.odataPerConnection.toFixed(0)} OData requests  ${ok ? 'ok' : 'FAILED'}`,
    );
  }
  console.log(
    `load average at the end ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}`,
  );
  process.exit(failed ? 1 : 0);
}

await main();
