/**
 * The database's time, for everything processes share: job leases and their expiry, and the
 * ShipStation budget of a key. Two processes whose own clocks disagree by 5 s would otherwise each
 * see the other's leases and sends 5 s too old (or too young): one expires a live lease, the other
 * lets too many requests into a window.
 *
 * PostgreSQL: `clock_timestamp()`, measured as an offset from this process's clock (half the round
 * trip either side) and measured again every `refreshMs` (default 60 s) in the background, so
 * `now()` stays synchronous and costs no query. SQLite is one machine: its time is the system
 * clock, the offset stays 0 and nothing is queried.
 *
 * `ready()` resolves once the first measurement is in; until then `now()` is the local clock, so
 * code that shares time through the database awaits `ready()` before its first decision.
 */
import { sql } from 'kysely';
import { type Clock, systemClock } from '../clock.js';
import type { Store } from './open.js';

export interface DatabaseClockOptions {
  /** This process's clock (default the system clock); tests pass a skewed one. */
  local?: Clock;
  /** How often the offset is measured again. Default 60 s. */
  refreshMs?: number;
}

export class DatabaseClock implements Clock {
  readonly #store: Store;
  readonly #local: Clock;
  readonly #refreshMs: number;
  #offsetMs = 0;
  #syncedAt: number | null = null;
  #syncing: Promise<void> | null = null;

  constructor(store: Store, options: DatabaseClockOptions = {}) {
    this.#store = store;
    this.#local = options.local ?? systemClock;
    this.#refreshMs = options.refreshMs ?? 60_000;
  }

  /** Database time minus local time, in ms, as last measured. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  now(): number {
    const local = this.#local.now();
    if (
      this.#store.dialect === 'postgres' &&
      (this.#syncedAt === null || local - this.#syncedAt >= this.#refreshMs)
    ) {
      // A failed measurement keeps the last offset; the next now() tries again.
      this.sync().catch(() => {});
    }
    return local + this.#offsetMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.#local.sleep(ms, signal);
  }

  /** Resolves once the offset has been measured at least once (rejects if the database cannot answer). */
  async ready(): Promise<void> {
    if (this.#syncedAt === null) await this.sync();
  }

  /** Measures the offset now (concurrent calls share one query). */
  sync(): Promise<void> {
    if (this.#store.dialect !== 'postgres') {
      this.#syncedAt = this.#local.now();
      return Promise.resolve();
    }
    this.#syncing ??= this.#measure().finally(() => {
      this.#syncing = null;
    });
    return this.#syncing;
  }

  async #measure(): Promise<void> {
    const before = this.#local.now();
    const { rows } = await sql<{ now: number }>`
      select (extract(epoch from clock_timestamp()) * 1000)::float8 as now`.execute(this.#store.db);
    const after = this.#local.now();
    const dbNow = Number(rows[0]?.now);
    if (!Number.isFinite(dbNow)) throw new Error('the database did not tell its time');
    this.#offsetMs = Math.round(dbNow - (before + after) / 2);
    this.#syncedAt = after;
  }
}

const clocks = new WeakMap<Store, DatabaseClock>();

/** The one database clock of a store in this process (on the system clock). */
export function databaseClock(store: Store): DatabaseClock {
  let clock = clocks.get(store);
  if (!clock) {
    clock = new DatabaseClock(store);
    clocks.set(store, clock);
  }
  return clock;
}
