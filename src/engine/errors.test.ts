import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  classifyError,
  describeError,
  InDoubtError,
  InDoubtUnresolved,
  PermanentError,
  RetryableError,
  withInDoubtEvidence,
} from './errors.js';

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

describe('classifyError: delivery and in doubt', () => {
  const code = (c: string) => Object.assign(new Error(c), { code: c });

  it("takes the error's own delivery; in doubt AND not retryable is the in-doubt case", () => {
    const lost = Object.assign(new Error('post lost'), {
      name: 'SysproError',
      delivery: 'in-doubt',
      retryable: false,
    });
    assert.deepEqual(
      { ...classifyError(lost), reason: undefined },
      { retryable: false, reason: undefined, delivery: 'in-doubt', inDoubt: true, system: 'SYSPRO' },
    );
    const getLost = Object.assign(new Error('GET lost'), { delivery: 'in-doubt', retryable: true });
    assert.equal(classifyError(getLost).inDoubt, false, 'safe to repeat: just retried');
    const refused = Object.assign(new Error('400'), { delivery: 'rejected', retryable: false });
    assert.equal(classifyError(refused).inDoubt, false);
  });

  it('infers delivery from codes and statuses for errors that do not say; those keep being retried', () => {
    assert.equal(classifyError(code('ECONNREFUSED')).delivery, 'not-sent');
    assert.equal(
      classifyError(new TypeError('fetch failed', { cause: code('ENOTFOUND') })).delivery,
      'not-sent',
    );
    const reset = classifyError(code('ECONNRESET'));
    assert.deepEqual([reset.delivery, reset.retryable, reset.inDoubt], ['in-doubt', true, false]);
    assert.equal(classifyError({ status: 429 }).delivery, 'not-sent');
    assert.equal(classifyError({ status: 404 }).delivery, 'rejected');
    assert.equal(classifyError({ status: 502 }).delivery, 'in-doubt');
    assert.equal(classifyError(new Error('odd')).delivery, undefined);
  });

  it('an unresolved check is dead with its system; evidence travels with an in-doubt error only', () => {
    const unresolved = classifyError(new InDoubtUnresolved('ShipStation', 'level moved'));
    assert.deepEqual(
      [unresolved.inDoubt, unresolved.unresolved, unresolved.system],
      [true, true, 'ShipStation'],
    );
    const inDoubt = Object.assign(new Error('500'), {
      name: 'ShipStationError',
      delivery: 'in-doubt',
      retryable: false,
    });
    const wrapped = withInDoubtEvidence(inDoubt, { onHandBefore: 3 });
    assert.ok(wrapped instanceof InDoubtError);
    assert.deepEqual(classifyError(wrapped).evidence, { onHandBefore: 3 });
    assert.equal(classifyError(wrapped).system, 'ShipStation');
    const notSent = Object.assign(new Error('refused'), { delivery: 'not-sent', retryable: true });
    assert.equal(
      withInDoubtEvidence(notSent, { onHandBefore: 3 }),
      notSent,
      'not turned into an in-doubt error',
    );
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
