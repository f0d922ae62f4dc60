/**
 * `ping`: checks everything one connection needs, one result per check, each with a verdict and,
 * on failure, what to do. Nothing is written anywhere: business objects are probed with
 * `probeBusinessObjects` (a query for a key that cannot exist; a ValidateOnly=Y post of an empty
 * document), which tells a licensed object from an unlicensed one.
 */
import { linkSignals } from '../abort.js';
import type { Clock } from '../clock.js';
import { formatDuration } from '../config/duration.js';
import { UserError } from '../config/errors.js';
import { type HostScope, urlHostScope } from '../config/host-scope.js';
import { INSECURE_HTTP_ADVICE, insecureHttpProblems } from '../config/insecure-http.js';
import type { Config, ConnectionConfig } from '../config/schema.js';
import { OPERATOR_ADVICE as SHIPSTATION_ADVICE, ShipStationError } from '../shipstation/errors.js';
import { BudgetSpentError } from '../shipstation/rate-limit.js';
import type { MasterKey } from '../store/master-key.js';
import type { Store } from '../store/open.js';
import { resolveSecret } from '../store/secrets.js';
import { OPERATOR_ADVICE as SYSPRO_ADVICE, SysproError } from '../syspro/errors.js';
import { probeBusinessObjects } from '../syspro/probe.js';
import {
  openShipStationClients,
  openSysproClients,
  type ShipStationClients,
  type SysproClients,
} from './connection-clients.js';
import { hasLinks, linksApi } from './links-api.js';
import { ORDER_ENTITY } from './orders.js';
import {
  type ListedWebhook,
  neededSubscriptions,
  neededV2Subscriptions,
  subscriptionStatus,
  v2SubscriptionStatus,
  WEBHOOK_SECRET_ADVICE,
  webhookBaseUrl,
  webhookOwnership,
  webhookSecretProblem,
  webhookTargetUrl,
  webhookV2Url,
} from './webhook-events.js';

export type Verdict = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  connection: string;
  check: string;
  verdict: Verdict;
  /** What was found (pass) or what went wrong (fail). */
  detail: string;
  /** What to do about a failure or warning. */
  advice?: string;
  /** The error kind, for machines (`wrong-operator-password`, `auth`, `licence-exhausted`, …). */
  kind?: string;
  ms: number;
}

/** The OData tables the flows read, per what the connection has turned on. */
export function odataTablesFor(connection: ConnectionConfig): Array<{ table: string; key: string }> {
  const tables = [
    { table: 'SorMaster', key: 'SalesOrder' },
    { table: 'SorDetail', key: 'SalesOrder' },
    { table: 'ArCustomer', key: 'Customer' },
  ];
  if (connection.inventory.enabled) tables.push({ table: 'InvWarehouse', key: 'StockCode' });
  return tables;
}

/** The transaction business objects the configured write-back strategy and options post to. */
export function postingObjectsFor(connection: ConnectionConfig): string[] {
  const objects = connection.syspro.writeback === 'dispatch-note' ? ['SORTDN'] : ['SORTOI', 'SORTOS'];
  if (connection.freight.enabled) objects.push(connection.freight.method === 'journal' ? 'GENTJL' : 'SORTOI');
  return [...new Set(objects)];
}

/** The route ShipStation posts webhooks of this connection to, without the secret (`http/webhooks.ts`). */
export function webhookUrlFor(config: Config, connection: ConnectionConfig): string | undefined {
  if (!config.http.publicUrl) return undefined;
  return webhookBaseUrl(config.http.publicUrl, connection.name);
}

type RunCheck = (
  check: string,
  fn: () => Promise<string | { verdict: Verdict; detail: string; advice?: string }>,
) => Promise<boolean>;

const SUBSCRIBE_ADVICE = (connection: string) =>
  `run \`ml-connector webhooks subscribe --connection ${connection}\`, and check that the URL is reachable from the internet`;

/**
 * `webhook url`: publicUrl and the secret are set; then one `webhook <EVENT>` check per needed
 * subscription (`neededSubscriptions`), a warning when ShipStation has none to our URL with the
 * current secret. Warnings, not failures: without webhooks the polls still find every shipment.
 */
async function pingWebhooks(
  options: PingOptions,
  connection: ConnectionConfig,
  run: RunCheck,
  skip: (check: string, why: string) => void,
  /** The clients, or why there are none (the subscriptions are then not checked). */
  clients: ShipStationClients | string,
): Promise<void> {
  const needs = neededSubscriptions({ orderNotify: connection.channelOrders.enabled });
  const skipEvents = (why: string) => {
    for (const need of needs) skip(`webhook ${need.subscribe}`, why);
  };
  const base = webhookUrlFor(options.config, connection);
  let target: string | undefined;
  const urlOk = await run('webhook url', async () => {
    if (!base) {
      return {
        verdict: 'warn',
        detail:
          'http.publicUrl is not set, so ShipStation cannot send webhooks; shipments are found by polling only',
        advice: 'set http.publicUrl to the address ShipStation can reach this service at',
      };
    }
    const unreachable = unreachablePublicUrl(options.config, connection);
    if (unreachable) return unreachablePublicUrlWarning(options.config, connection, unreachable);
    const ref = connection.shipstation.webhookSecret;
    if (!ref) {
      return {
        verdict: 'warn',
        detail: `shipstation.webhookSecret is not set, so the receiver at ${base} refuses this connection's webhooks; shipments are found by polling only`,
        advice: `add webhookSecret: secret:shipstation.webhookSecret, then ${WEBHOOK_SECRET_ADVICE.replace('<connection>', connection.name)}`,
      };
    }
    const secret = await resolveSecret(
      options.store.db,
      options.masterKey,
      connection.name,
      ref.secret,
      options.env,
    );
    const problem = webhookSecretProblem(secret);
    if (problem) {
      return {
        verdict: 'warn',
        detail: `the webhook secret cannot be used: ${problem}`,
        advice: WEBHOOK_SECRET_ADVICE.replace('<connection>', connection.name),
      };
    }
    target = webhookTargetUrl(base, secret);
    return `${base} (secret set)`;
  });
  const unreachable = unreachablePublicUrl(options.config, connection);
  if (unreachable) return skipEvents(`ShipStation cannot reach ${scopeWords(unreachable)} http.publicUrl`);
  if (!urlOk || !target || !base) return skipEvents('webhook url not usable');
  if (typeof clients === 'string') return skipEvents(clients);
  const v1 = clients.shipstation;
  if (!v1) return skipEvents('no V1 key/secret');
  const hooks = await v1.listWebhooks().catch((err: unknown) => err as Error);
  const subscribedTo = target;
  for (const { need, hooks: matching } of Array.isArray(hooks)
    ? subscriptionStatus(hooks, subscribedTo, { orderNotify: connection.channelOrders.enabled })
    : []) {
    await run(`webhook ${need.subscribe}`, async () => {
      if (matching.length > 0) return `${matching[0]?.HookType} subscribed (${need.purpose})`;
      const stale = (hooks as ListedWebhook[]).some(
        (h) =>
          need.satisfiedBy.includes(h.HookType.toUpperCase()) &&
          webhookOwnership(h, base, subscribedTo) === 'ours-old-secret',
      );
      return {
        verdict: 'warn',
        detail: stale
          ? `the ${need.subscribe} subscription to ${base} carries an old secret: ShipStation's deliveries get 401 (${need.purpose} are found by polling only)`
          : `ShipStation has no ${need.subscribe} subscription to ${base} (${need.purpose} are found by polling only)`,
        advice: SUBSCRIBE_ADVICE(connection.name),
      };
    });
  }
  if (!Array.isArray(hooks)) {
    for (const need of needs) {
      await run(`webhook ${need.subscribe}`, async () => {
        throw hooks;
      });
    }
  }
}

/**
 * A V2 connection (`shipstation.api: v2`): `webhook url` (publicUrl set; the V2 route needs no
 * secret, ShipStation signs), then one `webhook <event>` check per `neededV2Subscriptions`, a
 * warning when `/v2/environment/webhooks` has none to our V2 URL.
 */
async function pingV2Webhooks(
  options: PingOptions,
  connection: ConnectionConfig,
  run: RunCheck,
  skip: (check: string, why: string) => void,
  clients: ShipStationClients | string,
): Promise<void> {
  const needs = neededV2Subscriptions();
  const url = options.config.http.publicUrl
    ? webhookV2Url(options.config.http.publicUrl, connection.name)
    : undefined;
  const unreachable = url === undefined ? undefined : unreachablePublicUrl(options.config, connection);
  await run('webhook url', async () =>
    unreachable
      ? unreachablePublicUrlWarning(options.config, connection, unreachable)
      : url
        ? `${url} (V2: signed by ShipStation)`
        : {
            verdict: 'warn',
            detail:
              'http.publicUrl is not set, so ShipStation cannot send webhooks; shipments are found by polling only',
            advice: 'set http.publicUrl to the address ShipStation can reach this service at',
          },
  );
  const v2 = typeof clients === 'string' ? undefined : clients.shipstationV2;
  if (!url || !v2 || unreachable) {
    const why = unreachable
      ? `ShipStation cannot reach ${scopeWords(unreachable)} http.publicUrl`
      : !url
        ? 'webhook url not usable'
        : typeof clients === 'string'
          ? clients
          : 'no shipstation.v2ApiKey';
    for (const need of needs) skip(`webhook ${need.subscribe}`, why);
    return;
  }
  const hooks = await v2.listWebhooks().catch((err: unknown) => err as Error);
  if (!Array.isArray(hooks)) {
    for (const need of needs)
      await run(`webhook ${need.subscribe}`, async () => {
        throw hooks;
      });
    return;
  }
  for (const { need, hooks: matching } of v2SubscriptionStatus(hooks, url)) {
    await run(`webhook ${need.subscribe}`, async () =>
      matching.length > 0
        ? `${matching[0]?.event} subscribed (${need.purpose})`
        : {
            verdict: 'warn',
            detail: `ShipStation has no ${need.subscribe} subscription to ${url} (${need.purpose} are found by polling only)`,
            advice: SUBSCRIBE_ADVICE(connection.name),
          },
    );
  }
}

interface Failure {
  detail: string;
  advice?: string;
  kind?: string;
  /** Default `fail`; `warn` for a check that could not be made (the key's budget is spent). */
  verdict?: Verdict;
}

const SYSPRO_WORDS: Partial<Record<string, string>> = {
  'wrong-operator-password': 'wrong operator password',
  'wrong-company-password': 'wrong company password',
  'unknown-company': 'unknown company',
  'unknown-operator': 'unknown operator',
  'licence-exhausted': 'licence exhausted',
  unreachable: 'host unreachable',
  tls: 'TLS failure',
  timeout: 'timed out',
  unauthorized: 'access refused (401/403)',
  'business-object-unavailable': 'business object not licensed',
};

const SHIPSTATION_WORDS: Partial<Record<string, string>> = {
  auth: 'access refused (401/403)',
  rate_limited: 'rate-limited (429)',
  unreachable: 'host unreachable',
  tls: 'TLS failure',
  timeout: 'timed out',
};

export function describeFailure(err: unknown): Failure {
  if (err instanceof SysproError && err.kind === 'http-status' && err.status === 503) {
    return {
      detail: `service unavailable (HTTP 503): ${err.message}`,
      advice: 'the SYSPRO service is stopped or in maintenance: start it, or wait until maintenance ends',
      kind: err.kind,
    };
  }
  if (err instanceof SysproError) {
    const words = SYSPRO_WORDS[err.kind] ?? err.kind;
    return { detail: `${words}: ${err.message}`, advice: SYSPRO_ADVICE[err.kind], kind: err.kind };
  }
  if (
    err instanceof ShipStationError &&
    err.kind === 'rate_limited' &&
    err.cause instanceof BudgetSpentError
  ) {
    // Not sent: the key's budget (shared with the running service, `limiters.ts`) has no slot
    // soon. Nothing was learnt about the key, so this is no failure: a busy sync spends V1's 40
    // requests a minute, and Test connection must not then report good credentials as broken.
    return {
      detail: `not checked: ${err.message}`,
      advice: `the running service is using this key's whole request budget; try again in ${Math.ceil(err.cause.waitMs / 1000)} s`,
      kind: err.kind,
      verdict: 'warn',
    };
  }
  if (err instanceof ShipStationError) {
    const words = SHIPSTATION_WORDS[err.kind] ?? err.kind;
    return { detail: `${words}: ${err.message}`, advice: SHIPSTATION_ADVICE[err.kind], kind: err.kind };
  }
  if (err instanceof UserError) return { detail: err.message, kind: 'config' };
  return { detail: err instanceof Error ? err.message : String(err), kind: 'unexpected' };
}

export interface PingOptions {
  config: Config;
  connection: ConnectionConfig;
  /** Secrets, and the ShipStation budget ping shares with the running service (`limiters.ts`). */
  store: Store;
  masterKey: () => MasterKey;
  env?: NodeJS.ProcessEnv;
  clock: Clock;
  /**
   * Per-request timeout (default 15 s, so an unreachable host does not hold the check long), and
   * the one deadline of all SYSPRO checks together: a hung SYSPRO holds ping about this long once.
   */
  timeoutMs?: number;
  /**
   * Ctrl-C: aborts the SYSPRO requests in flight (the session ping opened is logged off) and skips
   * the checks not started yet ("interrupted").
   */
  signal?: AbortSignal;
}

/** A `run` and `skip` that add results to `into`. */
function checker(connection: string, clock: Clock, into: CheckResult[], interrupted?: AbortSignal) {
  const skip = (check: string, why: string) =>
    into.push({ connection, check, verdict: 'skip', detail: why, ms: 0 });
  const run = async (
    check: string,
    fn: () => Promise<string | { verdict: Verdict; detail: string; advice?: string }>,
    failure: (err: unknown) => Failure = describeFailure,
  ): Promise<boolean> => {
    if (interrupted?.aborted) {
      skip(check, 'interrupted (Ctrl-C) before this check');
      return false;
    }
    const started = clock.now();
    try {
      const out = await fn();
      const r = typeof out === 'string' ? { verdict: 'pass' as const, detail: out } : out;
      into.push({ connection, check, ...r, ms: clock.now() - started });
      return r.verdict !== 'fail';
    } catch (err) {
      const { verdict = 'fail', ...described } = failure(err);
      into.push({ connection, check, verdict, ...described, ms: clock.now() - started });
      return verdict !== 'fail';
    }
  };
  return { run, skip };
}

/** The SYSPRO checks, in the order they are listed. */
function sysproCheckNames(connection: ConnectionConfig): string[] {
  return [
    'syspro e.net logon',
    'syspro business objects',
    ...odataTablesFor(connection).map((t) => `syspro odata ${t.table}`),
  ];
}

/**
 * Why ShipStation cannot reach `http.publicUrl`: its host is loopback, private (a LAN) or
 * link-local (`config/host-scope.ts`) while ShipStation's base URL (`v1Url`, or `v2Url` on V2) is
 * not loopback; undefined when it can, or when publicUrl is not set. A ShipStation on this machine
 * (the sandbox) does reach such a URL, so the sandbox's own configuration is left alone. A
 * ShipStation on a private address is not exempt: only this machine is sure to reach a loopback
 * URL. Used by `ping` (a warning) and `webhooks subscribe` (refused without `--force`).
 */
export function unreachablePublicUrl(
  config: Config,
  connection: ConnectionConfig,
): Exclude<HostScope, 'public'> | undefined {
  const ours = urlHostScope(config.http.publicUrl);
  const shipstation = urlHostScope(
    connection.shipstation.api === 'v2' ? connection.shipstation.v2Url : connection.shipstation.v1Url,
  );
  if (ours === undefined || ours === 'public' || shipstation === 'loopback') return undefined;
  return ours;
}

/** "a loopback", "a private (LAN)", "a link-local": the words for an unreachable scope. */
export function scopeWords(scope: Exclude<HostScope, 'public'>): string {
  return scope === 'private' ? 'a private (LAN)' : `a ${scope}`;
}

const UNREACHABLE_ADVICE = (connection: string) =>
  `set http.publicUrl to an https:// address ShipStation can reach from the internet: this service behind a reverse proxy, or a tunnel to http.host:http.port (e.g. cloudflared or ngrok); then run \`ml-connector webhooks subscribe --connection ${connection}\``;

/** The warning (and what to do) when ShipStation cannot reach `http.publicUrl`. */
export function unreachablePublicUrlWarning(
  config: Config,
  connection: ConnectionConfig,
  scope: Exclude<HostScope, 'public'>,
) {
  return {
    verdict: 'warn' as const,
    detail: `http.publicUrl is ${config.http.publicUrl}, ${scopeWords(scope)} address: ShipStation cannot reach this machine there, so it cannot send webhooks; shipments are found by polling only`,
    advice: UNREACHABLE_ADVICE(connection.name),
  };
}

/**
 * SYSPRO: the e.net chain (logon and off, then the business objects in one session) and each
 * OData table, side by side, all under one deadline of `timeoutMs`: a hung server makes every
 * check say "timed out" after about `timeoutMs` once, not once per check (nor once per OData
 * retry). The logoff is not bound by the deadline (`openSysproClients`).
 */
async function pingSyspro(
  options: PingOptions,
  syspro: SysproClients,
  run: ReturnType<typeof checker>['run'],
  skip: ReturnType<typeof checker>['skip'],
  signal: AbortSignal,
  deadline: AbortSignal,
  timeoutMs: number,
): Promise<void> {
  const { connection } = options;
  const failure = (err: unknown): Failure => {
    if (options.signal?.aborted && err instanceof SysproError && err.kind === 'closed')
      return { detail: 'interrupted (Ctrl-C) before SYSPRO answered', kind: 'interrupted' };
    if (deadline.aborted && err instanceof SysproError && err.kind === 'timeout')
      return {
        detail: `timed out: SYSPRO did not answer within ${formatDuration(timeoutMs)} (--timeout; one deadline for all SYSPRO checks)`,
        advice: SYSPRO_ADVICE.timeout,
        kind: 'timeout',
      };
    return describeFailure(err);
  };
  const enetChain = async () => {
    const loggedOn = await run(
      'syspro e.net logon',
      async () => {
        const { version } = await syspro.enet.checkLogon();
        return `logged on as ${connection.syspro.operator} to company ${connection.syspro.company} and off again${version ? ` (e.net ${version})` : ''}`;
      },
      failure,
    );
    if (!loggedOn) return skip('syspro business objects', 'e.net logon failed');
    await run(
      'syspro business objects',
      async () => {
        const wanted = [
          'SORQRY',
          ...(connection.inventory.enabled ? ['INVQRY'] : []),
          ...postingObjectsFor(connection),
        ];
        const probes = await syspro.enet.withSession((session) => probeBusinessObjects(session, wanted));
        const missing = probes.filter((p) => !p.available);
        if (missing.length > 0) {
          throw new SysproError(
            'business-object-unavailable',
            `${missing.map((p) => p.businessObject).join(', ')} not available to operator ${connection.syspro.operator}`,
          );
        }
        return `${wanted.join(', ')} answer (queries ran, postings validated only)`;
      },
      failure,
    );
  };
  const odataTable = ({ table, key }: { table: string; key: string }) =>
    run(
      `syspro odata ${table}`,
      async () => {
        for await (const page of syspro.odata.pages(table, { select: [key], pageSize: 1, signal })) {
          return `read ${page.length === 0 ? 'no rows (empty table)' : 'a row'}`;
        }
        return 'read no rows (empty table)';
      },
      failure,
    );
  await Promise.all([enetChain(), ...odataTablesFor(connection).map(odataTable)]);
}

export async function pingConnection(options: PingOptions): Promise<CheckResult[]> {
  const { connection, clock } = options;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const results: CheckResult[] = [];
  const { run, skip } = checker(connection.name, clock, results, options.signal);

  // Passwords in clear text: a warning (the ping itself works), said before anything is sent.
  const allowed = connection.syspro.allowInsecureHttp;
  for (const problem of insecureHttpProblems(connection)) {
    results.push({
      connection: connection.name,
      check: 'syspro http',
      verdict: 'warn',
      detail: allowed
        ? `${problem} (allowed by syspro.allowInsecureHttp)`
        : `${problem}; \`run\` refuses this connection until it is fixed or allowed`,
      advice: allowed ? 'use https:// for the SYSPRO service' : INSECURE_HTTP_ADVICE,
      kind: 'insecure-http',
      ms: 0,
    });
  }

  // The SYSPRO deadline (a `TimeoutError` reason: the calls fail as timeouts) and Ctrl-C.
  const deadline = new AbortController();
  // linkSignals, not AbortSignal.any (src/abort.ts): the caller's signal may outlive this ping.
  const linked = options.signal ? linkSignals([deadline.signal, options.signal]) : undefined;
  const sysproSignal = linked?.signal ?? deadline.signal;
  const common = {
    connection,
    store: options.store,
    masterKey: options.masterKey,
    env: options.env,
    clock,
    timeoutMs,
  };
  // Each system's secrets on their own: a missing ShipStation secret does not stop the SYSPRO
  // checks, nor the other way round.
  let syspro: SysproClients | undefined;
  let shipstation: ShipStationClients | undefined;
  await run('credentials', async () => {
    const errors: unknown[] = [];
    syspro = await openSysproClients({ ...common, signal: sysproSignal }).catch((err: unknown) => {
      errors.push(err);
      return undefined;
    });
    shipstation = await openShipStationClients({
      ...common,
      // The budget is shared with the running service: ping takes its slots from it, but says
      // "rate-limited" rather than waiting long for one.
      shipstationRetry: { attempts: 1, rateLimitAttempts: 0, maxLimiterWaitMs: 5000 },
    }).catch((err: unknown) => {
      errors.push(err);
      return undefined;
    });
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1)
      throw new UserError([...new Set(errors.map((e) => describeFailure(e).detail))].join(' '));
    return 'every referenced secret can be read';
  });

  try {
    if (syspro) {
      const cancelTimer = new AbortController();
      clock.sleep(timeoutMs, cancelTimer.signal).then(
        () =>
          deadline.abort(
            new DOMException(`the SYSPRO checks took longer than ${timeoutMs} ms`, 'TimeoutError'),
          ),
        () => {},
      );
      const sysproResults: CheckResult[] = [];
      const sub = checker(connection.name, clock, sysproResults, options.signal);
      try {
        await pingSyspro(options, syspro, sub.run, sub.skip, sysproSignal, deadline.signal, timeoutMs);
      } finally {
        cancelTimer.abort();
      }
      // Side by side, they end in any order; they are listed in one.
      const order = sysproCheckNames(connection);
      sysproResults.sort((a, b) => order.indexOf(a.check) - order.indexOf(b.check));
      results.push(...sysproResults);
    } else {
      for (const check of sysproCheckNames(connection)) skip(check, 'SYSPRO credentials missing');
    }

    const api = connection.shipstation.api;
    const c = shipstation;
    let v1ok = false;
    if (c) {
      const v1 = c.shipstation;
      if (!v1) {
        // A V2-only connection (no V1 key/secret; many accounts have no V1 access): V1 is never called.
        const why = `the connection uses ShipStation V2 (shipstation.api: v2) and has no V1 key/secret: V1 not checked`;
        skip('shipstation v1 auth', why);
        skip('shipstation v1 warehouses', why);
      } else {
        v1ok = await run('shipstation v1 auth', async () => {
          const stores = await v1.listStores();
          const wanted = connection.shipstation.storeId;
          if (wanted !== undefined && !stores.some((s) => s.storeId === wanted)) {
            return {
              verdict: 'fail',
              detail: `store ${wanted} is not in this account (stores: ${stores.map((s) => `${s.storeId} ${s.storeName}`).join(', ') || 'none'})`,
              advice: 'set shipstation.storeId to one of the listed stores',
            };
          }
          return `authenticated; ${stores.length} store(s)${wanted ? `, store ${wanted} found` : ''}`;
        });
        if (v1ok) {
          await run('shipstation v1 warehouses', async () => {
            const warehouses = await v1.listWarehouses();
            return `${warehouses.length} ship-from warehouse(s)`;
          });
        } else {
          skip('shipstation v1 warehouses', 'V1 authentication failed');
        }
      }

      if (c.shipstationV2) {
        const v2 = c.shipstationV2;
        await run('shipstation v2 auth', async () => {
          if (api !== 'v2') {
            const warehouses = await v2.listInventoryWarehouses();
            return `authenticated; ${warehouses.length} inventory warehouse(s)`;
          }
          // On V2 the key is checked on the calls the flows make (shipments), then inventory's.
          let shipments = 0;
          for await (const page of v2.listShipments({ page_size: 1 })) {
            shipments = page.total;
            break;
          }
          const inventory = connection.inventory.enabled
            ? `; ${(await v2.listInventoryWarehouses()).length} inventory warehouse(s)`
            : '';
          return `authenticated; ${shipments} shipment(s)${inventory}`;
        });
      } else if (connection.inventory.enabled || api === 'v2') {
        results.push({
          connection: connection.name,
          check: 'shipstation v2 auth',
          verdict: 'fail',
          detail: `${api === 'v2' ? 'shipstation.api is v2' : 'inventory is enabled'} but no shipstation.v2ApiKey is configured`,
          advice: 'add v2ApiKey: secret:shipstation.v2ApiKey and store it with `ml-connector creds set`',
          kind: 'config',
          ms: 0,
        });
      }
    } else {
      for (const check of ['shipstation v1 auth', 'shipstation v1 warehouses'])
        skip(check, 'ShipStation credentials missing');
    }
    await run('shipstation api', async () => {
      const links = await linksApi(options.store, connection.name);
      const uses = `orders and shipments use ShipStation ${api.toUpperCase()} (shipstation.api)`;
      if (!(await hasLinks(options.store, connection.name, ORDER_ENTITY))) return `${uses}; no links yet`;
      if (links !== api) {
        return {
          verdict: 'warn',
          detail: `${uses}, but this connection's links were made on ${links.toUpperCase()}`,
          advice: `run \`ml-connector shipstation migrate-links --connection ${connection.name} --to ${api}\` (add --dry-run to check first)`,
        };
      }
      return `${uses}; links on ${links.toUpperCase()}`;
    });

    const why = !c ? 'ShipStation credentials missing' : undefined;
    if (api === 'v2') await pingV2Webhooks(options, connection, run, skip, c ?? why ?? '');
    else
      await pingWebhooks(options, connection, run, skip, v1ok && c ? c : (why ?? 'V1 authentication failed'));
  } finally {
    await syspro?.close().catch(() => {});
    linked?.dispose();
  }
  return results;
}
