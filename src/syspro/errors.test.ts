import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyEnetError, redactSecrets, SysproError, transportError } from './errors.js';

describe('classifyEnetError', () => {
  const logonCases: [string, string][] = [
    ['ERROR: Invalid operator password', 'wrong-operator-password'],
    ['ERROR: Invalid company password', 'wrong-company-password'],
    ["ERROR: Company 'ZZ' not found", 'unknown-company'],
    ["ERROR: Operator 'BOB' not found", 'unknown-operator'],
    ['ERROR: All e.net licences are in use (2 of 2); operator SHIP cannot log on', 'licence-exhausted'],
    ['ERROR: No more licenses available', 'licence-exhausted'],
    ['ERROR: e.net exception raised: 100000', 'business-object-unavailable'],
    ['ERROR: Unable to read the SYSPRO base directory registry string BaseDir8', 'enet-error'],
  ];
  for (const [text, kind] of logonCases) {
    it(`Logon: ${text} → ${kind}`, () => assert.equal(classifyEnetError(text, 'Logon'), kind));
  }

  const callCases: [string, string][] = [
    ['ERROR: UserId 3EA613166FE4BF47925DF1CEA14E910100 is not logged on', 'session-invalid'],
    [
      'ERROR: UserId X is not logged on (the session was ended by a newer logon of operator SHIP)',
      'session-invalid',
    ],
    // The logon wording (company, operator, password, licence) does not apply once logged on.
    ['ERROR: UserId [session] is not logged on to company EDU1', 'session-invalid'],
    ['ERROR: Operator SHIP is not logged in', 'session-invalid'],
    ['ERROR: Invalid operator password', 'enet-error'],
    ["ERROR: Company 'ZZ' not found", 'enet-error'],
    ['ERROR: All e.net licences are in use (2 of 2)', 'enet-error'],
    ['ERROR: e.net exception raised: 100000', 'business-object-unavailable'],
    ['ERROR: Unable to read the SYSPRO base directory registry string BaseDir8', 'enet-error'],
  ];
  for (const route of ['Query/Query', 'Transaction/Post', 'Setup/Add', 'Query/Browse']) {
    for (const [text, kind] of callCases) {
      it(`${route}: ${text} → ${kind}`, () => assert.equal(classifyEnetError(text, route), kind));
    }
  }

  it('takes site-specific session patterns first, on every route but Logon', () => {
    assert.equal(
      classifyEnetError('ERROR: Guid mismatch', 'Transaction/Post', [/guid mismatch/i]),
      'session-invalid',
    );
    assert.equal(
      classifyEnetError('ERROR: company session guid mismatch', 'Query/Query', [/guid mismatch/i]),
      'session-invalid',
    );
    assert.equal(classifyEnetError('ERROR: Guid mismatch', 'Logon', [/guid mismatch/i]), 'enet-error');
  });

  it('marks licence, session, network and timeout kinds retryable, the others not', () => {
    assert.equal(new SysproError('licence-exhausted', 'x').retryable, true);
    assert.equal(new SysproError('session-invalid', 'x').retryable, true);
    assert.equal(new SysproError('wrong-operator-password', 'x').retryable, false);
    assert.equal(new SysproError('business-object', 'x').retryable, false);
  });
});

describe('redactSecrets', () => {
  it('removes password parameters, session ids and known secrets', () => {
    const out = redactSecrets(
      'GET /Logon?Operator=A&OperatorPassword=hunter2&CompanyPassword=LIVE UserId 3EA613166FE4BF47925DF1CEA14E910100 pw s3cret!',
      ['s3cret!'],
    );
    assert.ok(!out.includes('hunter2'));
    assert.ok(!out.includes('LIVE'));
    assert.ok(!out.includes('3EA613166FE4BF47925DF1CEA14E910100'));
    assert.ok(!out.includes('s3cret!'));
  });
});

describe('transportError', () => {
  const ctx = { endpoint: 'Logon', host: 'erp:31002', timeoutMs: 1000 };
  it('classifies connection refused, name not found, TLS and timeouts', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
    });
    assert.equal(transportError(refused, ctx).kind, 'unreachable');
    const dns = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }),
    });
    assert.equal(transportError(dns, ctx).kind, 'unreachable');
    const tls = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
    });
    assert.equal(transportError(tls, ctx).kind, 'tls');
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const error = transportError(timeout, ctx);
    assert.equal(error.kind, 'timeout');
    assert.equal(error.retryable, true);
    assert.match(error.message, /erp:31002/);
  });
});
