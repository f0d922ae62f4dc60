/**
 * Bad-input corpus, SYSPRO answers: the real e.net client and OData reader against a tiny local
 * HTTP server that answers like a broken or hostile SYSPRO (HTML error pages from IIS or a proxy,
 * XML with DOCTYPEs and entities, truncated XML, bodies in the wrong charset, redirects), one row
 * per case with the expected outcome: a `SysproError` of a given kind and delivery with a message
 * that says what happened, or the answer read correctly. Every session that logged on logs off.
 * (The sandbox cannot produce these answers; its fault switches are used in the flow-level cases.)
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { querySalesOrder } from '../../src/syspro/business-objects/sorqry.js';
import { postDispatchNotes } from '../../src/syspro/business-objects/sortdn.js';
import { createEnetClient } from '../../src/syspro/enet-client.js';
import { SysproError } from '../../src/syspro/errors.js';
import { createODataReader } from '../../src/syspro/odata-reader.js';
import { encodeWindows1252 } from '../../src/syspro/windows-1252.js';

const USER_ID = '3EA613166FE4BF47925DF1CEA14E910100';
const PASSWORD = 'Op3r&tor!';

interface Answer {
  status?: number;
  contentType?: string;
  headers?: Record<string, string>;
  body: string | Uint8Array;
}

const IIS_500 = `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>IIS 10.0 Detailed Error - 500.19 - Internal Server Error</title></head>
<body><div id="content"><h3>HTTP Error 500.19 - Internal Server Error</h3></div></body></html>`;
const PROXY_LOGIN = `<html><head><title>Sign in</title></head><body><form action="/login"><input name="user"></form></body></html>`;
const RUNTIME_ERROR = `<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/SYSPROWCFService' Application.</h1><p>Object reference not set to an instance of an object.</p></body></html>`;
const SORQRY_OK = (name: string) =>
  `<?xml version="1.0" encoding="Windows-1252"?><SorDetail><SalesOrder>015562</SalesOrder><CustomerName>${name}</CustomerName></SorDetail>`;

type Call = 'logon' | 'query' | 'post' | 'odata';

interface Case {
  name: string;
  /** Which call meets the answer (the others answer normally). */
  call: Call;
  answer: Answer;
  expect:
    | { kind: SysproError['kind']; delivery?: string; retryable?: boolean; message: RegExp }
    | { customerName: string };
}

const utf8 = (s: string) => new TextEncoder().encode(s);

const CASES: Case[] = [
  // ---- HTML error pages ----
  {
    name: 'IIS 500 HTML page on a query',
    call: 'query',
    answer: { status: 500, contentType: 'text/html', body: IIS_500 },
    expect: { kind: 'http-status', retryable: true, message: /answered HTTP 500: .*500\.19/ },
  },
  {
    name: 'IIS 500 HTML page on a post (in doubt, never repeated blindly)',
    call: 'post',
    answer: { status: 500, contentType: 'text/html', body: IIS_500 },
    expect: {
      kind: 'http-status',
      delivery: 'in-doubt',
      retryable: false,
      message: /check SYSPRO before posting it again/,
    },
  },
  {
    name: '503 HTML page on a post (HTTP.sys: not carried out)',
    call: 'post',
    answer: {
      status: 503,
      contentType: 'text/html',
      body: '<html><body><h1>Service Unavailable</h1></body></html>',
    },
    expect: { kind: 'http-status', delivery: 'not-sent', retryable: true, message: /HTTP 503/ },
  },
  {
    name: 'a proxy login page with HTTP 200 on a query',
    call: 'query',
    answer: { status: 200, contentType: 'text/html', body: PROXY_LOGIN },
    expect: { kind: 'bad-response', message: /SORQRY returned something that is not XmlOut/ },
  },
  {
    name: 'an ASP.NET runtime error page with HTTP 200 on a post (in doubt)',
    call: 'post',
    answer: { status: 200, contentType: 'text/html', body: RUNTIME_ERROR },
    expect: {
      kind: 'bad-response',
      delivery: 'in-doubt',
      retryable: false,
      message: /SORTDN .*not XmlOut.*check SYSPRO before posting it again/,
    },
  },
  {
    name: 'an XHTML error page (DOCTYPE) with HTTP 200 on a query',
    call: 'query',
    answer: { status: 200, contentType: 'text/html', body: IIS_500 },
    expect: { kind: 'bad-response', message: /not XmlOut/ },
  },
  {
    name: 'an HTML page instead of a UserId on logon',
    call: 'logon',
    answer: { status: 200, contentType: 'text/html', body: PROXY_LOGIN },
    expect: { kind: 'bad-response', message: /did not return a UserId/ },
  },
  {
    name: 'a 401 HTML page on logon',
    call: 'logon',
    answer: { status: 401, contentType: 'text/html', body: '<html><body>401 - Unauthorized</body></html>' },
    expect: { kind: 'unauthorized', message: /HTTP 401/ },
  },
  {
    name: 'an HTML page from OData (HTTP 200)',
    call: 'odata',
    answer: { status: 200, contentType: 'text/html', body: PROXY_LOGIN },
    expect: { kind: 'bad-response', message: /./ },
  },
  {
    name: 'an IIS 500 page from OData',
    call: 'odata',
    answer: { status: 500, contentType: 'text/html', body: IIS_500 },
    expect: { kind: 'http-status', message: /HTTP 500/ },
  },
  {
    name: 'truncated JSON from OData',
    call: 'odata',
    answer: { status: 200, contentType: 'application/json', body: '{"value":[{"SalesOrder":"0155' },
    expect: { kind: 'bad-response', message: /./ },
  },
  // ---- XML with DOCTYPEs and entities ----
  {
    name: 'an internal entity that would rewrite a value',
    call: 'query',
    answer: {
      body: '<?xml version="1.0"?><!DOCTYPE SorDetail [<!ENTITY so "099999">]><SorDetail><SalesOrder>&so;</SalesOrder></SorDetail>',
    },
    expect: { kind: 'bad-response', message: /DOCTYPE or entity declaration/ },
  },
  {
    name: 'billion laughs (nested entities)',
    call: 'query',
    answer: {
      body: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><SorDetail><CustomerName>&lol3;</CustomerName></SorDetail>`,
    },
    expect: { kind: 'bad-response', message: /DOCTYPE or entity declaration/ },
  },
  {
    name: 'an external entity (XXE: file:///etc/passwd)',
    call: 'query',
    answer: {
      body: '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><SorDetail><CustomerName>&xxe;</CustomerName></SorDetail>',
    },
    expect: { kind: 'bad-response', message: /DOCTYPE or entity declaration/ },
  },
  {
    name: 'a DOCTYPE in lower case inside a comment',
    call: 'query',
    answer: { body: '<SorDetail><!-- <!doctype x> --><SalesOrder>1</SalesOrder></SorDetail>' },
    expect: { kind: 'bad-response', message: /DOCTYPE or entity declaration/ },
  },
  {
    name: 'a DOCTYPE on a post answer (in doubt)',
    call: 'post',
    answer: { body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><PostDispatchNotes/>' },
    expect: { kind: 'bad-response', delivery: 'in-doubt', message: /DOCTYPE/ },
  },
  {
    name: 'an undefined entity reference',
    call: 'query',
    answer: { body: '<SorDetail><CustomerName>&undefined;</CustomerName></SorDetail>' },
    expect: { customerName: '&undefined;' },
  },
  // ---- truncated / not XML ----
  {
    name: 'XmlOut cut off mid-element',
    call: 'query',
    answer: { body: '<?xml version="1.0"?><SorDetail><SalesOrder>015562</SalesOrder><CustomerNa' },
    expect: { kind: 'bad-response', message: /not well-formed/ },
  },
  {
    name: 'XmlOut cut off on a post (in doubt)',
    call: 'post',
    answer: { body: '<?xml version="1.0"?><PostDispatchNotes><Item><DispatchHeader><SalesOrder>0155' },
    expect: { kind: 'bad-response', delivery: 'in-doubt', message: /not well-formed/ },
  },
  {
    name: 'an empty 200 answer to a query',
    call: 'query',
    answer: { body: '' },
    expect: { kind: 'bad-response', message: /not XML/ },
  },
  {
    name: 'plain text that is no ERROR',
    call: 'query',
    answer: { body: 'The operation has timed out' },
    expect: { kind: 'bad-response', message: /not XML/ },
  },
  // ---- charsets ----
  {
    name: 'Windows-1252 bytes declared as windows-1252',
    call: 'query',
    answer: {
      contentType: 'text/xml; charset=windows-1252',
      body: encodeWindows1252(SORQRY_OK('Müller &amp; “Söhne” €')),
    },
    expect: { customerName: 'Müller & “Söhne” €' },
  },
  {
    name: 'Windows-1252 bytes with no charset (detected: not valid UTF-8)',
    call: 'query',
    answer: { contentType: 'text/xml', body: encodeWindows1252(SORQRY_OK('Café – Ærø')) },
    expect: { customerName: 'Café – Ærø' },
  },
  {
    name: 'UTF-8 bytes with no charset',
    call: 'query',
    answer: { contentType: 'text/xml', body: utf8(SORQRY_OK('Café – Ærø')) },
    expect: { customerName: 'Café – Ærø' },
  },
  {
    name: 'invalid UTF-8 declared as UTF-8 (replacement characters, not a crash)',
    call: 'query',
    answer: {
      contentType: 'text/xml; charset=utf-8',
      body: new Uint8Array([
        ...utf8(SORQRY_OK('Caf').split('</CustomerName>')[0] ?? ''),
        0xe9,
        0xff,
        ...utf8('</CustomerName></SorDetail>'),
      ]),
    },
    expect: { customerName: 'Caf\ufffd\ufffd' },
  },
  {
    name: 'a UTF-8 byte-order mark before the XmlOut',
    call: 'query',
    answer: {
      contentType: 'text/xml',
      body: new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(SORQRY_OK('BOM Ltd'))]),
    },
    expect: { customerName: 'BOM Ltd' },
  },
  {
    name: 'an unknown charset label (falls back to detection)',
    call: 'query',
    answer: { contentType: 'text/xml; charset=x-klingon', body: utf8(SORQRY_OK('Qapla’')) },
    expect: { customerName: 'Qapla’' },
  },
  // ---- redirects ----
  {
    name: 'a redirect on a query (never followed: it would carry the session and passwords)',
    call: 'query',
    answer: { status: 302, headers: { location: 'http://evil.example/steal' }, body: '' },
    expect: {
      kind: 'http-status',
      retryable: false,
      message: /redirect \(HTTP 302, to http:\/\/evil\.example\/steal\)/,
    },
  },
  {
    name: 'a redirect on logon',
    call: 'logon',
    answer: {
      status: 307,
      headers: { location: 'https://erp.example/SYSPROWCFService/Rest/Logon' },
      body: '',
    },
    expect: { kind: 'http-status', message: /redirect \(HTTP 307/ },
  },
];

describe(`bad-input corpus: SYSPRO answers (${CASES.length} cases)`, () => {
  let server: Server;
  let base: string;
  let current: Case | undefined;
  const seen: string[] = [];

  const send = (res: ServerResponse, a: Answer) => {
    res.statusCode = a.status ?? 200;
    if (a.contentType) res.setHeader('content-type', a.contentType);
    for (const [k, v] of Object.entries(a.headers ?? {})) res.setHeader(k, v);
    res.end(typeof a.body === 'string' ? a.body : Buffer.from(a.body));
  };

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const route = url.pathname.replace(/^.*\/Rest\//, '');
      seen.push(route.startsWith('/odata') ? 'OData' : route);
      const c = current;
      if (url.pathname.startsWith('/odata')) {
        if (c?.call === 'odata') return send(res, c.answer);
        return send(res, { contentType: 'application/json', body: '{"value":[]}' });
      }
      if (route === 'Logon') {
        if (c?.call === 'logon') return send(res, c.answer);
        return send(res, { body: USER_ID });
      }
      if (route === 'Logoff') return send(res, { body: '0' });
      if (route === 'Query/Query' && c?.call === 'query') return send(res, c.answer);
      if (route === 'Transaction/Post' && c?.call === 'post') return send(res, c.answer);
      return send(res, { body: '<X/>' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  for (const c of CASES) {
    const outcome =
      'kind' in c.expect ? `${c.expect.kind}${c.expect.delivery ? `/${c.expect.delivery}` : ''}` : 'read';
    it(`${c.name} → ${outcome}`, async () => {
      current = c;
      seen.length = 0;
      const client = createEnetClient({
        baseUrl: `${base}/SYSPROWCFService/Rest`,
        operator: 'ADMIN',
        operatorPassword: PASSWORD,
        company: 'EDU1',
        timeoutMs: 5_000,
      });
      const odata = createODataReader({
        serviceUrl: `${base}/odata/EDU1`,
        username: 'ADMIN',
        password: PASSWORD,
      });
      const run = async () => {
        if (c.call === 'odata') {
          for await (const _ of odata.pages('SorMaster')) break;
          return undefined;
        }
        if (c.call === 'post') {
          await postDispatchNotes(client, [
            { salesOrder: '015562', lines: [{ salesOrderLine: 1, dispatchQty: 1 }] },
          ]);
          return undefined;
        }
        return querySalesOrder(client, { salesOrder: '015562' });
      };
      try {
        if ('kind' in c.expect) {
          const expect = c.expect;
          await assert.rejects(run(), (error: unknown) => {
            assert.ok(error instanceof SysproError, `a SysproError, not ${String(error)}`);
            assert.equal(error.kind, expect.kind, error.message);
            if (expect.delivery) assert.equal(error.delivery, expect.delivery, error.message);
            if (expect.retryable !== undefined)
              assert.equal(error.retryable, expect.retryable, error.message);
            assert.match(error.message, expect.message);
            assert.ok(!error.message.includes(PASSWORD), 'no password in the message');
            return true;
          });
        } else {
          const detail = await run();
          assert.equal(detail?.customerName, c.expect.customerName);
        }
      } finally {
        await client.close();
      }
      // Every logon is paired with a logoff.
      const logons = seen.filter((s) => s === 'Logon').length;
      const succeeded = c.call === 'logon' ? 0 : logons;
      assert.equal(seen.filter((s) => s === 'Logoff').length, succeeded, seen.join(' '));
    });
  }
});
