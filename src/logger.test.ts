import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, redactCredentials, redactDeep } from './logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, stream };
}

/** Logs `obj` once through createLogger and returns the JSON line. */
function logOnce(obj: object, level: 'info' | 'error' = 'info'): string {
  const { lines, stream } = capture();
  createLogger({ level: 'info' }, stream)[level](obj, 'message');
  assert.equal(lines.length, 1);
  return lines[0] ?? '';
}

function assertNoLeak(line: string, secrets: readonly string[]) {
  for (const secret of secrets) assert.ok(!line.includes(secret), `${secret} leaked: ${line}`);
  assert.ok(line.includes('[redacted]'), `nothing redacted: ${line}`);
}

describe('logger redaction', () => {
  it('removes every secret-bearing field from a logged request', () => {
    const { lines, stream } = capture();
    const log = createLogger({ level: 'info' }, stream);
    const secrets = [
      'Basic dXNlcjpwYXNz',
      'v2-key-123',
      'op-pass',
      'co-pass',
      'ss-key',
      'ss-secret',
      'cookie-val',
      'odata-pass',
    ];
    log.info(
      {
        req: {
          method: 'POST',
          url: '/orders/createorders',
          headers: {
            authorization: secrets[0],
            'api-key': secrets[1],
            cookie: secrets[6],
            'content-type': 'application/json',
          },
        },
        syspro: {
          operatorPassword: secrets[2],
          companyPassword: secrets[3],
          odataPassword: secrets[7],
          operator: 'ADMIN',
        },
        shipstation: { apiKey: secrets[4], apiSecret: secrets[5] },
        password: 'top-level-pass',
      },
      'request',
    );
    const line = lines.join('');
    for (const secret of [...secrets, 'top-level-pass'])
      assert.ok(!line.includes(secret), `${secret} leaked: ${line}`);
    const parsed = JSON.parse(line);
    assert.equal(parsed.req.headers.authorization, '[redacted]');
    assert.equal(parsed.req.headers['content-type'], 'application/json', 'harmless fields are kept');
    assert.equal(parsed.syspro.operator, 'ADMIN');
  });

  it('removes credentials from URLs', () => {
    assert.equal(
      redactCredentials(
        'http://h/SYSPROWCFService/Rest/Logon?Operator=ADMIN&OperatorPassword=p%40ss&CompanyId=EDU1&CompanyPassword=x',
      ),
      'http://h/SYSPROWCFService/Rest/Logon?Operator=ADMIN&OperatorPassword=[redacted]&CompanyId=EDU1&CompanyPassword=[redacted]',
    );
    assert.equal(redactCredentials('postgres://user:pw@db:5432/x'), 'postgres://[redacted]@db:5432/x');
    // A live e.net session UserId is a bearer credential; OAuth-style parameters too.
    assert.equal(
      redactCredentials(
        'http://h/Rest/Query/Query?UserId=ABC123%20%20&BusinessObject=SORQRY&access_token=t&client_secret=s',
      ),
      'http://h/Rest/Query/Query?UserId=[redacted]&BusinessObject=SORQRY&access_token=[redacted]&client_secret=[redacted]',
    );
  });

  it('redacts e.net password parameters in any casing', () => {
    const secrets = ['op-pass-1', 'co-pass-2', 'op-pass-3', 'co-pass-4', 'odata-pass-5'];
    const line = logOnce({
      OperatorPassword: secrets[0],
      enet: {
        params: { Operator: 'ADMIN', CompanyPassword: secrets[1], OPERATORPASSWORD: secrets[2] },
        companypassword: secrets[3],
      },
      ODataPassword: secrets[4],
    });
    assertNoLeak(line, secrets);
    const parsed = JSON.parse(line);
    assert.equal(parsed.enet.params.Operator, 'ADMIN');
    assert.equal(parsed.enet.params.CompanyPassword, '[redacted]');
    assert.equal(parsed.OperatorPassword, '[redacted]');
  });

  it('redacts a deep err.request.headers.authorization of a plain error object', () => {
    const err = {
      type: 'HttpError',
      message: 'POST /orders failed: 401',
      stack: 'HttpError: POST /orders failed: 401\n    at client.ts:1:1',
      request: {
        method: 'POST',
        headers: { authorization: 'Bearer deep-bearer', Cookie: 'sid=deep-cookie' },
      },
    };
    const line = logOnce({ err }, 'error');
    assertNoLeak(line, ['deep-bearer', 'deep-cookie']);
    const parsed = JSON.parse(line);
    assert.equal(parsed.err.message, err.message);
    assert.equal(parsed.err.stack, err.stack);
    assert.equal(parsed.err.request.method, 'POST');
    assert.equal(parsed.err.request.headers.authorization, '[redacted]');
    assert.equal(err.request.headers.authorization, 'Bearer deep-bearer', "the caller's object is untouched");
  });

  it('redacts secrets inside arrays (connections[0].shipstation.apiSecret)', () => {
    const config = {
      connections: [
        { name: 'main', shipstation: { apiKey: 'arr-key', apiSecret: 'arr-secret', v2ApiKey: 'arr-v2' } },
        { name: 'other', syspro: { operatorPassword: 'arr-op' } },
      ],
    };
    const line = logOnce({ config });
    assertNoLeak(line, ['arr-key', 'arr-secret', 'arr-v2', 'arr-op']);
    const parsed = JSON.parse(line);
    assert.equal(parsed.config.connections[0].name, 'main');
    assert.equal(parsed.config.connections[0].shipstation.apiSecret, '[redacted]');
    assert.equal(
      config.connections[0]?.shipstation?.apiSecret,
      'arr-secret',
      "the caller's object is untouched",
    );
  });

  it('redacts properties of an Error instance and keeps its type, message and stack', () => {
    class UpstreamError extends Error {
      override name = 'UpstreamError';
    }
    const cause = Object.assign(new Error('token refused'), { token: 'cause-token' });
    const err = Object.assign(new UpstreamError('ShipStation said 401', { cause }), {
      status: 401,
      request: { headers: { 'API-Key': 'err-api-key', 'x-trace': 'trace-1' } },
    });
    for (const line of [logOnce({ err }, 'error'), logOnce(err, 'error')]) {
      assertNoLeak(line, ['err-api-key', 'cause-token']);
      const parsed = JSON.parse(line);
      assert.equal(parsed.err.type, 'UpstreamError');
      assert.match(parsed.err.message, /ShipStation said 401/);
      assert.ok(parsed.err.stack.includes('ShipStation said 401'), 'stack kept');
      assert.ok(parsed.err.stack.includes('logger.test'), 'stack frames kept');
      assert.equal(parsed.err.status, 401);
      assert.equal(parsed.err.request.headers['x-trace'], 'trace-1');
      assert.equal(parsed.err.request.headers['API-Key'], '[redacted]');
    }
    assert.equal(err.request.headers['API-Key'], 'err-api-key', "the caller's error is untouched");
    assert.equal(cause.token, 'cause-token');
  });

  it('removes credentials from URLs under url-like keys', () => {
    const line = logOnce({
      url: 'https://enet-user:url-pass@syspro:31002/Rest/Logon?Operator=ADMIN&CompanyPassword=url-co-pass',
      upstream: {
        resource_url: 'https://hook-user:hook-pass@ss.example/batches/1',
        publicUrl: 'https://ok.example/',
      },
    });
    assertNoLeak(line, ['url-pass', 'url-co-pass', 'hook-pass']);
    const parsed = JSON.parse(line);
    assert.equal(
      parsed.url,
      'https://[redacted]@syspro:31002/Rest/Logon?Operator=ADMIN&CompanyPassword=[redacted]',
    );
    assert.equal(parsed.upstream.publicUrl, 'https://ok.example/');
  });

  it('copes with cycles, frozen objects and very deep objects', () => {
    const cyclic: Record<string, unknown> = { name: 'loop', nested: { Token: 'cyc-token' } };
    cyclic.self = cyclic;
    const frozen = Object.freeze({ deeper: Object.freeze({ PASSWORD: 'frozen-pass' }) });
    let deep: Record<string, unknown> = { password: 'bottom-pass' };
    for (let i = 0; i < 20; i++) deep = { level: deep };
    const line = logOnce({ cyclic, frozen: { frozen }, deep });
    assertNoLeak(line, ['cyc-token', 'frozen-pass', 'bottom-pass']);
    const parsed = JSON.parse(line);
    assert.equal(parsed.cyclic.self, '[Circular]');
    assert.ok(line.includes('[too deep]'));
  });

  it('keeps fields that only resemble secret names, copies only what changes, never mutates', () => {
    const clean = {
      tokenType: 'Bearer',
      secretRef: 'shipstation.apiSecret',
      apiKeyRef: 'env:SS_KEY',
      passwordSet: true,
      orders: [{ orderNumber: 'SO-1', items: [{ sku: 'A', qty: 2 }] }],
      url: 'https://ss.example/orders?page=2',
      when: new Date(0),
    };
    assert.equal(redactDeep(clean), clean, 'nothing to redact: the same object comes back');
    const { level, time, pid, hostname, name, msg, ...logged } = JSON.parse(logOnce(clean));
    assert.deepEqual(logged, JSON.parse(JSON.stringify(clean)), 'logged unchanged, same fields');

    const mixed = {
      ...clean,
      orders: [...clean.orders],
      syspro: { Password: 'mixed-pass', operator: 'ADMIN' },
    };
    const before = structuredClone(mixed);
    const out = redactDeep(mixed);
    assert.deepEqual(mixed, before, "the caller's object is not mutated");
    assert.notEqual(out, mixed);
    assert.equal(out.orders, mixed.orders, 'unchanged branches are shared, not copied');
    assert.deepEqual(out.syspro, { Password: '[redacted]', operator: 'ADMIN' });
    assertNoLeak(logOnce(mixed), ['mixed-pass']);
  });
});
