/**
 * Which SYSPRO URLs of a connection would send passwords in clear text. e.net takes the operator
 * and company passwords in the query string of every logon, and OData sends Basic credentials on
 * every request, so `http://` to any host but this machine's loopback exposes them to the network.
 *
 * `insecureHttpProblems` returns one plain sentence per such URL, whatever `allowInsecureHttp` says:
 * `config check` and `ping` print them as warnings. `run` (the long-running service) must refuse to
 * start a connection for which `insecureHttpProblems` returns anything unless the site has set
 * `syspro.allowInsecureHttp: true`; `refuseInsecureHttp` does exactly that and is what `run` calls.
 *
 * Loopback means `localhost` (and `*.localhost`), `127.0.0.0/8`, `::1` and IPv4-mapped `127.x` —
 * names and addresses that never leave the machine. Any other host, a private LAN address included,
 * counts as the network: a LAN is not a reason to send passwords readable by everyone on it.
 */
import { UserError } from './errors.js';
import type { ConnectionConfig } from './schema.js';

type SysproUrls = Pick<ConnectionConfig['syspro'], 'enetUrl' | 'odataUrl'>;

const WHAT_LEAKS: Record<'enetUrl' | 'odataUrl', string> = {
  enetUrl: 'the e.net logon sends the operator and company passwords',
  odataUrl: "every OData request sends the OData user's password (Basic auth)",
};

/** True for host names and addresses that stay on this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  // IPv4-mapped loopback, as the URL parser writes it: `::ffff:7f00:1` for `::ffff:127.0.0.1`.
  return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host);
}

/**
 * One sentence per SYSPRO URL of the connection that is `http://` to a host other than loopback,
 * e.g. `syspro.enetUrl is http://erp:20161 (not https, host erp is not this machine): the e.net logon
 * sends the operator and company passwords in clear text over the network`. Empty when all is well.
 */
export function insecureHttpProblems(connection: { name?: string; syspro: SysproUrls }): string[] {
  const problems: string[] = [];
  for (const field of ['enetUrl', 'odataUrl'] as const) {
    let url: URL;
    try {
      url = new URL(connection.syspro[field]);
    } catch {
      continue; // The schema refuses invalid URLs; nothing to say here.
    }
    if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) continue;
    problems.push(
      `syspro.${field} is ${url.origin} (not https, and host ${url.hostname} is not this machine): ${WHAT_LEAKS[field]} in clear text over the network`,
    );
  }
  return problems;
}

/** What to do about `insecureHttpProblems`, for the lines that print them. */
export const INSECURE_HTTP_ADVICE =
  'use https:// for the SYSPRO service, or, if the network between here and SYSPRO is trusted, set syspro.allowInsecureHttp: true to let `run` use it anyway';

/**
 * For `run`: throws a `UserError` naming every problem when the connection's SYSPRO URLs would send
 * passwords in clear text and `syspro.allowInsecureHttp` is not `true`; returns the problems (to log
 * as warnings) when they are allowed, and `[]` when there are none.
 */
export function refuseInsecureHttp(connection: {
  name: string;
  syspro: SysproUrls & { allowInsecureHttp?: boolean };
}): string[] {
  const problems = insecureHttpProblems(connection);
  if (problems.length > 0 && connection.syspro.allowInsecureHttp !== true) {
    throw new UserError(
      `Connection ${connection.name} is not started: ${problems.join('; ')}. To fix: ${INSECURE_HTTP_ADVICE}.`,
    );
  }
  return problems;
}
