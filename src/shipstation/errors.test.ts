import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kindForNetworkError, kindForStatus, parseErrorBody, ShipStationError } from './errors.js';
import { backoffDelay } from './http.js';

describe('parseErrorBody', () => {
  it('reads the V1 400 shape with ModelState', () => {
    const parsed = parseErrorBody(
      JSON.stringify({
        Message: 'The request is invalid.',
        ModelState: { 'apiOrder.orderDate': ['Error converting value "x" to type DateTime.'] },
      }),
    );
    assert.equal(parsed.providerMessage, 'The request is invalid.');
    assert.deepEqual(parsed.modelState, {
      'apiOrder.orderDate': ['Error converting value "x" to type DateTime.'],
    });
  });

  it('reads the V1 500 shape with ExceptionMessage, and the 429 { message }', () => {
    assert.equal(
      parseErrorBody(
        '{"Message":"An error has occurred.","ExceptionMessage":"Object reference not set to an instance of an object.","ExceptionType":"System.NullReferenceException"}',
      ).providerMessage,
      'An error has occurred. — Object reference not set to an instance of an object.',
    );
    assert.equal(parseErrorBody('{"message":"Too Many Requests"}').providerMessage, 'Too Many Requests');
  });

  it('reads the V2 { request_id, errors[] } shape', () => {
    const parsed = parseErrorBody(
      JSON.stringify({
        request_id: 'a1b2',
        errors: [
          {
            error_source: 'shipstation',
            error_type: 'validation',
            error_code: 'invalid_field_value',
            message: 'sku is required',
          },
        ],
      }),
    );
    assert.equal(parsed.requestId, 'a1b2');
    assert.equal(parsed.providerErrors?.[0]?.error_code, 'invalid_field_value');
    assert.equal(parsed.providerMessage, 'sku is required (shipstation/validation/invalid_field_value)');
  });

  it('keeps a short plain-text excerpt of an HTML page or other text', () => {
    const html = `<html><head><style>p{}</style></head><body><h1>502 Bad Gateway</h1>${'x'.repeat(1000)}</body></html>`;
    const parsed = parseErrorBody(html);
    assert.ok(parsed.providerMessage?.startsWith('502 Bad Gateway'));
    assert.ok((parsed.providerMessage?.length ?? 0) <= 301);
    assert.deepEqual(parseErrorBody(''), {});
  });
});

describe('ShipStationError', () => {
  it('says what happened, where, and what ShipStation said, without credentials', () => {
    const error = new ShipStationError({
      kind: 'bad_request',
      api: 'v1',
      endpoint: 'POST https://ssapi.shipstation.com/orders/createorder',
      status: 400,
      providerMessage: 'The request is invalid.',
      modelState: { 'apiOrder.orderDate': ['bad date'] },
      retryable: false,
    });
    assert.equal(
      error.message,
      'ShipStation V1 POST https://ssapi.shipstation.com/orders/createorder: refused the request as invalid (HTTP 400): The request is invalid. [apiOrder.orderDate: bad date]',
    );
    assert.equal(JSON.parse(JSON.stringify(error)).kind, 'bad_request');
  });

  it('classifies statuses and network failures for ping', () => {
    assert.equal(kindForStatus(401), 'auth');
    assert.equal(kindForStatus(403), 'auth');
    assert.equal(kindForStatus(429), 'rate_limited');
    assert.equal(kindForStatus(503), 'server');
    assert.equal(kindForStatus(404), 'not_found');
    assert.equal(kindForStatus(302), 'http');
    const wrapped = (code: string) =>
      new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
    assert.equal(kindForNetworkError(wrapped('ECONNREFUSED')).kind, 'unreachable');
    assert.equal(kindForNetworkError(wrapped('ENOTFOUND')).kind, 'unreachable');
    assert.equal(kindForNetworkError(wrapped('CERT_HAS_EXPIRED')).kind, 'tls');
    assert.equal(kindForNetworkError(wrapped('ERR_SSL_WRONG_VERSION_NUMBER')).kind, 'tls');
    assert.equal(kindForNetworkError(wrapped('ECONNRESET')).kind, 'network');
    assert.equal(
      kindForNetworkError(new DOMException('The operation was aborted due to timeout', 'TimeoutError')).kind,
      'timeout',
    );
  });
});

describe('backoffDelay', () => {
  it('grows exponentially, is capped, and jitters within the upper half', () => {
    const policy = { attempts: 10, baseMs: 500, maxMs: 30_000 };
    assert.equal(
      backoffDelay(1, policy, () => 0),
      250,
    );
    assert.equal(
      backoffDelay(1, policy, () => 0.999999),
      500,
    );
    assert.equal(
      backoffDelay(3, policy, () => 0),
      1000,
    );
    assert.equal(
      backoffDelay(20, policy, () => 0.999999),
      30_000,
    );
    assert.equal(
      backoffDelay(20, policy, () => 0),
      15_000,
    );
  });
});
