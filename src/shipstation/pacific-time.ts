/**
 * ShipStation V1 speaks Pacific wall-clock time without an offset, in and out (reference
 * shipstation-api.md §3). This is the one module that converts, at the edge, between those strings
 * and UTC instants (epoch ms).
 *
 * The DST rules (decisions log "shipstation: Pacific time DST rules"):
 * - Fall back (first Sunday of November, 01:00–01:59 happens twice): a wall time in that hour is read
 *   as its EARLIER instant (PDT, UTC−7) unless the caller asks for `ambiguous: 'later'`. We never let
 *   luxon choose: luxon picks the offset the zone has *today* (stack.md §3), so the result would
 *   change with the season the code runs in. `getPossibleOffsets()` gives both; we pick explicitly.
 *   For a window's lower bound the earlier instant is the safe side (it widens the window); for an
 *   upper bound pass `ambiguous: 'later'`.
 * - Spring forward (second Sunday of March, 02:00–02:59 does not exist): ShipStation should never
 *   send such a time. If one comes, the default (`gap: 'forward'`) reads it with the offset before the
 *   change (PST, UTC−8), i.e. moved forward by the hour: 2024-03-10 02:30 → 03:30 PDT = 10:30Z.
 *   `gap: 'reject'` throws instead.
 * - Formatting an instant as Pacific is always well defined, but it loses the offset: 08:30Z and
 *   09:30Z on 2024-11-03 both print as `01:30:00`. Polls therefore overlap their windows.
 * - A trailing `Z` or offset on a V1 value is ignored by default (`offset: 'ignore'`): the docs say all
 *   V1 times are Pacific, and reports show Pacific times labelled as UTC. Whether ShipStation honours
 *   an offset is UNCONFIRMED; `offset: 'honour'` reads it as written.
 */
import { DateTime } from 'luxon';

export const SHIPSTATION_ZONE = 'America/Los_Angeles';

export interface PacificParseOptions {
  /** Which instant a wall time in the repeated fall-back hour means. Default `earlier`. */
  ambiguous?: 'earlier' | 'later';
  /** What a wall time in the skipped spring-forward hour means. Default `forward`. */
  gap?: 'forward' | 'reject';
  /** What to do with an explicit `Z`/offset on the value. Default `ignore` (read as Pacific). */
  offset?: 'ignore' | 'honour';
}

export class PacificTimeError extends Error {
  constructor(
    message: string,
    readonly value: string,
  ) {
    super(message);
    this.name = 'PacificTimeError';
  }
}

/**
 * Every V1 form: `2015-07-16T14:00:34.8230000` (7 fractional digits), `2015-07-16T14:00:34.823`
 * (trimmed), `2015-07-16T14:00:34`, `2016-11-29 23:59:59` (filter format), `2015-07-02` (date only,
 * read as Pacific midnight), optionally followed by `Z` or `±hh:mm`.
 */
const V1_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

function splitWallClock(text: string): { wall: WallClock; offset: string | undefined } {
  const m = V1_DATETIME.exec(text.trim());
  if (!m) throw new PacificTimeError(`not a ShipStation date/time: "${text}"`, text);
  const fraction = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
  const wall: WallClock = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    millisecond: Number(fraction),
  };
  if (
    wall.month < 1 ||
    wall.month > 12 ||
    wall.day < 1 ||
    wall.day > 31 ||
    wall.hour > 23 ||
    wall.minute > 59 ||
    wall.second > 59
  ) {
    throw new PacificTimeError(`not a valid date/time: "${text}"`, text);
  }
  return { wall, offset: m[8] };
}

/**
 * Pacific offsets already worked out, per wall-clock hour and DST options: `instant - wall as if
 * UTC`. Pacific time changes only at 02:00 local (the skipped and the repeated hour are whole
 * hours), so one hour's answer holds for every minute in it. luxon's zone arithmetic (Intl) was
 * half the CPU of mapping a V2 shipment (two order datetimes each); this keeps it to once an hour.
 */
const hourOffsets = new Map<string, number>();
const HOUR_OFFSETS_MAX = 10_000;

const wallAsUtc = (w: WallClock) =>
  Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);

/** Parses a V1 Pacific date/time string to a UTC instant (epoch ms), with the DST rules above. */
export function pacificToUtc(text: string, options: PacificParseOptions = {}): number {
  const { wall, offset } = splitWallClock(text);
  if (offset !== undefined && options.offset === 'honour') return zonedToUtc(text, wall, offset, options);
  const key = `${wall.year}-${wall.month}-${wall.day}T${wall.hour}|${options.ambiguous ?? ''}|${options.gap ?? ''}`;
  const known = hourOffsets.get(key);
  if (known !== undefined) return wallAsUtc(wall) + known;
  // A date that does not exist (Feb 30) or a rejected gap throws here and is never cached.
  const instant = zonedToUtc(text, wall, offset, options);
  if (hourOffsets.size >= HOUR_OFFSETS_MAX) hourOffsets.clear();
  hourOffsets.set(key, instant - wallAsUtc(wall));
  return instant;
}

function zonedToUtc(
  text: string,
  wall: WallClock,
  offset: string | undefined,
  options: PacificParseOptions,
): number {
  if (offset !== undefined && options.offset === 'honour') {
    const zone =
      offset === 'Z'
        ? 'utc'
        : `UTC${offset.length === 5 ? `${offset.slice(0, 3)}:${offset.slice(3)}` : offset}`;
    const fixed = DateTime.fromObject(wall, { zone });
    if (!fixed.isValid) throw new PacificTimeError(`not a valid date/time: "${text}"`, text);
    return fixed.toMillis();
  }
  const guess = DateTime.fromObject(wall, { zone: SHIPSTATION_ZONE });
  if (!guess.isValid) throw new PacificTimeError(`not a valid date/time: "${text}"`, text);
  // Both instants whose Pacific wall clock reads `wall`, earliest first; one on a normal day. In the
  // spring-forward gap luxon returns a single, shifted instant whose wall clock differs from ours.
  const candidates = guess
    .getPossibleOffsets()
    .filter((dt) => dt.hour === wall.hour && dt.minute === wall.minute && dt.day === wall.day);
  if (candidates.length === 0) {
    if (options.gap === 'reject') {
      throw new PacificTimeError(
        `"${text}" does not exist in Pacific time (skipped by the spring-forward DST change)`,
        text,
      );
    }
    // Read with the offset in force just before the gap (standard time, UTC−8): moves it forward.
    const before = DateTime.fromObject(wall, { zone: 'UTC-8' });
    return before.toMillis();
  }
  const chosen = options.ambiguous === 'later' ? candidates[candidates.length - 1]! : candidates[0]!;
  return chosen.toMillis();
}

/** `pacificToUtc` as an ISO-8601 UTC string (`2024-11-03T08:30:00.000Z`). */
export function pacificToUtcIso(text: string, options: PacificParseOptions = {}): string {
  return new Date(pacificToUtc(text, options)).toISOString();
}

/** Like `pacificToUtc`, for optional fields: `null`/`undefined`/empty stay `null`. */
export function pacificToUtcOrNull(
  text: string | null | undefined,
  options: PacificParseOptions = {},
): number | null {
  if (text === null || text === undefined || text.trim() === '') return null;
  return pacificToUtc(text, options);
}

/**
 * A V1 calendar date (`shipDate` `2014-10-03`, or a midnight datetime `2016-06-07T00:00:00.0000000`)
 * as `yyyy-MM-dd`. These are dates, not instants: no zone conversion.
 */
export function toCalendarDate(text: string): string {
  const { wall } = splitWallClock(text);
  const dt = DateTime.fromObject({ year: wall.year, month: wall.month, day: wall.day }, { zone: 'utc' });
  if (!dt.isValid) throw new PacificTimeError(`not a valid date: "${text}"`, text);
  return dt.toFormat('yyyy-MM-dd');
}

function toPacific(utcMs: number): DateTime {
  const dt = DateTime.fromMillis(utcMs, { zone: SHIPSTATION_ZONE });
  if (!dt.isValid) throw new PacificTimeError(`not a valid instant: ${utcMs}`, String(utcMs));
  return dt;
}

/** A filter value (`*DateStart`/`*DateEnd`): Pacific wall clock `yyyy-MM-dd HH:mm:ss`. */
export function formatPacificFilter(utcMs: number): string {
  return toPacific(utcMs).toFormat('yyyy-MM-dd HH:mm:ss');
}

/**
 * A datetime field in a V1 request body (`orderDate`, `paymentDate`, `shipByDate`): the documented
 * submit format, Pacific wall clock `yyyy-MM-dd HH:mm:ss` (sub-second precision is dropped).
 */
export function formatPacificDateTime(utcMs: number): string {
  return toPacific(utcMs).toFormat('yyyy-MM-dd HH:mm:ss');
}

/** The Pacific calendar date of an instant, `yyyy-MM-dd` (date-only filters, `shipDate`). */
export function formatPacificDate(utcMs: number): string {
  return toPacific(utcMs).toFormat('yyyy-MM-dd');
}
