/**
 * Polls as schedules. Each connection's `polls` (orders, shipments, customers, inventory; ms, 0 =
 * off) become rows in `schedules`; every tick, due rows enqueue a singleton job (`orders.poll`, …)
 * and move their next due time by the interval ± jitter. The due time lives in the database, so a
 * restart neither skips nor repeats a poll, and many processes may tick: each due row is taken by
 * one of them (see `store/jobs/schedules.ts`).
 *
 * A failing poll goes back to its schedule: it retries on the retry cadence but never dies of a
 * retryable error, and when its schedule comes due the new poll coalesces into the waiting retry
 * and makes it due now (`engine/retry.ts`, `store/jobs/enqueue.ts`). So a poll runs at least once
 * per interval through an outage and within one interval after it, with its failures counted on
 * the one poll job (`attempts`, `last_error`, shown by `ml-connector jobs schedules`).
 */
import pino, { type Logger } from 'pino';
import { type Clock, systemClock } from '../clock.js';
import {
  type EnqueuedPoll,
  enqueueDueSchedules,
  type ScheduleSpec,
  syncScheduleRows,
} from '../store/jobs/schedules.js';
import type { Store } from '../store/open.js';
import { describeError } from './errors.js';

/** The job kind each poll enqueues; the sync flows register handlers for these kinds. */
export const POLL_KINDS = {
  orders: 'orders.poll',
  shipments: 'shipments.poll',
  customers: 'customers.poll',
  inventory: 'inventory.poll',
  channelOrders: 'channel-orders.poll',
} as const;

export type PollName = keyof typeof POLL_KINDS;

/** A connection's name and poll intervals (an interval left out is off). */
export interface PollConfig {
  name: string;
  polls: Partial<Record<PollName, number>>;
}

/** The schedules the configuration asks for (polls set to 0 are left out). */
export function pollSchedules(connections: PollConfig[]): ScheduleSpec[] {
  const specs: ScheduleSpec[] = [];
  for (const connection of connections) {
    for (const name of Object.keys(POLL_KINDS) as PollName[]) {
      const intervalMs = connection.polls[name] ?? 0;
      if (intervalMs > 0) specs.push({ connection: connection.name, kind: POLL_KINDS[name], intervalMs });
    }
  }
  return specs;
}

export interface SchedulerOptions {
  store: Store;
  clock?: Clock;
  /** ±fraction of the interval added to each next due time (default 0.1). */
  jitter?: number;
  random?: () => number;
  /** How often due schedules are looked for (default 5 s). */
  tickMs?: number;
  logger?: Logger;
  /** Called after a tick enqueued polls, new or coalesced into a waiting one (e.g. `worker.notify`). */
  onEnqueued?: (polls: EnqueuedPoll[]) => void;
}

export class Scheduler {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #tickMs: number;
  readonly #log: Logger;
  readonly #onEnqueued: ((polls: EnqueuedPoll[]) => void) | undefined;
  #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: SchedulerOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#jitter = options.jitter ?? 0.1;
    this.#random = options.random ?? Math.random;
    this.#tickMs = options.tickMs ?? 5000;
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#onEnqueued = options.onEnqueued;
  }

  /**
   * Writes the configured polls to `schedules`; a new poll is first due within jitter × interval.
   * Only the schedules of `connections` (this process's configuration) are added, changed or
   * removed: other processes sharing the database may serve other connections, and theirs stay.
   * Processes starting together may all call this at once.
   */
  async syncFromConfig(connections: PollConfig[]) {
    const now = this.#clock.now();
    return syncScheduleRows(
      this.#store,
      pollSchedules(connections),
      now,
      (spec) => Math.round(now + this.#random() * this.#jitter * spec.intervalMs),
      connections.map((c) => c.name),
    );
  }

  /** Enqueues every due poll once; returns what it did. */
  async tick(): Promise<EnqueuedPoll[]> {
    const now = this.#clock.now();
    const polls = await enqueueDueSchedules(this.#store, now, (row) => {
      const interval = Number(row.interval_ms);
      const spread = interval * this.#jitter * (this.#random() * 2 - 1);
      // From now, not from the missed due time: after downtime a poll runs once, not once per interval missed.
      return Math.round(now + interval + spread);
    });
    // Coalesced polls count too: a poll waiting for a retry was made due now (see retry.ts).
    if (polls.length > 0) this.#onEnqueued?.(polls);
    return polls;
  }

  start(): void {
    this.#loop ??= (async () => {
      while (!this.#stop.signal.aborted) {
        try {
          await this.tick();
        } catch (err) {
          this.#log.error({ err: describeError(err) }, 'scheduler tick failed');
        }
        try {
          await this.#clock.sleep(this.#tickMs, this.#stop.signal);
        } catch {
          break;
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }
}
