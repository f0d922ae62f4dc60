/**
 * What the orders commands (`sync orders`, `backfill orders`, `orders show`) share: the connections
 * they act on, the flow's dependencies with each connection's clients opened once (as `run` does in
 * `sync/handlers.ts`), and a worker that runs the push jobs in this process through the flow's own
 * push handler, counting what each job came to, with as many batches at once as `run` runs
 * (`shipstation.pushConcurrency`).
 */
import type { Clock } from '../clock.js';
import { UserError } from '../config/errors.js';
import type { Config } from '../config/schema.js';
import { classifyError, describeError } from '../engine/errors.js';
import type { JobHandler, JobOutcome } from '../engine/handler.js';
import { Worker } from '../engine/worker.js';
import { databaseClock } from '../store/db-clock.js';
import type { Job } from '../store/jobs/job.js';
import type { Store } from '../store/open.js';
import { type ConnectionClients, openConnectionClients } from '../sync/connection-clients.js';
import {
  ORDERS_PUSH_KIND,
  type OrdersConnection,
  type OrdersFlowDeps,
  ordersHandlers,
  ordersPushBatchSize,
  ordersPushConcurrency,
  type PushPayload,
} from '../sync/orders.js';
import type { Program } from './program.js';
import type { ProgressCounts } from './progress.js';

export { selectConnections } from './connections.js';

export interface OrdersSession {
  store: Store;
  clock: Clock;
  deps: OrdersFlowDeps;
  /** A connection's clients (opened on first use). */
  clients(name: string): Promise<ConnectionClients>;
  close(): Promise<void>;
}

export async function openOrdersSession(app: Program): Promise<OrdersSession> {
  const ctx = app.context();
  const store = await ctx.store();
  // Leases and the shared budget run on the database's time, as in `run`.
  const clock = databaseClock(store);
  await clock.ready();
  const opened = new Map<string, Promise<ConnectionClients>>();
  const clients = (name: string): Promise<ConnectionClients> => {
    let found = opened.get(name);
    if (!found) {
      const connection = ctx.config.connections.find((c) => c.name === name);
      if (!connection)
        return Promise.reject(new UserError(`Connection ${name} is not in the configuration.`));
      found = openConnectionClients({
        connection,
        store,
        masterKey: () => ctx.masterKey(false),
        env: app.env,
        clock,
      });
      opened.set(name, found);
    }
    return found;
  };
  const connectionFor = async (name: string): Promise<OrdersConnection> => {
    const c = await clients(name);
    return { connection: c.connection, odata: c.odata, shipstation: c.shipstationApi };
  };
  return {
    store,
    clock,
    deps: { store, clock, connectionFor, pushBatchSize: ordersPushBatchSize(ctx.config.connections) },
    clients,
    async close() {
      for (const c of opened.values()) await c.then((x) => x.close()).catch(() => {});
    },
  };
}

/** What the push jobs run by this process came to. */
export interface PushTally {
  /** Sent and accepted by ShipStation. */
  pushed: number;
  /** Nothing to send when the job ran (same hash as last pushed). */
  unchanged: number;
  /** Not sent: SYSPRO has nothing to ship, or ShipStation has it as shipped or cancelled. */
  skipped: number;
  /** Refused or failed for good (the job is dead; `replay` sends it again). */
  failed: number;
  /** Failed for now; queued again on the retry cadence (`run` or the next command sends it). */
  retrying: number;
}

export function emptyTally(): PushTally {
  return { pushed: 0, unchanged: 0, skipped: 0, failed: 0, retrying: 0 };
}

/**
 * An orders command's progress counts: the poll's (as of its last page) with the push tally's.
 * `sync orders` and `backfill orders` show the same four.
 */
export function ordersProgressCounts(tally: PushTally) {
  const poll = { read: 0, skipped: 0, invalid: 0 };
  return {
    poll,
    fromPage(s: { read: number; unchanged: number; skipped: number; invalid: number }): void {
      poll.read = s.read;
      poll.skipped = s.unchanged + s.skipped;
      poll.invalid = s.invalid;
    },
    counts: (): ProgressCounts => ({
      read: poll.read,
      pushed: tally.pushed,
      skipped: poll.skipped + tally.unchanged + tally.skipped,
      failed: poll.invalid + tally.failed + tally.retrying,
    }),
  };
}

export interface PushResult {
  job: Job;
  salesOrder: string;
  result: keyof PushTally;
  orderId?: number | null;
  error?: string;
}

function resultOf(outcome: JobOutcome): Omit<PushResult, 'job' | 'salesOrder'> {
  if (!outcome.ok) {
    return {
      result: classifyError(outcome.error).retryable ? 'retrying' : 'failed',
      error: describeError(outcome.error),
    };
  }
  const r = (outcome.result ?? {}) as { orderId?: number | null; unchanged?: boolean };
  if ('orderId' in r) return { result: 'pushed', orderId: r.orderId };
  if (r.unchanged) return { result: 'unchanged' };
  return { result: 'skipped' };
}

/**
 * A worker with only the flow's push handler (a queued `orders.poll` of the service is left to
 * the service), whose outcomes are counted in `tally` and told to `onResult` per job. Its
 * `runUntilIdle` runs up to `ordersPushConcurrency(config.connections)` batches at once.
 */
export function pushWorker(
  session: OrdersSession,
  config: Config,
  tally: PushTally,
  onResult?: (result: PushResult) => void,
): Worker {
  // Batches in flight at once as `run` has them (`shipstation.pushConcurrency`, by API): each
  // connection's limiter still holds its calls to the budget, and an in-doubt job is checked first.
  const push = ordersHandlers({
    ...session.deps,
    pushConcurrency: ordersPushConcurrency(config.connections),
  }).find((h) => h.kind === ORDERS_PUSH_KIND) as JobHandler;
  const tell = (job: Job, r: Omit<PushResult, 'job' | 'salesOrder'>) => {
    tally[r.result]++;
    onResult?.({ job, salesOrder: (job.payload as PushPayload).salesOrder, ...r });
  };
  const counted: JobHandler = {
    ...push,
    async run(jobs, context) {
      let outcomes: JobOutcome[] | undefined;
      try {
        outcomes = await push.run(jobs, context);
      } catch (error) {
        for (const job of jobs) tell(job, resultOf({ ok: false, error }));
        throw error;
      }
      jobs.forEach((job, i) => {
        tell(job, resultOf(outcomes?.[i] ?? { ok: true }));
      });
      return outcomes;
    },
  };
  return new Worker({ store: session.store, handlers: [counted], retry: config.retry, clock: session.clock });
}
