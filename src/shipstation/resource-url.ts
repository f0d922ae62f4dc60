/**
 * The guard in front of following a V1 webhook's `resource_url`. V1 webhooks are unsigned, so the
 * URL is whatever the sender wrote; fetching it sends our Basic credentials and spends our budget.
 *
 * Host: only ShipStation's API hosts (`ssapi.shipstation.com` and its numbered shards
 * `ssapiN.shipstation.com`, HTTPS on the default port) or hosts configured explicitly
 * (`shipstation.allowedResourceHosts`, for the sandbox or a proxy).
 *
 * Path and query, on every host (explicit ones too): only the shapes webhooks send (reference
 * shipstation-api.md §4.2), so a forged SHIP_NOTIFY cannot make us page a whole account
 * (`/shipments?pageSize=500`) and feed old shipments to write-back:
 * - `/shipments?batchId=<digits>` with optional `storeID=<digits>`, `includeShipmentItems=True|False`
 *   (SHIP_NOTIFY, ITEM_SHIP_NOTIFY);
 * - `/orders?importBatch=<GUID>` with optional `storeID=<digits>` (ORDER_NOTIFY, ITEM_ORDER_NOTIFY);
 * - `/fulfillments?batchId=<digits>` with optional `storeID=<digits>` (FULFILLMENT_SHIPPED/REJECTED:
 *   the reference gives no sample, so this shape is our assumption, mirroring `/shipments`).
 * The batch parameter is required and exactly one of each parameter may appear. Values are checked
 * on the raw text (digits, a GUID, True/False), because a value the server cannot bind (`batchId=x`)
 * may well be dropped as a filter, which would list everything. Anything else is refused: other
 * paths, other parameters (`pageSize`, `page`, date filters), percent-encoding anywhere in path or
 * query, `.`/`..` segments, double or back slashes, a trailing slash, a fragment. The path is compared
 * without regard to case (ASP.NET routes ignore it), parameter names too (so does its model binding,
 * which is also why `batchId` and `BatchID` together count as a repeat).
 * Everything refused is refused before a request is made.
 */

const SHIPSTATION_API_HOST = /^ssapi\d*\.shipstation\.com$/;

const DIGITS = /^\d{1,19}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TRUE_FALSE = /^(true|false)$/i;

interface ResourceShape {
  /** The batch filter that must be present (lower-case name). */
  batch: string;
  /** Every parameter allowed (lower-case name) and the pattern its raw value must match. */
  params: Record<string, RegExp>;
}

/** The resource paths V1 webhooks point at (lower-case). */
const RESOURCE_SHAPES: Record<string, ResourceShape> = {
  '/shipments': {
    batch: 'batchid',
    params: { batchid: DIGITS, storeid: DIGITS, includeshipmentitems: TRUE_FALSE },
  },
  '/orders': { batch: 'importbatch', params: { importbatch: GUID, storeid: DIGITS } },
  '/fulfillments': { batch: 'batchid', params: { batchid: DIGITS, storeid: DIGITS } },
};

/**
 * The path of `raw` exactly as written (between the authority and `?`/`#`), or `undefined`. The URL
 * parser normalises `/a/../b`, `%2e%2e` and `\\`, so the check compares what was written to what was
 * parsed: any difference is a trick and refused.
 */
function rawPathOf(raw: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#\\]*([^?#]*)/i.exec(raw)?.[1];
}

/** `undefined` when the path and query are a webhook resource shape, else the reason. */
function resourceShapeProblem(raw: string, url: URL): string | undefined {
  const rawPath = rawPathOf(raw);
  if (rawPath === undefined || rawPath !== url.pathname || /%|\/\/|\/\.{1,2}(\/|$)/.test(rawPath)) {
    return `path ${JSON.stringify(rawPath ?? url.pathname)} is not written plainly (encoded characters, dot segments or double slashes)`;
  }
  const shape = RESOURCE_SHAPES[url.pathname.toLowerCase()];
  if (!shape) {
    return `path ${url.pathname} is not a webhook resource (only ${Object.keys(RESOURCE_SHAPES).join(', ')})`;
  }
  if (url.hash !== '' || raw.includes('#')) return 'the URL carries a fragment';
  const rawQuery = url.search.slice(1);
  const seen = new Set<string>();
  for (const pair of rawQuery === '' ? [] : rawQuery.split('&')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? undefined : pair.slice(eq + 1);
    const key = name.toLowerCase();
    const pattern = shape.params[key];
    if (pattern === undefined) {
      return `query parameter ${JSON.stringify(name.slice(0, 40))} is not one a ${url.pathname} webhook resource carries`;
    }
    if (seen.has(key)) return `query parameter ${name} appears more than once`;
    seen.add(key);
    if (value === undefined || !pattern.test(value)) {
      return `query parameter ${name} has a value a webhook would not send (${JSON.stringify((value ?? '').slice(0, 40))})`;
    }
  }
  if (!seen.has(shape.batch)) {
    const batchName = shape.batch === 'importbatch' ? 'importBatch' : 'batchId';
    return `${url.pathname} without ${batchName} is not a webhook resource (it would list the whole account)`;
  }
  return undefined;
}

export type ResourceUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * `allowedHosts` entries are `host` (any port) or `host:port`, compared case-insensitively, e.g.
 * `127.0.0.1:43121` for a sandbox. Explicit hosts may use `http`; ShipStation hosts must use `https`.
 */
export function checkResourceUrl(
  resourceUrl: string,
  allowedHosts: readonly string[] = [],
): ResourceUrlCheck {
  let url: URL;
  try {
    url = new URL(resourceUrl);
  } catch {
    return { ok: false, reason: 'not a valid absolute URL' };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'the URL carries user information' };
  }
  const hostname = url.hostname.toLowerCase();
  const host = url.host.toLowerCase();
  const explicit = allowedHosts.some((entry) => {
    const e = entry.trim().toLowerCase();
    return e !== '' && (e === host || e === hostname);
  });
  if (explicit) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      return { ok: false, reason: `scheme ${url.protocol} is not http(s)` };
    }
    const problem = resourceShapeProblem(resourceUrl, url);
    return problem ? { ok: false, reason: problem } : { ok: true, url };
  }
  if (!SHIPSTATION_API_HOST.test(hostname)) {
    return { ok: false, reason: `host ${hostname} is not a ShipStation API host` };
  }
  if (url.protocol !== 'https:')
    return { ok: false, reason: 'ShipStation API hosts are only called over https' };
  if (url.port !== '') return { ok: false, reason: `port ${url.port} is not the https default` };
  const problem = resourceShapeProblem(resourceUrl, url);
  return problem ? { ok: false, reason: problem } : { ok: true, url };
}
