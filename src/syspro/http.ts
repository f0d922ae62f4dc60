/**
 * The one place the SYSPRO clients send HTTP: a GET (or POST) with a timeout, network failures
 * turned into `SysproError` kinds, and the body decoded by its charset (Windows-1252 included).
 */
import { performance } from 'node:perf_hooks';
import { linkSignals } from '../abort.js';
import type { Delivery } from '../delivery.js';
import { OPERATOR_ADVICE, redactSecrets, SysproError, transportError } from './errors.js';
import { decodeBody } from './windows-1252.js';

/**
 * Node's fetch keeps a timing entry, full URL included, for each of the first 250 requests of the
 * process (`performance.getEntriesByType('resource')`). e.net's Logon carries the operator and
 * company passwords in its query string, so those entries would hold them in clear for the life of
 * the process (a heap snapshot or a debugger would show them). Nothing here reads the entries, so
 * any process that loads the SYSPRO clients keeps none.
 */
performance.clearResourceTimings();
performance.setResourceTimingBufferSize(0);

export interface SysproResponse {
  status: number;
  contentType: string | null;
  text: string;
}

export interface SysproRequest {
  url: string;
  /** Route or entity set for messages, never the full URL (it may carry passwords). */
  endpoint: string;
  businessObject?: string;
  timeoutMs: number;
  headers?: Record<string, string>;
  /** Aborts the request (e.g. on client shutdown). */
  signal?: AbortSignal;
  /** Decode the body with this charset whatever the Content-Type says (site setting). */
  charset?: string;
}

export async function sendRequest(request: SysproRequest): Promise<SysproResponse> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  // Not AbortSignal.any: on Node 20 it leaves a WeakRef on a long-lived caller signal per call.
  const linked = request.signal ? linkSignals([timeout, request.signal]) : undefined;
  const signal = linked?.signal ?? timeout;
  const host = hostOf(request.url);
  try {
    // Redirects are never followed: following resends the request (e.net passwords ride in the
    // query string, OData sends Basic credentials) to wherever `Location` says. A 3xx is an error.
    const response = await fetch(request.url, {
      method: 'GET',
      headers: request.headers,
      signal,
      redirect: 'manual',
    });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => {});
      throw redirectError(response.status, response.headers.get('location'), request, host);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    const contentType = response.headers.get('content-type');
    const decodeAs = request.charset ? `text/plain; charset=${request.charset}` : contentType;
    return { status: response.status, contentType, text: decodeBody(bytes, decodeAs) };
  } catch (error) {
    // An abort that is a deadline (reason `TimeoutError`, e.g. `ping`'s) is a timeout like our own.
    const deadline = (request.signal?.reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
    if (request.signal?.aborted && !timeout.aborted && !deadline) {
      // Aborted while under way: the request may have reached e.net.
      throw new SysproError('closed', `SYSPRO ${request.endpoint}: ${OPERATOR_ADVICE.closed}`, {
        endpoint: request.endpoint,
        businessObject: request.businessObject,
        cause: error,
        delivery: 'in-doubt',
      });
    }
    throw transportError(error, {
      endpoint: request.endpoint,
      host,
      timeoutMs: request.timeoutMs,
      businessObject: request.businessObject,
    });
  } finally {
    linked?.dispose();
  }
}

/** A 3xx answer: names where it pointed (origin and path only; a query may echo passwords). */
function redirectError(
  status: number,
  location: string | null,
  request: SysproRequest,
  host: string,
): SysproError {
  let target = 'no Location';
  if (location) {
    try {
      const to = new URL(location, request.url);
      target = `to ${to.origin}${to.pathname}`;
    } catch {
      target = 'to an invalid Location';
    }
  }
  return new SysproError(
    'http-status',
    `SYSPRO ${request.endpoint} on ${host} answered a redirect (HTTP ${status}, ${target}); SYSPRO requests never follow redirects, since they would carry the credentials along — set the configured URL to the address the service answers at itself (https:// if it redirects to https)`,
    { endpoint: request.endpoint, businessObject: request.businessObject, status, retryable: false },
  );
}

/** `host:port` of a URL, for messages. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * A non-success HTTP status as a `SysproError`; 5xx, 408 and 429 are retryable. Delivery: 408, 429
 * and 503 were not carried out (`not-sent`): e.net is hosted by HTTP.sys, which answers 503 itself
 * when the service or its queue is down, before e.net sees the request (our reading; the reference
 * does not say what SYSPRO answers while busy); any other 5xx came from behind it and is `in-doubt`;
 * other 4xx are `rejected`.
 */
export function httpStatusError(
  response: SysproResponse,
  context: {
    endpoint: string;
    host: string;
    businessObject?: string;
    secrets?: readonly (string | undefined)[];
  },
): SysproError {
  const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
  const delivery: Delivery =
    response.status === 408 || response.status === 429 || response.status === 503
      ? 'not-sent'
      : response.status >= 500
        ? 'in-doubt'
        : 'rejected';
  const snippet = redactSecrets(response.text.replace(/\s+/g, ' ').trim(), context.secrets).slice(0, 200);
  const unauthorized = response.status === 401 || response.status === 403;
  return new SysproError(
    unauthorized ? 'unauthorized' : 'http-status',
    `SYSPRO ${context.endpoint} on ${context.host} answered HTTP ${response.status}${
      snippet ? `: ${snippet}` : ''
    } — ${unauthorized ? OPERATOR_ADVICE.unauthorized : OPERATOR_ADVICE['http-status']}`,
    {
      endpoint: context.endpoint,
      businessObject: context.businessObject,
      status: response.status,
      sysproMessage: snippet || undefined,
      retryable,
      delivery,
    },
  );
}
