/**
 * `ml-connector run`: the long-running service. Applies pending migrations, then runs the
 * scheduler (polls), the worker (jobs) and the HTTP server (`/healthz`, `/readyz`, the nudge of
 * `http/nudge.ts`, the ShipStation webhook receiver of `http/webhooks.ts`, `/metrics` of
 * `http/metrics.ts`, the dashboard and operator API of `http/dashboard.ts`)
 * until SIGTERM or SIGINT.
 *
 * Start: refuse plain-http SYSPRO URLs to other machines → take the SQLite run lock (one process
 * per SQLite file; PostgreSQL needs none) → open and migrate the store → handlers from
 * `sync/handlers.ts` → schedules for the polls that have a handler → listen → start the worker and
 * the scheduler → one start line in the log. A fatal start error (bad config, lock held, port in
 * use) is one line on stderr and a non-zero exit.
 *
 * Stop (first signal): `/readyz` turns 503, the scheduler stops, the worker stops claiming and lets
 * running jobs finish within `shutdownTimeout` (what outlasts it is released, queued again), the
 * HTTP server closes, the store closes, the lock is given back, exit 0. A second signal exits 1 at
 * once. Logs are pino JSON lines on stdout at `log.level`, secrets redacted.
 */
import type { Command } from 'commander';
import pino from 'pino';
import type { Clock } from '../../clock.js';
import { UserError } from '../../config/errors.js';
import { refuseInsecureHttp } from '../../config/insecure-http.js';
import type { Config, ConnectionConfig } from '../../config/schema.js';
import type { JobHandler } from '../../engine/handler.js';
import {
  POLL_KINDS,
  type PollConfig,
  type PollName,
  pollSchedules,
  Scheduler,
} from '../../engine/scheduler.js';
import { Worker } from '../../engine/worker.js';
import { Access } from '../../http/auth.js';
import { dashboardRoutes } from '../../http/dashboard.js';
import { metricsRoute } from '../../http/metrics.js';
import { registerNudgeRoutes } from '../../http/nudge.js';
import { createHttpServer, type HttpServer, storeReadiness } from '../../http/server.js';
import { webhookReceiver } from '../../http/webhooks.js';
import { createLogger, type Logger, redactCredentials } from '../../logger.js';
import { databaseClock } from '../../store/db-clock.js';
import type { ScheduleSpec } from '../../store/jobs/schedules.js';
import { loadMasterKey, type MasterKey } from '../../store/master-key.js';
import { migrateToLatest } from '../../store/migrate.js';
import { openStore, type Store } from '../../store/open.js';
import { resolveSecret } from '../../store/secrets.js';
import { callMetricsFor } from '../../sync/call-metrics.js';
import { type HandlerContext, jobHandlers } from '../../sync/handlers.js';
import { pingConnection } from '../../sync/ping.js';
import type { Program } from '../program.js';
import { acquireRunLock, type RunLock } from '../run-lock.js';
import { type HeldSignals, holdSignals, takeLoadSignal } from '../start-signals.js';

export function registerRun(program: Command, app: Program): void {
  program
    .command('run')
    .description(
      'run the service: migrations, scheduler, worker and HTTP server (/healthz, /readyz) until SIGTERM/SIGINT',
    )
    .action(async () => {
      const { config } = app.context();
      const logger = createLogger({ level: config.log.level }, pino.destination({ dest: 1, sync: true }));
      const held = holdSignalsDuringStart();
      const service = await startService({ config, env: app.env, logger });
      await serveUntilSignal(service, { timeoutMs: config.shutdownTimeout, logger, held });
    });
}

/**
 * Keeps a SIGTERM/SIGINT that arrives while the service is still starting (migrations, logons,
 * the HTTP listen) instead of letting it kill the process mid-start: `serveUntilSignal` then stops
 * the service at once, cleanly, with exit code 0, as it would for a signal a minute later. A signal
 * the bin kept while the modules loaded (`start-signals.ts`) counts as one that arrived here.
 */
export function holdSignalsDuringStart(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): HeldSignals {
  // Our keeper first, then the bin's removed: no moment without a handler.
  const held = holdSignals(signals);
  const whileLoading = takeLoadSignal();
  return {
    received: () => whileLoading ?? held.received(),
    release: held.release,
  };
}

export interface ServiceOptions {
  config: Config;
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  clock?: Clock;
  /** The job handlers (default `jobHandlers` of `sync/handlers.ts`; tests pass their own). */
  handlers?: (context: HandlerContext) => JobHandler[];
}

export interface Service {
  /** Where the HTTP server listens, e.g. `http://127.0.0.1:8080`. */
  address: string;
  worker: Worker;
  /** Resolves once the webhook inbox has been moved into jobs (tests and the bench wait on it). */
  settleWebhooks(): Promise<void>;
  /** Graceful stop (idempotent): see the file comment. */
  stop(timeoutMs: number): Promise<void>;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const { config, logger } = options;
  const env = options.env ?? process.env;
  refuseInsecureSysproUrls(config.connections, logger);

  const sqlitePath = sqliteFile(config.store.url);
  const lock: RunLock | undefined = sqlitePath ? acquireRunLock(sqlitePath) : undefined;
  let store: Store | undefined;
  let http: HttpServer | undefined;
  let stopping = false;
  try {
    store = openStore(config.store.url);
    const migrated = await migrateToLatest(store).catch((err: Error) => {
      throw new UserError(
        `Cannot prepare the store ${store?.displayUrl}: ${redactCredentials(String(err.message ?? err))}. Check store.url and that the database is up (\`ml-connector migrate\` shows the same error).`,
      );
    });
    if (migrated.applied.length > 0) logger.info({ applied: migrated.applied }, 'migrations applied');
    // What processes share (leases, schedules, the ShipStation budget) runs on the database's time.
    const dbClock = databaseClock(store);
    await dbClock.ready();
    const clock: Clock = options.clock ?? dbClock;

    let masterKey: MasterKey | undefined;
    const context: HandlerContext = {
      config,
      store,
      masterKey: () => {
        masterKey ??= loadMasterKey({ env, file: config.masterKeyFile, create: false });
        return masterKey;
      },
      env,
      clock,
      logger,
    };
    const handlers = (options.handlers ?? jobHandlers)(context);
    const kinds = new Set(handlers.map((h) => h.kind));
    const worker = new Worker({
      store,
      handlers,
      retry: config.retry,
      clock,
      logger,
      retainFinishedMs: config.retention.finishedJobs,
      leaseMs: config.jobLease,
    });
    const polls = scheduledPolls(config.connections, kinds);
    const scheduler = new Scheduler({
      store,
      clock,
      logger,
      onEnqueued: (enqueued) => {
        for (const kind of new Set(enqueued.map((p) => p.kind))) worker.notify(kind);
      },
    });
    await scheduler.syncFromConfig(polls.connections);

    // Webhook events go to the inbox and from there into jobs (http/webhooks.ts, store/webhook-inbox.ts).
    const webhooks = webhookReceiver({
      config,
      store,
      resolveSecret: (connection, name) =>
        resolveSecret(context.store.db, context.masterKey, connection, name, env),
      clock,
      logger,
      notify: (kind) => worker.notify(kind),
    });
    http = createHttpServer({
      host: config.http.host,
      port: config.http.port,
      logger,
      // `/readyz` shows the webhook inbox's backlog and its drain's state (read from memory).
      readiness: {
        ...storeReadiness(store, () => stopping),
        details: () => ({ webhookInbox: webhooks.inboxStatus() }),
      },
      routes: [
        (app) =>
          registerNudgeRoutes(app, {
            connections: config.connections,
            store: context.store,
            clock,
            logger,
            resolveSecret: (connection, name) =>
              resolveSecret(context.store.db, context.masterKey, connection, name, env),
            notify: (kind) => worker.notify(kind),
          }),
        webhooks,
        // Read from the store on scrape, on the database's time (the budgets' and leases' clock);
        // the call histograms of the clients opened on this store.
        metricsRoute({ store, clock, calls: callMetricsFor(store), inbox: webhooks.inboxStatus }),
        // The dashboard and the operator API (login required; `http/dashboard.ts`).
        dashboardRoutes({
          config,
          store,
          clock,
          access: new Access(config.dashboard, () => clock.now()),
          ping: (name) => {
            const connection = config.connections.find((c) => c.name === name);
            if (!connection) return Promise.reject(new UserError(`no connection named ${name}`));
            return pingConnection({
              config,
              connection,
              store: context.store,
              masterKey: context.masterKey,
              env,
              clock,
            });
          },
          notify: (kind) => worker.notify(kind),
        }),
      ],
    });
    const address = await http.listen();
    worker.start();
    scheduler.start();
    logger.info(
      {
        connections: config.connections.map((c) => c.name),
        store: store.displayUrl,
        http: address,
        handlers: [...kinds],
        polls: polls.scheduled.map((p) => `${p.connection}:${p.kind}`),
        pollsWithoutHandler: polls.unhandled.map((p) => `${p.connection}:${p.kind}`),
        shutdownTimeoutMs: config.shutdownTimeout,
      },
      'ml-connector run started',
    );

    // Narrowed for the closure (both are set by now).
    const started = { store, http };
    let stopped: Promise<void> | undefined;
    return {
      address,
      worker,
      settleWebhooks: () => webhooks.settle(),
      stop(timeoutMs) {
        stopped ??= (async () => {
          stopping = true;
          logger.info({ timeoutMs }, 'stopping: no new jobs; running jobs get the timeout to finish');
          await scheduler.stop();
          await worker.stop(timeoutMs);
          await started.http.close();
          await started.store.close();
          lock?.release();
          logger.info('ml-connector run stopped');
        })();
        return stopped;
      },
    };
  } catch (err) {
    await http?.close().catch(() => {});
    await store?.close().catch(() => {});
    lock?.release();
    throw err;
  }
}

/**
 * Stops the service on the first SIGTERM/SIGINT and resolves once it has stopped; a second signal
 * exits 1 at once. A stop that hangs past the timeout plus a grace period exits 1 too.
 */
export async function serveUntilSignal(
  service: Service,
  options: { timeoutMs: number; logger: Logger; signals?: NodeJS.Signals[]; held?: HeldSignals },
): Promise<void> {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const { logger } = options;
  await new Promise<void>((resolveDone, rejectDone) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now, without waiting for running jobs');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'signal received');
      const guard = setTimeout(() => {
        logger.error('shutdown did not complete in time; exiting');
        process.exit(1);
      }, options.timeoutMs + 15_000);
      guard.unref();
      service.stop(options.timeoutMs).then(
        () => {
          clearTimeout(guard);
          for (const s of signals) process.off(s, onSignal);
          resolveDone();
        },
        (err) => {
          clearTimeout(guard);
          rejectDone(err);
        },
      );
    };
    for (const s of signals) process.on(s, onSignal);
    options.held?.release();
    // A caller that did not hold signals still takes over the bin's keeper here (it must not stay).
    const loading = takeLoadSignal();
    const early = options.held?.received() ?? loading;
    if (early) onSignal(early);
  });
  // Everything is closed; should a stray handle keep the event loop alive, do not hang on it.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
}

function sqliteFile(url: string): string | undefined {
  if (!url.startsWith('sqlite:')) return undefined;
  const path = url.slice('sqlite:'.length);
  return path === ':memory:' ? undefined : path;
}

/**
 * The polls `run` schedules: those configured (interval above 0) whose job kind has a handler.
 * A poll without a handler is left out (its schedule row is removed), so no job piles up that
 * nothing would run; it is listed in the start line as `pollsWithoutHandler`.
 */
export function scheduledPolls(
  connections: ConnectionConfig[],
  kinds: Set<string>,
): {
  connections: PollConfig[];
  scheduled: ScheduleSpec[];
  unhandled: ScheduleSpec[];
} {
  const all = pollSchedules(connections);
  const filtered = connections.map((c) => {
    const polls = { ...c.polls };
    for (const name of Object.keys(POLL_KINDS) as PollName[])
      if (!kinds.has(POLL_KINDS[name])) polls[name] = 0;
    return { name: c.name, polls };
  });
  return {
    connections: filtered,
    scheduled: all.filter((s) => kinds.has(s.kind)),
    unhandled: all.filter((s) => !kinds.has(s.kind)),
  };
}

/**
 * Plain http:// to a SYSPRO on another machine sends passwords in clear: refused per connection
 * (`config/insecure-http.ts`), or logged as a warning where the site set `allowInsecureHttp`.
 */
function refuseInsecureSysproUrls(connections: ConnectionConfig[], logger: Logger): void {
  for (const connection of connections) {
    const allowed = refuseInsecureHttp(connection);
    if (allowed.length > 0)
      logger.warn(
        { connection: connection.name, problems: allowed },
        'plain http to SYSPRO allowed by allowInsecureHttp',
      );
  }
}
