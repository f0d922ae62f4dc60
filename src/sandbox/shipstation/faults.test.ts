import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFaultFlag } from './faults.js';

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
  });

  it('rejects what it does not understand, saying why', () => {
    assert.throws(() => parseFaultFlag('error=2'), /probability between 0 and 1/);
    assert.throws(() => parseFaultFlag('latency=fast'), /duration/);
    assert.throws(() => parseFaultFlag('boom=1'), /unknown fault key 'boom'/);
    assert.throws(() => parseFaultFlag('times=0'), /whole number/);
    assert.throws(() => parseFaultFlag('lost-answer=1.5'), /probability between 0 and 1/);
  });
});
