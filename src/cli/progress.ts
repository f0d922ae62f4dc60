/**
 * Progress of a long command (`backfill orders`): on a terminal, one line redrawn in place with
 * `\r` (at most every `redrawMs`); otherwise plain lines, one every `everyOrders` orders done or
 * every `everyMs`, whichever comes first, so a log file gets a steady, readable trail. Notes (a
 * failed order) are printed above the bar on a terminal and as their own line otherwise.
 */

export interface ProgressCounts {
  read: number;
  pushed: number;
  skipped: number;
  failed: number;
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
}

export function doneCount(c: ProgressCounts): number {
  return c.pushed + c.skipped + c.failed;
}

/** Orders done (pushed, skipped or failed) per minute since the start. */
export function ratePerMinute(c: ProgressCounts, elapsedMs: number): number {
  return Math.round((doneCount(c) * 60_000) / Math.max(elapsedMs, 1000));
}

export function formatCounts(c: ProgressCounts, elapsedMs: number): string {
  return `read ${c.read}, pushed ${c.pushed}, skipped ${c.skipped}, failed ${c.failed}, ${ratePerMinute(c, elapsedMs)}/min`;
}

export function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export class Progress {
  readonly #o: Required<Omit<ProgressOptions, 'label'>> & { label: string };
  readonly #start: number;
  #last: ProgressCounts = { read: 0, pushed: 0, skipped: 0, failed: 0 };
  #lastLineAt: number;
  #lastLineDone = 0;
  #lastDrawAt = Number.NEGATIVE_INFINITY;
  #drawn = false;

  constructor(options: ProgressOptions) {
    this.#o = {
      now: Date.now,
      everyOrders: 500,
      everyMs: 10_000,
      redrawMs: 100,
      ...options,
      label: options.label ? `${options.label}: ` : '',
    };
    this.#start = this.#o.now();
    this.#lastLineAt = this.#start;
  }

  elapsedMs(): number {
    return this.#o.now() - this.#start;
  }

  /** New counts; draws or prints when due. */
  update(counts: ProgressCounts): void {
    this.#last = { ...counts };
    const now = this.#o.now();
    if (this.#o.tty) {
      if (now - this.#lastDrawAt >= this.#o.redrawMs) this.#draw(now);
      return;
    }
    const done = doneCount(counts);
    const byCount = done - this.#lastLineDone >= this.#o.everyOrders;
    const byTime = now - this.#lastLineAt >= this.#o.everyMs && done + counts.read > 0;
    if (byCount || byTime) {
      this.#o.line(`${this.#o.label}${formatCounts(counts, now - this.#start)}`);
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
  finish(counts: ProgressCounts = this.#last): void {
    this.#last = { ...counts };
    if (this.#o.tty) {
      this.#draw(this.#o.now());
      this.#o.raw('\n');
      this.#drawn = false;
    }
  }

  #draw(now: number): void {
    this.#o.raw(`\r\x1b[K${this.#o.label}${formatCounts(this.#last, now - this.#start)}`);
    this.#lastDrawAt = now;
    this.#drawn = true;
  }
}
