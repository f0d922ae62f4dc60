/**
 * A minimal e.net caller for the sandbox tests, written from the reference (GET, %20 for spaces,
 * Windows-1252 bodies). Not our SYSPRO client: the tests check the sandbox, not the client.
 */
import type { SysproSandbox } from '../../../src/sandbox/syspro/index.js';
import { decodeWindows1252 } from '../../../src/sandbox/syspro/text.js';

export function query(params: Record<string, string>): string {
  return new URLSearchParams(params).toString().replace(/\+/g, '%20');
}

export async function enet(
  sandbox: SysproSandbox,
  path: string,
  params: Record<string, string>,
): Promise<string> {
  const response = await fetch(`${sandbox.url}/SYSPROWCFService/Rest/${path}?${query(params)}`);
  if (response.status !== 200) throw new Error(`HTTP ${response.status} from ${path}`);
  return decodeWindows1252(new Uint8Array(await response.arrayBuffer()));
}

export function logon(
  sandbox: SysproSandbox,
  operator = sandbox.operator,
  password = sandbox.operatorPassword,
) {
  return enet(sandbox, 'Logon', {
    Operator: operator,
    OperatorPassword: password,
    CompanyId: sandbox.company,
    CompanyPassword: sandbox.companyPassword,
  });
}

export function post(
  sandbox: SysproSandbox,
  userId: string,
  businessObject: string,
  xmlParameters: string,
  xmlIn: string,
) {
  return enet(sandbox, 'Transaction/Post', {
    UserId: userId,
    BusinessObject: businessObject,
    XmlParameters: xmlParameters,
    XmlIn: xmlIn,
  });
}

export function queryObject(sandbox: SysproSandbox, userId: string, businessObject: string, xmlIn: string) {
  return enet(sandbox, 'Query/Query', { UserId: userId, BusinessObject: businessObject, XmlIn: xmlIn });
}

export async function odata(
  sandbox: SysproSandbox,
  pathAndQuery: string,
  credentials = `${sandbox.operator}:${sandbox.operatorPassword}`,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = pathAndQuery.startsWith('http') ? pathAndQuery : `${sandbox.odataUrl}/${pathAndQuery}`;
  const response = await fetch(url, {
    headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Text of the first element with this name in an XmlOut (tests only; trims padding). */
export function xmlValue(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>|<${name}/>`).exec(xml);
  if (!match) return undefined;
  return (match[1] ?? '').trim();
}

export const SORQRY_ALL = (salesOrder: string) =>
  `<Query><Key><SalesOrder>${salesOrder}</SalesOrder></Key><Option><IncludeStockedLines>Y</IncludeStockedLines>` +
  '<IncludeNonStockedLines>Y</IncludeNonStockedLines><IncludeFreightLines>Y</IncludeFreightLines>' +
  '<IncludeMiscLines>Y</IncludeMiscLines><IncludeCommentLines>Y</IncludeCommentLines>' +
  '<IncludeCompletedLines>Y</IncludeCompletedLines><IncludeValues>Y</IncludeValues><XslStylesheet/></Option></Query>';
