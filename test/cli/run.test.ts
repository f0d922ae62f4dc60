/**
 * `ml-connector run`, as an operator runs it: the real binary (or, for the tests that need a job
 * kind no flow provides yet, the same service code with a test handler) as a child process, over
 * real HTTP on 127.0.0.1 with port 0. Nothing sleeps to let time pass: the tests wait for log
 * lines and poll URLs in bounded loops.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { createHttpServer, storeReadiness } from '../../src/http/server.js';
import { enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { listAttempts } from '../../src/store/jobs/queries.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { openStore, type Store } from '../../src/store/open.js';
import { BIN } from '../helpers/cli.js';
import { createPgDatabase, PG_URL } from '../helpers/dialects.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/run-with-test-handler.ts', import.meta.url));

const CONNECTION = {
  name: 'main',
  syspro: {
    enetUrl: 'http://127.0.0.1:1/SYSPROWCFService/Rest',
    odataUrl: 'http://127.0.0.1:1/SYSPRO8/OData',
    operator: 'ADMIN',
    company: 'EDU1',
  },
  shipstation: { apiKey: 'secret:shipstation.apiKey', apiSecret: 'secret:shipstation.apiSecret' },
};

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'mlc-run-'));
}

/** Writes `ml-connector.yaml` in `dir` (SQLite in `dir/data` unless a store URL is given). */
function writeConfig(dir: string, extra: Record<string, unknown> = {}): string {
  const file = join(dir, 'ml-connector.yaml');
  writeFileSync(
    file,
    stringify({
      store: { url: 'sqlite:./data/ml-connector.db' },
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'info' },
      shutdownTimeout: '10s',
      connections: [CONNECTION],
      ...extra,
    }),
  );
  return file;
}

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

interface RunProcess {
  child: ChildProcess;
  lines: () => LogLine[];
  stdout: () => string;
  stderr: () => string;
  /** The start line (`ml-connector run started`); rejects if the process exits first. */
  started: Promise<LogLine>;
  /** Exit code (-1 when killed by a signal). */
  exited: Promise<number>;
}

function spawnRun(configFile: string, options: { cwd?: string; fixture?: boolean } = {}): RunProcess {
  const args = options.fixture
    ? ['--import', 'tsx', FIXTURE, configFile]
    : [BIN, 'run', '--config', configFile];
  const child = spawn(process.execPath, args, {
    cwd: options.fixture ? REPO : (options.cwd ?? REPO),
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const parsed = (): LogLine[] =>
    stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as LogLine);
  let onStart: ((line: LogLine) => void) | undefined;
  child.stdout?.on('data', (d) => {
    stdout += d;
    const line = stdout.split('\n').find((l) => l.includes('"ml-connector run started"'));
    if (line) onStart?.(JSON.parse(line) as LogLine);
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  const started = new Promise<LogLine>((resolve, reject) => {
    onStart = resolve;
    void exited.then((code) =>
      reject(new Error(`run exited with ${code} before starting: ${stderr}${stdout}`)),
    );
  });
  started.catch(() => {});
  // Never leave a service behind, whatever a test does.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(timer));
  return { child, lines: parsed, stdout: () => stdout, stderr: () => stderr, started, exited };
}

async function waitFor(check: () => Promise<boolean>, what: string, capMs = 15_000): Promise<void> {
  const until = Date.now() + capMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function untilReady(address: string): Promise<void> {
  await waitFor(
    async () => (await fetch(`${address}/readyz`).catch(() => undefined))?.status === 200,
    `${address}/readyz to answer 200`,
  );
}

function sqliteStore(dir: string): Store {
  return openStore(`sqlite:${join(dir, 'data', 'ml-connector.db')}`);
}

describe('ml-connector run on SQLite', () => {
  it('serves /healthz and /readyz, logs JSON lines at log.level, and exits 0 on SIGTERM', async () => {
    const dir = freshDir();
    const run = spawnRun(writeConfig(dir), { cwd: dir });
    const start = await run.started;
    const address = String(start.http);
    assert.match(address, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(start.connections, ['main']);
    assert.match(String(start.store), /^sqlite:.*ml-connector\.db$/);
    assert.deepEqual(
      start.polls,
      ['main:orders.poll', 'main:shipments.poll', 'main:customers.poll'],
      'only polls a flow handles are scheduled',
    );
    assert.deepEqual(start.pollsWithoutHandler, []);
    await untilReady(address);
    assert.deepEqual(await getJson(`${address}/healthz`), { status: 200, body: { status: 'ok' } });
    // run adds the webhook inbox's state (src/http/webhooks.ts inboxStatus).
    assert.deepEqual(await getJson(`${address}/readyz`), {
      status: 200,
      body: {
        status: 'ready',
        webhookInbox: {
          waiting: 0,
          failingDrains: 0,
          deadLettered: 0,
          limit: 10_000,
          state: 'ok',
          refused: 0,
        },
      },
    });

    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.stderr());
    const lines = run.lines();
    assert.ok(lines.length > 0);
    assert.ok(
      lines.every((l) => l.level >= 30),
      'at log.level info nothing below info is written (the per-request lines are debug)',
    );
    const messages = lines.map((l) => l.msg);
    for (const msg of [
      'migrations applied',
      'ml-connector run started',
      'signal received',
      'ml-connector run stopped',
    ])
      assert.ok(messages.includes(msg), `logged "${msg}"`);
    assert.equal(run.stderr().trim(), '', 'nothing on stderr');
    // Schedule rows only for the polls a flow handles.
    const store = sqliteStore(dir);
    try {
      const rows = await store.db
        .selectFrom('schedules')
        .select(['connection', 'kind'])
        .orderBy('kind')
        .execute();
      assert.deepEqual(rows, [
        { connection: 'main', kind: 'customers.poll' },
        { connection: 'main', kind: 'orders.poll' },
        { connection: 'main', kind: 'shipments.poll' },
      ]);
    } finally {
      await store.close();
    }
  });

  it('log.level debug adds a line per request', async () => {
    const dir = freshDir();
    const run = spawnRun(writeConfig(dir, { log: { level: 'debug' } }), { cwd: dir });
    const address = String((await run.started).http);
    await untilReady(address);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.stderr());
    const requests = run.lines().filter((l) => l.msg === 'request');
    assert.ok(requests.some((l) => l.level === 20 && l.url === '/readyz' && l.statusCode === 200));
  });

  it('refuses a second run on the same SQLite file, naming the pid, and a new run starts once the first stopped', async () => {
    const dir = freshDir();
    const config = writeConfig(dir);
    const first = spawnRun(config, { cwd: dir });
    await untilReady(String((await first.started).http));

    const second = spawnRun(config, { cwd: dir });
    assert.notEqual(await second.exited, 0);
    const message = second.stderr().trim();
    assert.match(
      message,
      new RegExp(
        `^Error: Another ml-connector run \\(pid ${first.child.pid}\\) is using .*ml-connector\\.db; SQLite serves one process\\. Stop it, or use PostgreSQL \\(store\\.url: postgres://…\\) to run several\\.$`,
      ),
    );
    assert.equal(second.stdout(), '', 'it started nothing');

    first.child.kill('SIGINT');
    assert.equal(await first.exited, 0, first.stderr());
    const third = spawnRun(config, { cwd: dir });
    await untilReady(String((await third.started).http));
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0, third.stderr());
  });

  it('a run killed with SIGKILL leaves no stale lock behind', async () => {
    const dir = freshDir();
    const config = writeConfig(dir);
    const first = spawnRun(config, { cwd: dir });
    await untilReady(String((await first.started).http));
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, -1);
    const next = spawnRun(config, { cwd: dir });
    await untilReady(String((await next.started).http));
    next.child.kill('SIGTERM');
    assert.equal(await next.exited, 0, next.stderr());
  });

  it('a port in use is one line on stderr and a non-zero exit, and the lock is given back', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const dir = freshDir();
      const run = spawnRun(writeConfig(dir, { http: { host: '127.0.0.1', port } }), { cwd: dir });
      assert.notEqual(await run.exited, 0);
      assert.match(
        run.stderr().trim(),
        new RegExp(`^Error: Cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use[^\\n]*$`),
      );
      const again = spawnRun(writeConfig(dir), { cwd: dir });
      await untilReady(String((await again.started).http));
      again.child.kill('SIGTERM');
      assert.equal(await again.exited, 0, again.stderr());
    } finally {
      blocker.close();
    }
  });

  it('refuses plain http:// to a SYSPRO on another machine unless allowInsecureHttp is set', async () => {
    const dir = freshDir();
    const remote = {
      ...CONNECTION,
      syspro: { ...CONNECTION.syspro, enetUrl: 'http://erp.example.com:20161/SYSPROWCFService/Rest' },
    };
    const refused = spawnRun(writeConfig(dir, { connections: [remote] }), { cwd: dir });
    assert.notEqual(await refused.exited, 0);
    assert.match(
      refused.stderr().trim(),
      /^Error: Connection main is not started: syspro\.enetUrl is http:\/\/erp\.example\.com:20161 \(not https.*set syspro\.allowInsecureHttp: true/,
    );
    const allowed = spawnRun(
      writeConfig(dir, {
        connections: [{ ...remote, syspro: { ...remote.syspro, allowInsecureHttp: true } }],
      }),
      { cwd: dir },
    );
    await untilReady(String((await allowed.started).http));
    allowed.child.kill('SIGTERM');
    assert.equal(await allowed.exited, 0, allowed.stderr());
  });

  it('an invalid configuration is one line on stderr and a non-zero exit', async () => {
    const dir = freshDir();
    const run = spawnRun(writeConfig(dir, { shutdownTimeout: 'soon' }), { cwd: dir });
    assert.notEqual(await run.exited, 0);
    assert.match(run.stderr(), /shutdownTimeout.*expected a duration/);
    assert.equal(run.stdout(), '');
  });
});

describe('ml-connector run: a store it cannot reach', () => {
  it('is one line naming the store (password masked) and a non-zero exit', async () => {
    const dir = freshDir();
    const run = spawnRun(writeConfig(dir, { store: { url: 'postgres://u:pg-secret-pw@127.0.0.1:1/x' } }), {
      cwd: dir,
    });
    assert.notEqual(await run.exited, 0);
    assert.match(
      run.stderr().trim(),
      /^Error: Cannot prepare the store postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x: connect ECONNREFUSED[^\n]*$/,
    );
    assert.ok(!run.stderr().includes('pg-secret-pw'));
  });
});

describe('ml-connector run: jobs running at SIGTERM', () => {
  async function withQueuedSleep(dir: string, ms: number): Promise<number> {
    const store = sqliteStore(dir);
    try {
      await migrateToLatest(store);
      const [job] = await enqueueJobs(
        store,
        [{ kind: 'test.sleep', connection: 'main', payload: { ms } }],
        Date.now(),
      );
      return job!.id;
    } finally {
      await store.close();
    }
  }
  async function jobState(dir: string, id: number) {
    const store = sqliteStore(dir);
    try {
      const row = await store.db
        .selectFrom('jobs')
        .select(['state', 'attempts'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const attempts = (await listAttempts(store, id)).map((a) => a.outcome);
      return { state: row.state, attempts: Number(row.attempts), outcomes: attempts };
    } finally {
      await store.close();
    }
  }
  async function untilRunning(dir: string, id: number): Promise<void> {
    await waitFor(async () => (await jobState(dir, id)).state === 'running', `job ${id} to run`);
  }

  it('a job that ends within shutdownTimeout is finished before the exit', async () => {
    const dir = freshDir();
    const id = await withQueuedSleep(dir, 1500);
    const run = spawnRun(writeConfig(dir, { shutdownTimeout: '20s' }), { fixture: true });
    await run.started;
    await untilRunning(dir, id);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.stderr());
    assert.deepEqual(await jobState(dir, id), { state: 'succeeded', attempts: 1, outcomes: ['succeeded'] });
  });

  it('a job that outlasts shutdownTimeout is released (queued again) and the exit is 0 within the timeout', async () => {
    const dir = freshDir();
    const id = await withQueuedSleep(dir, 60_000);
    const run = spawnRun(writeConfig(dir, { shutdownTimeout: '300ms' }), { fixture: true });
    await run.started;
    await untilRunning(dir, id);
    const signalled = Date.now();
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.stderr());
    assert.ok(Date.now() - signalled < 5000, 'exited soon after the timeout, not after the 60 s job');
    assert.deepEqual(await jobState(dir, id), { state: 'queued', attempts: 0, outcomes: ['released'] });
    assert.ok(run.lines().some((l) => l.msg === 'released jobs still running at shutdown'));
  });

  it('a second signal exits 1 at once, without waiting for the running job', async () => {
    const dir = freshDir();
    const id = await withQueuedSleep(dir, 60_000);
    const run = spawnRun(writeConfig(dir, { shutdownTimeout: '60s' }), { fixture: true });
    await run.started;
    await untilRunning(dir, id);
    run.child.kill('SIGTERM');
    await waitFor(
      async () => run.lines().some((l) => l.msg === 'signal received'),
      'the first signal to be handled',
    );
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 1);
  });
});

describe('/readyz', () => {
  it('answers 503 with the reason while migrations are pending, 200 once applied', async () => {
    const dir = freshDir();
    const store = sqliteStore(dir);
    const server = createHttpServer({ host: '127.0.0.1', port: 0, readiness: storeReadiness(store) });
    try {
      const address = await server.listen();
      const pending = await getJson(`${address}/readyz`);
      assert.equal(pending.status, 503);
      assert.equal(pending.body.status, 'unavailable');
      assert.match(
        String(pending.body.reason),
        /^migrations pending: 0001-initial, .*run `ml-connector migrate`/,
      );
      await migrateToLatest(store);
      assert.deepEqual(await getJson(`${address}/readyz`), { status: 200, body: { status: 'ready' } });
      await store.close();
      const closed = await getJson(`${address}/readyz`);
      assert.equal(closed.status, 503);
      assert.match(String(closed.body.reason), /^the store sqlite:.* is unreachable/);
      assert.deepEqual(await getJson(`${address}/healthz`), { status: 200, body: { status: 'ok' } });
    } finally {
      await server.close();
      await store.close().catch(() => {});
    }
  });

  it('answers 503 "shutting down" once stopping', async () => {
    const dir = freshDir();
    const store = sqliteStore(dir);
    await migrateToLatest(store);
    let stopping = false;
    const server = createHttpServer({
      host: '127.0.0.1',
      port: 0,
      readiness: storeReadiness(store, () => stopping),
    });
    try {
      const address = await server.listen();
      assert.equal((await getJson(`${address}/readyz`)).status, 200);
      stopping = true;
      assert.deepEqual(await getJson(`${address}/readyz`), {
        status: 503,
        body: { status: 'unavailable', reason: 'shutting down' },
      });
    } finally {
      await server.close();
      await store.close();
    }
  });
});

describe('ml-connector run on PostgreSQL', {
  skip: PG_URL ? false : 'TEST_DATABASE_URL not set (no PostgreSQL)',
}, () => {
  let url: string;
  let drop: (() => Promise<void>) | undefined;
  before(async () => {
    ({ url, drop } = await createPgDatabase(PG_URL as string));
  });
  after(async () => {
    await drop?.();
  });

  it('two runs on one database both become ready, and both exit 0 on SIGTERM', async () => {
    const dir = freshDir();
    // A password in the URL (the test server trusts local connections, so it is not checked) must
    // never reach the log.
    const withPassword = new URL(url);
    withPassword.password = 'pg-pa55word-not-for-logs';
    const config = writeConfig(dir, { store: { url: withPassword.toString() } });
    const runs = [spawnRun(config, { cwd: dir }), spawnRun(config, { cwd: dir })];
    const starts = await Promise.all(runs.map((r) => r.started));
    const addresses = starts.map((s) => String(s.http));
    assert.notEqual(addresses[0], addresses[1]);
    assert.match(String(starts[0]?.store), /^postgres:\/\/postgres:\*\*\*@/);
    await Promise.all(addresses.map((a) => untilReady(a)));
    for (const r of runs) r.child.kill('SIGTERM');
    for (const r of runs) assert.equal(await r.exited, 0, r.stderr());
    for (const r of runs)
      assert.ok(!r.stdout().includes('pg-pa55word') && !r.stderr().includes('pg-pa55word'));
  });
});
