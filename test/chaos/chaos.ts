/**
 * The chaos suite: `ml-connector run` (a child process) backfills N SYSPRO orders into ShipStation
 * and writes a storm of M ShipStation labels back to SYSPRO while faults are injected, then the
 * suite checks from the sandboxes' own records that nothing was lost, doubled or changed.
 *
 *   npm run test:chaos                        full size: 10,000 orders, 5,000 shipments
 *   npm run test:chaos -- --size ci           what CI runs (400 orders, 200 shipments)
 *   npm run test:chaos -- --orders 2000 --shipments 1000 --seed 42 --store sqlite|postgres|both
 *
 * PostgreSQL runs when TEST_DATABASE_URL is set (`--store both`, the default, then runs SQLite and
 * PostgreSQL one after the other). Exit 0 only when every run lost and doubled nothing.
 *
 * The sandboxes run in this process, the connector in its own: a SIGKILL takes the connector down
 * and leaves ShipStation and SYSPRO (and their records) as they were. Faults while the work runs:
 * - the connector SIGKILLed at random moments (at least 5 times) and started again;
 * - ShipStation: 500s, 429s (with budget left), hangs and added latency on about 20% of API calls,
 *   and 20% of webhook deliveries dropped (the shipments poll has to find those labels);
 * - SYSPRO: maintenance stretches (503, then the port closed), 10% of SORTDN posts take effect with
 *   the answer lost, some OData reads answering 500, and a person logging on with the connector's
 *   operator now and then (which ends the connector's e.net session).
 * Then the faults stop, the connector finishes what is queued, and it is stopped with SIGTERM.
 *
 * The random decisions (fault rolls, when to kill, what to label) come from one seeded random:
 * the seed is printed, and `--seed` repeats it (the timing of real processes still varies).
 *
 * ShipStation's budget is raised for the run (120 requests per 10 s instead of 40 per minute) so
 * that a 10,000-order run takes minutes rather than an hour; the budget itself is proved by the
 * rate-limiter tests and bench:orders, not here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { SeededRandom } from '../../src/sandbox/random.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { openEveryOrder, type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { openStore, type Store } from '../../src/store/open.js';
import { runCli } from '../helpers/cli.js';
import { createPgDatabase } from '../helpers/dialects.js';
import { ConnectorProcess } from './connector.js';
import { type Verdict, verdictPassed, verify } from './verify.js';

interface Options {
  orders: number;
  shipments: number;
  seed: number;
  kills: number;
  stores: Array<'sqlite' | 'postgres'>;
  /** Seconds between kills: [min, max]. */
  killGap: [number, number];
  /** Seconds between two logons of a person with the connector's operator: [min, max]. */
  evictionGap: [number, number];
  maintenanceMs: number;
  pollSeconds: number;
  timeoutMs: number;
  /** Most orders in one label batch (one SHIP_NOTIFY each). */
  labelBatch: number;
  /** Share of SORTDN posts whose answer is lost after they took effect. */
  lostRate: number;
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const [k, inline] = a.slice(2).split('=', 2);
    const value = inline ?? (argv[i + 1]?.startsWith('--') === false ? argv[++i]! : 'true');
    args.set(k!, value);
  }
  const ci = args.get('size') === 'ci';
  const num = (k: string, d: number) => (args.has(k) ? Number(args.get(k)) : d);
  const pg = process.env.TEST_DATABASE_URL;
  const storeArg = args.get('store') ?? 'both';
  const stores: Options['stores'] =
    storeArg === 'both' ? (pg ? ['sqlite', 'postgres'] : ['sqlite']) : [storeArg as 'sqlite' | 'postgres'];
  if (stores.includes('postgres') && !pg) throw new Error('--store postgres needs TEST_DATABASE_URL');
  if (storeArg === 'both' && !pg) {
    if (process.env.CI === 'true') throw new Error('CI=true but TEST_DATABASE_URL is not set');
    console.log('TEST_DATABASE_URL not set: PostgreSQL run skipped');
  }
  const orders = num('orders', ci ? 400 : 10_000);
  return {
    orders,
    shipments: num('shipments', ci ? 200 : 5_000),
    seed: num('seed', Math.floor(Math.random() * 1e9)),
    kills: Math.max(5, num('kills', ci ? 5 : 8)),
    stores,
    killGap: ci ? [2, 5] : [15, 45],
    evictionGap: ci ? [3, 12] : [10, 40],
    maintenanceMs: num('maintenance-ms', ci ? 6_000 : 30_000),
    pollSeconds: num('poll-seconds', ci ? 3 : 10),
    timeoutMs: num('timeout-seconds', ci ? 240 : 3600) * 1000,
    labelBatch: num('label-batch', ci ? 8 : 35),
    // A CI run posts few SORTDNs (many notes to a post), so more of them lose their answer.
    lostRate: num('lost-rate', ci ? 0.3 : 0.1),
    keep: args.get('keep') === 'true',
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Injected {
  kills: number;
  maintenance: Array<{ mode: string; ms: number }>;
  evictions: number;
  labels: number;
  labelBatches: number;
}

async function runOnce(
  options: Options,
  storeKind: 'sqlite' | 'postgres',
): Promise<{
  verdict: Verdict;
  injected: Injected;
  ss: Record<string, number>;
  sp: Record<string, number>;
  wallMs: number;
  logFile: string;
}> {
  const random = new SeededRandom(options.seed);
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), `mlc-chaos-${storeKind}-`));
  const log = (msg: string) => console.log(`[${storeKind} ${secs(Date.now() - started).padStart(7)}] ${msg}`);

  // The sandboxes (in this process).
  const shipstation: ShipStationSandbox = await startShipStationSandbox({
    port: 0,
    seed: options.seed,
    rateLimit: { limit: 120, windowMs: 10_000 },
    webhookDelayMs: 300,
    webhookRetryDelaysMs: [2_000, 5_000, 15_000, 30_000],
    webhookTimeoutMs: 5_000,
    autoShip: false,
  });
  const syspro: SysproSandbox = await startSysproSandbox({
    port: 0,
    seed: options.seed,
    orders: options.orders,
  });
  openEveryOrder(syspro.db);
  const shipQtyAtStart = new Map<string, number>();
  for (const line of syspro.db.sorDetail.rows) {
    shipQtyAtStart.set(`${line.SalesOrder}/${line.SalesOrderLine}`, Number(line.MShipQty ?? 0));
  }

  // The store.
  let storeUrl: string;
  let dropDb: (() => Promise<void>) | undefined;
  if (storeKind === 'sqlite') storeUrl = `sqlite:${join(dir, 'chaos.db')}`;
  else {
    const created = await createPgDatabase(process.env.TEST_DATABASE_URL as string);
    storeUrl = created.url;
    dropDb = created.drop;
  }
  const store: Store = openStore(storeUrl);
  await migrateToLatest(store);

  // The connector's configuration.
  const port = await freePort();
  const document = sandboxConfigDocument('main', {
    shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
    syspro: { ...syspro, enetUrl: syspro.enetUrl },
  }) as { connections: Array<Record<string, Record<string, unknown>>> } & Record<string, unknown>;
  document.store = { url: storeUrl };
  document.http = { host: '127.0.0.1', port, publicUrl: `http://127.0.0.1:${port}` };
  document.shutdownTimeout = '5s';
  document.jobLease = '5s';
  document.log = { level: 'info' };
  // Long enough that no outage of the run makes a job dead (about 8 minutes in all).
  document.retry = {
    cadence: ['1s', '2s', '5s', '10s', '20s', '30s', '60s', '60s', '60s', '60s', '120s'],
    jitter: 0.2,
  };
  const connection = document.connections[0]!;
  connection.polls = {
    orders: `${options.pollSeconds}s`,
    shipments: `${options.pollSeconds}s`,
    customers: 0,
  };
  connection.shipstation = {
    ...connection.shipstation,
    webhookSecret: 'secret:shipstation.webhookSecret',
    rateLimit: { limit: 120, window: '10s' },
    requestTimeout: '5s',
  };
  connection.syspro = { ...connection.syspro, requestTimeout: '10s' };
  const configFile = join(dir, 'ml-connector.yaml');
  writeFileSync(configFile, stringify(document));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ML_CONNECTOR_SECRET_MAIN_SYSPRO_OPERATORPASSWORD: syspro.operatorPassword,
    ML_CONNECTOR_SECRET_MAIN_SYSPRO_COMPANYPASSWORD: syspro.companyPassword,
    ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: shipstation.apiKey,
    ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: shipstation.apiSecret,
    ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_V2APIKEY: shipstation.v2ApiKey,
    ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_WEBHOOKSECRET: 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00',
  };
  const logFile = join(dir, 'connector.log');
  let passed = false;
  const connector = new ConnectorProcess({
    configFile,
    cwd: dir,
    env,
    logFile,
    healthUrl: `http://127.0.0.1:${port}/healthz`,
  });
  const injected: Injected = { kills: 0, maintenance: [], evictions: 0, labels: 0, labelBatches: 0 };

  try {
    await connector.start();
    const subscribed = await runCli(['webhooks', 'subscribe'], { cwd: dir, env });
    if (subscribed.code !== 0)
      throw new Error(`webhooks subscribe failed: ${subscribed.stdout}${subscribed.stderr}`);
    log(`connector pid ${connector.pid} on :${port}, webhooks subscribed; faults on`);

    // Faults on.
    shipstation.faults.resetCounts();
    shipstation.faults.add({ error: 0.06, rateLimited: 0.06, hang: 0.02 });
    shipstation.faults.add({ latencyMs: 1500, latencyRate: 0.06 });
    shipstation.faults.add({ dropWebhook: 0.2 });
    syspro.setFaults({
      failures: [
        { target: 'SORTDN', rate: options.lostRate, kind: 'lost' },
        { target: 'ODATA', rate: 0.03, kind: 'http500' },
      ],
    });
    const sysproBefore = syspro.faultsFired();

    const ourOrders = () =>
      [...shipstation.state.orders.values()].filter((o) => o.orderKey.startsWith(`${syspro.company}:`));
    const labelled = new Set<number>();
    const target = Math.min(options.shipments, options.orders);
    const stormDone = () => injected.labels >= target;
    let killsDone = 0;
    const gap = ([min, max]: [number, number]) => (min + random.next() * (max - min)) * 1000;
    let nextKill = Date.now() + gap(options.killGap);
    // A kill waits until this life of the connector got something done (an order in ShipStation or
    // a dispatch note more than at its start), so every life makes progress however slow the machine.
    const progress = () => ourOrders().length + syspro.db.mdnMaster.rows.length;
    let progressAtStart = progress();
    const maintenanceModes: Array<'down' | 'refuse'> = ['down', 'refuse'];
    const maintenanceAt = [0.25, 0.6].map(
      () => Date.now() + (5 + random.next() * options.killGap[1] * options.kills * 0.6) * 1000,
    );
    let maintenanceEnds = 0;
    let nextEviction = Date.now() + gap(options.evictionGap);
    const deadline = started + options.timeoutMs;

    // Phase 1: work and faults together, until every kill happened, the storm is out and every
    // order reached ShipStation.
    for (;;) {
      if (Date.now() > deadline) throw new Error('timed out in the fault phase');
      const now = Date.now();
      // The storm: label orders that are waiting, in batches (one SHIP_NOTIFY per batch).
      if (!stormDone()) {
        const waiting = ourOrders().filter(
          (o) => o.status === 'awaiting_shipment' && !labelled.has(o.orderId),
        );
        const size = Math.min(
          target - injected.labels,
          waiting.length,
          1 + Math.floor(random.next() * options.labelBatch),
        );
        if (size > 0) {
          const batch = waiting.slice(0, size);
          for (const o of batch) labelled.add(o.orderId);
          const res = await fetch(`${shipstation.url}/_sandbox/labels`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ orders: batch.map((o) => ({ orderId: o.orderId })) }),
          });
          if (!res.ok) throw new Error(`labels: ${res.status} ${await res.text()}`);
          injected.labels += batch.length;
          injected.labelBatches++;
        }
      }
      // Kills.
      // Once every order is in ShipStation and every label made, a life may have nothing left to
      // progress on (all shipments written): the kill then comes on time all the same, or the run
      // would wait for progress that cannot come.
      const nothingLeft = stormDone() && ourOrders().length >= options.orders;
      if (killsDone < options.kills && now >= nextKill && (progress() > progressAtStart || nothingLeft)) {
        await connector.kill();
        killsDone++;
        injected.kills++;
        await sleep(200 + random.next() * 2000);
        await connector.start();
        progressAtStart = progress();
        log(
          `SIGKILL #${killsDone}, started again (pid ${connector.pid}); ${ourOrders().length} orders in ShipStation, ${injected.labels} labelled`,
        );
        nextKill = Date.now() + gap(options.killGap);
      }
      // Maintenance stretches.
      for (let i = 0; i < maintenanceAt.length; i++) {
        if (maintenanceAt[i]! > 0 && now >= maintenanceAt[i]! && now >= maintenanceEnds + 3000) {
          maintenanceAt[i] = 0;
          const mode = maintenanceModes[i % maintenanceModes.length]!;
          const ms = Math.round(options.maintenanceMs * (0.5 + random.next()));
          log(`SYSPRO maintenance (${mode}) for ${secs(ms)}`);
          injected.maintenance.push({ mode, ms });
          maintenanceEnds = Math.max(maintenanceEnds, Date.now() + ms);
          await syspro.setMaintenance(mode, ms);
          if (mode !== 'refuse') setTimeout(() => void syspro.setMaintenance('off'), ms);
        }
      }
      // A person logs on with the connector's operator: the connector's session ends.
      if (now >= nextEviction) {
        nextEviction = now + gap(options.evictionGap);
        const res = await fetch(`${syspro.url}/_sandbox/logon`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ operator: syspro.operator }),
        }).catch(() => undefined);
        if (res?.ok) {
          injected.evictions++;
          const { userId } = (await res.json()) as { userId: string };
          // The person logs off a moment later (if the connector has not ended the session already).
          setTimeout(
            () =>
              void fetch(`${syspro.url}/_sandbox/sessions/${encodeURIComponent(userId)}`, {
                method: 'DELETE',
              }).catch(() => {}),
            1000,
          );
        }
      }
      const allIn = ourOrders().length >= options.orders;
      const maintenanceOver = maintenanceAt.every((t) => t === 0) && now >= maintenanceEnds;
      if (killsDone >= options.kills && stormDone() && allIn && maintenanceOver) break;
      if (killsDone >= options.kills && stormDone() && maintenanceAt.some((t) => t > 0)) {
        // Nothing else left to wait for: bring the maintenance forward.
        for (let i = 0; i < maintenanceAt.length; i++)
          if (maintenanceAt[i]! > 0) maintenanceAt[i] = Math.min(maintenanceAt[i]!, now);
      }
      await sleep(250);
    }
    const ss = shipstation.faults.counts() as unknown as Record<string, number>;
    const sysproAfter = syspro.faultsFired();
    const sp = Object.fromEntries(
      Object.entries(sysproAfter).map(([k, n]) => [k, n - (sysproBefore[k] ?? 0)]),
    );
    log(`faults off: ${JSON.stringify(ss)} syspro ${JSON.stringify(sp)}; draining`);

    // Phase 2: faults off; the connector finishes what is queued. Webhooks still pending are
    // delivered; a label whose deliveries were dropped or failed is the poll's to find.
    shipstation.faults.clear();
    syspro.setFaults({});
    await syspro.setMaintenance('off');
    let quietSince = 0;
    for (;;) {
      if (Date.now() > deadline) throw new Error('timed out draining');
      const v = await verify(shipstation, syspro, store, shipQtyAtStart);
      const settled =
        v.ordersMissing.length === 0 && v.shipmentsMissing.length === 0 && v.unfinishedJobs === 0;
      if (settled && quietSince === 0) quietSince = Date.now();
      if (!settled) quietSince = 0;
      // Two more polls after everything looked done: anything doubled late would show.
      if (quietSince > 0 && Date.now() - quietSince > options.pollSeconds * 2000 + 2000) break;
      await sleep(1000);
    }
    const code = await connector.stop();
    log(`connector stopped with SIGTERM: exit ${code}`);
    const verdict = await verify(shipstation, syspro, store, shipQtyAtStart);
    passed = verdictPassed(verdict);
    return { verdict, injected, ss, sp, wallMs: Date.now() - started, logFile };
  } finally {
    connector.close();
    await store.close();
    await shipstation.close();
    await syspro.close();
    if (passed || !dropDb) await dropDb?.();
    else console.log(`kept the PostgreSQL database ${storeUrl.replace(/\/\/[^@]*@/, '//')}`);
    if (passed && !options.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (connector log, configuration, SQLite store)`);
  }
}

function printTable(storeKind: string, options: Options, r: Awaited<ReturnType<typeof runOnce>>): void {
  const v = r.verdict;
  const rows: Array<[string, string]> = [
    ['connector SIGKILLs (each started again)', String(r.injected.kills)],
    ['ShipStation 500s', String(r.ss.error ?? 0)],
    ['ShipStation 429s (budget left)', String(r.ss.rateLimited ?? 0)],
    ['ShipStation hangs', String(r.ss.hang ?? 0)],
    ['ShipStation added latency (1.5 s)', String(r.ss.latency ?? 0)],
    ['ShipStation webhooks dropped', String(r.ss.dropWebhook ?? 0)],
    ['SYSPRO maintenance', r.injected.maintenance.map((m) => `${m.mode} ${secs(m.ms)}`).join(', ')],
    ['SYSPRO requests answered 503 (maintenance)', String(r.sp['maintenance:down'] ?? 0)],
    ['SYSPRO SORTDN answers lost after posting', String(r.sp['SORTDN:lost'] ?? 0)],
    ['SYSPRO OData 500s', String(r.sp['ODATA:http500'] ?? 0)],
    ['SYSPRO sessions evicted by a second logon', String(r.injected.evictions)],
  ];
  const results: Array<[string, number, string]> = [
    [`orders in ShipStation (of ${v.ordersExpected})`, v.ordersExpected - v.ordersMissing.length, ''],
    ['orders lost', v.ordersMissing.length, v.ordersMissing.slice(0, 5).join(' ')],
    ['orders doubled', v.ordersDoubled.length, v.ordersDoubled.slice(0, 5).join(' ')],
    ['orders with wrong content', v.ordersWrong.length, v.ordersWrong.slice(0, 2).join(' | ')],
    [`shipments in SYSPRO (of ${v.shipmentsExpected})`, v.shipmentsExpected - v.shipmentsMissing.length, ''],
    ['shipments lost', v.shipmentsMissing.length, v.shipmentsMissing.slice(0, 5).join(' ')],
    ['shipments doubled', v.shipmentsDoubled.length, v.shipmentsDoubled.slice(0, 5).join(' ')],
    ['shipments with wrong content', v.shipmentsWrong.length, v.shipmentsWrong.slice(0, 2).join(' | ')],
    ['dispatch notes of no label', v.strayNotes.length, v.strayNotes.slice(0, 5).join(' ')],
    [
      'dead jobs (none caused on purpose)',
      v.deadJobs.length,
      v.deadJobs
        .slice(0, 3)
        .map((j) => `${j.id} ${j.kind}: ${j.error?.slice(0, 200)}`)
        .join(' | '),
    ],
    ['jobs left unfinished', v.unfinishedJobs, ''],
    ['orders without an audit row', v.ordersWithoutAudit.length, v.ordersWithoutAudit.slice(0, 5).join(' ')],
    [
      'shipments without an audit row',
      v.shipmentsWithoutAudit.length,
      v.shipmentsWithoutAudit.slice(0, 5).join(' '),
    ],
  ];
  console.log('');
  console.log(
    `chaos on ${storeKind}: ${options.orders} orders, ${r.injected.labels} shipments in ${r.injected.labelBatches} label batches, seed ${options.seed}, ${secs(r.wallMs)}`,
  );
  console.log('fault injected                                 count');
  for (const [k, n] of rows) console.log(`  ${k.padEnd(45)}${n}${n === '0' ? '  (not hit this run)' : ''}`);
  console.log('result                                         count');
  for (const [k, n, detail] of results) console.log(`  ${k.padEnd(45)}${String(n).padEnd(8)}${detail}`);
  console.log(
    `verdict: ${verdictPassed(v) ? 'nothing lost, doubled or wrong' : `FAILED (connector log: ${r.logFile})`}`,
  );
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  console.log(
    `chaos suite: seed ${options.seed} (repeat with --seed ${options.seed}), ${options.orders} orders, ${options.shipments} shipments, ${options.kills} kills, stores ${options.stores.join(', ')}; ${cpus().length} cores`,
  );
  let failed = false;
  for (const storeKind of options.stores) {
    try {
      const result = await runOnce(options, storeKind);
      printTable(storeKind, options, result);
      if (!verdictPassed(result.verdict)) failed = true;
    } catch (error) {
      failed = true;
      console.error(`chaos on ${storeKind}: ${(error as Error).stack}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

await main();
