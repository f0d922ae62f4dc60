import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { linkSignals } from './abort.js';

describe('linkSignals', () => {
  it('leaves nothing on a long-lived source after many links are disposed', () => {
    const stop = new AbortController();
    for (let i = 0; i < 10_000; i++) {
      const wake = new AbortController();
      const linked = linkSignals([wake.signal, stop.signal]);
      if (i % 2 === 0) wake.abort();
      linked.dispose();
    }
    assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
    // The source holds no other per-link state either (AbortSignal.any keeps a WeakRef per call).
    const symbols = Object.getOwnPropertySymbols(stop.signal).map((s) => stop.signal[s as never] as unknown);
    for (const value of symbols) if (value instanceof Set) assert.equal(value.size, 0);
  });

  it('aborts with the reason of the first source that aborts, and only once', () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkSignals([a.signal, b.signal]);
    let aborts = 0;
    linked.signal.addEventListener('abort', () => aborts++);
    b.abort(new Error('b'));
    a.abort(new Error('a'));
    assert.equal(linked.signal.aborted, true);
    assert.equal((linked.signal.reason as Error).message, 'b');
    assert.equal(aborts, 1);
    assert.equal(getEventListeners(a.signal, 'abort').length, 0);
  });

  it('is aborted at once when a source already is', () => {
    const timeout = AbortSignal.abort(new DOMException('late', 'TimeoutError'));
    const linked = linkSignals([new AbortController().signal, timeout]);
    assert.equal(linked.signal.aborted, true);
    assert.equal((linked.signal.reason as DOMException).name, 'TimeoutError');
  });

  it('does not abort after dispose', () => {
    const a = new AbortController();
    const linked = linkSignals([a.signal]);
    linked.dispose();
    a.abort();
    assert.equal(linked.signal.aborted, false);
  });

  it('holds many links in flight on one source without a MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const source = new AbortController();
      const links = Array.from({ length: 50 }, () => linkSignals([source.signal]));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
        [],
      );
      for (const l of links) l.dispose();
    } finally {
      process.off('warning', onWarning);
    }
  });
});
