/**
 * What every ShipStation API request goes through before and after its route, for V1 and V2 alike
 * (not `/_sandbox/` or `/jwks`): the request log, authentication (V1 Basic key:secret, V2
 * `API-Key` header), the rate limit (V1 `X-Rate-Limit-*` on every answer, V2 `Retry-After` on a
 * 429), the fault switches (latency, hang, lost answer, 401, 429, 500), 404/405 for paths no route took, and
 * the error shape of each API (ASP.NET `Message` for V1, `{request_id, errors[]}` for V2).
 */
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  internalErrorBody,
  methodNotAllowedMessage,
  NoRouteError,
  sandboxErrorBody,
  TOO_MANY_REQUESTS_BODY,
  UNAUTHORIZED_BODY,
  unsupportedMediaTypeMessage,
  V1HttpError,
  V2HttpError,
  v2Error,
  v2ErrorBody,
} from './errors.js';
import type { FaultRules } from './faults.js';
import type { FixedWindowRateLimit, RateLimitVerdict } from './rate-limit.js';
import { DEFAULT_BODY_MEDIA_TYPE, RouteTable } from './routing.js';
import { SandboxRuleError } from './state.js';

/** API requests kept in the request log (oldest dropped first). */
const REQUEST_LOG_SIZE = 10_000;

/** One API request as the sandbox received it (before auth, faults and routing). */
export interface SandboxRequest {
  /** Clock time. */
  at: number;
  api: 'v1' | 'v2';
  method: string;
  /** Path and query as sent. */
  url: string;
}

export type ApiOf = 'v1' | 'v2' | 'sandbox';

export function apiOf(url: string): ApiOf {
  const path = (url.split('?')[0] ?? '').toLowerCase();
  if (path.startsWith('/_sandbox') || path === '/jwks') return 'sandbox';
  if (path === '/v2' || path.startsWith('/v2/')) return 'v2';
  return 'v1';
}

function pathOf(url: string): string {
  return url.split('?')[0] ?? '/';
}

/**
 * Fastify's own errors (thrown before or around a route: body parsing, limits, bad URLs) with the
 * status and V1 `Message` text ShipStation's stack (IIS, ASP.NET) would give; the production
 * texts are UNCONFIRMED (docs/decisions.md). Undefined for errors that are not Fastify's.
 */
function frameworkError(
  error: unknown,
  request: FastifyRequest,
): { status: number; message: string } | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('FST_')) return undefined;
  switch (code) {
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_MAX_PARAM_LENGTH':
      // http.sys refuses these before ASP.NET ("Bad Request - Invalid URL").
      return { status: 400, message: 'HTTP Error 400. The request URL is invalid.' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: 'Maximum request length exceeded.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const header = request.headers['content-type'];
      const sent = (Array.isArray(header) ? header[0] : header)?.trim();
      return { status: 415, message: unsupportedMediaTypeMessage(sent || DEFAULT_BODY_MEDIA_TYPE) };
    }
    default: {
      const status = (error as { statusCode?: unknown }).statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        return { status, message: 'The request is invalid.' };
      }
      return { status: 500, message: 'An error has occurred.' };
    }
  }
}

function bucketKey(prefix: string, credential: string): string {
  return `${prefix}:${createHash('sha256').update(credential).digest('hex').slice(0, 16)}`;
}

function readBasicAuth(header: string | undefined): { key: string; secret: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { key: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export interface ApiGateSettings {
  credentials: { apiKey: string; apiSecret: string; v2ApiKey: string };
  partnerKeys: Set<string>;
  partnerRateLimit: number;
  v1Limit: FixedWindowRateLimit;
  v2Limit: FixedWindowRateLimit;
  faults: FaultRules;
  now(): number;
  /** For V1 404 texts (the URL the request was made to). */
  resourceBaseUrl(): string;
}

export class ApiGate {
  private readonly requestLog: SandboxRequest[] = [];
  private readonly routes = new RouteTable();
  /** Requests whose answer a `lostAnswer` fault drops once the route has run. */
  private readonly lostAnswers = new WeakSet<FastifyRequest>();

  constructor(private readonly settings: ApiGateSettings) {}

  /** The last 10,000 API requests, oldest first. */
  requests(): SandboxRequest[] {
    return [...this.requestLog];
  }

  /**
   * Fastify's `frameworkErrors` option: errors found before any route runs (a bad
   * percent-encoding, an over-long segment) count against the rate limit and carry its headers
   * like every other response (reference §2, §8.2), and get the API's error shape.
   */
  readonly frameworkErrors = (error: Error, request: FastifyRequest, reply: FastifyReply): void => {
    const api = apiOf(request.url);
    if (api !== 'sandbox' && !this.admit(request, reply, api)) return;
    const failure = frameworkError(error, request) ?? { status: 400, message: 'The request is invalid.' };
    this.sendFrameworkError(reply, api, failure);
  };

  /** Adds the hooks, the error handler and the not-found handler. Call before any route. */
  install(app: FastifyInstance): void {
    // The API's paths and methods, to answer 405 for a known path with another method.
    app.addHook('onRoute', (route) => {
      if (apiOf(route.url) === 'sandbox') return;
      this.routes.add(route.method, route.url);
    });
    app.addHook('onRequest', (request, reply) => this.onRequest(request, reply));
    app.addHook('onSend', async (request, reply, payload) => {
      if (this.lostAnswers.has(request)) {
        // The work is done; the client never hears of it.
        reply.hijack();
        request.raw.socket?.destroy();
      }
      return payload;
    });
    app.setErrorHandler((error, request, reply) => this.onError(error, request, reply));
    app.setNotFoundHandler((request, reply) => this.routeMiss(request, reply));
  }

  private setRateHeaders(reply: FastifyReply, v: RateLimitVerdict): void {
    reply.header('X-Rate-Limit-Limit', String(v.limit));
    reply.header('X-Rate-Limit-Remaining', String(v.remaining));
    reply.header('X-Rate-Limit-Reset', String(v.resetSeconds));
  }

  /** Sends a Fastify error in the shape of the API the request was for. */
  private sendFrameworkError(reply: FastifyReply, api: ApiOf, failure: { status: number; message: string }) {
    if (failure.status >= 500) return this.sendInternalError(reply, api, failure.message);
    if (api === 'sandbox') return reply.code(failure.status).send(sandboxErrorBody(failure.message));
    if (api === 'v2') {
      const text =
        failure.status === 413
          ? 'The request body is too large.'
          : failure.status === 415
            ? `${failure.message} Send application/json.`
            : failure.message;
      return reply
        .code(failure.status)
        .send(v2ErrorBody(v2Error(failure.status, 'validation', 'unspecified', text).errors));
    }
    return reply.code(failure.status).send({ Message: failure.message });
  }

  private sendInternalError(reply: FastifyReply, api: ApiOf, message: string) {
    if (api === 'sandbox') return reply.code(500).send(sandboxErrorBody(message));
    if (api === 'v2')
      return reply
        .code(500)
        .send(v2ErrorBody(v2Error(500, 'system', 'unspecified', 'An unexpected error occurred.').errors));
    return reply.code(500).send(internalErrorBody(message));
  }

  private unauthorizedReply(reply: FastifyReply, api: 'v1' | 'v2') {
    if (api === 'v1') return reply.code(401).send(UNAUTHORIZED_BODY);
    return reply
      .code(401)
      .send(
        v2ErrorBody(
          v2Error(401, 'security', 'unauthorized', 'The API key is invalid. Check the API-Key header.')
            .errors,
        ),
      );
  }

  private tooManyReply(reply: FastifyReply, api: 'v1' | 'v2', resetSeconds: number) {
    if (api === 'v1') return reply.code(429).send(TOO_MANY_REQUESTS_BODY);
    reply.header('Retry-After', String(Math.max(1, resetSeconds)));
    return reply
      .code(429)
      .send(
        v2ErrorBody(
          v2Error(
            429,
            'system',
            'rate_limit_exceeded',
            'You have exceeded the rate limit. Please see Retry-After.',
          ).errors,
        ),
      );
  }

  /**
   * Authentication and the rate limit of an API request: counts it (V1: sets the `X-Rate-Limit-*`
   * headers), and answers 401 or 429 itself. Returns the verdict, or undefined when it answered.
   */
  private admit(
    request: FastifyRequest,
    reply: FastifyReply,
    api: 'v1' | 'v2',
  ): RateLimitVerdict | undefined {
    const { credentials, partnerKeys } = this.settings;
    let authorized: boolean;
    let verdict: RateLimitVerdict;
    if (api === 'v1') {
      const header = request.headers.authorization;
      const creds = readBasicAuth(header);
      authorized = creds?.key === credentials.apiKey && creds.secret === credentials.apiSecret;
      const partner = request.headers['x-partner'];
      const partnerKey = Array.isArray(partner) ? partner[0] : partner;
      const partnerLimit =
        partnerKey !== undefined && partnerKeys.has(partnerKey) ? this.settings.partnerRateLimit : undefined;
      verdict = this.settings.v1Limit.take(bucketKey('v1', header ?? ''), partnerLimit);
      this.setRateHeaders(reply, verdict);
    } else {
      const key = request.headers['api-key'];
      const presented = Array.isArray(key) ? key[0] : key;
      authorized = presented === credentials.v2ApiKey;
      verdict = this.settings.v2Limit.take(bucketKey('v2', presented ?? ''));
    }
    if (!authorized) {
      this.unauthorizedReply(reply, api);
      return undefined;
    }
    if (!verdict.allowed) {
      this.tooManyReply(reply, api, verdict.resetSeconds);
      return undefined;
    }
    return verdict;
  }

  private async onRequest(request: FastifyRequest, reply: FastifyReply) {
    const api = apiOf(request.url);
    if (api === 'sandbox') return;
    const log = this.requestLog;
    log.push({ at: this.settings.now(), api, method: request.method, url: request.url });
    if (log.length > REQUEST_LOG_SIZE) log.splice(0, log.length - REQUEST_LOG_SIZE);
    const verdict = this.admit(request, reply, api);
    if (!verdict) return reply;
    const path = pathOf(request.url);
    const { faults } = this.settings;

    const latency = faults.latencyFor(request.method, path);
    if (latency > 0) await delay(latency);
    const fault = faults.requestFault(request.method, path);
    if (!fault) return;
    if (fault.kind === 'hang') {
      // Never answered; the socket stays open until the client gives up or the sandbox closes.
      reply.hijack();
      return reply;
    }
    if (fault.kind === 'lostAnswer') {
      // The route runs; its answer is dropped in onSend (see install).
      this.lostAnswers.add(request);
      return;
    }
    if (fault.kind === 'unauthorized') return this.unauthorizedReply(reply, api);
    if (fault.kind === 'rateLimited') return this.tooManyReply(reply, api, verdict.resetSeconds);
    return this.sendInternalError(reply, api, 'Object reference not set to an instance of an object.');
  }

  /**
   * No route took the request: 405 with ASP.NET's text when the path is known for other methods
   * (reference §1.1 lists 405), else 404. V2 gives the same statuses in its own error body.
   */
  private routeMiss(request: FastifyRequest, reply: FastifyReply) {
    const api = apiOf(request.url);
    if (api === 'sandbox')
      return reply.code(404).send(sandboxErrorBody(`no sandbox endpoint ${request.method} ${request.url}`));
    const allowed = this.routes.allowedMethods(pathOf(request.url));
    if (allowed.size > 0 && !allowed.has(request.method)) {
      const message = methodNotAllowedMessage(request.method);
      // Web API's 405 lists the path's methods in `Allow` (HEAD is Fastify's, not an action's).
      reply.header('Allow', [...allowed].filter((m) => m !== 'HEAD').join(', '));
      if (api === 'v2') {
        return reply.code(405).send(v2ErrorBody(v2Error(405, 'validation', 'unspecified', message).errors));
      }
      return reply.code(405).send({ Message: message });
    }
    if (api === 'v2') {
      return reply
        .code(404)
        .send(
          v2ErrorBody(
            v2Error(404, 'validation', 'invalid_identifier', `No resource at ${request.url}.`).errors,
          ),
        );
    }
    return reply.code(404).send({
      Message: `No HTTP resource was found that matches the request URI '${this.settings.resourceBaseUrl()}${request.url}'.`,
    });
  }

  private onError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
    const api = apiOf(request.url);
    if (error instanceof V1HttpError) return reply.code(error.statusCode).send(error.body);
    if (error instanceof V2HttpError) return reply.code(error.statusCode).send(v2ErrorBody(error.errors));
    if (error instanceof NoRouteError) return this.routeMiss(request, reply);
    const framework = frameworkError(error, request);
    if (framework) {
      if (framework.status >= 500) request.log.error({ err: error }, 'shipstation sandbox error');
      return this.sendFrameworkError(reply, api, framework);
    }
    const status =
      error instanceof SandboxRuleError
        ? error.statusCode
        : error instanceof SyntaxError
          ? 400
          : typeof (error as { statusCode?: unknown }).statusCode === 'number'
            ? ((error as { statusCode: number }).statusCode as number)
            : 500;
    const message = error instanceof Error ? error.message : String(error);
    if (status >= 500) request.log.error({ err: error }, 'shipstation sandbox error');
    if (api === 'sandbox') return reply.code(status).send(sandboxErrorBody(message));
    if (api === 'v2') {
      const type = status >= 500 ? 'system' : 'validation';
      return reply
        .code(status)
        .send(
          v2ErrorBody(
            v2Error(status, type, status >= 500 ? 'unspecified' : 'invalid_field_value', message).errors,
          ),
        );
    }
    if (status >= 500) return reply.code(500).send(internalErrorBody(message));
    return reply.code(status).send({ Message: message });
  }
}
