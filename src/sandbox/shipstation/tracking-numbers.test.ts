import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../random.js';
import {
  fedexTrackingNumber,
  trackingNumberFor,
  upsTrackingNumber,
  uspsTrackingNumber,
} from './tracking-numbers.js';

describe('tracking numbers', () => {
  it('UPS numbers carry a valid check digit', () => {
    // A published UPS example: 1Z 999AA1 01 2345678 4.
    const valid = (n: string) => {
      const body = n.slice(2, 17);
      let sum = 0;
      for (let i = 0; i < body.length; i += 1) {
        const ch = body[i] ?? '0';
        const v = /\d/.test(ch) ? Number(ch) : (ch.charCodeAt(0) - 63) % 10;
        sum += i % 2 === 1 ? v * 2 : v;
      }
      return (10 - (sum % 10)) % 10 === Number(n[17]);
    };
    assert.equal(valid('1Z999AA10123456784'), true);
    const random = new SeededRandom(3);
    for (let i = 0; i < 20; i += 1) {
      const n = upsTrackingNumber(random);
      assert.match(n, /^1Z[0-9A-Z]{16}$/);
      assert.equal(valid(n), true, n);
    }
  });

  it('USPS and FedEx numbers have their lengths and are deterministic for a seed', () => {
    assert.match(uspsTrackingNumber(new SeededRandom(1)), /^94001\d{17}$/);
    assert.match(fedexTrackingNumber(new SeededRandom(1)), /^\d{12}$/);
    assert.equal(
      trackingNumberFor('stamps_com', new SeededRandom(9)),
      trackingNumberFor('stamps_com', new SeededRandom(9)),
    );
    assert.match(trackingNumberFor('ups_walleted', new SeededRandom(9)), /^1Z/);
  });
});
