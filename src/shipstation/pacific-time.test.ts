import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Settings } from 'luxon';
import {
  formatPacificDate,
  formatPacificDateTime,
  formatPacificFilter,
  PacificTimeError,
  pacificToUtc,
  pacificToUtcIso,
  pacificToUtcOrNull,
  toCalendarDate,
} from './pacific-time.js';

const iso = (ms: number) => new Date(ms).toISOString();

// luxon resolves ambiguous times by the offset the zone has "now" (stack.md §3). Run every
// assertion as if today were in summer and in winter: the results must not change.
for (const today of ['2026-07-01T12:00:00Z', '2026-12-01T12:00:00Z']) {
  describe(`Pacific time (as if today were ${today})`, () => {
    const realNow = Settings.now;
    before(() => {
      Settings.now = () => Date.parse(today);
    });
    after(() => {
      Settings.now = realNow;
    });

    it('parses every V1 datetime format as Pacific wall clock', () => {
      // Summer (PDT, UTC−7).
      assert.equal(pacificToUtcIso('2015-07-16T14:00:34.8230000'), '2015-07-16T21:00:34.823Z');
      assert.equal(pacificToUtcIso('2015-07-16T14:00:34.823'), '2015-07-16T21:00:34.823Z');
      assert.equal(pacificToUtcIso('2014-11-12T08:45:20.55'), '2014-11-12T16:45:20.550Z');
      assert.equal(pacificToUtcIso('2015-07-16T14:00:34'), '2015-07-16T21:00:34.000Z');
      // Winter (PST, UTC−8), filter format.
      assert.equal(pacificToUtcIso('2016-11-29 23:59:59'), '2016-11-30T07:59:59.000Z');
      // Date only: Pacific midnight.
      assert.equal(pacificToUtcIso('2015-07-02'), '2015-07-02T07:00:00.000Z');
      // Fulfillment / shipByDate midnight datetimes.
      assert.equal(pacificToUtcIso('2016-06-07T00:00:00.0000000'), '2016-06-07T07:00:00.000Z');
    });

    it('ignores a trailing Z or offset by default and honours it on request', () => {
      assert.equal(pacificToUtcIso('2015-06-29T08:46:27.000Z'), '2015-06-29T15:46:27.000Z');
      assert.equal(
        pacificToUtcIso('2015-06-29T08:46:27.000Z', { offset: 'honour' }),
        '2015-06-29T08:46:27.000Z',
      );
      assert.equal(
        pacificToUtcIso('2015-06-29T08:46:27+05:30', { offset: 'honour' }),
        '2015-06-29T03:16:27.000Z',
      );
    });

    it('reads the repeated fall-back hour (2024-11-03 01:30) as the earlier instant unless asked', () => {
      assert.equal(iso(pacificToUtc('2024-11-03 01:30:00')), '2024-11-03T08:30:00.000Z');
      assert.equal(iso(pacificToUtc('2024-11-03T01:30:00.0000000')), '2024-11-03T08:30:00.000Z');
      assert.equal(
        iso(pacificToUtc('2024-11-03 01:30:00', { ambiguous: 'later' })),
        '2024-11-03T09:30:00.000Z',
      );
      // Just outside the repeated hour there is one answer either way.
      assert.equal(
        iso(pacificToUtc('2024-11-03 00:59:59', { ambiguous: 'later' })),
        '2024-11-03T07:59:59.000Z',
      );
      assert.equal(iso(pacificToUtc('2024-11-03 02:00:00')), '2024-11-03T10:00:00.000Z');
    });

    it('moves the skipped spring-forward hour (2024-03-10 02:30) forward, or rejects it', () => {
      assert.equal(iso(pacificToUtc('2024-03-10 02:30:00')), '2024-03-10T10:30:00.000Z');
      assert.throws(
        () => pacificToUtc('2024-03-10 02:30:00', { gap: 'reject' }),
        (e: unknown) => e instanceof PacificTimeError && /does not exist/.test(e.message),
      );
      assert.equal(iso(pacificToUtc('2024-03-10 01:59:59', { gap: 'reject' })), '2024-03-10T09:59:59.000Z');
      assert.equal(iso(pacificToUtc('2024-03-10 03:00:00', { gap: 'reject' })), '2024-03-10T10:00:00.000Z');
    });

    it('formats instants as Pacific filter values on both sides of each DST change', () => {
      assert.equal(formatPacificFilter(Date.parse('2024-03-10T09:59:59Z')), '2024-03-10 01:59:59');
      assert.equal(formatPacificFilter(Date.parse('2024-03-10T10:00:00Z')), '2024-03-10 03:00:00');
      // Both instants of the repeated hour print the same wall clock.
      assert.equal(formatPacificFilter(Date.parse('2024-11-03T08:30:00Z')), '2024-11-03 01:30:00');
      assert.equal(formatPacificFilter(Date.parse('2024-11-03T09:30:00Z')), '2024-11-03 01:30:00');
      assert.equal(formatPacificDateTime(Date.parse('2026-01-15T12:00:00.999Z')), '2026-01-15 04:00:00');
      // A UTC instant after Pacific midnight can still be the previous Pacific day.
      assert.equal(formatPacificDate(Date.parse('2026-01-15T07:59:59Z')), '2026-01-14');
      assert.equal(formatPacificDate(Date.parse('2026-01-15T08:00:00Z')), '2026-01-15');
    });

    it('round-trips every instant outside the repeated hour', () => {
      for (
        let t = Date.parse('2024-03-09T00:00:00Z');
        t < Date.parse('2024-03-12T00:00:00Z');
        t += 15 * 60_000
      ) {
        assert.equal(pacificToUtc(formatPacificFilter(t)), t);
      }
    });

    it('gives every minute of an hour the same offset, whichever minute was read first (the hour cache)', () => {
      const H = 3_600_000;
      // [wall hour, offset to UTC in hours, earlier/later] around both 2024 changes, each hour read
      // from its last minute down, then its first minute again: the cached offset must hold.
      const cases: Array<[string, number, 'earlier' | 'later' | undefined]> = [
        ['2024-03-10T01', 8, undefined],
        ['2024-03-10T02', 8, undefined], // skipped hour: read with PST, i.e. moved forward
        ['2024-03-10T03', 7, undefined],
        ['2024-11-03T00', 7, undefined],
        ['2024-11-03T01', 7, 'earlier'],
        ['2024-11-03T01', 8, 'later'],
        ['2024-11-03T02', 8, undefined],
      ];
      for (const [hour, offset, ambiguous] of cases) {
        for (const minute of [59, 30, 0, 59]) {
          const text = `${hour}:${String(minute).padStart(2, '0')}:15`;
          const expected = Date.parse(`${text}Z`) + offset * H;
          assert.equal(pacificToUtc(text, ambiguous ? { ambiguous } : {}), expected, text);
        }
      }
      // A rejected gap keeps throwing after the same hour was read with `forward`.
      assert.throws(() => pacificToUtc('2024-03-10T02:10:00', { gap: 'reject' }), PacificTimeError);
      assert.equal(pacificToUtc('2024-03-10T02:10:00'), Date.parse('2024-03-10T10:10:00Z'));
      assert.throws(() => pacificToUtc('2024-03-10T02:20:00', { gap: 'reject' }), PacificTimeError);
    });

    it('keeps calendar dates as dates and refuses garbage', () => {
      assert.equal(toCalendarDate('2014-10-03'), '2014-10-03');
      assert.equal(toCalendarDate('2016-06-07T00:00:00.0000000'), '2016-06-07');
      assert.equal(pacificToUtcOrNull(null), null);
      assert.equal(pacificToUtcOrNull(''), null);
      assert.throws(() => pacificToUtc('07/16/2015'), PacificTimeError);
      assert.throws(() => pacificToUtc('2015-13-01'), PacificTimeError);
      assert.throws(() => pacificToUtc('2015-02-30'), PacificTimeError);
    });
  });
}
