/**
 * The operator API and the dashboard's access rules over real HTTP: `startService` (the service
 * of `run`, in this process) on a store of each dialect against both sandboxes, SYSPRO's SORTDN
 * made to fail through the sandbox from the start. Proves: nothing answers without a login (401 /
 * redirect) and every answer carries the security headers; a wrong password is refused and the
 * login is rate-limited; the session cookie is HttpOnly, SameSite=Strict, Secure; a session POST
 * without the CSRF token, or from another site, is refused; the write-backs refused by SYSPRO are
 * ONE problem line (as many records as ShipStation has shipments, counted in the sandbox) with
 * SYSPRO's own message; Retry of that line after the fault is cleared writes every shipment
 * (counted in SYSPRO's call log); Dismiss cancels a job and hides an invalid order, keeping who and
 * why; a record is found by its tracking number (JSON and CSV) with its whole path; ping answers
 * each check; the OpenAPI document lists every path called here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { type Service, startService } from '../../src/cli/commands/run.js';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { configSchema } from '../../src/config/schema.js';
import { hashSecret } from '../../src/http/auth.js';
import { OPENAPI } from '../../src/http/openapi.js';
import { createLogger } from '../../src/logger.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { failJob } from '../../src/store/jobs/fail.js';
import { forEachDialect } from '../helpers/dialects.js';
import { sandboxSecrets } from '../helpers/sandbox-connection.js';

const PASSWORD = 'correct horse battery staple';
const TOKEN = 'test-api-token-5c1e8a9d0b7f4e21';

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  capMs = 30_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > capMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

forEachDialect('dashboard and operator API', (ctx) => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let service: Service;
  let base: string;
  const bearer = { authorization: `Bearer ${TOKEN}` };

  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, {
      ...init,
      headers: { ...bearer, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    });
    return res;
  };
  const json = async (path: string, init: RequestInit = {}) => {
    const res = await api(path, init);
    assert.equal(res.status, 200, `${path}: ${res.status} ${await res.clone().text()}`);
    // biome-ignore lint/suspicious/noExplicitAny: the tests read JSON answers loosely
    return (await res.json()) as Record<string, any>;
  };

  before(async () => {
    shipstation = await startShipStationSandbox({ port: 0, seed: 7, autoShip: { delayMs: 0 } });
    syspro = await startSysproSandbox({
      port: 0,
      seed: 7,
      faults: { failures: [{ target: 'SORTDN', rate: 1, kind: 'error' }] },
    });
    const document = sandboxConfigDocument('main', {
      shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as { connections: Array<Record<string, unknown>> } & Record<string, unknown>;
    document.store = { url: ctx.url };
    document.http = { host: '127.0.0.1', port: 0 };
    document.masterKeyFile = join(mkdtempSync(join(tmpdir(), 'mlc-dash-')), 'master.key');
    document.connections[0]!.polls = { orders: '1s', shipments: '1s', customers: 0 };
    document.dashboard = {
      passwordHash: await hashSecret(PASSWORD),
      apiTokens: [{ name: 'ci', hash: await hashSecret(TOKEN) }],
      loginAttempts: { limit: 3, window: '10m' },
    };
    document.retry = { cadence: ['1h'] };
    const config = configSchema.parse(document);
    service = await startService({
      config,
      env: sandboxSecrets(shipstation, syspro),
      logger: createLogger({ level: 'silent' }),
    });
    base = service.address;
  });
  after(async () => {
    await service?.stop(5000);
    await shipstation?.close();
    await syspro?.close();
  });

  it('asks for a login everywhere, with the security headers on every answer', async () => {
    const anon = await fetch(`${base}/api/problems`);
    assert.equal(anon.status, 401);
    const wrongToken = await fetch(`${base}/api/problems`, {
      headers: { authorization: 'Bearer not-the-token-at-all-123' },
    });
    assert.equal(wrongToken.status, 401);
    const page = await fetch(`${base}/problems`, { redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/login?next=%2Fproblems');
    for (const res of [anon, page, await fetch(`${base}/login`)]) {
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'same-origin');
    }
    // The webhook route and the health probes stay outside the login.
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  it('groups the write-backs SYSPRO refuses into one problem with its message, and Retry writes them all', async () => {
    const shipments = await waitFor('ShipStation to label the orders', () =>
      shipstation.state.shipments.size > 0 ? shipstation.state.shipments.size : undefined,
    );
    const group = await waitFor('the write-backs to die', async () => {
      const body = await json('/api/problems?kind=shipments.writeback');
      const g = body.groups[0];
      return g && g.count === shipments ? g : undefined;
    });
    const all = await json('/api/problems?kind=shipments.writeback');
    assert.equal(all.groups.length, 1, 'one line for one cause');
    assert.equal(group.state, 'dead');
    assert.match(group.message, /sandbox injected failure for SORTDN/);
    assert.ok(syspro.calls.count({ businessObject: 'SORTDN', outcome: 'fault' }) > 0);
    assert.equal(syspro.calls.count({ businessObject: 'SORTDN', outcome: 'ok' }), 0);
    const one = group.problems[0];
    assert.ok(one.subject.salesOrder, 'each problem names its sales order');
    assert.ok(one.subject.trackingNumbers.length > 0, 'and its tracking');

    // No selection: refused, nothing retried.
    assert.equal((await api('/api/problems/retry', { method: 'POST', body: '{}' })).status, 400);

    syspro.setFaults({});
    const retried = await json('/api/problems/retry', {
      method: 'POST',
      body: JSON.stringify({ causeId: group.causeId }),
    });
    assert.equal(retried.retried.length, shipments, JSON.stringify(retried.skipped));
    const tracking = [...shipstation.state.shipments.values()].map((x) => x.trackingNumber as string);
    const posted = (t: string) =>
      syspro.calls
        .list({ businessObject: 'SORTDN', outcome: 'ok', contains: t })
        .filter((c) => !c.validateOnly && c.method === 'Transaction/Post').length;
    await waitFor('SYSPRO to get every dispatch note', () =>
      tracking.every((t) => posted(t) >= 1) ? true : undefined,
    );
    await waitFor('the problems to clear', async () =>
      (await json('/api/problems?kind=shipments.writeback')).total === 0 ? true : undefined,
    );
    assert.deepEqual(
      tracking.map(posted),
      tracking.map(() => 1),
      'each shipment written once',
    );
    // The posts are done; their jobs complete in their own transaction just after.
    await waitFor('every write-back job to succeed', async () =>
      (await json('/api/jobs?kind=shipments.writeback&state=succeeded')).jobs.length === shipments
        ? true
        : undefined,
    );
  });

  it('finds a shipment by its tracking number, with its whole path, as JSON and CSV', async () => {
    const shipment = [...shipstation.state.shipments.values()][0]!;
    const tracking = shipment.trackingNumber as string;
    const found = await json(`/api/records?q=${encodeURIComponent(tracking)}`);
    assert.equal(found.records.length, 1);
    const record = found.records[0];
    assert.equal(record.entityType, 'shipment');
    assert.deepEqual(record.trackingNumbers, [tracking]);
    const path = await json(`/api/records/main/shipment/${encodeURIComponent(record.entityKey)}`);
    const stages = path.steps.map((s: { stage: string }) => s.stage);
    assert.ok(stages.includes('read from ShipStation'), stages.join(', '));
    assert.ok(stages.includes('written to SYSPRO: failed'), stages.join(', '));
    assert.ok(stages.includes('written to SYSPRO'), stages.join(', '));
    assert.ok(stages.includes('operator: retry'), stages.join(', '));
    assert.doesNotMatch(JSON.stringify(path), new RegExp(syspro.operatorPassword));
    const csv = await api(`/api/records?q=${encodeURIComponent(tracking)}&format=csv`);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^connection,type,key,sales_order/);
    assert.ok(lines[1]!.includes(tracking));
  });

  it('dismisses a dead job and an invalid order, keeping who and why', async () => {
    const now = Date.now();
    const { id } = await enqueueJob(ctx.store, { kind: 'test.export', connection: 'main', payload: {} }, now);
    const [claimed] = await claimJobs(ctx.store, {
      kind: 'test.export',
      limit: 1,
      owner: 'test',
      leaseMs: 60_000,
      now,
    });
    assert.equal(claimed?.id, id);
    await failJob(ctx.store, 'test', id, 'the export refused it', null, now);
    const problems = await json('/api/problems');
    assert.ok(
      problems.groups.some((g: { problems: Array<{ id: string }> }) =>
        g.problems.some((p) => p.id === `job:${id}`),
      ),
    );
    assert.equal(
      (await api('/api/problems/dismiss', { method: 'POST', body: JSON.stringify({ ids: [`job:${id}`] }) }))
        .status,
      400,
      'a reason is required',
    );
    const d = await json('/api/problems/dismiss', {
      method: 'POST',
      body: JSON.stringify({ ids: [`job:${id}`], why: 'exported by hand' }),
    });
    assert.deepEqual(d.dismissed, [`job:${id}`]);
    const job = await json(`/api/jobs/${id}`);
    assert.equal(job.job.state, 'cancelled');

    const invalid = await json('/api/problems?kind=record');
    const before = invalid.total;
    if (before > 0) {
      const target = invalid.groups[0].problems[0];
      await json('/api/problems/dismiss', {
        method: 'POST',
        body: JSON.stringify({ ids: [target.id], why: 'order is cancelled' }),
      });
      assert.equal((await json('/api/problems?kind=record')).total, before - 1);
    }
    const history = await json('/api/dismissals');
    const mine = history.dismissals.find((x: { jobId: number | null }) => x.jobId === id);
    assert.equal(mine.who, 'token ci');
    assert.equal(mine.why, 'exported by hand');
  });

  it('runs the ping checks and describes its paths in OpenAPI', async () => {
    const ping = await json('/api/connections/main/ping', { method: 'POST' });
    const logon = ping.results.find((r: { check: string }) => r.check === 'syspro e.net logon');
    assert.equal(logon.verdict, 'pass');
    const connections = await json('/api/connections');
    assert.equal(connections.connections[0].name, 'main');
    assert.ok(connections.connections[0].overview.shipmentsWritten > 0);
    assert.doesNotMatch(JSON.stringify(connections), new RegExp(shipstation.apiSecret));
    const spec = await json('/api/openapi.json');
    for (const path of [
      '/api/problems',
      '/api/problems/retry',
      '/api/problems/dismiss',
      '/api/records',
      '/api/jobs',
      '/api/connections/{name}/ping',
      '/api/dismissals',
    ])
      assert.ok(spec.paths[path], `${path} documented`);
    assert.deepEqual(Object.keys(spec.paths), Object.keys(OPENAPI.paths));
  });

  it('sessions: secure cookie, CSRF token required, cross-site refused, login rate-limited', async () => {
    const form = (body: Record<string, string>) => ({
      method: 'POST',
      redirect: 'manual' as const,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
    const wrong = await fetch(`${base}/login`, form({ who: 'ann', password: 'nope' }));
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${base}/login`, form({ who: 'ann', password: PASSWORD, next: '/problems' }));
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/problems');
    const cookie = ok.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    assert.match(cookie, /Secure/i);
    const session = cookie.split(';')[0]!;
    const page = await fetch(`${base}/problems`, { headers: { cookie: session } });
    assert.equal(page.status, 200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
    assert.ok(csrf);
    const body = JSON.stringify({ all: true, kind: 'record', why: 'x' });
    const noToken = await fetch(`${base}/api/problems/dismiss`, {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'application/json' },
      body,
    });
    assert.equal(noToken.status, 403);
    const crossSite = await fetch(`${base}/api/problems/retry`, {
      method: 'POST',
      headers: {
        cookie: session,
        'x-csrf-token': csrf,
        origin: 'https://evil.example',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ all: true }),
    });
    assert.equal(crossSite.status, 403);
    const withToken = await fetch(`${base}/api/problems/retry`, {
      method: 'POST',
      headers: { cookie: session, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ all: true, kind: 'shipments.writeback' }),
    });
    assert.equal(withToken.status, 200);
    // 3 failures allowed per 10 min (a success starts the count again): then 429, even with the
    // right password.
    for (let i = 0; i < 3; i++)
      assert.equal((await fetch(`${base}/login`, form({ who: 'x', password: 'bad' }))).status, 401);
    const limited = await fetch(`${base}/login`, form({ who: 'ann', password: PASSWORD }));
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    // Logout ends the session.
    await fetch(`${base}/logout`, {
      ...form({ _csrf: csrf }),
      headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(
      (await fetch(`${base}/problems`, { headers: { cookie: session }, redirect: 'manual' })).status,
      303,
    );
  });
});
