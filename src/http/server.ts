/**
 * The one HTTP server of `ml-connector run`: Fastify with our pino logger (redaction included) or
 * none, and the route modules of `src/http/`: health always, and those `run` passes in `routes` (the
 * nudge, the webhook receiver; the dashboard registers its own the same way). Flows know nothing of
 * Fastify: routes call plain functions of `sync/`.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { sql } from 'kysely';
import type { Bindings, ChildLoggerOptions } from 'pino';
import { UserError } from '../config/errors.js';
import { type Logger, redactCredentials } from '../logger.js';
import { pendingMigrations } from '../store/migrate.js';
import type { Store } from '../store/open.js';
import { type Readiness, registerHealthRoutes } from './health.js';

export interface HttpServerOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  readiness: Readiness;
  /** Omitted: Fastify logs nothing. */
  logger?: Logger;
  /**
   * Route modules (the webhook receiver, the nudge route…). Each is registered as its own Fastify
   * plugin, so its content-type parsers, body limits and error handler stay its own.
   */
  routes?: Array<(app: FastifyInstance) => Promise<void> | void>;
}

export interface HttpServer {
  app: FastifyInstance;
  /** Starts listening; resolves with the address, e.g. `http://127.0.0.1:8080`. */
  listen(): Promise<string>;
  /**
   * Stops accepting, lets requests in flight finish (answered with `Connection: close`), closes
   * idle keep-alive connections; resolves once every connection is closed.
   */
  close(): Promise<void>;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const httpLogger = options.logger?.child({ component: 'http' });
  const app = Fastify({
    ...(httpLogger
      ? {
          loggerInstance: httpLogger as FastifyBaseLogger,
          // A request's child logger (with its reqId) is made when the request first logs, not for
          // every request: pino's child with our redaction was a few percent of the webhook
          // receiver's time under load (issue #11), and almost no request logs.
          childLoggerFactory: (logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions) =>
            lazyChild(logger, bindings, opts),
        }
      : { logger: false }),
    // Health probes every few seconds would drown the log at info: one debug line per request instead.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  // Once close began, every response says `Connection: close`, so Node ends its socket once it is
  // sent. Fastify's close ends the idle keep-alive connections of that moment and answers 503 +
  // `Connection: close` to requests that arrive later, but a request in flight was answered with
  // `keep-alive: timeout=72` and its idle socket held the close (and a stop of `run`) until the
  // client dropped it, up to Fastify's keepAliveTimeout (72 s). A plain flag and a synchronous hook:
  // no promise per request.
  let closing = false;
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  // The debug line per request only when debug is on (the level is set at start): no hook, no
  // promise per request otherwise.
  if (httpLogger?.isLevelEnabled('debug')) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.debug(
        {
          method: request.method,
          url: request.url,
          statusCode: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
        },
        'request',
      );
      done();
    });
  }
  registerHealthRoutes(app, options.readiness);
  for (const route of options.routes ?? []) {
    app.register(async (scope) => {
      await route(scope);
    });
  }

  return {
    app,
    async listen() {
      try {
        return await app.listen({ host: options.host, port: options.port });
      } catch (err) {
        throw listenError(err as NodeJS.ErrnoException, options.host, options.port);
      }
    },
    close() {
      closing = true;
      return app.close();
    },
  };
}

/**
 * A logger that becomes `parent.child(bindings, opts)` when it is first used (each method, `child`
 * and `level` go to that child). Until then nothing is allocated but this object (a class, so its
 * methods are shared, not made per request).
 */
class LazyChildLogger {
  #real: FastifyBaseLogger | undefined;
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
  ) {}
  #get(): FastifyBaseLogger {
    this.#real ??= this.parent.child(this.bindings, this.opts);
    return this.#real;
  }
  get level(): string {
    return this.#real ? this.#real.level : this.parent.level;
  }
  set level(value: string) {
    this.#get().level = value;
  }
  fatal(...args: Parameters<FastifyBaseLogger['fatal']>) {
    this.#get().fatal(...args);
  }
  error(...args: Parameters<FastifyBaseLogger['error']>) {
    this.#get().error(...args);
  }
  warn(...args: Parameters<FastifyBaseLogger['warn']>) {
    this.#get().warn(...args);
  }
  info(...args: Parameters<FastifyBaseLogger['info']>) {
    this.#get().info(...args);
  }
  debug(...args: Parameters<FastifyBaseLogger['debug']>) {
    this.#get().debug(...args);
  }
  trace(...args: Parameters<FastifyBaseLogger['trace']>) {
    this.#get().trace(...args);
  }
  silent(...args: Parameters<FastifyBaseLogger['silent']>) {
    this.#get().silent(...args);
  }
  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#get().child(bindings, opts);
  }
}

export function lazyChild(
  parent: FastifyBaseLogger,
  bindings: Bindings,
  opts: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(parent, bindings, opts) as unknown as FastifyBaseLogger;
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  if (err.code === 'EADDRINUSE')
    return new UserError(
      `Cannot listen on ${where}: the port is in use (another ml-connector run, or another program). Stop it, or set http.port (ML_CONNECTOR_HTTP__PORT) to a free port.`,
    );
  if (err.code === 'EACCES')
    return new UserError(
      `Cannot listen on ${where}: permission denied (ports below 1024 need privileges). Set http.port to 1024 or above.`,
    );
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
    return new UserError(
      `Cannot listen on ${where}: this machine has no such address. Set http.host to one of its addresses (127.0.0.1 by default, 0.0.0.0 for all).`,
    );
  return new UserError(`Cannot listen on ${where}: ${err.message}.`);
}

/**
 * Readiness of a store: a trivial query answers and every migration this code knows is applied.
 * `stopping` is read on each probe (set once shutdown begins).
 */
export function storeReadiness(store: Store, stopping: () => boolean = () => false): Readiness {
  return {
    stopping,
    async check() {
      try {
        await sql`select 1`.execute(store.db);
      } catch (err) {
        throw new Error(
          `the store ${store.displayUrl} is unreachable: ${redactCredentials(String((err as Error).message ?? err))}`,
        );
      }
      const pending = await pendingMigrations(store);
      if (pending.length > 0)
        throw new Error(`migrations pending: ${pending.join(', ')} (run \`ml-connector migrate\`)`);
    },
  };
}
