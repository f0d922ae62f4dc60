/**
 * The SYSPRO e.net Solutions REST client (reference §1): every call is a GET with URL-encoded query
 * parameters; answers are HTTP 200 with a plain-text body that is a UserId, `0`, XmlOut, or an
 * `ERROR…` text.
 *
 * Sessions. SYSPRO allows one session per operator (a second logon evicts the first) and a session
 * holds a licence seat until it logs off or times out. So a client owns at most one session at a
 * time and runs its calls one after another through a promise queue. Calls that queue up back to
 * back share the session; it is logged off as soon as the queue is empty, when a call fails, and on
 * `close()`. `withSession(fn)` holds one session for a whole batch. A call that finds its session
 * evicted or expired logs on again once and repeats. A `withSession` given a wait signal leaves the
 * queue when it aborts before its turn (the service stopping): nothing was sent, and it is rejected
 * with `StoppedBeforeSending` at once instead of waiting for the calls ahead of it.
 */
import { isStoppedBeforeSending, StoppedBeforeSending } from '../abort.js';
import { type Clock, systemClock } from '../clock.js';
import { asPostFailure, classifyEnetError, OPERATOR_ADVICE, redactSecrets, SysproError } from './errors.js';
import { hostOf, httpStatusError, sendRequest } from './http.js';

/** The subset of a pino logger the client uses. */
export interface SysproLogger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
}

export interface EnetClientOptions {
  /** The REST root, e.g. `http://erp:31002/SYSPROWCFService/Rest`. */
  baseUrl: string;
  operator: string;
  operatorPassword?: string;
  company: string;
  companyPassword?: string;
  clock?: Clock;
  /** Per request (default 60 s). */
  timeoutMs?: number;
  logger?: SysproLogger;
  /**
   * Longest URL sent (default 16,000 characters: HTTP.sys, which hosts e.net, refuses a request line
   * plus headers over 16 KB by default). Longer requests fail with `request-too-large` before sending.
   */
  maxUrlLength?: number;
  /**
   * Charset of e.net bodies when the site knows it (e.g. `windows-1252`). Default: the Content-Type
   * charset, else UTF-8 when the bytes are valid UTF-8, else Windows-1252.
   */
  responseCharset?: string;
  /** Extra patterns of `ERROR…` texts that mean "session no longer valid" at this site. */
  sessionErrorPatterns?: readonly RegExp[];
  /**
   * When every licence seat is taken, wait `delayMs` (on `clock`) and try the logon again, up to
   * `attempts` more times before failing with the retryable `licence-exhausted` error. Default: no wait.
   */
  licenceWait?: { attempts: number; delayMs: number };
  /**
   * Told of every e.net request (logons and logoffs too): how long it took and how it ended, `ok` or
   * the `SysproError` kind (metrics).
   */
  onCall?: (call: EnetCall) => void;
  /**
   * Aborts every request in flight and refuses new ones, except the logoff: a session this client
   * opened is still logged off (`ping`'s deadline and Ctrl-C). An abort whose reason is a
   * `TimeoutError` fails the call as `timeout`, any other as `closed`.
   */
  signal?: AbortSignal;
  /** How query values are percent-encoded (`syspro.queryEncoding`; default `compact`). */
  queryEncoding?: QueryEncoding;
}

export interface EnetCall {
  endpoint: string;
  businessObject?: string;
  ms: number;
  outcome: string;
}

/** The calls available inside one session (see `EnetClient.withSession`). */
export interface EnetSession {
  /** `Query/Query`: a query business object (SORQRY, INVQRY, COMFND, …) with its XmlIn. */
  query(businessObject: string, xmlIn: string): Promise<string>;
  /** `Transaction/Post`: a transaction business object (SORTOI, SORTOS, SORTDN, GENTJL, …). */
  post(businessObject: string, xmlParameters: string, xmlIn: string): Promise<string>;
  /** `Setup/Add` (COMSFM, …). */
  setupAdd(businessObject: string, xmlParameters: string, xmlIn: string): Promise<string>;
  /** `Setup/Update`. */
  setupUpdate(businessObject: string, xmlParameters: string, xmlIn: string): Promise<string>;
  /** `Setup/Delete`. */
  setupDelete(businessObject: string, xmlParameters: string, xmlIn: string): Promise<string>;
  /** `Query/Browse` with a COMBRW document (no business object). */
  browse(xmlIn: string): Promise<string>;
  /** `Query/Fetch` with a COMFCH document (no business object). */
  fetch(xmlIn: string): Promise<string>;
}

export interface EnetClient extends EnetSession {
  /**
   * Runs `fn` with one session held for all its calls; logs off afterwards, also when `fn` throws.
   * `waitSignal` (a job's, `abort.ts` `waitSignal`): aborted while `fn` still waits for its turn,
   * `fn` never runs and the call is rejected with `StoppedBeforeSending` (nothing was sent).
   */
  withSession<T>(
    fn: (session: EnetSession) => Promise<T>,
    options?: { waitSignal?: AbortSignal },
  ): Promise<T>;
  /** Logs on and off once, returning the e.net version when `/GetVersion` answers (for `ping`). */
  checkLogon(): Promise<{ version?: string }>;
  /** Waits for queued calls, logs off any open session, and refuses further calls. */
  close(): Promise<void>;
  /** How many logons and logoffs this client has made (for tests and metrics). */
  readonly stats: { logons: number; logoffs: number; relogons: number };
}

type Route =
  | 'Logon'
  | 'Logoff'
  | 'GetVersion'
  | 'Query/Query'
  | 'Query/Browse'
  | 'Query/Fetch'
  | 'Transaction/Post'
  | 'Setup/Add'
  | 'Setup/Update'
  | 'Setup/Delete';

interface CallSpec {
  route: Route;
  businessObject?: string;
  params: Record<string, string>;
  /** Safe to repeat after an unclassified `ERROR` (queries); posts repeat only for a dead session. */
  idempotent: boolean;
}

/**
 * A query value as it goes in an e.net URL: `encodeURIComponent` (spaces as `%20`, never `+`:
 * reference §1.1), except that `/`, `:`, `@` and `,` stay as they are. RFC 3986 allows them in a
 * query (`query = *( pchar / "/" / "?" )`, `pchar` holding `:` and `@`, `,` a sub-delim), browsers
 * send them unencoded, and a query-string decoder reads `/` and `%2F` alike; `&`, `=`, `+`, `#`,
 * `;`, `?`, spaces and `<` `>` are still encoded. A dispatch note's XML has a `/` in every closing
 * tag: leaving them plain makes it about 5% shorter, so more notes fit one post within
 * `syspro.maxUrlLength` (bench:writeback, issue #11).
 */
export function encodeQueryValue(value: string, encoding: QueryEncoding = 'compact'): string {
  const encoded = encodeURIComponent(value);
  if (encoding === 'strict') return encoded;
  return encoded.replace(/%(?:2F|3A|40|2C)/g, (code) => QUERY_PLAIN[code] as string);
}

/**
 * `compact` (default) leaves `/ : @ ,` plain in e.net query values (see `encodeQueryValue`);
 * `strict` percent-encodes them as `encodeURIComponent` does, for a site (or a proxy in front of
 * it) that refuses them: how e.net decodes its query string is UNCONFIRMED (reference §1.1 says
 * only that the XML is URL-encoded).
 */
export type QueryEncoding = 'compact' | 'strict';

const QUERY_PLAIN: Record<string, string> = { '%2F': '/', '%3A': ':', '%40': '@', '%2C': ',' };

export function createEnetClient(options: EnetClientOptions): EnetClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const host = hostOf(baseUrl);
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxUrlLength = options.maxUrlLength ?? 16_000;
  const secrets = [options.operatorPassword, options.companyPassword];
  const log = options.logger;
  const stats = { logons: 0, logoffs: 0, relogons: 0 };

  let userId: string | undefined;
  let closed = false;
  let waiting = 0;
  let tail: Promise<unknown> = Promise.resolve();

  /** Sends one request; returns the body text, or throws for transport, HTTP and `ERROR…` answers. */
  async function request(route: Route, params: Record<string, string>, businessObject?: string) {
    const query = Object.entries(params)
      .map(([k, v]) => `${k}=${encodeQueryValue(v, options.queryEncoding)}`)
      .join('&');
    const url = `${baseUrl}/${route}${query ? `?${query}` : ''}`;
    const context = { endpoint: route, host, businessObject, secrets };
    if (url.length > maxUrlLength) {
      throw new SysproError(
        'request-too-large',
        `SYSPRO ${route}${businessObject ? ` ${businessObject}` : ''}: the request is ${url.length} characters, over the ${maxUrlLength} a URL may have — ${OPERATOR_ADVICE['request-too-large']}`,
        { endpoint: route, businessObject },
      );
    }
    const started = clock.now();
    const observe = (outcome: string) =>
      options.onCall?.({ endpoint: route, businessObject, ms: clock.now() - started, outcome });
    let response: Awaited<ReturnType<typeof sendRequest>>;
    try {
      response = await sendRequest({
        url,
        endpoint: route,
        businessObject,
        timeoutMs,
        charset: options.responseCharset,
        // The logoff is sent whatever the signal says: it frees the session's licence seat.
        signal: route === 'Logoff' ? undefined : options.signal,
      });
    } catch (err) {
      observe(err instanceof SysproError ? err.kind : 'error');
      throw err;
    }
    log?.debug(
      {
        system: 'syspro',
        endpoint: route,
        businessObject,
        status: response.status,
        ms: clock.now() - started,
      },
      'e.net call',
    );
    let failure: SysproError | undefined;
    let body = '';
    if (response.status < 200 || response.status > 299) failure = httpStatusError(response, context);
    else {
      body = unwrapBody(response.text);
      if (/^\s*ERROR/i.test(body)) failure = enetError(body, route, businessObject);
    }
    observe(failure ? failure.kind : 'ok');
    if (failure) throw failure;
    return body;
  }

  function enetError(body: string, route: Route, businessObject?: string): SysproError {
    const message = redactSecrets(body.trim(), secrets);
    // Classified by route: logon texts (company, operator, password, licence) only on Logon.
    const kind = classifyEnetError(message, route, options.sessionErrorPatterns);
    const subject =
      route === 'Logon'
        ? `SYSPRO logon of operator ${options.operator} to company ${options.company} on ${host}`
        : `SYSPRO ${route}${businessObject ? ` ${businessObject}` : ''} on ${host}`;
    return new SysproError(kind, `${subject} failed: ${message} — ${OPERATOR_ADVICE[kind]}`, {
      endpoint: route,
      businessObject,
      sysproMessage: message,
    });
  }

  async function logon(): Promise<string> {
    const attempts = options.licenceWait?.attempts ?? 0;
    for (let attempt = 0; ; attempt++) {
      try {
        // All four parameters, even blank: SYSPRO is strict about missing ones (reference §1.2).
        const body = await request('Logon', {
          Operator: options.operator,
          OperatorPassword: options.operatorPassword ?? '',
          CompanyId: options.company,
          CompanyPassword: options.companyPassword ?? '',
        });
        const id = body.trim();
        if (!id || /\s/.test(id) || id.startsWith('<')) {
          throw new SysproError(
            'bad-response',
            `SYSPRO logon on ${host} did not return a UserId — ${OPERATOR_ADVICE['bad-response']}`,
            { endpoint: 'Logon' },
          );
        }
        stats.logons++;
        log?.info({ system: 'syspro', operator: options.operator, company: options.company }, 'e.net logon');
        return id;
      } catch (error) {
        if (error instanceof SysproError && error.kind === 'licence-exhausted' && attempt < attempts) {
          log?.warn(
            { system: 'syspro', attempt: attempt + 1, delayMs: options.licenceWait?.delayMs },
            'e.net licence seats exhausted; waiting to log on again',
          );
          await clock.sleep(options.licenceWait?.delayMs ?? 0);
          continue;
        }
        throw error;
      }
    }
  }

  /** Logs the current session off. `sessionDead`: SYSPRO already said it ended, so a refusal is expected. */
  async function logoff(sessionDead = false): Promise<void> {
    const id = userId;
    if (id === undefined) return;
    userId = undefined;
    try {
      const body = await request('Logoff', { UserId: id });
      if (body.trim() !== '0')
        log?.warn({ system: 'syspro', answer: body.trim().slice(0, 100) }, 'e.net logoff');
    } catch (error) {
      // The session may already be gone (evicted, timed out, host down); nothing else to do.
      const entry = { system: 'syspro', err: (error as Error).message };
      if (sessionDead) log?.debug(entry, 'e.net logoff of the ended session failed');
      else log?.warn(entry, 'e.net logoff failed');
    } finally {
      stats.logoffs++;
    }
  }

  /** Runs one call in the current session, logging on when needed and once more if the session died. */
  async function call(spec: CallSpec): Promise<string> {
    if (userId === undefined) userId = await logon();
    try {
      return await request(spec.route, { UserId: userId, ...spec.params }, spec.businessObject);
    } catch (error) {
      if (!(error instanceof SysproError)) throw error;
      const deadSession = error.kind === 'session-invalid';
      // The wording SYSPRO uses for a dead session is UNCONFIRMED, so an unrecognised ERROR on a call
      // that is safe to repeat gets one more try in a new session (reference §1.3) — unless the text
      // is a plain answer about the data (not found, invalid, cannot be …).
      const unknownError =
        error.kind === 'enet-error' &&
        spec.idempotent &&
        !/not found|does not exist|invalid|cannot|must\b/i.test(error.sysproMessage ?? '');
      if (!deadSession && !unknownError) throw error;
      // The session was evicted (another logon of the operator) or timed out: the call did not run,
      // so log on again once and repeat it. After an unrecognised error the old session may still be
      // alive and hold a licence seat, so it is logged off first: every logon is paired with a
      // logoff, also when SYSPRO said the session had ended (the logoff is then a harmless refusal).
      log?.warn(
        {
          system: 'syspro',
          endpoint: spec.route,
          businessObject: spec.businessObject,
          reason: error.sysproMessage,
        },
        'e.net session lost; logging on again',
      );
      await logoff(deadSession);
      userId = await logon();
      stats.relogons++;
      return await request(spec.route, { UserId: userId, ...spec.params }, spec.businessObject);
    }
  }

  // Postings and setup calls change SYSPRO, so they are never repeated blindly after a failure: one
  // that went out and got no usable answer is in doubt and not retryable (`asPostFailure`), one
  // that failed at the logon before it was sent is not sent.
  const write = (route: Route) => (bo: string, xmlParameters: string, xmlIn: string) =>
    call({
      route,
      businessObject: bo,
      params: { BusinessObject: bo, XmlParameters: xmlParameters, XmlIn: xmlIn },
      idempotent: false,
    }).catch((error: unknown) => {
      throw asPostFailure(error, route);
    });
  const session: EnetSession = {
    query: (bo, xmlIn) =>
      call({
        route: 'Query/Query',
        businessObject: bo,
        params: { BusinessObject: bo, XmlIn: xmlIn },
        idempotent: true,
      }),
    post: write('Transaction/Post'),
    setupAdd: write('Setup/Add'),
    setupUpdate: write('Setup/Update'),
    setupDelete: write('Setup/Delete'),
    browse: (xmlIn) =>
      call({ route: 'Query/Browse', businessObject: 'COMBRW', params: { XmlIn: xmlIn }, idempotent: true }),
    fetch: (xmlIn) =>
      call({ route: 'Query/Fetch', businessObject: 'COMFCH', params: { XmlIn: xmlIn }, idempotent: true }),
  };

  /**
   * Runs `task` after every task queued before it. The session is logged off when the task fails, and
   * when no other task is waiting behind it.
   */
  function exclusive<T>(task: () => Promise<T>, waitSignal?: AbortSignal): Promise<T> {
    if (closed) {
      return Promise.reject(new SysproError('closed', `SYSPRO client: ${OPERATOR_ADVICE.closed}`));
    }
    if (waitSignal?.aborted) return Promise.reject(notSent(waitSignal));
    waiting++;
    let started = false;
    let left = false;
    const run = async () => {
      started = true;
      if (left) {
        // Left the queue before its turn (and no longer counted): only the logoff may be due.
        if (waiting === 0) await logoff();
        return undefined as T;
      }
      try {
        return await task();
      } catch (error) {
        await logoff();
        throw error;
      } finally {
        waiting--;
        if (waiting === 0) await logoff();
      }
    };
    const result = tail.then(run, run);
    tail = result.catch(() => undefined);
    if (!waitSignal) return result;
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        if (started) return; // its turn came: it runs (and its requests carry their own signal)
        left = true;
        waiting--;
        reject(notSent(waitSignal));
      };
      waitSignal.addEventListener('abort', leave, { once: true });
      result.then(resolve, reject).finally(() => waitSignal.removeEventListener('abort', leave));
    });
  }

  function notSent(signal: AbortSignal): Error {
    return isStoppedBeforeSending(signal.reason)
      ? (signal.reason as Error)
      : new StoppedBeforeSending('not sent: stopped while waiting for the SYSPRO session');
  }

  return {
    stats,
    query: (bo, xmlIn) => exclusive(() => session.query(bo, xmlIn)),
    post: (bo, p, xmlIn) => exclusive(() => session.post(bo, p, xmlIn)),
    setupAdd: (bo, p, xmlIn) => exclusive(() => session.setupAdd(bo, p, xmlIn)),
    setupUpdate: (bo, p, xmlIn) => exclusive(() => session.setupUpdate(bo, p, xmlIn)),
    setupDelete: (bo, p, xmlIn) => exclusive(() => session.setupDelete(bo, p, xmlIn)),
    browse: (xmlIn) => exclusive(() => session.browse(xmlIn)),
    fetch: (xmlIn) => exclusive(() => session.fetch(xmlIn)),
    withSession: (fn, options) => exclusive(() => fn(session), options?.waitSignal),
    checkLogon: () =>
      exclusive(async () => {
        userId = await logon();
        let version: string | undefined;
        try {
          version = (await request('GetVersion', {})).trim() || undefined;
        } catch {
          version = undefined; // GetVersion is optional for a logon check.
        }
        return { version };
      }),
    async close() {
      if (closed) return;
      // Let queued calls finish (each bounded by the request timeout), then log off.
      const drained = tail;
      closed = true;
      await drained;
      await logoff();
    },
  };
}

/**
 * The body as text: SYSPRO 7 sends it bare; some e.net versions send a JSON-quoted string or a WCF
 * `<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">` wrapper (reference §1.1).
 */
export function unwrapBody(body: string): string {
  const trimmed = body.trim();
  if (trimmed.startsWith('"') && trimmed.endsWith('"')) {
    try {
      const value = JSON.parse(trimmed) as unknown;
      if (typeof value === 'string') return value;
    } catch {
      // Not JSON after all: use as is.
    }
  }
  const wrapped = /^<string\b[^>]*>([\s\S]*)<\/string>$/.exec(trimmed);
  if (wrapped) return decodeXmlText(wrapped[1] ?? '');
  if (/^<string\b[^>]*\/>$/.test(trimmed)) return '';
  return body;
}

function decodeXmlText(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#x([0-9a-f]+);/gi, (_m, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_m, dec: string) => String.fromCodePoint(Number.parseInt(dec, 10)))
    .replace(/&amp;/g, '&');
}
