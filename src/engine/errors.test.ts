import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { classifyError, describeError, PermanentError, RetryableError } from './errors.js';

describe('classifyError', () => {
  const retryable = (err: unknown) => classifyError(err).retryable;

  it('follows our own classes and any boolean `retryable`', () => {
    assert.equal(retryable(new RetryableError('SYSPRO busy')), true);
    assert.equal(retryable(new PermanentError('bad order')), false);
    assert.equal(retryable(Object.assign(new Error('e.net: operator in use'), { retryable: false })), false);
    assert.equal(
      retryable(
        Object.assign(new Error('HTTP 400 but the client says retry'), { status: 400, retryable: true }),
      ),
      true,
    );
  });

  it('retries network errors, timeouts, 408, 429 and 5xx; not other 4xx', () => {
    assert.equal(retryable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), true);
    assert.equal(retryable(Object.assign(new Error('socket'), { code: 'UND_ERR_SOCKET' })), true);
    assert.equal(
      retryable(
        new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }),
      ),
      true,
    );
    assert.equal(retryable(new DOMException('The operation timed out', 'TimeoutError')), true);
    for (const status of [408, 429, 500, 502, 503]) assert.equal(retryable({ status }), true, String(status));
    for (const status of [400, 401, 403, 404, 422])
      assert.equal(retryable({ statusCode: status }), false, String(status));
  });

  it('does not retry validation errors; retries the unknown', () => {
    const zodError = z.object({ a: z.string() }).safeParse({}).error;
    assert.equal(retryable(zodError), false);
    assert.equal(retryable(new SyntaxError('Unexpected token < in JSON')), false);
    assert.equal(retryable(new Error('something odd')), true);
    assert.equal(retryable('a string'), true);
  });

  it('carries a retry-after', () => {
    assert.equal(classifyError(new RetryableError('429', { retryAfterMs: 20_000 })).retryAfterMs, 20_000);
  });
});

describe('describeError', () => {
  it('keeps the causes and masks credentials', () => {
    const err = new Error('POST https://user:hunter2@ssapi.shipstation.com/orders failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    const text = describeError(err);
    assert.match(text, /ECONNREFUSED/);
    assert.doesNotMatch(text, /hunter2/);
    assert.doesNotMatch(
      describeError(new Error('GET /x?password=s3cret&a=1 with Basic dXNlcjpwYXNz')),
      /s3cret|dXNlcjpwYXNz/,
    );
  });
});
