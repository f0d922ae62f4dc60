import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Settings } from 'luxon';
import {
  filterBoundToInstant,
  formatDateOnly,
  formatDotNet7,
  formatDotNetTrimmed,
  formatMidnight7,
  pacificMidnight,
  pacificToInstant,
  parseWallClock,
} from './pacific-time.js';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('Pacific wall-clock time', () => {
  it('reads the .NET and filter formats, dropping a Z or offset (wall-clock kept)', () => {
    assert.equal(iso(pacificToInstant('2015-07-16T14:00:34.8230000')), '2015-07-16T21:00:34.823Z');
    assert.equal(iso(pacificToInstant('2016-11-29 23:59:59')), '2016-11-30T07:59:59.000Z');
    assert.equal(iso(pacificToInstant('2015-01-01')), '2015-01-01T08:00:00.000Z');
    assert.equal(iso(pacificToInstant('2015-06-29T08:46:27.000Z')), '2015-06-29T15:46:27.000Z');
    assert.equal(parseWallClock('2015-02-30'), undefined);
    assert.equal(parseWallClock('yesterday'), undefined);
    assert.equal(parseWallClock('2015-01-01')?.dateOnly, true);
  });

  it('resolves the fall-back hour by the explicit rule, whatever the current date (luxon would not)', () => {
    for (const today of [Date.parse('2026-07-01T12:00:00Z'), Date.parse('2026-12-01T12:00:00Z')]) {
      Settings.now = () => today;
      try {
        assert.equal(iso(pacificToInstant('2024-11-03 01:30:00', 'earlier')), '2024-11-03T08:30:00.000Z');
        assert.equal(iso(pacificToInstant('2024-11-03 01:30:00', 'later')), '2024-11-03T09:30:00.000Z');
        assert.equal(iso(filterBoundToInstant('2024-11-03 01:30:00', 'start')), '2024-11-03T08:30:00.000Z');
        assert.equal(iso(filterBoundToInstant('2024-11-03 01:30:00', 'end')), '2024-11-03T09:30:00.000Z');
        assert.equal(
          iso(filterBoundToInstant('2024-11-03 01:30:00', 'end', 'earlier')),
          '2024-11-03T08:30:00.000Z',
        );
      } finally {
        Settings.now = () => Date.now();
      }
    }
  });

  it('moves a spring-forward gap time forward by the gap, for both bounds', () => {
    assert.equal(iso(pacificToInstant('2024-03-10 02:30:00')), '2024-03-10T10:30:00.000Z');
    assert.equal(iso(filterBoundToInstant('2024-03-10 02:30:00', 'start')), '2024-03-10T10:30:00.000Z');
    assert.equal(iso(filterBoundToInstant('2024-03-10 02:30:00', 'end')), '2024-03-10T10:30:00.000Z');
  });

  it('formats instants as ShipStation does', () => {
    const ms = Date.parse('2015-07-16T21:00:34.823Z');
    assert.equal(formatDotNet7(ms), '2015-07-16T14:00:34.8230000');
    assert.equal(formatDotNetTrimmed(ms), '2015-07-16T14:00:34.823');
    assert.equal(formatDotNetTrimmed(Date.parse('2014-11-12T16:45:20.550Z')), '2014-11-12T08:45:20.55');
    assert.equal(formatDotNetTrimmed(Date.parse('2014-11-12T16:45:20.000Z')), '2014-11-12T08:45:20');
    assert.equal(formatDateOnly(Date.parse('2014-10-04T06:59:00Z')), '2014-10-03');
    assert.equal(formatMidnight7(Date.parse('2016-06-07T15:00:00Z')), '2016-06-07T00:00:00.0000000');
    // Both readings of 01:30 on the fall-back day print the same wall-clock text.
    assert.equal(formatDotNet7(Date.parse('2024-11-03T08:30:00Z')), '2024-11-03T01:30:00.0000000');
    assert.equal(formatDotNet7(Date.parse('2024-11-03T09:30:00Z')), '2024-11-03T01:30:00.0000000');
    assert.equal(iso(pacificMidnight(Date.parse('2024-11-03T20:00:00Z'))), '2024-11-03T07:00:00.000Z');
  });
});
