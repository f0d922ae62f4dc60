/**
 * Where a URL's host can be reached from: `loopback` (this machine only: `localhost`, `*.localhost`,
 * `127.0.0.0/8`, `::1`, and the unspecified `0.0.0.0/8` and `::`), `private` (a LAN or a carrier's
 * network: `10/8`, `172.16/12`, `192.168/16`, `100.64/10`, IPv6 `fc00::/7`), `link-local`
 * (`169.254/16`, `fe80::/10`), or `public` (anything else, host names included: a name's address is
 * not looked up, so `connector.internal` counts as public). IPv4-mapped IPv6 addresses are judged by
 * their IPv4 address.
 *
 * Used where ShipStation must reach us (`http.publicUrl`, `sync/ping.ts` `unreachablePublicUrl`):
 * ShipStation's servers on the internet reach only a public address.
 */
import { isLoopbackHost } from './insecure-http.js';

export type HostScope = 'loopback' | 'private' | 'link-local' | 'public';

/** The four bytes of a dotted IPv4 address, or undefined. */
function ipv4(host: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return undefined;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

function ipv4Scope([a, b]: number[]): HostScope {
  if (a === 127 || a === 0) return 'loopback';
  if (a === 10 || (a === 172 && (b as number) >= 16 && (b as number) <= 31) || (a === 192 && b === 168))
    return 'private';
  if (a === 100 && (b as number) >= 64 && (b as number) <= 127) return 'private';
  if (a === 169 && b === 254) return 'link-local';
  return 'public';
}

/** The scope of a URL's `hostname` (as `new URL(…).hostname` writes it: IPv6 in brackets). */
export function hostScope(hostname: string): HostScope {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (isLoopbackHost(host) || host === '::' || host === '0:0:0:0:0:0:0:0') return 'loopback';
  const v4 = ipv4(host);
  if (v4) return ipv4Scope(v4);
  if (!host.includes(':')) return 'public';
  // IPv4-mapped, as the URL parser writes it: `::ffff:c0a8:101` for `::ffff:192.168.1.1`.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const hi = Number.parseInt(mapped[1] as string, 16);
    const lo = Number.parseInt(mapped[2] as string, 16);
    return ipv4Scope([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  const first = Number.parseInt(host.split(':')[0] || '0', 16);
  if ((first & 0xfe00) === 0xfc00) return 'private';
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  return 'public';
}

/** The scope of a URL's host; undefined when the URL does not parse. */
export function urlHostScope(url: string | undefined): HostScope | undefined {
  if (!url) return undefined;
  try {
    return hostScope(new URL(url).hostname);
  } catch {
    return undefined;
  }
}
