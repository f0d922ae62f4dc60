/**
 * The guard in front of following a V1 webhook's `resource_url`. V1 webhooks are unsigned, so the
 * URL is whatever the sender wrote; fetching it sends our Basic credentials. We fetch only from
 * ShipStation's API hosts (`ssapi.shipstation.com` and its numbered shards `ssapiN.shipstation.com`,
 * HTTPS on the default port) or from hosts configured explicitly (`shipstation.allowedResourceHosts`,
 * for the sandbox or a proxy). Everything else is refused before a request is made.
 */

const SHIPSTATION_API_HOST = /^ssapi\d*\.shipstation\.com$/;

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
    return { ok: true, url };
  }
  if (!SHIPSTATION_API_HOST.test(hostname)) {
    return { ok: false, reason: `host ${hostname} is not a ShipStation API host` };
  }
  if (url.protocol !== 'https:')
    return { ok: false, reason: 'ShipStation API hosts are only called over https' };
  if (url.port !== '') return { ok: false, reason: `port ${url.port} is not the https default` };
  return { ok: true, url };
}
