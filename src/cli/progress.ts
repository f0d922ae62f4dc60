/**
 * Progress of a long command (`backfill orders`, `sync orders`, `replay`): on a terminal, one line
 * redrawn in place with `\r` (at most every `redrawMs`), with a bar when the total is known;
 * otherwise plain lines, one every `everyOrders` records done or every `everyMs`, whichever comes
 * first, so a log file gets a steady, readable trail. Notes (a failed order) are printed above the
 * bar on a terminal and as their own line otherwise. The caller prints the end summary.
 *
 * Counts are named numbers shown in `fields` order; those in `doneFields` add up to what is done
 * (and to the rate). The defaults are an orders run's: read, then pushed, skipped and failed.
 */

// A type, not an interface, so that it is one of the `Counts`.
export type ProgressCounts = {
  read: number;
  pushed: number;
  skipped: number;
  failed: number;
};

/** Any named counts (an orders run's `ProgressCounts`, a replay's replayed and skipped, …). */
export type Counts = Readonly<Record<string, number>>;

const ORDER_FIELDS = ['read', 'pushed', 'skipped', 'failed'];
const ORDER_DONE = ['pushed', 'skipped', 'failed'];
/** Characters of the terminal bar. */
const BAR_WIDTH = 24;

/** Where a progress bar is drawn: `process.stdout`, or a fake one in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** Redraw one line in place (`process.stdout.isTTY`). */
  tty: boolean;
  /** Writes a whole line (the newline is added by the writer): plain mode and notes. */
  line: (text: string) => void;
  /** Writes raw text (no newline added): the terminal bar. */
  raw: (text: string) => void;
  now?: () => number;
  /** Plain mode: a line every this many orders done (default 500). */
  everyOrders?: number;
  /** Plain mode: or every this long (default 10 s). */
  everyMs?: number;
  /** Terminal: redraw at most this often (default 100 ms). */
  redrawMs?: number;
  /** Put before the counts, e.g. the connection name. */
  label?: string;
  /** The counts shown, in order (default: read, pushed, skipped, failed). */
  fields?: readonly string[];
  /** The counts that add up to what is done (default: pushed, skipped, failed). */
  doneFields?: readonly string[];
  /** How many there are to do, when known: a bar on a terminal, `done/total` in every line. */
  total?: number;
}

export function doneCount(c: Counts, doneFields: readonly string[] = ORDER_DONE): number {
  return doneFields.reduce((n, f) => n + (c[f] ?? 0), 0);
}

/** Records done per minute since the start (orders: pushed, skipped or failed). */
export function ratePerMinute(
  c: Counts,
  elapsedMs: number,
  doneFields: readonly string[] = ORDER_DONE,
): number {
  return Math.round((doneCount(c, doneFields) * 60_000) / Math.max(elapsedMs, 1000));
}

export function formatCounts(
  c: Counts,
  elapsedMs: number,
  fields: readonly string[] = ORDER_FIELDS,
  doneFields: readonly string[] = ORDER_DONE,
): string {
  return `${fields.map((f) => `${f} ${c[f] ?? 0}`).join(', ')}, ${ratePerMinute(c, elapsedMs, doneFields)}/min`;
}

/** `[#########---------------] ` for `done` of `total`. */
export function formatBar(done: number, total: number, width = BAR_WIDTH): string {
  const filled = total > 0 ? Math.min(width, Math.floor((done / total) * width)) : width;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** `40/100 (40%)`. */
export function formatOfTotal(done: number, total: number): string {
  const percent = total > 0 ? Math.floor((Math.min(done, total) / total) * 100) : 100;
  return `${done}/${total} (${percent}%)`;
}

export function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export class Progress {
  readonly #o: Required<Omit<ProgressOptions, 'label' | 'total'>> & { label: string; total?: number };
  readonly #start: number;
  #last: Counts = {};
  #lastLineAt: number;
  #lastLineDone = 0;
  #lastDrawAt = Number.NEGATIVE_INFINITY;
  #drawn = false;
  #lines = 0;

  constructor(options: ProgressOptions) {
    this.#o = {
      now: Date.now,
      everyOrders: 500,
      everyMs: 10_000,
      redrawMs: 100,
      fields: ORDER_FIELDS,
      doneFields: ORDER_DONE,
      ...options,
      label: options.label ? `${options.label}: ` : '',
    };
    this.#start = this.#o.now();
    this.#lastLineAt = this.#start;
  }

  elapsedMs(): number {
    return this.#o.now() - this.#start;
  }

  /** The total, once it is known (a replay counts its candidates first). */
  setTotal(total: number): void {
    this.#o.total = total;
  }

  /** New counts; draws or prints when due. */
  update(counts: Counts): void {
    this.#last = { ...counts };
    const now = this.#o.now();
    if (this.#o.tty) {
      if (now - this.#lastDrawAt >= this.#o.redrawMs) this.#draw(now);
      return;
    }
    const done = doneCount(counts, this.#o.doneFields);
    const byCount = done - this.#lastLineDone >= this.#o.everyOrders;
    const byTime = now - this.#lastLineAt >= this.#o.everyMs && Object.values(counts).some((n) => n > 0);
    if (byCount || byTime) {
      this.#o.line(this.#text(counts, now, false));
      this.#lines++;
      this.#lastLineAt = now;
      this.#lastLineDone = done;
    }
  }

  /** A line of its own (a failed order): above the bar on a terminal. */
  note(text: string): void {
    if (this.#o.tty && this.#drawn) {
      this.#o.raw('\r\x1b[K');
      this.#o.line(text);
      this.#draw(this.#o.now());
    } else this.#o.line(text);
  }

  /** The last counts drawn (terminal: the bar is finished with a newline); the caller prints the summary. */
  finish(counts: Counts = this.#last): void {
    this.#last = { ...counts };
    if (this.#o.tty) {
      this.#draw(this.#o.now());
      this.#o.raw('\n');
      this.#drawn = false;
    }
  }

  /** Whether anything was shown before the summary (a terminal bar, or a plain line). */
  get shown(): boolean {
    return this.#o.tty || this.#lines > 0;
  }

  #text(counts: Counts, now: number, bar: boolean): string {
    const total = this.#o.total;
    const done = doneCount(counts, this.#o.doneFields);
    const head =
      total === undefined ? '' : `${bar ? `${formatBar(done, total)} ` : ''}${formatOfTotal(done, total)}: `;
    return `${this.#o.label}${head}${formatCounts(counts, now - this.#start, this.#o.fields, this.#o.doneFields)}`;
  }

  #draw(now: number): void {
    this.#o.raw(`\r\x1b[K${this.#text(this.#last, now, true)}`);
    this.#lastDrawAt = now;
    this.#drawn = true;
  }
}

/**
 * A `Progress` on `stream` (a bar when it is a terminal), with plain lines and notes through `line`.
 */
export function progressOn(
  stream: ProgressStream,
  line: (text: string) => void,
  options: Omit<ProgressOptions, 'tty' | 'line' | 'raw'> = {},
): Progress {
  return new Progress({
    ...options,
    tty: stream.isTTY === true,
    line,
    raw: (text) => {
      stream.write(text);
    },
  });
}
