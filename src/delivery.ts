/**
 * What a failed request did to the system it was sent to, as far as the client can tell. Every
 * client error (`SysproError`, `ShipStationError`) carries one, so the engine can tell a request
 * that is safe to send again from one that may already have taken effect (DESIGN "Guarantees").
 *
 * - `not-sent`: it never reached the system, so it had no effect: connection refused, DNS, the TLS
 *   handshake, a URL too long to send, a 429 or a limiter that gave up before sending, SYSPRO's
 *   HTTP.sys 503 (the service behind it is stopped), a failed logon before a post.
 * - `rejected`: the system answered and said no (4xx, an e.net `ERROR…` text, business-object
 *   errors): nothing was done.
 * - `in-doubt`: it went out and no usable answer came back: a timeout or a connection reset after
 *   sending, a 5xx, an answer that never came or could not be read after a success status. It may
 *   have taken effect.
 *
 * `delivery` says what happened; the error's `retryable` says whether the same request may simply
 * be sent again. An in-doubt failure of a call that is safe to repeat (a GET, an upsert by key, an
 * absolute `adjust`) stays `retryable: true`: repeating it cannot double anything. An in-doubt
 * failure of a call that is not (a SYSPRO post, a V2 `increment`) is `retryable: false`, and the
 * engine hands the job back to its handler to check the target system before anything is sent
 * again (src/engine/errors.ts `classifyError`, `inDoubt`).
 *
 * Top level (like network-error.ts) so the clients can use it without importing the engine.
 */
export type Delivery = 'not-sent' | 'rejected' | 'in-doubt';

export const DELIVERIES: readonly Delivery[] = ['not-sent', 'rejected', 'in-doubt'];

export function isDelivery(value: unknown): value is Delivery {
  return typeof value === 'string' && (DELIVERIES as readonly string[]).includes(value);
}

/**
 * Network error codes that mean the request never left (or never reached a server): the
 * connection was refused or could not be made, or the name did not resolve. Anything else that
 * breaks a request after it started (ECONNRESET, EPIPE, a socket closed, a timeout) may have
 * happened after the request went out: in doubt.
 */
export const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
