/**
 * What ASP.NET Web API (V1) decides before an action runs, done the same way for V2: which body
 * media types a body-reading endpoint takes (others are 415), and which methods a known path
 * supports (others are 405, unknown paths 404). The reference (§1.1) lists 405 among V1's status
 * codes; the media-type rule is our inference (docs/decisions.md).
 */
import type { FastifyRequest } from 'fastify';

/** The media types Web API's JsonMediaTypeFormatter reads (and ShipEngine's JSON input). */
const JSON_MEDIA_TYPES = new Set(['application/json', 'text/json']);

/** ASP.NET reads a body without Content-Type as `application/octet-stream`. */
export const DEFAULT_BODY_MEDIA_TYPE = 'application/octet-stream';

/** The media type of the request body as sent (without parameters), or the ASP.NET default. */
export function bodyMediaType(request: FastifyRequest): string {
  const header = request.headers['content-type'];
  const value = (Array.isArray(header) ? header[0] : header) ?? '';
  const mediaType = value.split(';')[0]?.trim() ?? '';
  return mediaType === '' ? DEFAULT_BODY_MEDIA_TYPE : mediaType;
}

export function isJsonMediaType(mediaType: string): boolean {
  return JSON_MEDIA_TYPES.has(mediaType.toLowerCase());
}

/**
 * Route parameters that only match some values, as ASP.NET route constraints do: an orderId or a
 * webhookId is a number, so `/orders/createorder` is not "order createorder".
 */
const PARAM_PATTERNS: Record<string, string> = {
  orderid: '\\d+',
  webhookid: '\\d+',
};

interface KnownRoute {
  pattern: RegExp;
  methods: Set<string>;
}

/** The API's paths and their methods, to tell 405 (known path, other method) from 404. */
export class RouteTable {
  private readonly routes = new Map<string, KnownRoute>();

  add(methods: string | string[], url: string): void {
    // Paths match in any case (the router is case-insensitive), so the key and names are lower case.
    const key = url.toLowerCase().replace(/\/+$/, '') || '/';
    let route = this.routes.get(key);
    if (!route) {
      const source = key
        .split('/')
        .map((segment) => {
          if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          return `(?:${PARAM_PATTERNS[segment.slice(1)] ?? '[^/]+'})`;
        })
        .join('/');
      route = { pattern: new RegExp(`^${source}$`, 'i'), methods: new Set() };
      this.routes.set(key, route);
    }
    for (const m of Array.isArray(methods) ? methods : [methods]) route.methods.add(m.toUpperCase());
  }

  /** Methods that some route supports for this concrete path (decoded, any case, trailing `/` ignored). */
  allowedMethods(rawPath: string): Set<string> {
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      path = rawPath;
    }
    path = path.replace(/\/+$/, '') || '/';
    const allowed = new Set<string>();
    for (const route of this.routes.values()) {
      if (!route.pattern.test(path)) continue;
      for (const m of route.methods) allowed.add(m);
      if (route.methods.has('GET')) allowed.add('HEAD');
    }
    return allowed;
  }
}
