/**
 * The e.net client's transport against tiny local HTTP servers: Windows-1252 bodies decoded by their
 * charset, the body forms e.net versions use (bare, JSON-quoted, WCF <string>), and the network
 * failures `ping` must tell apart (refused, TLS, timeout), with no password in any message.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { querySalesOrder } from '../../src/syspro/business-objects/sorqry.js';
import { createEnetClient } from '../../src/syspro/enet-client.js';
import { SysproError } from '../../src/syspro/errors.js';
import { encodeWindows1252 } from '../../src/syspro/windows-1252.js';

const PASSWORD = 'Pa55&word!';
const USER_ID = '3EA613166FE4BF47925DF1CEA14E910100  ';

function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}/SYSPROWCFService/Rest` });
    });
  });
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('e.net transport', () => {
  let server: Server;
  let baseUrl: string;
  const seen: string[] = [];
  let queryBody: { bytes: Uint8Array; contentType: string } = { bytes: new Uint8Array(), contentType: '' };

  before(async () => {
    ({ server, url: baseUrl } = await listen((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push(url.pathname.split('/').pop() ?? '');
      if (url.pathname.endsWith('/Logon')) {
        if (url.searchParams.get('OperatorPassword') !== PASSWORD) {
          res.end('ERROR: Invalid operator password');
          return;
        }
        res.end(USER_ID);
        return;
      }
      if (url.pathname.endsWith('/Logoff')) {
        res.end('0');
        return;
      }
      if (url.pathname.endsWith('/Query/Query')) {
        assert.equal(url.searchParams.get('UserId'), USER_ID.trim());
        res.setHeader('Content-Type', queryBody.contentType);
        res.end(queryBody.bytes);
        return;
      }
      res.statusCode = 404;
      res.end();
    }));
  });
  after(() => close(server));

  const client = (password = PASSWORD) =>
    createEnetClient({
      baseUrl,
      operator: 'SHIP',
      operatorPassword: password,
      company: 'EDU1',
      timeoutMs: 2000,
    });

  it('decodes a Windows-1252 body by the Content-Type charset', async () => {
    const xml =
      `<?xml version="1.0" encoding="Windows-1252"?><SorDetail><CustomerName>Müller & “Söhne” €</CustomerName></SorDetail>`.replace(
        '&',
        '&amp;',
      );
    queryBody = {
      bytes: encodeWindows1252(xml),
      contentType: 'application/octet-stream; charset=windows-1252',
    };
    const c = client();
    const out = await c.query('SORQRY', '<Query/>');
    assert.ok(out.includes('Müller &amp; “Söhne” €'), out);
    await c.close();
  });

  it('decodes Windows-1252 bytes without a charset (not valid UTF-8) and UTF-8 bytes as UTF-8', async () => {
    queryBody = { bytes: encodeWindows1252('<X>€ “q”</X>'), contentType: 'application/octet-stream' };
    const c = client();
    assert.equal(await c.query('SORQRY', '<Query/>'), '<X>€ “q”</X>');
    queryBody = { bytes: new TextEncoder().encode('<X>€ “q”</X>'), contentType: 'application/octet-stream' };
    assert.equal(await c.query('SORQRY', '<Query/>'), '<X>€ “q”</X>');
    await c.close();
  });

  it('decodes by the configured charset when the site sets one', async () => {
    // Bytes C3 A9 are "é" in UTF-8 but "Ã©" in Windows-1252.
    queryBody = {
      bytes: Uint8Array.from([0x3c, 0x58, 0x3e, 0xc3, 0xa9, 0x3c, 0x2f, 0x58, 0x3e]),
      contentType: '',
    };
    const detected = client();
    assert.equal(await detected.query('SORQRY', '<Query/>'), '<X>é</X>');
    await detected.close();
    const forced = createEnetClient({
      baseUrl,
      operator: 'SHIP',
      operatorPassword: PASSWORD,
      company: 'EDU1',
      responseCharset: 'windows-1252',
    });
    assert.equal(await forced.query('SORQRY', '<Query/>'), '<X>Ã©</X>');
    await forced.close();
  });

  it('accepts a JSON-quoted body and a WCF <string> wrapper', async () => {
    const c = client();
    queryBody = {
      bytes: new TextEncoder().encode(JSON.stringify('<X>a "b"</X>')),
      contentType: 'application/json',
    };
    assert.equal(await c.query('SORQRY', '<Query/>'), '<X>a "b"</X>');
    queryBody = {
      bytes: new TextEncoder().encode(
        '<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">&lt;X&gt;a &amp;amp; b&lt;/X&gt;</string>',
      ),
      contentType: 'application/xml; charset=utf-8',
    };
    assert.equal(await c.query('SORQRY', '<Query/>'), '<X>a &amp; b</X>');
    await c.close();
  });

  it('answers a DOCTYPE in an XmlOut with a bad-response error instead of expanding its entities', async () => {
    // An internal entity would otherwise put "099999" into SalesOrder.
    queryBody = {
      bytes: new TextEncoder().encode(
        '<?xml version="1.0"?><!DOCTYPE SorDetail [<!ENTITY so "099999">]><SorDetail><SalesOrder>&so;</SalesOrder></SorDetail>',
      ),
      contentType: 'application/xml',
    };
    const c = client();
    await assert.rejects(querySalesOrder(c, { salesOrder: '015562' }), (error: unknown) => {
      assert.ok(error instanceof SysproError, String(error));
      assert.equal(error.kind, 'bad-response');
      assert.equal(error.retryable, false);
      assert.match(error.message, /SORQRY .*DOCTYPE/);
      return true;
    });
    await c.close();
  });

  it('logs off after each burst of calls, so no session outlives its work', async () => {
    seen.length = 0;
    queryBody = { bytes: new TextEncoder().encode('<X/>'), contentType: 'text/plain' };
    const c = client();
    await Promise.all([c.query('A', '<Q/>'), c.query('B', '<Q/>'), c.query('C', '<Q/>')]);
    assert.deepEqual(seen, ['Logon', 'Query', 'Query', 'Query', 'Logoff']);
    await c.query('D', '<Q/>');
    assert.deepEqual(seen.slice(5), ['Logon', 'Query', 'Logoff']);
    await c.close();
  });

  it('reports a wrong password as wrong-operator-password, without the password', async () => {
    const c = client('wrong&secret');
    await assert.rejects(c.query('SORQRY', '<Q/>'), (e: unknown) => {
      assert.ok(e instanceof SysproError);
      assert.equal(e.kind, 'wrong-operator-password');
      assert.equal(e.retryable, false);
      assert.ok(!e.message.includes('wrong&secret'));
      assert.match(e.message, /operator SHIP to company EDU1/);
      return true;
    });
    await c.close();
  });

  it('logs calls without passwords or the session UserId', async () => {
    const entries: unknown[] = [];
    const logger = {
      debug: (o: object, m?: string) => entries.push([o, m]),
      info: (o: object, m?: string) => entries.push([o, m]),
      warn: (o: object, m?: string) => entries.push([o, m]),
    };
    queryBody = { bytes: new TextEncoder().encode('<X/>'), contentType: 'text/plain' };
    const c = createEnetClient({
      baseUrl,
      operator: 'SHIP',
      operatorPassword: PASSWORD,
      company: 'EDU1',
      logger,
    });
    await c.query('SORQRY', '<Q/>');
    await c.close();
    const bad = createEnetClient({
      baseUrl,
      operator: 'SHIP',
      operatorPassword: 'other&pw',
      company: 'EDU1',
      logger,
    });
    await assert.rejects(bad.query('SORQRY', '<Q/>'));
    await bad.close();
    const text = JSON.stringify(entries);
    assert.ok(entries.length >= 4, text);
    assert.ok(text.includes('SORQRY'));
    for (const secret of [PASSWORD, 'other&pw', USER_ID.trim()]) assert.ok(!text.includes(secret), text);
  });

  it('leaves no fetch timing entry holding the logon URL (passwords in its query) in memory', async () => {
    const c = client();
    await c.query('SORQRY', '<Query/>');
    await c.close();
    // Node adds resource timing entries after the response, off the request's own tick.
    await new Promise((r) => setTimeout(r, 20));
    const urls = performance.getEntriesByType('resource').map((e) => e.name);
    assert.ok(!urls.some((u) => u.includes('Password')), urls.join('\n'));
    // The guard is the buffer size, not a one-off clear: a fetch now leaves nothing either.
    await (await fetch(`${baseUrl}/Logon?OperatorPassword=x`)).text();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      performance.getEntriesByType('resource').map((e) => e.name),
      [],
    );
  });

  it('refuses a request whose URL would be too long, before sending it', async () => {
    seen.length = 0;
    const c = createEnetClient({
      baseUrl,
      operator: 'SHIP',
      operatorPassword: PASSWORD,
      company: 'EDU1',
      maxUrlLength: 500,
    });
    await assert.rejects(c.query('SORQRY', `<Q>${'x'.repeat(600)}</Q>`), { kind: 'request-too-large' });
    assert.deepEqual(seen, ['Logon', 'Logoff']);
    await c.close();
  });
});

describe('e.net transport failures', () => {
  it('never follows a redirect: the logon (password in its query) does not reach the target', async () => {
    const reached: string[] = [];
    const target = await listen((req, res) => {
      reached.push(req.url ?? '');
      res.end(USER_ID);
    });
    const { server, url } = await listen((req, res) => {
      res.statusCode = 307;
      res.setHeader('Location', `${target.url}${(req.url ?? '').replace(/^\/SYSPROWCFService\/Rest/, '')}`);
      res.end();
    });
    const c = createEnetClient({
      baseUrl: url,
      operator: 'SHIP',
      company: 'EDU1',
      operatorPassword: PASSWORD,
    });
    await assert.rejects(c.query('SORQRY', '<Q/>'), (e: unknown) => {
      assert.ok(e instanceof SysproError, String(e));
      assert.equal(e.kind, 'http-status');
      assert.equal(e.status, 307);
      assert.equal(e.retryable, false);
      assert.match(
        e.message,
        /answered a redirect \(HTTP 307, to http:\/\/127\.0\.0\.1:\d+\/SYSPROWCFService\/Rest\/Logon\)/,
      );
      assert.ok(!e.message.includes(PASSWORD), e.message);
      return true;
    });
    assert.deepEqual(reached, [], 'nothing reached the redirect target');
    await c.close();
    await close(server);
    await close(target.server);
  });

  it('classifies a closed port as unreachable (retryable)', async () => {
    const { server, url } = await listen(() => undefined);
    await close(server);
    const c = createEnetClient({
      baseUrl: url,
      operator: 'SHIP',
      company: 'EDU1',
      operatorPassword: PASSWORD,
    });
    await assert.rejects(c.query('SORQRY', '<Q/>'), (e: unknown) => {
      assert.ok(e instanceof SysproError);
      assert.equal(e.kind, 'unreachable');
      assert.equal(e.retryable, true);
      assert.match(e.message, /ECONNREFUSED/);
      assert.ok(!e.message.includes(PASSWORD));
      return true;
    });
    await c.close();
  });

  it('classifies https against a plain-HTTP port as a TLS failure', async () => {
    const { server, url } = await listen((_req, res) => res.end('x'));
    const c = createEnetClient({
      baseUrl: url.replace('http:', 'https:'),
      operator: 'SHIP',
      company: 'EDU1',
    });
    await assert.rejects(c.query('SORQRY', '<Q/>'), { kind: 'tls' });
    await c.close();
    await close(server);
  });

  it('gives up after the timeout (retryable)', async () => {
    const { server, url } = await listen(() => undefined); // never answers
    const c = createEnetClient({ baseUrl: url, operator: 'SHIP', company: 'EDU1', timeoutMs: 150 });
    const started = Date.now();
    await assert.rejects(c.query('SORQRY', '<Q/>'), { kind: 'timeout', retryable: true });
    assert.ok(Date.now() - started < 2000);
    await c.close();
    await close(server);
  });

  it('reads "not logged on to company" on a call as a lost session: logs off, on again, repeats', async () => {
    // Each logon gets a new UserId; the first session is refused on every call with a text that
    // names the company (the logon wording must not make it unknown-company).
    const ids = ['11111111111111111111111111111111AA', '22222222222222222222222222222222BB'];
    let logons = 0;
    const seenCalls: string[] = [];
    const { server, url } = await listen((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const route = u.pathname.replace(/^.*\/Rest\//, '');
      const id = u.searchParams.get('UserId') ?? '';
      seenCalls.push(route === 'Logon' ? 'Logon' : `${route} ${id.slice(0, 2)}`);
      if (route === 'Logon') return res.end(`${ids[logons++] ?? ids[1]}  `);
      if (route === 'Logoff') return res.end(id === ids[0] ? `ERROR: UserId ${id} is not logged on` : '0');
      if (id === ids[0]) return res.end(`ERROR: UserId ${id} is not logged on to company EDU1`);
      return res.end('<XmlOut/>');
    });
    const c = createEnetClient({ baseUrl: url, operator: 'SHIP', company: 'EDU1', timeoutMs: 2000 });
    assert.equal(await c.post('SORTOS', '<P/>', '<D/>'), '<XmlOut/>');
    assert.deepEqual(seenCalls, [
      'Logon',
      'Transaction/Post 11',
      'Logoff 11',
      'Logon',
      'Transaction/Post 22',
      'Logoff 22',
    ]);
    assert.deepEqual(c.stats, { logons: 2, logoffs: 2, relogons: 1 });
    await c.close();
    await close(server);
  });

  it('turns a 503 into a retryable http-status error', async () => {
    const { server, url } = await listen((_req, res) => {
      res.statusCode = 503;
      res.end('Service Unavailable');
    });
    const c = createEnetClient({ baseUrl: url, operator: 'SHIP', company: 'EDU1' });
    await assert.rejects(c.query('SORQRY', '<Q/>'), { kind: 'http-status', status: 503, retryable: true });
    await c.close();
    await close(server);
  });
});
