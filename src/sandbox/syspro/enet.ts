/**
 * e.net Solutions REST under `/SYSPROWCFService/Rest` (reference §1): GET with query parameters,
 * paths and parameter names case-insensitive, HTTP 200 with a plain-text body (the UserId, `0`,
 * an XmlOut, or `ERROR: …`). POST `/Transaction/PostLD` (single-sourced) takes the same fields in
 * an XML body. Business objects live in `business-objects/`.
 */

import {
  type BusinessObjectContext,
  type BusinessObjectMethod,
  EnetError,
  type SandboxQuirks,
} from './business-objects/common.js';
import { BUSINESS_OBJECTS } from './business-objects/index.js';
import type { CallLog, SysproCall } from './calls.js';
import type { SandboxOperator, SessionTable } from './sessions.js';
import type { CompanyDatabase } from './tables.js';
import { buildXmlOut, el, parseXml, XmlInError, type XNode } from './xml.js';

export interface EnetState {
  db: CompanyDatabase;
  sessions: SessionTable;
  calls: CallLog;
  operators: ReadonlyMap<string, SandboxOperator>;
  company: { id: string; password: string; name: string };
  now: () => number;
  quirks: SandboxQuirks;
  unlicensed: ReadonlySet<string>;
}

export type EnetReply =
  | { status: 200; text: string; call?: SysproCall }
  | { status: 404 | 405; text: string };

/** Query parameters by lower-case name (WCF matches them case-insensitively). */
export type EnetParams = ReadonlyMap<string, string>;

export function paramsOf(search: URLSearchParams): Map<string, string> {
  const params = new Map<string, string>();
  for (const [key, value] of search) params.set(key.toLowerCase(), value);
  return params;
}

/** The fields of a PostLD body (`<TransactionPostLD><UserId/>…<XmlIn><![CDATA[…]]></XmlIn>`). */
export function paramsOfPostLd(body: string): Map<string, string> {
  const root = parseXml(body);
  const params = new Map<string, string>();
  for (const name of ['UserId', 'BusinessObject', 'XmlParameters', 'XmlIn']) {
    const node = root.children.find((c) => c.name === name.toLowerCase());
    if (node) params.set(name.toLowerCase(), node.text);
  }
  return params;
}

const BO_METHODS: Record<string, BusinessObjectMethod> = {
  'query/query': 'Query/Query',
  'query/browse': 'Query/Browse',
  'query/fetch': 'Query/Fetch',
  'transaction/post': 'Transaction/Post',
  'transaction/postld': 'Transaction/Post',
  'setup/add': 'Setup/Add',
  'setup/update': 'Setup/Update',
};

/** Routes that exist on SYSPRO but the sandbox does not implement: they fail like an unknown BO. */
const UNIMPLEMENTED = new Set(['setup/delete', 'transaction/build', 'query/nextkey', 'query/previouskey']);

/** The target a fault rule names for this request: LOGON, LOGOFF, or the business object. */
export function faultTarget(route: string, params: EnetParams): string {
  if (route === 'logon') return 'LOGON';
  if (route === 'logoff') return 'LOGOFF';
  if (route === 'query/browse') return 'COMBRW';
  if (route === 'query/fetch') return 'COMFCH';
  return (params.get('businessobject') ?? '').trim().toUpperCase() || route.toUpperCase();
}

export const ENET_EXCEPTION = 'ERROR: e.net exception raised: 100000';

function missing(name: string): string {
  // Wording invented (UNCONFIRMED): S2 says SYSPRO is strict about missing parameters.
  return `ERROR: Required parameter '${name}' is missing`;
}

export function handleEnet(
  state: EnetState,
  route: string,
  params: EnetParams,
  httpMethod: string,
): EnetReply {
  const isPostLd = route === 'transaction/postld';
  if (isPostLd ? httpMethod !== 'POST' : httpMethod !== 'GET')
    return { status: 405, text: 'Method not allowed.' };
  switch (route) {
    case 'logon':
      return logon(state, params);
    case 'logoff': {
      const userId = params.get('userid');
      const record = (text: string, outcome: SysproCall['outcome'], operator = '') =>
        sessionReply(state, text, { method: 'Logoff', operator, userId: (userId ?? '').trim(), outcome });
      if (userId === undefined) return record(missing('UserId'), 'error');
      const session = state.sessions.use(userId);
      if (!session.ok) return record(session.error, 'error');
      state.sessions.logoff(userId);
      return record('0', 'ok', session.session.operator);
    }
    case 'getversion':
      return { status: 200, text: '8.0.0.31' };
    case 'getlogonprofile': {
      const session = state.sessions.use(params.get('userid') ?? '');
      if (!session.ok) return { status: 200, text: session.error };
      return {
        status: 200,
        text: buildXmlOut({ name: 'LogonProfile', version: '8.0.001' }, [
          el('CompanyName', state.company.name),
          el('CompanyId', state.company.id),
          el('OperatorCode', session.session.operator),
          el('DecimalFormat', '1'),
          el('DateFormat', '01'),
          el('SysproVersion', '8.0.0.31'),
          el('EnetVersion', '8.0.0.31'),
        ]),
      };
    }
  }
  if (UNIMPLEMENTED.has(route)) return { status: 200, text: ENET_EXCEPTION };
  const method = BO_METHODS[route];
  if (!method) return { status: 404, text: 'Endpoint not found.' };
  return businessObjectCall(state, method, route, params);
}

/** Records a Logon or Logoff (no business object, no XML) in the call log and answers `text`. */
function sessionReply(
  state: EnetState,
  text: string,
  call: Pick<SysproCall, 'method' | 'operator' | 'userId' | 'outcome'> & { response?: string },
): EnetReply {
  state.calls.record({
    at: state.now(),
    businessObject: '',
    xmlParameters: '',
    xmlIn: '',
    validateOnly: false,
    response: text,
    ...call,
  });
  return { status: 200, text };
}

function logon(state: EnetState, params: EnetParams): EnetReply {
  for (const name of ['Operator', 'OperatorPassword', 'CompanyId', 'CompanyPassword']) {
    if (!params.has(name.toLowerCase())) return { status: 200, text: missing(name) };
  }
  const code = (params.get('operator') ?? '').trim().toUpperCase();
  const operator = state.operators.get(code);
  const record = (text: string, outcome: SysproCall['outcome']) =>
    sessionReply(state, text, {
      method: 'Logon',
      operator: code,
      userId: outcome === 'ok' ? text.trim() : '',
      // The new UserId is the session credential: the log names the session, not the answer.
      response: outcome === 'ok' ? '(UserId)' : text,
      outcome,
    });
  // Texts other than "Invalid operator password" are invented (UNCONFIRMED).
  if (!operator) return record(`ERROR: Operator '${code}' not found`, 'error');
  if (params.get('operatorpassword') !== operator.password)
    return record('ERROR: Invalid operator password', 'error');
  if ((params.get('companyid') ?? '').trim().toUpperCase() !== state.company.id.toUpperCase()) {
    return record(`ERROR: Company '${params.get('companyid')}' not found`, 'error');
  }
  if ((params.get('companypassword') ?? '') !== state.company.password) {
    return record('ERROR: Invalid company password', 'error');
  }
  if (!operator.businessObjects)
    return record(`ERROR: Operator '${code}' has no access to business objects`, 'error');
  const result = state.sessions.logon(code);
  if ('error' in result) return record(result.error, 'error');
  return record(result.userId, 'ok');
}

function businessObjectCall(
  state: EnetState,
  method: BusinessObjectMethod,
  route: string,
  params: EnetParams,
): EnetReply {
  const userId = params.get('userid');
  const xmlInText = params.get('xmlin');
  const boParam =
    route === 'query/browse' ? 'COMBRW' : route === 'query/fetch' ? 'COMFCH' : params.get('businessobject');
  const needsParameters = method === 'Transaction/Post' || method.startsWith('Setup/');
  const xmlParametersText = params.get('xmlparameters') ?? '';
  const name = (boParam ?? '').trim().toUpperCase();
  let operator = '';
  const finish = (text: string, outcome: SysproCall['outcome'], validateOnly = false): EnetReply => {
    const call = state.calls.record({
      at: state.now(),
      method,
      businessObject: name,
      operator,
      userId: (userId ?? '').trim(),
      xmlParameters: xmlParametersText,
      xmlIn: xmlInText ?? '',
      response: text,
      outcome,
      validateOnly,
    });
    return { status: 200, text, call };
  };
  if (userId === undefined) return finish(missing('UserId'), 'error');
  if (boParam === undefined) return finish(missing('BusinessObject'), 'error');
  if (xmlInText === undefined) return finish(missing('XmlIn'), 'error');
  if (needsParameters && !params.has('xmlparameters')) return finish(missing('XmlParameters'), 'error');
  const session = state.sessions.use(userId);
  if (!session.ok) return finish(session.error, 'error');
  operator = session.session.operator;
  const bo = BUSINESS_OBJECTS.get(name);
  if (!bo || state.unlicensed.has(name) || !bo.methods.includes(method))
    return finish(ENET_EXCEPTION, 'error');
  let xmlIn: XNode;
  let xmlParameters: XNode | undefined;
  try {
    xmlIn = parseXml(xmlInText);
    xmlParameters = xmlParametersText.trim() ? parseXml(xmlParametersText) : undefined;
  } catch (error) {
    if (error instanceof XmlInError) {
      // Wording invented (UNCONFIRMED).
      return finish(`ERROR: XML document is not well formed: ${error.message}`, 'error');
    }
    throw error;
  }
  const ctx: BusinessObjectContext = { db: state.db, now: state.now, operator, quirks: state.quirks };
  try {
    const result = bo.handle(ctx, { xmlIn, xmlParameters }, method);
    return finish(result.body, result.outcome, result.validateOnly);
  } catch (error) {
    if (error instanceof EnetError) return finish(`ERROR: ${error.message}`, 'error');
    throw error;
  }
}
