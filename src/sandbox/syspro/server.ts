/**
 * The SYSPRO sandbox server: e.net REST, OData and the `/_sandbox/` operator actions on one
 * port, over one in-memory company. Plain node:http so faults can drop, hang or refuse
 * connections the way a real outage does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { SeededRandom } from '../random.js';
import type { SandboxQuirks } from './business-objects/common.js';
import { CallLog, ODataLog } from './calls.js';
import { type EnetState, faultTarget, handleEnet, paramsOf, paramsOfPostLd } from './enet.js';
import { failureRuleFor, latencyFor, type MaintenanceMode, type SysproFaults } from './faults.js';
import { handleODataRequest, type ODataOptions, odataError } from './odata/service.js';
import { handleOperatorRequest, type OperatorState } from './operator.js';
import { seedCompany } from './seed.js';
import { type SandboxOperator, SessionTable } from './sessions.js';
import type { CompanyDatabase } from './tables.js';
import { encodeWindows1252 } from './text.js';
import { XmlInError } from './xml.js';

/** Any pino logger fits. */
export interface SandboxLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
}

export interface SysproSandboxOptions {
  /** Default 0 (a random free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Session expiry, entered dates, call times follow it. `sleep`, when present, is used for latency. */
  clock?: { now(): number; sleep?(ms: number): Promise<void> };
  /** Deterministic seeding. Default 1. */
  seed?: number;
  /** Sales orders to seed. Default 200. */
  orders?: number;
  /** A ready database instead of seeding one (e.g. seeded once and shared by a bench). */
  db?: CompanyDatabase;
  /** e.net licence seats. Default 5. */
  licenceSeats?: number;
  /** Idle time after which a session expires. Default 20 minutes (UNCONFIRMED). */
  sessionIdleMs?: number;
  /** OData service root path; `{company}` is replaced. Default `/SYSPRO8Odata/SYSPROOData/{company}`. */
  odataBasePath?: string;
  /** Server-driven paging with `@odata.nextLink`. Default false (client pages with $top/$skip). */
  odataNextLink?: boolean;
  /** Rows per OData request at most. Default 5000. */
  odataMaxRows?: number;
  /** EDM type of date columns. Default DateTimeOffset. */
  odataDateType?: 'DateTimeOffset' | 'Date';
  /** Expose the TimeStamp (rowversion) column through OData. Default false. */
  odataTimeStamp?: boolean;
  faults?: SysproFaults;
  logger?: false | SandboxLogger;
  operator?: string;
  operatorPassword?: string;
  company?: string;
  companyPassword?: string;
  /** More operators (a person's own login, a report user…). Defaults: ADMIN, JANE, REPORTS. */
  extraOperators?: SandboxOperator[];
  /** Business objects the licence does not include (answer e.net exception 100000). */
  unlicensedObjects?: string[];
  quirks?: Partial<SandboxQuirks>;
  /** Byte encoding of e.net bodies. Default windows-1252, as the XML declaration says. */
  responseEncoding?: 'windows-1252' | 'utf-8';
}

export interface SysproSandbox {
  /** Server root; e.net lives under `${url}/SYSPROWCFService/Rest`. */
  url: string;
  /** `${url}/SYSPROWCFService/Rest`. */
  enetUrl: string;
  odataUrl: string;
  operator: string;
  operatorPassword: string;
  company: string;
  companyPassword: string;
  db: CompanyDatabase;
  calls: CallLog;
  /** Every OData request answered (e.net calls are in `calls`). */
  odataRequests: ODataLog;
  sessions: SessionTable;
  /** The live faults (read). Change them with setFaults / setMaintenance. */
  readonly faults: SysproFaults;
  setFaults(faults: SysproFaults): void;
  /** `refuse` closes the port until `off` (or until `forMs` of real time has passed). */
  setMaintenance(mode: MaintenanceMode, forMs?: number): Promise<void>;
  /**
   * How many requests each injected fault hit since the start: `SORTDN:lost`, `ODATA:http500`,
   * `maintenance:down`… (`refuse` closes the port, so those attempts never reach the sandbox).
   */
  faultsFired(): Record<string, number>;
  /** The JSON ready line printed by `ml-connector sandbox`. */
  readyLine(): string;
  close(): Promise<void>;
}

export const DEFAULT_EXTRA_OPERATORS: SandboxOperator[] = [
  { code: 'ADMIN', password: 'admin', odata: true, businessObjects: true },
  { code: 'JANE', password: 'jane', odata: false, businessObjects: true },
  { code: 'REPORTS', password: 'reports', odata: true, businessObjects: false },
];

const ENET_PREFIX = '/sysprowcfservice/rest/';

function redactQuery(url: string): string {
  return url.replace(/([?&](?:OperatorPassword|CompanyPassword)=)[^&]*/gi, '$1[redacted]');
}

function readBody(req: IncomingMessage, limit = 10 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the SYSPRO sandbox on 127.0.0.1 (port 0 = random). */
export async function startSysproSandbox(options: SysproSandboxOptions = {}): Promise<SysproSandbox> {
  const clock = options.clock ?? { now: () => Date.now() };
  const now = () => clock.now();
  const sleep = (ms: number): Promise<void> =>
    clock.sleep ? clock.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
  const host = options.host ?? '127.0.0.1';
  const operatorCode = (options.operator ?? 'MLCONNECT').toUpperCase();
  const operatorPassword = options.operatorPassword ?? 'sandbox-operator';
  const company = options.company ?? 'SANDBOX';
  const companyPassword = options.companyPassword ?? 'sandbox-company';
  const db =
    options.db ?? seedCompany({ seed: options.seed ?? 1, orders: options.orders ?? 200, now: now() });
  const calls = new CallLog();
  const odataRequests = new ODataLog();
  const sessions = new SessionTable(now, options.licenceSeats ?? 5, options.sessionIdleMs ?? 20 * 60_000);
  const operators = new Map<string, SandboxOperator>();
  for (const op of [
    { code: operatorCode, password: operatorPassword, odata: true, businessObjects: true },
    ...(options.extraOperators ?? DEFAULT_EXTRA_OPERATORS),
  ]) {
    operators.set(op.code.toUpperCase(), { ...op, code: op.code.toUpperCase() });
  }
  const quirks: SandboxQuirks = {
    sorqryQtyWithUom: true,
    browseMinRows: 40,
    completeOrderWhenFullyDispatched: true,
    postOutputCase: 'proper',
    ...options.quirks,
  };
  const enetState: EnetState = {
    db,
    sessions,
    calls,
    operators,
    company: { id: company, password: companyPassword, name: 'Sandbox Trading Co (Pty) Ltd' },
    now,
    quirks,
    unlicensed: new Set((options.unlicensedObjects ?? []).map((o) => o.toUpperCase())),
  };
  const odataOptions: ODataOptions = {
    basePath: (options.odataBasePath ?? '/SYSPRO8Odata/SYSPROOData/{company}').replace('{company}', company),
    nextLink: options.odataNextLink ?? false,
    maxRows: options.odataMaxRows ?? 5000,
    dateType: options.odataDateType ?? 'DateTimeOffset',
    hiddenColumns: new Set(options.odataTimeStamp ? [] : ['TimeStamp']),
  };
  const odataPrefix = odataOptions.basePath.toLowerCase();
  const log = options.logger || undefined;
  let faults: SysproFaults = { ...options.faults };
  const faultRandom = new SeededRandom((options.seed ?? 1) ^ 0x5eed_fa17);
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let port = options.port ?? 0;
  let listening = false;
  let reopenTimer: NodeJS.Timeout | undefined;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log?.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'syspro sandbox: request failed',
      );
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('Internal sandbox error');
      } else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        if (address && typeof address === 'object') port = address.port;
        listening = true;
        resolve();
      });
    });

  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });

  async function setMaintenance(mode: MaintenanceMode, forMs?: number): Promise<void> {
    if (reopenTimer) clearTimeout(reopenTimer);
    reopenTimer = undefined;
    faults = { ...faults, maintenance: mode };
    if (mode !== 'hang') {
      for (const res of hanging) res.destroy();
      hanging.clear();
    }
    if (mode === 'refuse') await stopListening();
    else if (!listening) await listen();
    if (mode !== 'off' && forMs !== undefined) {
      reopenTimer = setTimeout(() => void setMaintenance('off'), forMs);
      reopenTimer.unref();
    }
    log?.info({ maintenance: mode, forMs }, 'syspro sandbox: maintenance');
  }

  const fired: Record<string, number> = {};
  const countFault = (key: string) => {
    fired[key] = (fired[key] ?? 0) + 1;
  };

  const operatorState: OperatorState = {
    faultsFired: () => ({ ...fired }),
    db,
    calls,
    sessions,
    now,
    getFaults: () => faults,
    setFaults: (next) => {
      faults = { ...next };
    },
    setMaintenance,
  };

  function hang(res: ServerResponse): void {
    hanging.add(res);
    res.on('close', () => hanging.delete(res));
  }

  function sendEnet(res: ServerResponse, status: number, text: string): void {
    const body = options.responseEncoding === 'utf-8' ? Buffer.from(text, 'utf8') : encodeWindows1252(text);
    res.writeHead(status, {
      'content-type': status === 200 ? 'application/octet-stream' : 'text/html',
      'content-length': body.length,
      server: 'Microsoft-HTTPAPI/2.0',
    });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    const lower = path.toLowerCase();
    const method = req.method ?? 'GET';

    if (lower === '/_sandbox' || lower.startsWith('/_sandbox/')) {
      const text = method === 'GET' || method === 'DELETE' ? '' : await readBody(req);
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'the request body is not JSON' }));
        return;
      }
      const reply = await handleOperatorRequest(operatorState, method, path, url.searchParams, body);
      if (reply.status === 204) {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(reply.body));
      }
      return;
    }

    const isEnet = lower.startsWith(ENET_PREFIX);
    const isOData = lower === odataPrefix || lower.startsWith(`${odataPrefix}/`);
    if (!isEnet && !isOData) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not found');
      return;
    }

    const maintenance = faults.maintenance ?? 'off';
    if (maintenance !== 'off') countFault(`maintenance:${maintenance}`);
    if (maintenance === 'down') {
      res.writeHead(503, { 'content-type': 'text/html', server: 'Microsoft-HTTPAPI/2.0' });
      res.end('<h1>Service Unavailable</h1><hr><p>HTTP Error 503. The service is unavailable.</p>');
      return;
    }
    if (maintenance === 'reset' || maintenance === 'refuse') {
      req.socket.destroy();
      return;
    }
    if (maintenance === 'hang') {
      hang(res);
      return;
    }

    if (isEnet) {
      const route = lower.slice(ENET_PREFIX.length).replace(/\/+$/, '');
      let params: Map<string, string>;
      if (route === 'transaction/postld' && method === 'POST') {
        try {
          params = paramsOfPostLd(await readBody(req));
        } catch (error) {
          if (!(error instanceof XmlInError)) throw error;
          sendEnet(res, 200, `ERROR: XML document is not well formed: ${error.message}`);
          return;
        }
      } else params = paramsOf(url.searchParams);
      const target = faultTarget(route, params);
      const delay = latencyFor(faults, target);
      if (delay > 0) await sleep(delay);
      const rule = failureRuleFor(faults, target, params.get('xmlin') ?? '');
      const hit = rule && faultRandom.next() < rule.rate ? rule.kind : undefined;
      log?.info({ method, url: redactQuery(req.url ?? ''), fault: hit }, 'syspro sandbox: e.net');
      if (hit) countFault(`${target}:${hit}`);
      if (hit && hit !== 'lost' && hit !== 'lost-hang') {
        calls.record({
          at: now(),
          method: route,
          businessObject: target,
          operator: '',
          userId: (params.get('userid') ?? '').trim(),
          xmlParameters: params.get('xmlparameters') ?? '',
          xmlIn: params.get('xmlin') ?? '',
          response: hit === 'error' ? 'ERROR: (sandbox fault)' : '',
          outcome: 'fault',
          validateOnly: false,
          fault: hit,
        });
        if (hit === 'error')
          sendEnet(res, 200, `ERROR: e.net exception raised: sandbox injected failure for ${target}`);
        else if (hit === 'http500')
          sendEnet(
            res,
            500,
            '<p>Request Error</p><p>The server encountered an error processing the request.</p>',
          );
        else if (hit === 'reset') req.socket.destroy();
        else hang(res);
        return;
      }
      const reply = handleEnet(enetState, route, params, method);
      if (hit === 'lost' || hit === 'lost-hang') {
        if ('call' in reply && reply.call) reply.call.fault = hit;
        if (hit === 'lost') req.socket.destroy();
        else hang(res);
        return;
      }
      sendEnet(res, reply.status, reply.text);
      return;
    }

    // OData
    const delay = latencyFor(faults, 'ODATA');
    if (delay > 0) await sleep(delay);
    const rule = failureRuleFor(faults, 'ODATA');
    const hit = rule && faultRandom.next() < rule.rate ? rule.kind : undefined;
    if (hit) countFault(`ODATA:${hit}`);
    if (hit === 'reset' || hit === 'lost') {
      req.socket.destroy();
      return;
    }
    if (hit === 'hang') {
      hang(res);
      return;
    }
    let reply = authorize(req.headers.authorization);
    if (!reply) {
      if (hit === 'error' || hit === 'http500')
        reply = odataError(500, 'An error has occurred (sandbox injected failure).');
      else if (method !== 'GET')
        reply = odataError(405, 'The requested resource does not support http method ' + method + '.');
      else {
        const rest = path.slice(odataOptions.basePath.length).replace(/^\//, '');
        const origin = `http://${req.headers.host ?? `${host}:${port}`}`;
        reply = handleODataRequest(db, odataOptions, origin, decodeURIComponent(rest), url.searchParams);
        const top = url.searchParams.get('$top');
        const skip = url.searchParams.get('$skip');
        odataRequests.record({
          at: now(),
          table: decodeURIComponent(rest),
          ...(url.searchParams.get('$filter') !== null
            ? { filter: url.searchParams.get('$filter') as string }
            : {}),
          ...(top !== null ? { top: Number(top) } : {}),
          ...(skip !== null ? { skip: Number(skip) } : {}),
          status: reply.status,
          rows: reply.rows ?? 0,
        });
      }
    }
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  }

  /** Basic auth as an OData-enabled operator; the username is the operator code (format UNCONFIRMED). */
  function authorize(header: string | undefined) {
    const challenge = () => {
      const r = odataError(401, 'Authorization has been denied for this request.');
      r.headers['www-authenticate'] = 'Basic realm="SYSPRO OData"';
      return r;
    };
    const match = /^Basic\s+(.+)$/i.exec(header ?? '');
    if (!match) return challenge();
    const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded
      .slice(0, colon < 0 ? undefined : colon)
      .trim()
      .toUpperCase();
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    const operator = operators.get(user);
    if (!operator || operator.password !== password || !operator.odata) return challenge();
    return undefined;
  }

  await listen();
  const url = `http://${host}:${port}`;
  const sandbox: SysproSandbox = {
    url,
    enetUrl: `${url}/SYSPROWCFService/Rest`,
    odataUrl: `${url}${odataOptions.basePath}`,
    operator: operatorCode,
    operatorPassword,
    company,
    companyPassword,
    db,
    calls,
    odataRequests,
    sessions,
    get faults() {
      return faults;
    },
    setFaults: operatorState.setFaults,
    setMaintenance,
    faultsFired: operatorState.faultsFired,
    readyLine: () =>
      JSON.stringify({
        sandbox: 'syspro',
        url,
        odataUrl: `${url}${odataOptions.basePath}`,
        operator: operatorCode,
        operatorPassword,
        company,
        companyPassword,
      }),
    async close() {
      if (reopenTimer) clearTimeout(reopenTimer);
      for (const res of hanging) res.destroy();
      hanging.clear();
      await stopListening();
    },
  };
  if (faults.maintenance && faults.maintenance !== 'off') await setMaintenance(faults.maintenance);
  log?.info({ url, odataUrl: sandbox.odataUrl, orders: db.sorMaster.rows.length }, 'syspro sandbox: ready');
  return sandbox;
}
