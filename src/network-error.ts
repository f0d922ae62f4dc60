/**
 * The socket, DNS or TLS error code of a failed request (`ECONNREFUSED`, `ENOTFOUND`,
 * `CERT_HAS_EXPIRED`, `UND_ERR_…`). fetch wraps it: `TypeError('fetch failed', { cause })`, with the
 * code on the cause, sometimes nested again or inside an AggregateError (one per address tried).
 */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const nested = (current as { errors?: unknown }).errors;
    if (Array.isArray(nested) && nested.length > 0) current = nested[0];
    else current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
