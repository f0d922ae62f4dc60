/**
 * The worker: claims due jobs of the kinds it has handlers for, runs them, and records the outcome
 * (complete, retry later, or dead) with an attempt row each time. Per kind, up to `concurrency`
 * batches run at once. While jobs run, a heartbeat extends their leases; a sweep puts back the
 * jobs of processes that died (their leases expired); with a retention set, a purge loop deletes
 * old finished jobs. `stop()` stops claiming and ends every wait before a request is sent (the
 * job's wait signal, `abort.ts`: rate limiter, 429 and back-off sleeps), giving those jobs back at
 * once; requests in flight get the timeout, their outcomes recorded as usual; what is still running
 * after it is aborted, and given back unless its client said the aborted request is in doubt.
 *
 * A failure classified in doubt (`classifyError(…).inDoubt`: the write may have taken effect) is
 * marked on the job (`in_doubt`) and never sent again blindly: a handler with `checksInDoubt` gets
 * the job again on its cadence with `job.inDoubt` set, to check first; any other handler's job is
 * dead at once, with what to check. Record writes that fail after a successful outside write make
 * the job in doubt the same way.
 *
 * Tests drive it with `runUntilIdle()` and a fake clock: it runs every due job and returns, no
 * waiting. Production calls `start()` (and `stopOnSignals` for SIGTERM/SIGINT).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import {
  isStoppedBeforeSending,
  type LinkedSignal,
  linkSignals,
  StoppedBeforeSending,
  setWaitSignal,
} from '../abort.js';
import type { Clock } from '../clock.js';
import { DatabaseClock, databaseClock } from '../store/db-clock.js';
import { claimJobs } from '../store/jobs/claim.js';
import { type Completion, completeJobs } from '../store/jobs/complete.js';
import { requeueExpiredLeases } from '../store/jobs/expire.js';
import { failJob } from '../store/jobs/fail.js';
import { extendLeases } from '../store/jobs/heartbeat.js';
import type { InDoubt, Job } from '../store/jobs/job.js';
import { purgeFinishedJobs } from '../store/jobs/purge.js';
import { releaseJobs } from '../store/jobs/release.js';
import type { Store } from '../store/open.js';
import { classifyError, describeError, RetryableError } from './errors.js';
import type { JobHandler, JobOutcome } from './handler.js';
import { type RetryPolicy, retryDelay } from './retry.js';

/**
 * How soon a claim loop looks again after finding nothing it may start, when its handler's
 * capacity hint (the orders push) said some connection's budget is spent: that key's window ends
 * at any moment, and the 1 s poll interval cost a key up to 1 s of every window
 * (bench:scale-out's budget mode). Otherwise the loop waits its poll interval as before.
 */
const CAPACITY_RECHECK_MS = 200;

/**
 * After `shutdownTimeout` the batches still running are aborted; this long (on the worker's clock)
 * they may still return, so that what became of an aborted request is recorded (a SYSPRO post or a
 * ShipStation write cut mid-way is in doubt and marked so, to be checked before anything is sent
 * again). What has not returned by then is given back.
 */
export const SHUTDOWN_GRACE_MS = 2000;

export interface WorkerOptions {
  store: Store;
  handlers: JobHandler[];
  /** `config.retry`. */
  retry: RetryPolicy;
  /**
   * Default: the store's database clock (`store/db-clock.ts`), so leases, heartbeats and the lease
   * sweep of every process are on one time, whatever each machine's clock says. Tests pass a fake.
   */
  clock?: Clock;
  /** Lease owner name; default `<host>:<pid>:<random>`. */
  workerId?: string;
  /** How long a claimed job is ours without a heartbeat (default 60 s). */
  leaseMs?: number;
  /** Default a third of the lease. */
  heartbeatMs?: number;
  /** How often an idle kind looks for due jobs (default 1 s). */
  pollMs?: number;
  /** How often expired leases are looked for (default half the lease). */
  sweepMs?: number;
  /**
   * Retention (`config.retention.finishedJobs`): succeeded and cancelled jobs older than this are
   * deleted by a purge loop of their own, at start and then every `purgeEveryMs` (default 1 h), so a
   * large backlog never delays the lease sweep. Unset or 0: kept for ever.
   */
  retainFinishedMs?: number;
  purgeEveryMs?: number;
  random?: () => number;
  logger?: Logger;
}

interface RunningBatch {
  kind: string;
  jobs: Job[];
  controller: AbortController;
  /** Given back at shutdown or lost to lease expiry: its outcome must not be recorded. */
  abandoned: boolean;
  /** Still running when `shutdownTimeout` passed, and aborted: see `SHUTDOWN_GRACE_MS`. */
  timedOut: boolean;
  /** Aborts with `controller` or when the worker stops: the waits before sending (`abort.ts`). */
  waits: LinkedSignal;
  /**
   * Jobs of the batch whose outcome is recorded (completed or failed) while the rest are still
   * being recorded: the heartbeat leaves them out, or it would take their finished state for a
   * lost lease and abandon the batch mid-record.
   */
  settled: Set<number>;
  done: Promise<void>;
}

export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export class Worker {
  readonly id: string;
  readonly #store: Store;
  readonly #handlers: Map<string, JobHandler>;
  readonly #retry: RetryPolicy;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #heartbeatMs: number;
  readonly #pollMs: number;
  readonly #sweepMs: number;
  readonly #retainFinishedMs: number;
  readonly #purgeEveryMs: number;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #running = new Set<RunningBatch>();
  /** Kinds whose last claim read a capacity with some connection's budget spent (see CAPACITY_RECHECK_MS). */
  readonly #spentBudget = new Set<string>();
  /** Stops the claim loops. */
  #claimStop = new AbortController();
  /** Ends the running jobs' waits before sending (`StoppedBeforeSending`) when the stop begins. */
  #sendStop = new AbortController();
  /** Stops heartbeat and sweep (after the running jobs are settled). */
  #backgroundStop = new AbortController();
  #wake = new Map<string, AbortController>();
  /**
   * Kinds woken while their loop was not idle (mid-claim: the claim may have read before the job
   * was committed): the next idle returns at once instead of sleeping a poll interval.
   */
  readonly #woken = new Set<string>();
  #loops: Promise<void>[] = [];
  #started = false;
  #stopping: Promise<void> | undefined;

  constructor(options: WorkerOptions) {
    this.#store = options.store;
    this.#handlers = new Map(options.handlers.map((h) => [h.kind, h]));
    this.#retry = options.retry;
    this.#clock = options.clock ?? databaseClock(options.store);
    this.id = options.workerId ?? defaultWorkerId();
    this.#leaseMs = options.leaseMs ?? 60_000;
    this.#heartbeatMs = options.heartbeatMs ?? Math.max(1, Math.floor(this.#leaseMs / 3));
    this.#pollMs = options.pollMs ?? 1000;
    this.#sweepMs = options.sweepMs ?? Math.max(1, Math.floor(this.#leaseMs / 2));
    this.#retainFinishedMs = options.retainFinishedMs ?? 0;
    this.#purgeEveryMs = options.purgeEveryMs ?? 3_600_000;
    this.#random = options.random ?? Math.random;
    this.#log = options.logger ?? pino({ level: 'silent' });
  }

  /** Resolves once the clock can be trusted (a database clock has measured its offset). */
  async #clockReady(): Promise<void> {
    if (this.#clock instanceof DatabaseClock) await this.#clock.ready();
  }

  /** Jobs this worker is running now. */
  get runningJobIds(): number[] {
    return [...this.#running].flatMap((b) => b.jobs.map((j) => j.id));
  }

  /**
   * Runs due jobs until none is due at the clock's current time (expired leases first), in rounds:
   * each round, each kind in turn claims up to its handler's `concurrency` batches and runs them at
   * once, waiting for all of them (one batch at a time for a handler of concurrency 1). Returns how
   * many jobs it ran. For tests and one-shot commands (`sync orders --once`, `backfill orders`).
   */
  async runUntilIdle(): Promise<number> {
    await this.#clockReady();
    let total = 0;
    for (;;) {
      await requeueExpiredLeases(this.#store, this.#clock.now());
      let ran = 0;
      for (const handler of this.#handlers.values()) {
        const concurrency = Math.max(1, handler.concurrency ?? 1);
        const batches: RunningBatch[] = [];
        while (batches.length < concurrency) {
          const jobs = await this.#claim(handler);
          if (jobs.length === 0) break;
          batches.push(this.#startBatch(handler, jobs));
          ran += jobs.length;
        }
        await Promise.all(batches.map((b) => b.done));
      }
      if (ran === 0) return total;
      total += ran;
    }
  }

  /** Starts the claim loops (one per kind), the heartbeat and the lease sweep. */
  start(): void {
    if (this.#started) throw new Error(`worker ${this.id} was already started`);
    this.#started = true;
    // Claims wait for the database clock's first measurement (the heartbeat and sweep await it
    // themselves, and skip a round while it fails).
    const ready = this.#clockReady().catch((err) =>
      this.#log.error({ worker: this.id, err: describeError(err) }, 'could not read the database time'),
    );
    for (const handler of this.#handlers.values())
      this.#loops.push(ready.then(() => this.#claimLoop(handler)));
    this.#loops.push(this.#heartbeatLoop(), this.#sweepLoop());
    if (this.#retainFinishedMs > 0) this.#loops.push(this.#purgeLoop());
    this.#log.info({ worker: this.id, kinds: [...this.#handlers.keys()] }, 'worker started');
  }

  /** Looks for due jobs of `kind` now instead of at the next poll (e.g. right after an enqueue). */
  notify(kind?: string): void {
    for (const k of this.#handlers.keys()) if (kind === undefined || k === kind) this.#wakeUp(k);
  }

  /** Ends the kind's idle wait now, or, when it is not waiting, the next one before it starts. */
  #wakeUp(kind: string): void {
    const controller = this.#wake.get(kind);
    if (controller) controller.abort();
    else this.#woken.add(kind);
  }

  /**
   * Graceful stop: no new claims, and no new requests: a running job waiting to send (in a rate
   * limiter, a 429 or back-off sleep) stops waiting and is released at once (queued again, the
   * attempt not counted). Requests in flight get `timeoutMs` to finish and their outcomes are
   * recorded; then what is still running is aborted and, after `SHUTDOWN_GRACE_MS`, released,
   * except a job whose aborted request its client reports in doubt: that is recorded as in doubt.
   * Resolves when nothing is held any more.
   */
  stop(timeoutMs = 30_000): Promise<void> {
    this.#stopping ??= this.#stop(timeoutMs);
    return this.#stopping;
  }

  async #stop(timeoutMs: number): Promise<void> {
    this.#log.info({ worker: this.id, running: this.runningJobIds.length }, 'worker stopping');
    this.#claimStop.abort();
    this.#sendStop.abort(
      new StoppedBeforeSending('not sent: the service is stopping (released, queued again)'),
    );
    const running = [...this.#running];
    const settled = Promise.allSettled(running.map((b) => b.done)).then(() => true);
    const timer = new AbortController();
    const finished = await Promise.race([
      settled,
      this.#clock.sleep(timeoutMs, timer.signal).then(
        () => false,
        () => false,
      ),
    ]);
    timer.abort();
    if (!finished) {
      const cut = [...this.#running];
      for (const batch of cut) {
        batch.timedOut = true;
        batch.controller.abort(new Error('worker shutting down'));
      }
      const grace = new AbortController();
      await Promise.race([
        Promise.allSettled(cut.map((b) => b.done)),
        this.#clock.sleep(SHUTDOWN_GRACE_MS, grace.signal).catch(() => {}),
      ]);
      grace.abort();
      const left = [...this.#running];
      for (const batch of left) {
        batch.abandoned = true;
        this.#running.delete(batch);
      }
      const ids = left.flatMap((b) => b.jobs.filter((j) => !b.settled.has(j.id)).map((j) => j.id));
      try {
        const released = await releaseJobs(this.#store, this.id, ids, this.#clock.now());
        if (released.length > 0)
          this.#log.warn({ worker: this.id, released }, 'released jobs still running at shutdown');
      } catch (err) {
        this.#log.error(
          { worker: this.id, err: describeError(err), ids },
          'could not release jobs at shutdown; they run again after their lease expires',
        );
      }
    }
    this.#backgroundStop.abort();
    await Promise.allSettled(this.#loops);
    this.#log.info({ worker: this.id }, 'worker stopped');
  }

  async #claim(handler: JobHandler): Promise<Job[]> {
    let capacity: ReadonlyMap<string, number> | undefined;
    if (handler.capacity) {
      try {
        capacity = await handler.capacity();
      } catch (err) {
        // Only a hint: claim as if unlimited (the calls still wait for their budget).
        this.#log.warn(
          { worker: this.id, kind: handler.kind, err: describeError(err) },
          'capacity read failed',
        );
      }
    }
    if (capacity && [...capacity.values()].some((room) => room <= 0)) this.#spentBudget.add(handler.kind);
    else this.#spentBudget.delete(handler.kind);
    return claimJobs(this.#store, {
      kind: handler.kind,
      limit: Math.max(1, handler.batchSize ?? 1),
      capacity,
      owner: this.id,
      leaseMs: this.#leaseMs,
      now: this.#clock.now(),
    });
  }

  async #claimLoop(handler: JobHandler): Promise<void> {
    const concurrency = Math.max(1, handler.concurrency ?? 1);
    let active = 0;
    while (!this.#claimStop.signal.aborted) {
      if (active < concurrency) {
        let jobs: Job[] = [];
        try {
          jobs = await this.#claim(handler);
        } catch (err) {
          this.#log.error({ worker: this.id, kind: handler.kind, err: describeError(err) }, 'claim failed');
        }
        if (this.#claimStop.signal.aborted) {
          // Claimed while stopping: give them straight back.
          if (jobs.length > 0) await this.#releaseQuietly(jobs.map((j) => j.id));
          break;
        }
        if (jobs.length > 0) {
          active++;
          const batch = this.#startBatch(handler, jobs);
          void batch.done.finally(() => {
            active--;
            this.#wakeUp(handler.kind);
          });
          continue;
        }
      }
      // A capacity hint that found a spent budget may have passed over work only for that: look
      // again sooner than the poll interval, as a key's window ends at any moment.
      await this.#idle(
        handler.kind,
        this.#spentBudget.has(handler.kind) ? Math.min(this.#pollMs, CAPACITY_RECHECK_MS) : this.#pollMs,
      );
    }
  }

  /** Waits a poll interval, or less if woken (a slot freed, `notify`, stop). */
  async #idle(kind: string, ms = this.#pollMs): Promise<void> {
    if (this.#woken.delete(kind)) return;
    const wake = new AbortController();
    this.#wake.set(kind, wake);
    // Not AbortSignal.any: on Node 20 it leaves a WeakRef on #claimStop per sleep (src/abort.ts).
    const linked = linkSignals([wake.signal, this.#claimStop.signal]);
    try {
      await this.#clock.sleep(ms, linked.signal);
    } catch {
      // woken up
    } finally {
      linked.dispose();
      if (this.#wake.get(kind) === wake) this.#wake.delete(kind);
    }
  }

  async #releaseQuietly(ids: number[]): Promise<void> {
    try {
      await releaseJobs(this.#store, this.id, ids, this.#clock.now());
    } catch (err) {
      this.#log.error({ worker: this.id, ids, err: describeError(err) }, 'release failed');
    }
  }

  #startBatch(handler: JobHandler, jobs: Job[]): RunningBatch {
    const controller = new AbortController();
    const waits = linkSignals([controller.signal, this.#sendStop.signal]);
    setWaitSignal(controller.signal, waits.signal);
    const batch: RunningBatch = {
      kind: handler.kind,
      jobs,
      controller,
      abandoned: false,
      timedOut: false,
      waits,
      settled: new Set(),
      done: Promise.resolve(),
    };
    this.#running.add(batch);
    batch.done = this.#runBatch(handler, batch).finally(() => {
      this.#running.delete(batch);
      waits.dispose();
    });
    return batch;
  }

  async #runBatch(handler: JobHandler, batch: RunningBatch): Promise<void> {
    const { jobs } = batch;
    let outcomes: JobOutcome[];
    try {
      const returned = await handler.run(jobs, {
        signal: batch.controller.signal,
        workerId: this.id,
        clock: this.#clock,
      });
      outcomes =
        returned ??
        jobs.map(() => ({
          ok: true,
        }));
      if (outcomes.length !== jobs.length) {
        const error = new Error(
          `handler ${handler.kind} returned ${outcomes.length} outcomes for ${jobs.length} jobs (a bug in the handler)`,
        );
        outcomes = jobs.map(() => ({ ok: false, error }));
      }
    } catch (error) {
      outcomes = jobs.map(() => ({ ok: false, error }));
    }
    if (batch.abandoned) return;
    // Given back instead of failed: a job stopped before it sent anything, and one cut at the
    // timeout, unless its aborted request is in doubt (a write that may have been carried out and
    // is not safe to repeat): that is a failure like any other, marked in doubt, checked before
    // anything is sent again.
    const release = (error: unknown) =>
      isStoppedBeforeSending(error) || (batch.timedOut && !classifyError(error).inDoubt);
    try {
      await this.#record(handler, jobs, outcomes, batch.settled, release, batch.timedOut);
    } catch (err) {
      this.#log.error(
        { worker: this.id, kind: handler.kind, ids: jobs.map((j) => j.id), err: describeError(err) },
        'could not record job outcomes; the jobs run again after their lease expires',
      );
    }
  }

  async #record(
    handler: JobHandler,
    jobs: Job[],
    outcomes: JobOutcome[],
    settled: Set<number> = new Set(),
    release: (error: unknown) => boolean = isStoppedBeforeSending,
    timedOut = false,
  ): Promise<void> {
    const now = this.#clock.now();
    const plain: Array<[Job, Completion]> = [];
    const withRecord: Array<[Job, Completion]> = [];
    const giveBack: number[] = [];
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i] as Job;
      const outcome = outcomes[i] as JobOutcome;
      if (!outcome.ok && release(outcome.error)) {
        giveBack.push(job.id);
      } else if (!outcome.ok) {
        await this.#fail(handler, job, outcome.error, now);
        settled.add(job.id);
      } else {
        const completion = { id: job.id, result: outcome.result, record: outcome.record };
        (outcome.record ? withRecord : plain).push([job, completion]);
      }
    }
    if (giveBack.length > 0) {
      await this.#releaseQuietly(giveBack);
      for (const id of giveBack) settled.add(id);
      this.#log[timedOut ? 'warn' : 'info'](
        { worker: this.id, kind: handler.kind, released: giveBack },
        timedOut
          ? 'released jobs still running at shutdown'
          : 'released jobs that had sent nothing at shutdown',
      );
    }
    // One transaction for the plain completions, and one for those with record writes. If the
    // latter fails, nothing of it is committed and each job is completed again in its own
    // transaction, so a record that fails undoes only its own job and not the batch mates whose
    // outside writes happened. (One transaction per job every time made a batch of 100 pushes
    // 100 commits: on a loaded PostgreSQL about as long as ShipStation's answer.)
    await this.#complete(handler, plain, now);
    for (const [job] of plain) settled.add(job.id);
    if (withRecord.length > 1) {
      try {
        await completeJobs(
          this.#store,
          this.id,
          withRecord.map(([, completion]) => completion),
          now,
        );
        for (const [job] of withRecord) settled.add(job.id);
        return;
      } catch (err) {
        this.#log.warn(
          { worker: this.id, kind: handler.kind, err: describeError(err) },
          'recording the batch at once failed; recording its jobs one by one',
        );
      }
    }
    for (const entry of withRecord) {
      await this.#complete(handler, [entry], now);
      settled.add(entry[0].id);
    }
  }

  async #complete(handler: JobHandler, entries: Array<[Job, Completion]>, now: number): Promise<void> {
    if (entries.length === 0) return;
    try {
      await completeJobs(
        this.#store,
        this.id,
        entries.map(([, completion]) => completion),
        now,
      );
    } catch (err) {
      // Nothing of it was committed (the record writes included), so the jobs do not count as done.
      // Their outside writes did happen (the handler said so) and are not recorded: that is in
      // doubt, so the next attempt must find them in the target system instead of writing again.
      const failure = entries.some(([, c]) => c.record)
        ? recordFailedInDoubt(err)
        : new RetryableError(`the job's outcome could not be recorded: ${describeError(err)}`);
      for (const [job] of entries) await this.#fail(handler, job, failure, now);
    }
  }

  async #fail(handler: JobHandler, job: Job, failure: unknown, now: number): Promise<void> {
    const kind = handler.kind;
    const verdict = classifyError(failure);
    let error = describeError(failure);
    let retryable = verdict.retryable;
    let inDoubt: InDoubt | undefined;
    if (verdict.inDoubt) {
      // Kept through later failures; the newest evidence wins, the first time it happened stays.
      inDoubt = {
        since: job.inDoubt?.since ?? now,
        error,
        ...(verdict.evidence !== undefined
          ? { evidence: verdict.evidence }
          : job.inDoubt?.evidence !== undefined
            ? { evidence: job.inDoubt.evidence }
            : {}),
      };
      if (verdict.unresolved) retryable = false;
      else if (handler.checksInDoubt) retryable = true;
      else {
        retryable = false;
        const system = verdict.system ?? 'the target system';
        error = `in doubt: ${error}. It may have been carried out; the ${kind} handler cannot check, so it is not sent again: check ${system} before replaying the job`;
      }
    }
    const delay = retryable
      ? // The cadence counts failures: attempts lost to a dead process are not the job's fault.
        retryDelay(this.#retry, kind, job.attempts - job.lostLeases, this.#random, verdict.retryAfterMs)
      : null;
    await failJob(this.#store, this.id, job.id, error, delay === null ? null : now + delay, now, {
      inDoubt,
    });
    this.#log[delay === null ? 'error' : 'warn'](
      {
        worker: this.id,
        job: job.id,
        kind,
        connection: job.connection,
        attempt: job.attempts,
        reason: verdict.reason,
        delivery: verdict.delivery,
        inDoubt: verdict.inDoubt,
        err: error,
        retryInMs: delay,
      },
      delay === null ? 'job failed for good (dead)' : 'job failed; will retry',
    );
  }

  async #heartbeatLoop(): Promise<void> {
    const signal = this.#backgroundStop.signal;
    while (!signal.aborted) {
      try {
        await this.#clock.sleep(this.#heartbeatMs, signal);
      } catch {
        break;
      }
      const batches = [...this.#running];
      const unsettled = (b: RunningBatch) => b.jobs.filter((j) => !b.settled.has(j.id));
      const ids = batches.flatMap((b) => unsettled(b).map((j) => j.id));
      if (ids.length === 0) continue;
      try {
        await this.#clockReady();
        const held = new Set(await extendLeases(this.#store, this.id, ids, this.#leaseMs, this.#clock.now()));
        for (const batch of batches) {
          // Recorded meanwhile (between the read of `settled` and now) is not lost either.
          if (batch.abandoned || unsettled(batch).every((j) => held.has(j.id))) continue;
          // Another process may be running these now: stop ours and record nothing.
          batch.abandoned = true;
          batch.controller.abort(new Error('lease lost'));
          this.#log.warn(
            { worker: this.id, ids: batch.jobs.map((j) => j.id) },
            'lease lost; abandoning batch',
          );
        }
      } catch (err) {
        this.#log.error({ worker: this.id, err: describeError(err) }, 'heartbeat failed');
      }
    }
  }

  async #sweepLoop(): Promise<void> {
    const signal = this.#backgroundStop.signal;
    while (!signal.aborted) {
      try {
        // A sweeper off the database's time could expire another process's live lease.
        await this.#clockReady();
        const requeued = await requeueExpiredLeases(this.#store, this.#clock.now());
        if (requeued.length > 0) {
          this.#log.warn({ worker: this.id, jobs: requeued.length }, 'requeued jobs whose lease expired');
          this.notify();
        }
      } catch (err) {
        this.#log.error({ worker: this.id, err: describeError(err) }, 'lease sweep failed');
      }
      try {
        await this.#clock.sleep(this.#sweepMs, signal);
      } catch {
        break;
      }
    }
  }

  /** Retention: deletes old finished jobs now and every purge interval (any process may; idempotent). */
  async #purgeLoop(): Promise<void> {
    const signal = this.#backgroundStop.signal;
    while (!signal.aborted) {
      try {
        const finishedBefore = this.#clock.now() - this.#retainFinishedMs;
        const purged = await purgeFinishedJobs(this.#store, { finishedBefore });
        if (purged > 0)
          this.#log.info({ worker: this.id, jobs: purged }, 'purged finished jobs past retention');
      } catch (err) {
        this.#log.error({ worker: this.id, err: describeError(err) }, 'purge of finished jobs failed');
      }
      try {
        await this.#clock.sleep(this.#purgeEveryMs, signal);
      } catch {
        break;
      }
    }
  }
}

/**
 * The failure of a job whose record writes (the link and audit rows of an outside write) could not
 * be committed: in doubt (the outside write happened, our record of it did not), and not to be
 * repeated blindly.
 */
function recordFailedInDoubt(cause: unknown): Error {
  return Object.assign(new Error(`the job's outcome could not be recorded: ${describeError(cause)}`), {
    retryable: false,
    delivery: 'in-doubt' as const,
  });
}
