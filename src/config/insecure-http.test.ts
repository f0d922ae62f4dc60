import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserError } from './errors.js';
import { insecureHttpProblems, isLoopbackHost, refuseInsecureHttp } from './insecure-http.js';

const connection = (enetUrl: string, odataUrl: string, allowInsecureHttp?: boolean) => ({
  name: 'main',
  syspro: { enetUrl, odataUrl, allowInsecureHttp },
});

describe('insecureHttpProblems', () => {
  it('says nothing for https anywhere or http to loopback', () => {
    for (const [enet, odata] of [
      ['https://erp.example:20161/SYSPROWCFService/Rest', 'https://erp.example/SYSPRO8Odata'],
      ['http://127.0.0.1:20161/SYSPROWCFService/Rest', 'http://localhost:40000/odata'],
      ['http://127.1.2.3:1/x', 'http://[::1]:40000/odata'],
      ['http://[::ffff:127.0.0.1]:1/x', 'http://sandbox.localhost:1/odata'],
    ] as const) {
      assert.deepEqual(insecureHttpProblems(connection(enet, odata)), [], `${enet} ${odata}`);
    }
  });

  it('names each http:// URL to another host and what it sends in clear', () => {
    const problems = insecureHttpProblems(
      connection('http://erp:20161/SYSPROWCFService/Rest', 'http://192.168.3.150:40000/odata'),
    );
    assert.equal(problems.length, 2);
    assert.match(
      problems[0]!,
      /^syspro\.enetUrl is http:\/\/erp:20161 .*operator and company passwords in clear text/,
    );
    assert.match(
      problems[1]!,
      /^syspro\.odataUrl is http:\/\/192\.168\.3\.150:40000 .*OData user's password .*clear text/,
    );
    // Look-alikes of loopback are the network.
    for (const host of ['127.0.0.1.nip.io', 'localhost.example', '0.0.0.0', '10.0.0.1', '[::2]']) {
      assert.equal(insecureHttpProblems(connection(`http://${host}/x`, 'https://ok/x')).length, 1, host);
    }
  });

  it('is reported whatever allowInsecureHttp says (config check and ping warn either way)', () => {
    assert.equal(insecureHttpProblems(connection('http://erp/x', 'https://erp/y', true)).length, 1);
  });
});

describe('refuseInsecureHttp (for run)', () => {
  it('refuses unless allowInsecureHttp is true, and passes secure connections', () => {
    assert.throws(
      () => refuseInsecureHttp(connection('http://erp/x', 'https://erp/y')),
      (e: unknown) =>
        e instanceof UserError && /Connection main is not started: syspro\.enetUrl/.test(e.message),
    );
    assert.throws(() => refuseInsecureHttp(connection('http://erp/x', 'https://erp/y', false)), UserError);
    assert.equal(refuseInsecureHttp(connection('http://erp/x', 'https://erp/y', true)).length, 1);
    assert.deepEqual(refuseInsecureHttp(connection('https://erp/x', 'http://127.0.0.1/y')), []);
  });

  it('knows loopback names and addresses', () => {
    assert.ok(isLoopbackHost('LOCALHOST'));
    assert.ok(isLoopbackHost('localhost.'));
    assert.ok(!isLoopbackHost('erp'));
  });
});
