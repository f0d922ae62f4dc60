import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../random.js';
import { FaultRules, parseFaultFlag } from './faults.js';

describe('parseFaultFlag', () => {
  it('reads every key, percentages and durations', () => {
    assert.deepEqual(parseFaultFlag('route=/orders,error=0.2'), { route: '/orders', error: 0.2 });
    assert.deepEqual(
      parseFaultFlag('route=/orders/createorders, method=post, 401=5%, 429=0.1, latency=2s, times=3'),
      {
        route: '/orders/createorders',
        method: 'POST',
        unauthorized: 0.05,
        rateLimited: 0.1,
        latencyMs: 2000,
        times: 3,
      },
    );
    assert.deepEqual(parseFaultFlag('hang'), { hang: 1 });
    assert.deepEqual(parseFaultFlag('drop-webhook=50%,event=ship_notify'), {
      dropWebhook: 0.5,
      event: 'SHIP_NOTIFY',
    });
    assert.deepEqual(parseFaultFlag('latency=150'), { latencyMs: 150 });
    assert.deepEqual(parseFaultFlag('route=/v2/shipments,lost-answer=10%'), {
      route: '/v2/shipments',
      lostAnswer: 0.1,
    });
    assert.deepEqual(parseFaultFlag('latency=1s,latency-rate=5%'), { latencyMs: 1000, latencyRate: 0.05 });
  });

  it('rejects what it does not understand, saying why', () => {
    assert.throws(() => parseFaultFlag('error=2'), /probability between 0 and 1/);
    assert.throws(() => parseFaultFlag('latency=fast'), /duration/);
    assert.throws(() => parseFaultFlag('boom=1'), /unknown fault key 'boom'/);
    assert.throws(() => parseFaultFlag('times=0'), /whole number/);
    assert.throws(() => parseFaultFlag('lost-answer=1.5'), /probability between 0 and 1/);
  });
});

describe('FaultRules', () => {
  it('applies a latency to its share of requests and counts what fired', () => {
    const rules = new FaultRules(new SeededRandom(5));
    rules.add({ latencyMs: 100, latencyRate: 0.25 });
    rules.add({ route: '/orders', error: 1 });
    let slowed = 0;
    for (let i = 0; i < 400; i++) if (rules.latencyFor('GET', '/shipments') > 0) slowed++;
    assert.ok(slowed > 60 && slowed < 140, `about a quarter slowed, got ${slowed}`);
    assert.equal(rules.requestFault('GET', '/orders')?.kind, 'error');
    assert.equal(rules.requestFault('GET', '/shipments'), undefined);
    assert.deepEqual(rules.counts(), {
      hang: 0,
      unauthorized: 0,
      rateLimited: 0,
      error: 1,
      latency: slowed,
      lostAnswer: 0,
      dropWebhook: 0,
    });
  });
});
