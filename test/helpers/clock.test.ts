/** The fake clock itself: ordered timers, concurrent sleepers, abort, advance/tickAsync, auto-advance. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from './clock.js';

const T0 = Date.parse('2026-01-15T12:00:00Z');

describe('FakeClock', () => {
  it('keeps its time until told: now, set (number or ISO text), advance', () => {
    const clock = new FakeClock(T0, { autoAdvance: false });
    assert.equal(clock.now(), T0);
    clock.advance(1500);
    assert.equal(clock.now(), T0 + 1500);
    clock.set('2026-03-01T00:00:00Z');
    assert.equal(clock.now(), Date.parse('2026-03-01T00:00:00Z'));
    clock.set(T0);
    assert.equal(clock.now(), T0, 'set may move backwards');
    assert.equal(new FakeClock('2024-11-03T08:30:00Z').now(), Date.parse('2024-11-03T08:30:00Z'));
  });

  it('sleepers wake in order of due time, each at its own time, whatever order they started in', async () => {
    const clock = new FakeClock(T0, { autoAdvance: false });
    const woke: Array<[string, number]> = [];
    const sleeper = (name: string, ms: number) =>
      clock.sleep(ms).then(() => woke.push([name, clock.now() - T0]));
    const all = Promise.all([sleeper('c', 300), sleeper('a', 100), sleeper('b', 200), sleeper('a2', 100)]);
    assert.equal(clock.pending, 4);
    assert.equal(clock.nextDue(), T0 + 100);
    await clock.tickAsync(1000);
    await all;
    assert.deepEqual(woke, [
      ['a', 100],
      ['a2', 100],
      ['b', 200],
      ['c', 300],
    ]);
    assert.equal(clock.now(), T0 + 1000);
    assert.equal(clock.pending, 0);
  });

  it('concurrent sleepers do not add up: two 10 s sleeps started together both end at t+10 s', async () => {
    const clock = new FakeClock(T0);
    const ends: number[] = [];
    await Promise.all([
      clock.sleep(10_000).then(() => ends.push(clock.now())),
      clock.sleep(10_000).then(() => ends.push(clock.now())),
    ]);
    assert.deepEqual(ends, [T0 + 10_000, T0 + 10_000]);
    assert.equal(clock.now(), T0 + 10_000);
  });

  it('tickAsync fires only what is due, in order, letting each sleeper run before the next fires', async () => {
    const clock = new FakeClock(T0, { autoAdvance: false });
    const log: string[] = [];
    // A loop that sleeps 40 ms at a time, and a one-off sleeper at 100 ms.
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        await clock.sleep(40);
        log.push(`loop@${clock.now() - T0}`);
      }
    })();
    const once = clock.sleep(100).then(() => log.push(`once@${clock.now() - T0}`));
    await clock.tickAsync(90);
    assert.deepEqual(log, ['loop@40', 'loop@80']);
    assert.equal(clock.now(), T0 + 90);
    await clock.tickAsync(30);
    assert.deepEqual(log, ['loop@40', 'loop@80', 'once@100', 'loop@120']);
    await once;
    stop = true;
    await clock.tickAsync(40);
    await loop;
  });

  it('advance resolves every due timer in order and moves to the end at once', async () => {
    const clock = new FakeClock(T0, { autoAdvance: false });
    const order: string[] = [];
    const done = Promise.all([
      clock.sleep(30).then(() => order.push('30')),
      clock.sleep(10).then(() => order.push('10')),
      clock.sleep(20).then(() => order.push('20')),
      clock.sleep(50).then(() => order.push('50')),
    ]);
    clock.advance(30);
    assert.equal(clock.now(), T0 + 30);
    assert.equal(clock.pending, 1, 'the 50 ms sleeper is still waiting');
    await clock.settle();
    assert.deepEqual(order, ['10', '20', '30']);
    clock.set(T0 + 50);
    await done;
    assert.deepEqual(order, ['10', '20', '30', '50']);
  });

  it('set backwards keeps what pending timers have left to wait', async () => {
    const clock = new FakeClock(T0, { autoAdvance: false });
    const woke = clock.sleep(1000).then(() => clock.now());
    clock.set(T0 - 60_000);
    clock.advance(999);
    await clock.settle();
    assert.equal(clock.pending, 1);
    clock.advance(1);
    assert.equal(await woke, T0 - 60_000 + 1000);
  });

  it('next() jumps to the earliest timer; false when none is pending', async () => {
    const clock = new FakeClock(T0, { autoAdvance: false });
    const a = clock.sleep(5000);
    assert.equal(await clock.next(), true);
    await a;
    assert.equal(clock.now(), T0 + 5000);
    assert.equal(await clock.next(), false);
  });

  it('an abort rejects the sleeper with the reason and removes its timer; other sleepers are untouched', async () => {
    const clock = new FakeClock(T0, { autoAdvance: false });
    const controller = new AbortController();
    const aborted = clock.sleep(10_000, controller.signal);
    const other = clock.sleep(20_000);
    assert.equal(clock.pending, 2);
    const reason = new Error('stop');
    controller.abort(reason);
    await assert.rejects(aborted, (err) => err === reason);
    assert.equal(clock.pending, 1);
    assert.equal(clock.nextDue(), T0 + 20_000);
    await clock.tickAsync(20_000);
    await other;
    assert.equal(clock.now(), T0 + 20_000, 'time moved only by the tick');

    const already = new AbortController();
    already.abort(new Error('already'));
    await assert.rejects(clock.sleep(1000, already.signal), /already/);
    assert.equal(clock.pending, 0, 'an aborted signal registers nothing');
  });

  it('a timer that fired no longer listens to its signal', async () => {
    const clock = new FakeClock(T0, { autoAdvance: false });
    const controller = new AbortController();
    const slept = clock.sleep(10, controller.signal);
    clock.advance(10);
    await slept;
    controller.abort(new Error('late'));
    assert.equal(clock.pending, 0);
  });

  it('sleep(0) and negative waits only yield, without moving time', async () => {
    const clock = new FakeClock(T0);
    await clock.sleep(0);
    await clock.sleep(-500);
    await clock.sleep(Number.NaN);
    assert.equal(clock.now(), T0);
    assert.equal(clock.pending, 0);
  });

  it('auto-advance jumps to the earliest timer once the loop is idle, in order, and not while code yields through the clock', async () => {
    const clock = new FakeClock(T0);
    const log: string[] = [];
    const work = (async () => {
      // Busy for many turns, yielding through the clock: time must not move under it.
      for (let i = 0; i < 50; i++) {
        assert.equal(clock.now(), T0, `turn ${i}`);
        await clock.sleep(0);
      }
      log.push('work done');
    })();
    const a = clock.sleep(60_000).then(() => log.push(`a@${clock.now() - T0}`));
    const b = clock.sleep(1_000).then(async () => {
      log.push(`b@${clock.now() - T0}`);
      await clock.sleep(1_000);
      log.push(`b2@${clock.now() - T0}`);
    });
    await Promise.all([work, a, b]);
    assert.deepEqual(log, ['work done', 'b@1000', 'b2@2000', 'a@60000']);
  });

  it('auto-advance can be switched off and on', async () => {
    const clock = new FakeClock(T0, { autoAdvance: false });
    let woke = false;
    const slept = clock.sleep(1000).then(() => {
      woke = true;
    });
    await clock.settle(50);
    assert.equal(woke, false, 'no one moved time');
    clock.autoAdvance = true;
    await slept;
    assert.equal(clock.now(), T0 + 1000);
  });

  it('many concurrent sleepers with a loop take no real time', async () => {
    const clock = new FakeClock(T0);
    const started = Date.now();
    const sleepers = Array.from({ length: 200 }, (_, i) => clock.sleep((i % 10) * 60_000 + 1));
    let ticks = 0;
    const loop = (async () => {
      while (clock.now() < T0 + 9 * 60_000) {
        await clock.sleep(1000);
        ticks++;
      }
    })();
    await Promise.all([...sleepers, loop]);
    assert.equal(ticks, 9 * 60);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  });
});
