import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, redactUrl } from './logger.js';

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
      redactUrl(
        'http://h/SYSPROWCFService/Rest/Logon?Operator=ADMIN&OperatorPassword=p%40ss&CompanyId=EDU1&CompanyPassword=x',
      ),
      'http://h/SYSPROWCFService/Rest/Logon?Operator=ADMIN&OperatorPassword=[redacted]&CompanyId=EDU1&CompanyPassword=[redacted]',
    );
    assert.equal(redactUrl('postgres://user:pw@db:5432/x'), 'postgres://[redacted]@db:5432/x');
  });
});
