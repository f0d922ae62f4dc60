/**
 * `ml-connector ping` and `ml-connector sandbox --write-config`, run as a user would: the real
 * binary against sandboxes on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { BIN, runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/run-process.js';

describe('ml-connector ping against the sandboxes', () => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let cwd: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    shipstation = await startShipStationSandbox({
      port: 0,
      seed: 7,
      rateLimit: { limit: 1000, windowMs: 600_000 },
    });
    syspro = await startSysproSandbox({ port: 0, seed: 7, orders: 20, licenceSeats: 2 });
    cwd = mkdtempSync(join(tmpdir(), 'mlc-ping-'));
    const document = sandboxConfigDocument('main', {
      shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    });
    const connection = (document.connections as Array<{ shipstation: Record<string, unknown> }>)[0];
    if (connection) connection.shipstation.webhookSecret = 'secret:shipstation.webhookSecret';
    writeFileSync(join(cwd, 'ml-connector.yaml'), stringify(document));
    // Credentials through the environment this time (the store path is covered by --write-config below).
    env = {
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_OPERATORPASSWORD: syspro.operatorPassword,
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_COMPANYPASSWORD: syspro.companyPassword,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: shipstation.apiKey,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: shipstation.apiSecret,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_V2APIKEY: shipstation.v2ApiKey,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_WEBHOOKSECRET: 'ping-test-webhook-secret-0123456789',
    };
  });
  after(async () => {
    await shipstation?.close();
    await syspro?.close();
  });

  function verdicts(
    stdout: string,
  ): Map<string, { verdict: string; detail: string; kind?: string; advice?: string }> {
    const out = new Map<string, { verdict: string; detail: string; kind?: string; advice?: string }>();
    for (const line of stdout.trim().split('\n')) {
      const r = JSON.parse(line) as {
        check: string;
        verdict: string;
        detail: string;
        kind?: string;
        advice?: string;
      };
      out.set(r.check, r);
    }
    return out;
  }

  it('warns, without failing, per needed event ShipStation has no subscription to our webhook URL for', async () => {
    const result = await runCli(['ping'], { cwd, env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^ok\s+main\s+webhook url: .*\/webhooks\/shipstation\/main \(secret set\)/m);
    assert.match(
      result.stdout,
      /^warn\s+main\s+webhook ITEM_SHIP_NOTIFY: .*no ITEM_SHIP_NOTIFY subscription/m,
    );
    assert.match(
      result.stdout,
      /^warn\s+main\s+webhook FULFILLMENT_SHIPPED: .*no FULFILLMENT_SHIPPED subscription/m,
    );
    // The sandbox connection imports marketplace orders: ORDER_NOTIFY is needed too.
    assert.match(result.stdout, /^warn\s+main\s+webhook ORDER_NOTIFY: .*no ORDER_NOTIFY subscription/m);
    assert.match(result.stdout, /ml-connector webhooks subscribe --connection main/);
    assert.ok(!result.stdout.includes('ping-test-webhook-secret'), 'the secret is not printed');
    assert.match(
      result.stdout,
      /All required checks passed, with 3 warning\(s\); see the lines marked warn above\./,
    );
    assert.doesNotMatch(result.stdout, /All checks passed/);
  });

  it('passes every check when everything is right, and logs off SYSPRO', async () => {
    const since = syspro.calls.list().at(-1)?.seq ?? 0;
    const subscribed = await runCli(['webhooks', 'subscribe'], { cwd, env });
    assert.equal(subscribed.code, 0, subscribed.stdout + subscribed.stderr);
    const result = await runCli(['ping'], { cwd, env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^ok\s+main\s+webhook url:/m);
    assert.match(result.stdout, /^ok\s+main\s+webhook ITEM_SHIP_NOTIFY:/m);
    assert.match(result.stdout, /^ok\s+main\s+webhook FULFILLMENT_SHIPPED:/m);
    assert.match(result.stdout, /^ok\s+main\s+webhook ORDER_NOTIFY:/m);
    for (const check of [
      'credentials',
      'syspro e.net logon',
      'syspro business objects',
      'syspro odata SorMaster',
      'syspro odata SorDetail',
      'syspro odata ArCustomer',
      'shipstation v1 auth',
      'shipstation v1 warehouses',
      'shipstation v2 auth',
    ]) {
      assert.match(result.stdout, new RegExp(`^ok\\s+main\\s+${check}:`, 'm'), `${check} passes`);
    }
    assert.match(result.stdout, /All checks passed\./);
    assert.ok(syspro.calls.count({ method: 'Logon', sinceSeq: since }) >= 1);
    assert.equal(syspro.sessions.list().length, 0, 'no session left holding a licence seat');
  });

  it('says "wrong operator password" for a wrong SYSPRO password and exits non-zero', async () => {
    const result = await runCli(['ping', '--json'], {
      cwd,
      env: { ...env, ML_CONNECTOR_SECRET_MAIN_SYSPRO_OPERATORPASSWORD: 'not-the-password' },
    });
    assert.notEqual(result.code, 0);
    const checks = verdicts(result.stdout);
    assert.equal(checks.get('syspro e.net logon')?.verdict, 'fail');
    assert.equal(checks.get('syspro e.net logon')?.kind, 'wrong-operator-password');
    assert.match(checks.get('syspro e.net logon')?.detail ?? '', /wrong operator password/);
    assert.equal(checks.get('shipstation v1 auth')?.verdict, 'pass', 'the other system is still checked');
    assert.ok(!result.stdout.includes('not-the-password'), 'the password is not echoed');
  });

  it('says "unknown company" for a company SYSPRO does not have', async () => {
    const result = await runCli(['ping', '--json'], {
      cwd,
      env: { ...env, ML_CONNECTOR_CONNECTIONS__MAIN__SYSPRO__COMPANY: 'NOPE' },
    });
    assert.notEqual(result.code, 0);
    assert.equal(verdicts(result.stdout).get('syspro e.net logon')?.kind, 'unknown-company');
  });

  it('says 401/403 for a wrong ShipStation secret', async () => {
    const result = await runCli(['ping', '--json'], {
      cwd,
      env: { ...env, ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: 'wrong' },
    });
    assert.notEqual(result.code, 0);
    const v1 = verdicts(result.stdout).get('shipstation v1 auth');
    assert.equal(v1?.kind, 'auth');
    assert.match(v1?.detail ?? '', /401/);
  });

  it('says "licence exhausted" when every e.net seat is held', async () => {
    // Two other operators hold both seats.
    const held: string[] = [];
    for (const [op, pw] of [
      ['ADMIN', 'admin'],
      ['JANE', 'jane'],
    ]) {
      const url = `${syspro.enetUrl}/Logon?Operator=${op}&OperatorPassword=${pw}&CompanyId=${syspro.company}&CompanyPassword=${encodeURIComponent(syspro.companyPassword)}`;
      held.push((await (await fetch(url)).text()).trim());
    }
    try {
      const result = await runCli(['ping', '--json'], { cwd, env });
      assert.notEqual(result.code, 0);
      const logon = verdicts(result.stdout).get('syspro e.net logon');
      assert.equal(logon?.kind, 'licence-exhausted');
      assert.match(logon?.detail ?? '', /licence exhausted/);
    } finally {
      for (const id of held) await fetch(`${syspro.enetUrl}/Logoff?UserId=${id}`);
    }
  });

  it('says "rate-limited" when ShipStation answers 429', async () => {
    const rule = shipstation.faults.add({ route: '/stores', rateLimited: 1 });
    // The 429 holds the key's budget (kept in the store, shared with every process) until its
    // reset: run this ping on a store of its own so the checks after it are not held.
    const ownCwd = mkdtempSync(join(tmpdir(), 'mlc-ping-429-'));
    writeFileSync(join(ownCwd, 'ml-connector.yaml'), readFileSync(join(cwd, 'ml-connector.yaml')));
    try {
      const result = await runCli(['ping', '--json'], { cwd: ownCwd, env });
      assert.notEqual(result.code, 0);
      const v1 = verdicts(result.stdout).get('shipstation v1 auth');
      assert.equal(v1?.kind, 'rate_limited');
      // A rate limit, not an authentication failure.
      assert.match(v1?.detail ?? '', /^rate-limited \(429\)/);
      assert.doesNotMatch(v1?.detail ?? '', /401|403|access refused/);
    } finally {
      shipstation.faults.remove(rule.id as string);
    }
  });

  it('after a 429, a second ping on the same store says rate-limited at once without sending (one budget per key)', async () => {
    const ownCwd = mkdtempSync(join(tmpdir(), 'mlc-ping-held-'));
    writeFileSync(join(ownCwd, 'ml-connector.yaml'), readFileSync(join(cwd, 'ml-connector.yaml')));
    const rule = shipstation.faults.add({ route: '/stores', rateLimited: 1 });
    try {
      await runCli(['ping', '--json'], { cwd: ownCwd, env });
    } finally {
      shipstation.faults.remove(rule.id as string);
    }
    // ShipStation would answer now; the key's budget (in the store) still holds the 429's reset.
    const started = Date.now();
    const result = await runCli(['ping', '--json'], { cwd: ownCwd, env });
    assert.ok(Date.now() - started < 15_000, 'ping did not wait out the reset');
    const check = verdicts(result.stdout).get('shipstation v1 auth');
    assert.equal(check?.kind, 'rate_limited');
    // Nothing was sent, so nothing is known of the key: a warning ("not checked"), not a failure.
    assert.equal(check?.verdict, 'warn');
    assert.match(check?.detail ?? '', /^not checked: .*not sent/);
    assert.match(check?.advice ?? '', /try again in \d+ s/);
  });

  it('says "host unreachable" when SYSPRO is in maintenance with its port closed', async () => {
    await syspro.setMaintenance('refuse');
    try {
      const result = await runCli(['ping', '--json', '--timeout', '5s'], { cwd, env });
      assert.notEqual(result.code, 0);
      const checks = verdicts(result.stdout);
      assert.equal(checks.get('syspro e.net logon')?.kind, 'unreachable');
      assert.match(checks.get('syspro e.net logon')?.detail ?? '', /host unreachable/);
      assert.equal(checks.get('syspro odata SorMaster')?.kind, 'unreachable');
    } finally {
      await syspro.setMaintenance('off');
    }
  });

  it('says "unavailable" when SYSPRO answers 503 for maintenance', async () => {
    await syspro.setMaintenance('down');
    try {
      const result = await runCli(['ping', '--json'], { cwd, env });
      assert.notEqual(result.code, 0);
      const logon = verdicts(result.stdout).get('syspro e.net logon');
      assert.equal(logon?.kind, 'http-status');
      assert.match(logon?.detail ?? '', /^service unavailable \(HTTP 503\)/);
    } finally {
      await syspro.setMaintenance('off');
    }
  });

  it('says "TLS failure" when https meets a server that does not speak TLS', async () => {
    const result = await runCli(['ping', '--json'], {
      cwd,
      env: {
        ...env,
        ML_CONNECTOR_CONNECTIONS__MAIN__SYSPRO__ENET_URL: syspro.enetUrl.replace('http:', 'https:'),
        ML_CONNECTOR_CONNECTIONS__MAIN__SHIPSTATION__V1_URL: shipstation.url.replace('http:', 'https:'),
      },
    });
    assert.notEqual(result.code, 0);
    const checks = verdicts(result.stdout);
    assert.equal(checks.get('syspro e.net logon')?.kind, 'tls');
    assert.match(checks.get('syspro e.net logon')?.detail ?? '', /TLS failure/);
    assert.equal(checks.get('shipstation v1 auth')?.kind, 'tls');
  });

  it('warns that an http:// e.net URL to another host sends passwords in clear (ping and config check)', async () => {
    // 192.0.2.1 (TEST-NET-1) is never routed: the logon fails fast; the warning comes first anyway.
    const insecure = {
      ...env,
      ML_CONNECTOR_CONNECTIONS__MAIN__SYSPRO__ENET_URL: 'http://192.0.2.1:20161/SYSPROWCFService/Rest',
    };
    const ping = await runCli(['ping', '--timeout', '1s'], { cwd, env: insecure });
    assert.match(
      ping.stdout,
      /^warn\s+main\s+syspro http: syspro\.enetUrl is http:\/\/192\.0\.2\.1:20161 \(not https, and host 192\.0\.2\.1 is not this machine\): the e\.net logon sends the operator and company passwords in clear text over the network; `run` refuses this connection/m,
    );
    assert.match(
      ping.stdout,
      /→ use https:\/\/ for the SYSPRO service, or, .*syspro\.allowInsecureHttp: true/,
    );
    assert.doesNotMatch(ping.stdout, /syspro\.odataUrl is/, 'the loopback OData URL is fine');

    const check = await runCli(['config', 'check'], { cwd, env: insecure });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(
      check.stdout,
      /^ {2}warning: syspro\.enetUrl is http:\/\/192\.0\.2\.1:20161 .*in clear text.*`run` refuses this connection/m,
    );
    assert.match(check.stdout, /with 1 warning\(s\) above\./);

    const allowed = await runCli(['config', 'check'], {
      cwd,
      env: { ...insecure, ML_CONNECTOR_CONNECTIONS__MAIN__SYSPRO__ALLOW_INSECURE_HTTP: 'true' },
    });
    assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
    assert.match(allowed.stdout, /warning: syspro\.enetUrl .*\(allowed by syspro\.allowInsecureHttp\)/);

    const secure = await runCli(['config', 'check'], { cwd, env });
    assert.doesNotMatch(secure.stdout, /warning/);
  });

  it('fails a missing secret with the command that stores it', async () => {
    const { ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: _, ...without } = env;
    const result = await runCli(['ping'], { cwd, env: without });
    assert.notEqual(result.code, 0);
    assert.match(result.stdout, /FAIL\s+main\s+credentials: .*creds set main shipstation\.apiKey/);
  });

  it('a missing ShipStation secret does not skip the SYSPRO checks: each check says its own result', async () => {
    const since = syspro.calls.list().at(-1)?.seq ?? 0;
    const { ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: _, ...without } = env;
    const result = await runCli(['ping', '--json'], { cwd, env: without });
    assert.notEqual(result.code, 0);
    const checks = verdicts(result.stdout);
    assert.equal(checks.get('credentials')?.verdict, 'fail');
    assert.match(checks.get('credentials')?.detail ?? '', /creds set main shipstation\.apiSecret/);
    for (const check of [
      'syspro e.net logon',
      'syspro business objects',
      'syspro odata SorMaster',
      'syspro odata SorDetail',
      'syspro odata ArCustomer',
    ])
      assert.equal(checks.get(check)?.verdict, 'pass', `${check}: ${checks.get(check)?.detail}`);
    assert.equal(checks.get('shipstation v1 auth')?.verdict, 'skip');
    assert.match(checks.get('shipstation v1 auth')?.detail ?? '', /ShipStation credentials missing/);
    // SYSPRO itself saw the logon and the logoff.
    assert.ok(syspro.calls.count({ method: 'Logon', sinceSeq: since }) >= 1);
    assert.equal(syspro.sessions.list().length, 0);
  });

  it('against a hung SYSPRO every SYSPRO check says "timed out" after one --timeout, each request sent once', async () => {
    await syspro.setMaintenance('hang');
    const before = syspro.faultsFired()['maintenance:hang'] ?? 0;
    try {
      const result = await runCli(['ping', '--json', '--timeout', '1s'], { cwd, env });
      assert.notEqual(result.code, 0);
      const checks = verdicts(result.stdout);
      for (const check of [
        'syspro e.net logon',
        'syspro odata SorMaster',
        'syspro odata SorDetail',
        'syspro odata ArCustomer',
      ]) {
        assert.equal(checks.get(check)?.kind, 'timeout', `${check}: ${checks.get(check)?.detail}`);
        assert.match(checks.get(check)?.detail ?? '', /^timed out: SYSPRO did not answer within 1s/);
      }
      assert.equal(checks.get('syspro business objects')?.verdict, 'skip');
      assert.equal(checks.get('shipstation v1 auth')?.verdict, 'pass', 'ShipStation is still checked');
      // The sandbox's own count: the logon and one read per table, none retried (OData retries
      // a timeout twice, which is three per table without the one deadline).
      assert.equal((syspro.faultsFired()['maintenance:hang'] ?? 0) - before, 4);
    } finally {
      await syspro.setMaintenance('off');
    }
  });

  it('Ctrl-C while a SYSPRO check hangs logs off the session ping opened and exits 130', async () => {
    const since = syspro.calls.list().at(-1)?.seq ?? 0;
    syspro.setFaults({ failures: [{ target: 'SORQRY', rate: 1, kind: 'hang' }] });
    const child = spawn(process.execPath, [BIN, 'ping', '--timeout', '60s'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // The sandbox holds ping's session, and the SORQRY probe in it hangs.
      await waitFor(
        () =>
          syspro.sessions.list().length === 1 &&
          syspro.calls.count({ businessObject: 'SORQRY', outcome: 'fault', sinceSeq: since }) === 1,
        'ping to hang in SORQRY',
        () => output,
        30_000,
      );
      const sessionId = syspro.sessions.list()[0]?.userId.trim();
      child.kill('SIGINT');
      assert.equal(await exited, 130, output);
      const logoffs = syspro.calls.list({ method: 'Logoff', sinceSeq: since });
      assert.ok(
        logoffs.some((c) => c.userId === sessionId && c.outcome === 'ok'),
        `a logoff of ${sessionId} came: ${JSON.stringify(logoffs)}`,
      );
      assert.equal(syspro.sessions.list().length, 0, 'no session left holding a licence seat');
      assert.match(output, /^FAIL\s+main\s+syspro business objects: interrupted \(Ctrl-C\)/m);
      assert.match(output, /^skip\s+main\s+shipstation v1 auth: interrupted/m);
      assert.match(output, /Interrupted: .*logged off/);
    } finally {
      syspro.setFaults({});
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('advises a public URL or a tunnel, not a subscription, when http.publicUrl is loopback and ShipStation is not', async () => {
    // 192.0.2.1 (TEST-NET-1) is never routed: ShipStation's checks fail fast; the webhook URL check runs anyway.
    const result = await runCli(['ping', '--timeout', '1s'], {
      cwd,
      env: { ...env, ML_CONNECTOR_CONNECTIONS__MAIN__SHIPSTATION__V1_URL: 'http://192.0.2.1:8080' },
    });
    assert.match(
      result.stdout,
      /^warn\s+main\s+webhook url: http\.publicUrl is http:\/\/127\.0\.0\.1:8080, a loopback address: ShipStation cannot reach this machine there/m,
    );
    assert.match(
      result.stdout,
      /→ set http\.publicUrl to an https:\/\/ address ShipStation can reach from the internet: .*a tunnel/,
    );
    assert.match(
      result.stdout,
      /^skip\s+main\s+webhook ITEM_SHIP_NOTIFY: ShipStation cannot reach a loopback http\.publicUrl/m,
    );
    assert.doesNotMatch(result.stdout, /no ITEM_SHIP_NOTIFY subscription/);

    // A private (LAN) address is no more reachable from ShipStation's servers.
    const lan = await runCli(['ping', '--timeout', '1s'], {
      cwd,
      env: {
        ...env,
        ML_CONNECTOR_CONNECTIONS__MAIN__SHIPSTATION__V1_URL: 'http://192.0.2.1:8080',
        ML_CONNECTOR_HTTP__PUBLIC_URL: 'http://192.168.1.20:8080',
      },
    });
    assert.match(
      lan.stdout,
      /^warn\s+main\s+webhook url: http\.publicUrl is http:\/\/192\.168\.1\.20:8080, a private \(LAN\) address: ShipStation cannot reach this machine there/m,
    );
    assert.match(
      lan.stdout,
      /^skip\s+main\s+webhook ITEM_SHIP_NOTIFY: ShipStation cannot reach a private \(LAN\) http\.publicUrl/m,
    );
  });
});

describe('ml-connector sandbox --write-config', () => {
  /** Starts `sandbox --write-config sandbox.yaml` (plus `extra` flags) and waits for the file. */
  async function writeConfigSandbox(extra: string[]) {
    const cwd = mkdtempSync(join(tmpdir(), 'mlc-sandbox-'));
    const child = spawn(
      process.execPath,
      [
        BIN,
        'sandbox',
        '--shipstation-port',
        '0',
        '--syspro-port',
        '0',
        '--orders',
        '20',
        '--write-config',
        'sandbox.yaml',
        ...extra,
      ],
      { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const deadline = Date.now() + 30_000;
    while (!/Wrote .*sandbox\.yaml/.test(stderr)) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGTERM');
        assert.fail(`sandbox did not get ready: ${stdout}${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const ready = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    return { cwd, child, ready };
  }

  it('starts both sandboxes, writes a config without secrets, and ping passes with it', async () => {
    const { cwd, child, ready } = await writeConfigSandbox([]);
    try {
      assert.deepEqual(
        ready.map((r) => r.sandbox),
        ['shipstation', 'syspro'],
      );
      assert.ok(ready[0]?.apiKey && ready[0]?.apiSecret && ready[0]?.v2ApiKey);
      assert.ok(ready[1]?.odataUrl && ready[1]?.operatorPassword && ready[1]?.company);

      const written = readFileSync(join(cwd, 'sandbox.yaml'), 'utf8');
      for (const value of [ready[0]!.apiKey!, ready[0]!.apiSecret!, ready[1]!.operatorPassword!]) {
        assert.ok(!written.includes(value), 'no credential in the written file');
      }
      const result = await runCli(['ping', '--config', 'sandbox.yaml'], { cwd });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      // Everything passes; the fresh sandbox has no SHIP_NOTIFY subscription yet, which is a warning.
      assert.doesNotMatch(result.stdout, /^FAIL/m);
      assert.match(result.stdout, /All required checks passed, with 1 warning\(s\)/);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('--api v2 writes a V2-only connection (only the V2 key stored), and ping passes without V1', async () => {
    const { cwd, child } = await writeConfigSandbox(['--api', 'v2']);
    try {
      const written = parse(readFileSync(join(cwd, 'sandbox.yaml'), 'utf8')) as {
        connections: Array<{ shipstation: Record<string, unknown>; channelOrders: { enabled: boolean } }>;
      };
      const ss = written.connections[0]!.shipstation;
      assert.equal(ss.api, 'v2');
      assert.equal(ss.v2ApiKey, 'secret:shipstation.v2ApiKey');
      assert.equal(ss.apiKey, undefined);
      assert.equal(ss.apiSecret, undefined);
      assert.equal(written.connections[0]!.channelOrders.enabled, false, 'marketplace orders (V1) off');
      const creds = await runCli(['creds', 'list', '--config', 'sandbox.yaml'], { cwd });
      assert.equal(creds.code, 0, creds.stdout + creds.stderr);
      assert.match(creds.stdout, /shipstation\.v2ApiKey/);
      assert.doesNotMatch(creds.stdout, /shipstation\.apiKey|shipstation\.apiSecret/);
      const result = await runCli(['ping', '--config', 'sandbox.yaml'], { cwd });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.doesNotMatch(result.stdout, /^FAIL/m);
      assert.match(result.stdout, /shipstation v1 auth.*uses ShipStation V2/);
      assert.match(result.stdout, /shipstation api.*use ShipStation V2/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
