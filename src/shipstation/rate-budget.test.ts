import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyBlock, applyObservation, type BudgetState, freeSlots, trySend } from './rate-budget.js';

const empty: BudgetState = {
  windowMs: 60_000,
  limit: 3,
  sentAt: [],
  serverRemaining: null,
  serverWindowEnd: null,
  blockedUntil: null,
};

function sendAll(state: BudgetState, times: number[], margin = 0): Array<number | 'ok'> {
  const out: Array<number | 'ok'> = [];
  let s = state;
  for (const t of times) {
    const d = trySend(s, t, margin);
    if (d.granted) {
      s = d.state;
      out.push('ok');
    } else out.push(d.waitMs);
  }
  return out;
}

describe('trySend', () => {
  it('allows `limit` sends in any window (sliding), then says how long to wait', () => {
    assert.deepEqual(sendAll(empty, [0, 10, 20, 30, 60_000, 60_009, 60_010]), [
      'ok',
      'ok',
      'ok',
      59_970,
      'ok',
      1,
      'ok',
    ]);
  });

  it('adds the margin to the window', () => {
    assert.deepEqual(sendAll(empty, [0, 0, 0, 60_000, 60_500], 500), ['ok', 'ok', 'ok', 500, 'ok']);
  });

  it('honours the server saying nothing remains, and a block', () => {
    const s = applyObservation(empty, { limit: 40, remaining: 0, resetSeconds: 20, at: 1000 }, 0);
    assert.deepEqual(sendAll(s, [5000, 21_000]), [16_000, 'ok']);
    // The margin is added to the reported reset.
    const padded = applyObservation(empty, { remaining: 0, resetSeconds: 20, at: 1000 }, 1000);
    assert.deepEqual(sendAll(padded, [21_000, 22_000]), [1000, 'ok']);
    const blocked = applyBlock(empty, 9000);
    assert.deepEqual(sendAll(blocked, [1000, 9000]), [8000, 'ok']);
  });
});

describe('applyObservation', () => {
  it('keeps the lower remaining within one server window; a newer window replaces it; older ones are ignored', () => {
    let s = applyObservation(empty, { remaining: 5, resetSeconds: 30, at: 0 }, 0);
    s = applyObservation(s, { remaining: 9, resetSeconds: 30, at: 200 }, 0);
    assert.equal(s.serverRemaining, 5);
    s = applyObservation(s, { remaining: 39, resetSeconds: 60, at: 31_000 }, 0);
    assert.deepEqual([s.serverRemaining, s.serverWindowEnd], [39, 91_000]);
    s = applyObservation(s, { remaining: 0, resetSeconds: 1, at: 29_000 }, 0);
    assert.equal(s.serverRemaining, 39);
  });

  it('takes the limit the server states, lower or higher than the configured assumption', () => {
    assert.equal(applyObservation({ ...empty, limit: 40 }, { limit: 20, at: 0 }, 0).limit, 20);
    // A partner key (x-partner) raises V1 to 100/min: the header is the server's word.
    assert.equal(applyObservation({ ...empty, limit: 40 }, { limit: 100, at: 0 }, 0).limit, 100);
    // Nonsense is ignored.
    assert.equal(applyObservation({ ...empty, limit: 40 }, { limit: 0, at: 0 }, 0).limit, 40);
  });
});

describe('freeSlots', () => {
  it('is what trySend would still grant now: the sliding log, the server remaining, a block', () => {
    let state = empty;
    for (const t of [0, 10]) {
      const d = trySend(state, t, 0);
      assert.ok(d.granted);
      state = d.state;
    }
    assert.equal(freeSlots(state, 20, 0), 1);
    assert.equal(freeSlots(state, 60_001, 0), 2, 'the first send left the log');
    assert.equal(freeSlots(state, 60_011, 0), 3);
    const told = applyObservation(state, { remaining: 0, resetSeconds: 30, at: 20 }, 0);
    assert.equal(freeSlots(told, 20, 0), 0);
    assert.equal(trySend(told, 20, 0).granted, false);
    assert.equal(freeSlots(told, 30_020, 0), 1, "the server's window ended");
    const blocked = applyBlock(state, 5_000);
    assert.equal(freeSlots(blocked, 4_999, 0), 0);
    assert.equal(freeSlots(blocked, 5_000, 0), 1);
    const lower = applyObservation(state, { limit: 1, at: 20 }, 0);
    assert.equal(freeSlots(lower, 20, 0), 0, 'X-Rate-Limit-Limit lowered the limit below what was sent');
  });
});
