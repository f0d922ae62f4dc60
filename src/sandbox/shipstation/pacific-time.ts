/**
 * Time the way ShipStation V1 speaks it: Pacific wall-clock (America/Los_Angeles) without an
 * offset, in the .NET formats of the reference (§3). The sandbox keeps every timestamp as an
 * instant (epoch ms) and converts at its HTTP edge with these functions.
 *
 * Wall-clock to instant (the rule, tested in pacific-time.test.ts):
 * - a normal time has one instant;
 * - a time in the fall-back hour (e.g. 2024-11-03 01:30) has two. luxon alone would pick the one
 *   whose offset matches *today's* offset (stack.md §3), so we read both with
 *   `getPossibleOffsets()` and pick explicitly: `earlier` = the first occurrence (PDT, -07:00),
 *   `later` = the second (PST, -08:00). Values the client stores (orderDate, paymentDate, ...) use
 *   `earlier`. Filter bounds use `widen` by default: a start bound takes the earlier instant and an
 *   end bound the later one, so a filter never loses an order whose wall-clock time is inside it.
 * - a time in the spring-forward gap (e.g. 2024-03-10 02:30) does not exist; it is moved forward by
 *   the gap (02:30 -> 03:30 PDT), the same instant for start and end bounds.
 */
import { DateTime } from 'luxon';

export const PACIFIC_ZONE = 'America/Los_Angeles';

/** Which instant an ambiguous (fall-back) wall-clock time means. */
export type AmbiguousTimeRule = 'earlier' | 'later';
/** How filter bounds resolve an ambiguous time: `widen` = start earlier, end later. */
export type FilterTimeRule = AmbiguousTimeRule | 'widen';

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  /** True when the text had no time part (`2015-01-01`). */
  dateOnly: boolean;
}

// Accepts `yyyy-MM-dd`, `yyyy-MM-dd HH:mm[:ss[.fffffff]]` and the `T` form; a trailing `Z` or
// `+hh:mm` offset is read and dropped: the wall-clock digits are kept as Pacific time (§3).
const WALL_CLOCK =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses a ShipStation date/datetime text into its wall-clock parts; undefined when it is not one. */
export function parseWallClock(text: string): WallClock | undefined {
  const m = WALL_CLOCK.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac] = m;
  const parts: WallClock = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: h === undefined ? 0 : Number(h),
    minute: mi === undefined ? 0 : Number(mi),
    second: s === undefined ? 0 : Number(s),
    millisecond: frac === undefined ? 0 : Math.floor(Number(frac.padEnd(7, '0')) / 10_000),
    dateOnly: h === undefined,
  };
  if (parts.month < 1 || parts.month > 12 || parts.hour > 23 || parts.minute > 59 || parts.second > 59) {
    return undefined;
  }
  const probe = DateTime.fromObject(
    { year: parts.year, month: parts.month, day: parts.day },
    { zone: 'UTC' },
  );
  if (!probe.isValid || probe.day !== parts.day) return undefined;
  return parts;
}

// luxon's zone arithmetic (Intl) is slow; Pacific offsets change only on whole hours, so both
// directions are cached per hour. The answers still come from luxon / getPossibleOffsets.
const MS_PER_HOUR = 3_600_000;
const CACHE_LIMIT = 200_000;
const offsetByUtcHour = new Map<number, number>();
const deltasByWallHour = new Map<number, number[]>();

/** Offset of Pacific time from UTC (minutes, e.g. -480) at an instant. */
export function pacificOffsetMinutes(ms: number): number {
  const hour = Math.floor(ms / MS_PER_HOUR);
  let offset = offsetByUtcHour.get(hour);
  if (offset === undefined) {
    if (offsetByUtcHour.size > CACHE_LIMIT) offsetByUtcHour.clear();
    offset = DateTime.fromMillis(hour * MS_PER_HOUR, { zone: PACIFIC_ZONE }).offset;
    offsetByUtcHour.set(hour, offset);
  }
  return offset;
}

/** The instant a Pacific wall-clock time stands for, with the ambiguous hour resolved by `rule`. */
export function wallClockToInstant(parts: WallClock, rule: AmbiguousTimeRule): number {
  const wallAsUtc = Date.UTC(
    parts.year,
    parts.month - 1,
    parts.day,
    parts.hour,
    parts.minute,
    parts.second,
    parts.millisecond,
  );
  const wallHour = Math.floor(wallAsUtc / MS_PER_HOUR);
  let deltas = deltasByWallHour.get(wallHour);
  if (deltas === undefined) {
    // Both readings of an ambiguous hour (earliest first), or the shifted reading of a gap hour.
    const probe = DateTime.fromObject(
      { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour },
      { zone: PACIFIC_ZONE },
    );
    deltas = probe
      .getPossibleOffsets()
      .map((dt) => dt.toMillis() - wallHour * MS_PER_HOUR)
      .sort((a, b) => a - b);
    if (deltas.length === 0) deltas = [probe.toMillis() - wallHour * MS_PER_HOUR];
    if (deltasByWallHour.size > CACHE_LIMIT) deltasByWallHour.clear();
    deltasByWallHour.set(wallHour, deltas);
  }
  const delta = rule === 'earlier' ? deltas[0] : deltas[deltas.length - 1];
  return wallAsUtc + (delta ?? 0);
}

/** Parses a Pacific date/datetime text to an instant; undefined when the text is not a date. */
export function pacificToInstant(text: string, rule: AmbiguousTimeRule = 'earlier'): number | undefined {
  const parts = parseWallClock(text);
  return parts ? wallClockToInstant(parts, rule) : undefined;
}

/** Reads a filter bound (`...DateStart` / `...DateEnd`) as an instant. */
export function filterBoundToInstant(
  text: string,
  bound: 'start' | 'end',
  rule: FilterTimeRule = 'widen',
): number | undefined {
  const resolved: AmbiguousTimeRule = rule === 'widen' ? (bound === 'start' ? 'earlier' : 'later') : rule;
  return pacificToInstant(text, resolved);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Wall-clock fields of an instant in Pacific time. */
function pacificFields(ms: number): Date {
  return new Date(ms + pacificOffsetMinutes(ms) * 60_000);
}

function dateText(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function dateTimeText(d: Date): string {
  return `${dateText(d)}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `2015-07-16T14:00:34.8230000`: orders, shipments (createDate) and fulfillments. */
export function formatDotNet7(ms: number): string {
  const d = pacificFields(ms);
  return `${dateTimeText(d)}.${pad(d.getUTCMilliseconds(), 3)}0000`;
}

/** `2015-07-16T14:00:34.823`, `2014-11-12T08:45:20.55`, `2014-11-12T08:45:20`: items, stores, products. */
export function formatDotNetTrimmed(ms: number): string {
  const d = pacificFields(ms);
  const fraction = pad(d.getUTCMilliseconds(), 3).replace(/0+$/, '');
  return fraction === '' ? dateTimeText(d) : `${dateTimeText(d)}.${fraction}`;
}

/** `2014-10-03`: `shipDate`, `holdUntilDate`. */
export function formatDateOnly(ms: number): string {
  return dateText(pacificFields(ms));
}

/** `2016-06-07T00:00:00.0000000`: fulfillment `shipDate`, order `shipByDate` shown as a midnight datetime. */
export function formatMidnight7(ms: number): string {
  return `${dateText(pacificFields(ms))}T00:00:00.0000000`;
}

/** The instant of Pacific midnight on the day of `ms` (for date-only values). */
export function pacificMidnight(ms: number): number {
  const d = pacificFields(ms);
  return wallClockToInstant(
    {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: 0,
      minute: 0,
      second: 0,
      millisecond: 0,
      dateOnly: true,
    },
    'earlier',
  );
}
