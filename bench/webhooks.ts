/**
 * Webhook acknowledgements under load: the `run` server (`startService`, with its webhook receiver,
 * SQLite in a temp dir, or PostgreSQL with BENCH_STORE=postgres and TEST_DATABASE_URL) in a server
 * process takes V1 SHIP_NOTIFY-shaped posts from a load generator in another process, over
 * loopback; beside it in the server process a bare Fastify route is the ceiling. The bare route
 * gets the same request (`POST /bare/shipstation/main?token=…`, the same JSON body and content
 * type, parsed by Fastify) and answers the same status and body shape, with no check and no store.
 *
 *   npm run bench:webhooks
 *   BENCH_CPU_PROF=/tmp/prof BENCH_ONLY=max npm run bench:webhooks   (a CPU profile of the server)
 *
 * Phases, each bounded in count and time (the paced ones after an unmeasured 2 s at the rate, in
 * the same load process, so neither side's JIT or connection set-up is counted):
 * 1. receiver at BENCH_RATE requests/s (500) for BENCH_SECONDS (30), open loop: latency from each
 *    request's scheduled time (so a stall counts against every request it delays), p50/p99;
 * 2. the bare route at the same rate for 10 s, for comparison;
 * 3. both as fast as BENCH_CONCURRENCY (16) keep-alive connections go, BENCH_MAX_SECONDS (5) each:
 *    acknowledgements/s and the receiver's share of the ceiling.
 * BENCH_ONLY=paced|max runs only those phases. Every event is distinct (its own batchId, nine
 * digits and growing as ShipStation's do; BENCH_BATCH_ORDER=random scatters them), and
 * afterwards (the server stopped) the jobs table must hold one job per 200.
 *
 * Goals: p99 < 25 ms at 500/s for 30 s with every event stored; receiver ≥ 0.5 of the bare route.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import pg from 'pg';
import { stringify } from 'yaml';
import { startService } from '../src/cli/commands/run.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/logger.js';
import { openStore } from '../src/store/open.js';

const SECRET = 'bench0123456789abcdef0123456789abcdef';

interface LoadParams {
  url: string;
  mode: 'rate' | 'max';
  rate: number;
  seconds: number;
  concurrency: number;
  /** batchIds start here (distinct events across phases). */
  firstBatch: number;
  /** `sequential` (ShipStation's batch ids grow) or `random` (each id scattered, the worst case for the key index). */
  order: 'sequential' | 'random';
  /** Rate mode: first this long at the rate, not measured (JIT and sockets of both sides). */
  warmUpSeconds?: number;
}

interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  p50: number;
  p99: number;
  max: number;
  /** When the slowest request was scheduled, in ms from the phase's start. */
  maxAtMs: number;
  /** 200s during the warm-up (events stored too). */
  warmUpOk: number;
}

/** A bijection of 0…2^24-1 that scatters consecutive numbers (multiplication by an odd constant). */
const scatter = (n: number): number => Number((BigInt(n) * 2_654_435_761n) & 0xff_ffffn);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** The load generator (runs in the child process): an unmeasured warm-up, then the phase. */
async function generateLoad(params: LoadParams): Promise<LoadResult> {
  let warmUpOk = 0;
  if (params.mode === 'rate' && (params.warmUpSeconds ?? 0) > 0) {
    const warm = await loadPhase({
      ...params,
      seconds: params.warmUpSeconds as number,
      firstBatch: params.firstBatch + 50_000_000,
      order: params.order,
    });
    warmUpOk = warm.ok;
  }
  return { ...(await loadPhase(params)), warmUpOk };
}

async function loadPhase(params: LoadParams): Promise<LoadResult> {
  const target = new URL(params.url);
  const agent = new Agent({ keepAlive: true, maxSockets: params.mode === 'max' ? params.concurrency : 512 });
  const latencies: number[] = [];
  let slowest = { latency: -1, at: 0 };
  let phaseStart = 0;
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let sent = 0;
  const send = (n: number, scheduledAt: number) =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify({
        resource_url: `https://ssapi6.shipstation.com/shipments?batchId=${params.firstBatch + (params.order === 'random' ? scatter(n) : n)}&includeShipmentItems=True`,
        resource_type: 'ITEM_SHIP_NOTIFY',
      });
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          timeout: 10_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const latency = performance.now() - scheduledAt;
            latencies.push(latency);
            if (latency > slowest.latency) slowest = { latency, at: scheduledAt - phaseStart };
            statuses[String(res.statusCode)] = (statuses[String(res.statusCode)] ?? 0) + 1;
            if (res.statusCode === 200) ok++;
            else failed++;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        failed++;
        statuses.error = (statuses.error ?? 0) + 1;
        resolve();
      });
      req.end(body);
    });

  const started = performance.now();
  phaseStart = started;
  if (params.mode === 'rate') {
    const total = Math.round(params.rate * params.seconds);
    const pending: Promise<void>[] = [];
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - started) * params.rate) / 1000) + 1);
        while (sent < due) {
          pending.push(send(sent, started + (sent * 1000) / params.rate));
          sent++;
        }
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    await Promise.all(pending);
  } else {
    const deadline = started + params.seconds * 1000;
    await Promise.all(
      Array.from({ length: params.concurrency }, async () => {
        while (performance.now() < deadline) {
          const n = sent++;
          await send(n, performance.now());
        }
      }),
    );
  }
  const elapsedMs = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    sent,
    ok,
    failed,
    statuses,
    elapsedMs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    maxAtMs: slowest.at,
    warmUpOk: 0,
  };
}

/** Runs one load phase in a separate process (tsx) and returns its result. */
function loadFromChild(params: LoadParams): Promise<LoadResult> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', self, '--load', JSON.stringify(params)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const cap = setTimeout(
      () => child.kill('SIGKILL'),
      (params.seconds + (params.warmUpSeconds ?? 0) + 60) * 1000,
    );
    child.on('exit', (code) => {
      clearTimeout(cap);
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1) as string) as LoadResult);
    });
  });
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

function report(what: string, r: LoadResult): void {
  const perSecond = r.ok / (r.elapsedMs / 1000);
  console.log(
    `${what.padEnd(40)} ${String(r.sent).padStart(6)} sent ${String(r.ok).padStart(6)} ok  ${Math.round(perSecond).toString().padStart(6)} acks/s  p50 ${ms(r.p50).padStart(9)}  p99 ${ms(r.p99).padStart(9)}  max ${ms(r.max).padStart(9)} (at ${(r.maxAtMs / 1000).toFixed(1)} s)${r.failed ? `  FAILED ${JSON.stringify(r.statuses)}` : ''}`,
  );
}

const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;

interface ServerParams {
  storeUrl: string;
}

interface ServerAddresses {
  receiver: string;
  bare: string;
}

/**
 * The server process: `run`'s service (its webhook receiver) and, beside it in the same process, the
 * bare route. The bare route takes the same request as the receiver (same URL shape with the
 * connection as a path parameter and the token in the query, the same JSON body parsed by
 * Fastify's own JSON parser) and answers the same status and body shape (the receiver's `{status, inboxId}`; here `{status, jobId}` from a
 * counter), with no check and no store: the ceiling of Fastify on this machine. Prints the two base
 * URLs as one JSON line, stops on a line on standard input (or its end), then exits (so a
 * `--cpu-prof` profile is written).
 */
async function serve(params: ServerParams): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlc-bench-webhooks-cfg-'));
  const file = join(dir, 'ml-connector.yaml');
  writeFileSync(
    file,
    stringify({
      store: { url: params.storeUrl },
      http: {
        host: '127.0.0.1',
        port: 0,
        ...(process.env.BENCH_DRAIN_DELAY
          ? { webhookDrainDelay: Number(process.env.BENCH_DRAIN_DELAY) }
          : {}),
        ...(process.env.BENCH_DRAIN_BATCH
          ? { webhookDrainBatch: Number(process.env.BENCH_DRAIN_BATCH) }
          : {}),
      },
      log: { level: 'info' },
      connections: [
        {
          name: 'main',
          syspro: {
            enetUrl: 'http://127.0.0.1:1/e',
            odataUrl: 'http://127.0.0.1:1/o',
            operator: 'A',
            company: 'C',
          },
          shipstation: {
            apiKey: 'secret:shipstation.apiKey',
            apiSecret: 'secret:shipstation.apiSecret',
            webhookSecret: 'secret:shipstation.webhookSecret',
          },
        },
      ],
    }),
  );
  const env = { ...process.env, ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_WEBHOOKSECRET: SECRET };
  const { config } = loadConfig({ file, env });
  const logger = createLogger(
    { level: 'info' },
    new Writable({
      write(_chunk, _encoding, done) {
        done();
      },
    }),
  );
  const service = await startService({ config, env, logger, handlers: () => [] });
  const bare = Fastify({ logger: false });
  let jobId = 0;
  bare.post('/bare/shipstation/:connection', async () => ({ status: 'stored', jobId: ++jobId }));
  const bareAddress = await bare.listen({ host: '127.0.0.1', port: 0 });
  const addresses: ServerAddresses = {
    receiver: `${service.address}/webhooks/shipstation/main?token=${SECRET}`,
    bare: `${bareAddress}/bare/shipstation/main?token=${SECRET}`,
  };
  process.stdout.write(`${JSON.stringify(addresses)}\n`);
  // `cpu` asks for this process's CPU time so far (µs, user + system); `stop` or the end stops it.
  await new Promise<void>((resolve) => {
    let pending = '';
    process.stdin.on('data', (d: Buffer) => {
      pending += d;
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const command = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (command === 'cpu') {
          // Once the inbox is empty: the drain into jobs that the last requests started is counted.
          void service.settleWebhooks().then(() => {
            const { user, system } = process.cpuUsage();
            process.stdout.write(`${JSON.stringify({ cpu: user + system })}\n`);
          });
        } else resolve();
        nl = pending.indexOf('\n');
      }
    });
    process.stdin.once('end', () => resolve());
  });
  await bare.close();
  await service.stop(5_000);
}

/** Starts the server process (`--cpu-prof` into BENCH_CPU_PROF when set). */
interface ServerProcess {
  addresses: ServerAddresses;
  /** The server process's CPU time so far, µs (user + system). */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the server process (`--cpu-prof` into BENCH_CPU_PROF when set). */
function startServer(params: ServerParams): Promise<ServerProcess> {
  const self = fileURLToPath(import.meta.url);
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', self, '--server', JSON.stringify(params)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    let nl = out.indexOf('\n');
    while (nl >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line.startsWith('{')) {
        const waiter = waiters.shift();
        if (waiter) waiter(line);
        else lines.push(line);
      }
      nl = out.indexOf('\n');
    }
  });
  const nextLine = () =>
    new Promise<string>((resolve) => {
      const line = lines.shift();
      if (line !== undefined) resolve(line);
      else waiters.push(resolve);
    });
  return new Promise((resolve, reject) => {
    exited.then((code) => reject(new Error(`the server process exited with ${code} before it listened`)));
    nextLine().then((line) =>
      resolve({
        addresses: JSON.parse(line) as ServerAddresses,
        async cpu() {
          child.stdin.write('cpu\n');
          return (JSON.parse(await nextLine()) as { cpu: number }).cpu;
        },
        async stop() {
          child.stdin.end('stop\n');
          const code = await exited;
          if (code !== 0) throw new Error(`the server process exited with ${code}`);
        },
      }),
    );
  });
}

async function main(): Promise<void> {
  const rate = Number(process.env.BENCH_RATE ?? 500);
  const seconds = Number(process.env.BENCH_SECONDS ?? 30);
  const maxSeconds = Number(process.env.BENCH_MAX_SECONDS ?? 5);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
  const only = process.env.BENCH_ONLY;
  const order = process.env.BENCH_BATCH_ORDER === 'random' ? 'random' : 'sequential';
  if (!(rate > 0 && rate <= 5000 && seconds > 0 && seconds <= 120 && maxSeconds > 0 && maxSeconds <= 60))
    throw new Error('BENCH_RATE must be 1–5000, BENCH_SECONDS 1–120, BENCH_MAX_SECONDS 1–60');
  if (only !== undefined && only !== 'paced' && only !== 'max')
    throw new Error('BENCH_ONLY must be paced or max');

  let storeUrl: string;
  let dropDatabase: (() => Promise<void>) | undefined;
  if (process.env.BENCH_STORE === 'postgres') {
    const base = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
    if (!base) throw new Error('BENCH_STORE=postgres needs BENCH_DATABASE_URL or TEST_DATABASE_URL');
    const name = `mlc_bench_webhooks_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(base);
    url.pathname = `/${name}`;
    storeUrl = url.toString();
    dropDatabase = async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  } else {
    storeUrl = `sqlite:${join(mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'mlc-bench-webhooks-')), 'bench.db')}`;
  }

  const server = await startServer({ storeUrl });
  const receiverUrl = server.addresses.receiver;
  const bareUrl = server.addresses.bare;
  console.log(
    `webhooks bench: store ${storeUrl.split(':')[0]}, ${rate}/s for ${seconds} s, then ${maxSeconds} s flat out with ${concurrency} connections; batch ids ${order}; server in its own process; ${load()}`,
  );
  let stopped = false;
  try {
    const none: LoadResult = {
      sent: 0,
      ok: 0,
      failed: 0,
      statuses: {},
      elapsedMs: 1,
      p50: Number.NaN,
      p99: Number.NaN,
      max: Number.NaN,
      maxAtMs: 0,
      warmUpOk: 0,
    };
    let paced = none;
    if (only !== 'max') {
      paced = await loadFromChild({
        url: receiverUrl,
        mode: 'rate',
        rate,
        seconds,
        concurrency,
        firstBatch: 100_000_000,
        order,
        warmUpSeconds: 2,
      });
      report(`receiver ${rate}/s for ${seconds} s`, paced);
      const pacedBare = await loadFromChild({
        url: bareUrl,
        mode: 'rate',
        rate,
        seconds: Math.min(seconds, 10),
        concurrency,
        firstBatch: 100_000_000,
        order,
        warmUpSeconds: 2,
      });
      report(`bare Fastify ${rate}/s for ${Math.min(seconds, 10)} s`, pacedBare);
    }
    let maxBare = none;
    let maxReceiver = none;
    // The server process's CPU time per acknowledged request in each flat-out phase (µs): less
    // at the mercy of the machine's load than requests per second.
    let bareCpu = Number.NaN;
    let receiverCpu = Number.NaN;
    if (only !== 'paced') {
      let cpuBefore = await server.cpu();
      maxBare = await loadFromChild({
        url: bareUrl,
        mode: 'max',
        rate,
        seconds: maxSeconds,
        concurrency,
        firstBatch: 100_000_000,
        order,
      });
      bareCpu = ((await server.cpu()) - cpuBefore) / maxBare.ok;
      report(`bare Fastify flat out, ${concurrency} conns`, maxBare);
      cpuBefore = await server.cpu();
      maxReceiver = await loadFromChild({
        url: receiverUrl,
        mode: 'max',
        rate,
        seconds: maxSeconds,
        concurrency,
        firstBatch: 200_000_000,
        order,
      });
      receiverCpu = ((await server.cpu()) - cpuBefore) / maxReceiver.ok;
      report(`receiver flat out, ${concurrency} conns`, maxReceiver);
      console.log(
        `server CPU per request flat out: bare ${bareCpu.toFixed(1)} µs, receiver ${receiverCpu.toFixed(1)} µs (bare ÷ receiver ${(bareCpu / receiverCpu).toFixed(2)})`,
      );
    }
    await server.stop();
    stopped = true;

    const store = openStore(storeUrl);
    let stored: number;
    let inbox: number;
    try {
      // The inbox is moved into jobs at stop: nothing should be left in it.
      inbox = Number(
        (
          await store.db
            .selectFrom('webhook_inbox')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
      stored = Number(
        (
          await store.db
            .selectFrom('jobs')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('kind', '=', 'shipments.fetch')
            .executeTakeFirstOrThrow()
        ).n,
      );
    } finally {
      await store.close();
    }
    const acked = paced.warmUpOk + paced.ok + maxReceiver.ok;
    const share = maxReceiver.ok / maxReceiver.elapsedMs / (maxBare.ok / maxBare.elapsedMs);
    // More stored than acknowledged: requests the client gave up on (timeouts) after their event
    // was stored. Fewer would be an acknowledged event lost.
    console.log(
      `stored jobs ${stored} for ${acked} acknowledgements${inbox > 0 ? ` (and ${inbox} events still in the inbox)` : ''}: ${stored >= acked ? `every acknowledged event stored ok${stored > acked ? ` (${stored - acked} stored but not acknowledged in time)` : ''}` : 'MISSING EVENTS'}`,
    );
    console.log(
      `goal p99 < 25 ms at ${rate}/s: ${only === 'max' ? 'not run' : paced.p99 < 25 && paced.failed === 0 ? 'ok' : 'NOT MET'} (p99 ${ms(paced.p99)}); goal ≥ 0.5 of bare Fastify: ${only === 'paced' ? 'not run' : share >= 0.5 ? 'ok' : 'NOT MET'} (${share.toFixed(2)})`,
    );
    console.log(`after: ${load()}`);
  } finally {
    if (!stopped) await server.stop().catch(() => {});
    await dropDatabase?.();
  }
}

if (process.argv[2] === '--server') {
  serve(JSON.parse(process.argv[3] as string) as ServerParams).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else if (process.argv[2] === '--load') {
  generateLoad(JSON.parse(process.argv[3] as string) as LoadParams).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
