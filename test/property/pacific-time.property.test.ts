/**
 * Properties of the Pacific-time module (src/shipstation/pacific-time.ts) over generated instants
 * and wall-clock strings, 1971–2099 (every DST rule the zone database has for Los Angeles in that
 * span, the 2007 change included):
 * - formatting then parsing an instant gives it back (to the second), except in the repeated
 *   fall-back hour, where the documented rule holds: `earlier` gives the PDT instant, `later` the
 *   PST one, and the instant is one of the two;
 * - parsing then formatting a wall time gives it back, except in the skipped spring-forward hour,
 *   where the documented rule holds: read with UTC−8, i.e. one hour later on the wall clock, and
 *   `gap: 'reject'` throws a PacificTimeError;
 * - every V1 form of one wall time (7 fractional digits, trimmed, space, `Z`/offset ignored) parses
 *   to the same instant, and `earlier <= later` always, with a difference of 0 or exactly one hour.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  formatPacificDate,
  formatPacificDateTime,
  PacificTimeError,
  pacificToUtc,
  SHIPSTATION_ZONE,
  toCalendarDate,
} from '../../src/shipstation/pacific-time.js';

const HOUR = 3_600_000;
const FROM = Date.UTC(1971, 0, 1);
const TO = Date.UTC(2099, 11, 31);
const RUNS = { numRuns: 2000 };

/** Instants in whole seconds (the V1 submit format has no sub-second part). */
const instant = fc.integer({ min: FROM / 1000, max: TO / 1000 }).map((s) => s * 1000);

/** An instant near a DST change of its year (the edges are where the bugs live). */
const nearChange = fc
  .record({
    year: fc.integer({ min: 1971, max: 2099 }),
    spring: fc.boolean(),
    offsetSeconds: fc.integer({ min: -3 * 3600, max: 3 * 3600 }),
  })
  .map(({ year, spring, offsetSeconds }) => {
    const change = dstChange(year, spring);
    return change + offsetSeconds * 1000;
  });

/** The instant of the spring or fall change of `year` in Los Angeles (found by scanning hours). */
const changes = new Map<string, number>();
function dstChange(year: number, spring: boolean): number {
  const key = `${year}:${spring}`;
  const hit = changes.get(key);
  if (hit !== undefined) return hit;
  const DAY = 24 * HOUR;
  const found: number[] = [];
  let prev = offsetAt(Date.UTC(year, 0, 1));
  for (let day = Date.UTC(year, 0, 1); day < Date.UTC(year + 1, 0, 1); day += DAY) {
    if (offsetAt(day + DAY) === prev) continue;
    // The change is in this day: find its hour.
    for (let t = day + HOUR; t <= day + DAY; t += HOUR) {
      if (offsetAt(t) !== prev) {
        found.push(t);
        prev = offsetAt(t);
        break;
      }
    }
  }
  // Before 1976 some years had odd rules (1974 year-round DST): fall back to mid-year.
  const value = (spring ? found[0] : found[found.length - 1]) ?? Date.UTC(year, 6, 1);
  changes.set(key, value);
  return value;
}

const anyInstant = fc.oneof(instant, nearChange);

function offsetAt(ms: number): number {
  return DateTime.fromMillis(ms, { zone: SHIPSTATION_ZONE }).offset;
}

describe('pacific time properties', () => {
  it('pacificToUtc ∘ formatPacificDateTime is the identity outside the repeated hour, the rule inside', () => {
    let repeated = 0;
    fc.assert(
      fc.property(anyInstant, (t) => {
        const wall = formatPacificDateTime(t);
        const earlier = pacificToUtc(wall);
        const later = pacificToUtc(wall, { ambiguous: 'later' });
        assert.ok(earlier <= later, `${wall}: earlier ${earlier} after later ${later}`);
        assert.ok(later - earlier === 0 || later - earlier === HOUR, `${wall}: ${later - earlier} ms apart`);
        if (earlier === later) {
          assert.equal(earlier, t, `${wall} read back as ${new Date(earlier).toISOString()}`);
        } else {
          // The repeated hour: the instant is one of the two, earlier is PDT (−7), later PST (−8).
          repeated++;
          assert.ok(t === earlier || t === later, `${wall}: ${t} is neither reading`);
          assert.equal(offsetAt(earlier), -420);
          assert.equal(offsetAt(later), -480);
          assert.equal(formatPacificDateTime(earlier), wall);
          assert.equal(formatPacificDateTime(later), wall);
        }
      }),
      RUNS,
    );
    assert.ok(repeated > 10, `the generator reached the repeated hour ${repeated} times`);
  });

  it('formatPacificDateTime ∘ pacificToUtc is the identity outside the skipped hour, +1 h inside', () => {
    let skipped = 0;
    // Any wall clock, including ones in the gap: built as text (the Pacific date and hour of an
    // instant, or hour 02 on the day of a change), not formatted from a Pacific instant.
    const wallTime = fc
      .record({
        t: anyInstant,
        twoAm: fc.boolean(),
        minute: fc.integer({ min: 0, max: 59 }),
        second: fc.integer({ min: 0, max: 59 }),
      })
      .map(({ t, twoAm, minute, second }) => {
        const d = DateTime.fromMillis(t, { zone: SHIPSTATION_ZONE });
        const hour = twoAm ? '02' : d.toFormat('HH');
        return `${d.toFormat('yyyy-MM-dd')} ${hour}:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}`;
      });
    fc.assert(
      fc.property(wallTime, (wall) => {
        const t = pacificToUtc(wall);
        const back = formatPacificDateTime(t);
        if (back === wall) {
          assert.doesNotThrow(() => pacificToUtc(wall, { gap: 'reject' }));
          return;
        }
        // Only a time in the spring-forward gap may come back different: read as UTC−8, one hour on.
        skipped++;
        assert.equal(t, DateTime.fromFormat(wall, 'yyyy-MM-dd HH:mm:ss', { zone: 'UTC-8' }).toMillis());
        assert.equal(offsetAt(t), -420, `${wall} → ${back} is not a gap time`);
        const expected = DateTime.fromFormat(wall, 'yyyy-MM-dd HH:mm:ss', { zone: 'utc' })
          .plus({ hours: 1 })
          .toFormat('yyyy-MM-dd HH:mm:ss');
        assert.equal(back, expected);
        assert.throws(() => pacificToUtc(wall, { gap: 'reject' }), PacificTimeError);
      }),
      RUNS,
    );
    assert.ok(skipped > 10, `the generator reached the skipped hour ${skipped} times`);
  });

  it('every V1 form of a wall time parses to the same instant', () => {
    fc.assert(
      fc.property(anyInstant, fc.integer({ min: 0, max: 999 }), (t, ms) => {
        const withMs = t + ms;
        const d = DateTime.fromMillis(withMs, { zone: SHIPSTATION_ZONE });
        const base = d.toFormat("yyyy-MM-dd'T'HH:mm:ss");
        const frac3 = String(ms).padStart(3, '0');
        const forms = [
          `${base}.${frac3}0000`,
          `${base}.${frac3}`,
          `${d.toFormat('yyyy-MM-dd HH:mm:ss')}.${frac3}`,
          `${base}.${frac3}Z`,
          `${base}.${frac3}+02:00`,
          `  ${base}.${frac3}  `,
        ];
        const readings = forms.map((f) => pacificToUtc(f));
        for (const [i, r] of readings.entries()) assert.equal(r, readings[0], forms[i]);
        // The ms survive parsing (outside the repeated hour, exactly the instant).
        assert.equal(readings[0]! % 1000, withMs % 1000 < 0 ? (withMs % 1000) + 1000 : withMs % 1000);
      }),
      RUNS,
    );
  });

  it('calendar dates round-trip through toCalendarDate and formatPacificDate', () => {
    fc.assert(
      fc.property(anyInstant, (t) => {
        const date = formatPacificDate(t);
        assert.equal(toCalendarDate(date), date);
        assert.equal(toCalendarDate(`${date}T00:00:00.0000000`), date);
        // Pacific midnight of that date is on that date and no later than t.
        const midnight = pacificToUtc(date);
        assert.equal(formatPacificDate(midnight), date);
        assert.ok(midnight <= t);
      }),
      RUNS,
    );
  });

  it('anything that is not a V1 time is a PacificTimeError, never another error or NaN', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        try {
          const t = pacificToUtc(text);
          assert.ok(Number.isFinite(t), `${JSON.stringify(text)} parsed to ${t}`);
        } catch (error) {
          assert.ok(error instanceof PacificTimeError, `${JSON.stringify(text)}: ${String(error)}`);
        }
      }),
      RUNS,
    );
    for (const bad of [
      '2024-02-30 10:00:00',
      '2023-02-29',
      '2024-13-01',
      '2024-04-31T00:00:00',
      '0000-00-00',
    ]) {
      assert.throws(() => pacificToUtc(bad), PacificTimeError, bad);
      assert.throws(() => toCalendarDate(bad), PacificTimeError, bad);
    }
  });
});
