/**
 * OData reader edge cases against a tiny local server: a server that pages with nextLink and also
 * honours $top, one that ignores $top, a nextLink that loops, refused credentials, and what must not
 * be followed (a redirect, a nextLink to another origin): a second local server stands for the
 * foreign host and records whatever reaches it.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SysproError } from '../../src/syspro/errors.js';
import { createODataReader } from '../../src/syspro/odata-reader.js';

const ROWS = Array.from({ length: 23 }, (_, i) => ({ Key: `K${String(i).padStart(3, '0')}` }));
let mode: 'nextlink' | 'ignore-top' | 'loop' | 'redirect' | 'foreign-nextlink' | 'userinfo-nextlink' =
  'nextlink';
const requests: string[] = [];
/** Where the foreign server listens, and what reached it (path and Authorization header). */
let foreignUrl = '';
const foreignRequests: Array<{ url: string; authorization?: string }> = [];

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  requests.push(url.search);
  if (req.headers.authorization !== `Basic ${Buffer.from('ODATA:pw').toString('base64')}`) {
    res.statusCode = 401;
    res.end('{"error":{"message":"Unauthorized"}}');
    return;
  }
  res.setHeader('Content-Type', 'application/json; odata.metadata=minimal');
  const top = Number(url.searchParams.get('$top') ?? 1000);
  const skip = Number(url.searchParams.get('$skip') ?? 0);
  if (mode === 'ignore-top') {
    res.end(JSON.stringify({ value: ROWS }));
    return;
  }
  if (mode === 'redirect') {
    res.statusCode = 302;
    res.setHeader('Location', `${foreignUrl}/odata/Items${url.search}`);
    res.end();
    return;
  }
  if (mode === 'foreign-nextlink') {
    res.end(
      JSON.stringify({ value: ROWS.slice(0, 2), '@odata.nextLink': `${foreignUrl}/odata/Items?start=2` }),
    );
    return;
  }
  if (mode === 'userinfo-nextlink') {
    const own = `http://someone@${req.headers.host}/odata/Items?start=2`;
    res.end(JSON.stringify({ value: ROWS.slice(0, 2), '@odata.nextLink': own }));
    return;
  }
  if (mode === 'loop') {
    res.end(JSON.stringify({ value: ROWS.slice(0, 2), '@odata.nextLink': url.pathname + url.search }));
    return;
  }
  // Server-driven pages of 4 inside the client's $top/$skip window.
  const start = Number(url.searchParams.get('start') ?? skip);
  const end = Math.min(skip + top, ROWS.length);
  const pageEnd = Math.min(start + 4, end);
  const body: Record<string, unknown> = { value: ROWS.slice(start, pageEnd) };
  if (pageEnd < end) body['@odata.nextLink'] = `/odata/Items?$top=${top}&$skip=${skip}&start=${pageEnd}`;
  res.end(JSON.stringify(body));
}

describe('OData reader edge cases', () => {
  let server: Server;
  let foreign: Server;
  let serviceUrl: string;
  before(async () => {
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serviceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/odata`;
    foreign = createServer((req, res) => {
      foreignRequests.push({ url: req.url ?? '', authorization: req.headers.authorization });
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ value: ROWS.slice(2, 4) }));
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => foreign.close(() => resolve()));
  });

  const drain = async (reader: ReturnType<typeof createODataReader>) => {
    for await (const _ of reader.pages('Items')) {
      // drain
    }
  };

  it('never follows a redirect: a 3xx is an http-status error and the credentials stay here', async () => {
    mode = 'redirect';
    foreignRequests.length = 0;
    const reader = createODataReader({ serviceUrl, username: 'ODATA', password: 'pw' });
    await assert.rejects(drain(reader), (e: unknown) => {
      assert.ok(e instanceof SysproError, String(e));
      assert.equal(e.kind, 'http-status');
      assert.equal(e.status, 302);
      assert.equal(e.retryable, false);
      assert.match(e.message, /redirect \(HTTP 302, to http:\/\/127\.0\.0\.1:\d+\/odata\/Items\)/);
      assert.match(e.message, /never follow redirects/);
      return true;
    });
    assert.deepEqual(foreignRequests, [], 'nothing reached the redirect target');
  });

  it('refuses a nextLink to another origin, before sending anything there', async () => {
    mode = 'foreign-nextlink';
    foreignRequests.length = 0;
    const reader = createODataReader({ serviceUrl, username: 'ODATA', password: 'pw' });
    const pages: unknown[] = [];
    await assert.rejects(
      async () => {
        for await (const page of reader.pages('Items')) pages.push(page);
      },
      (e: unknown) => {
        assert.ok(e instanceof SysproError, String(e));
        assert.equal(e.kind, 'bad-response');
        assert.match(e.message, /nextLink to http:\/\/127\.0\.0\.1:\d+, not its own origin/);
        return true;
      },
    );
    assert.equal(pages.length, 1, 'the first page, from the service itself, was read');
    assert.deepEqual(foreignRequests, [], 'the Basic credentials did not go to the foreign origin');
  });

  it('refuses a nextLink on its own origin that carries user information', async () => {
    mode = 'userinfo-nextlink';
    const reader = createODataReader({ serviceUrl, username: 'ODATA', password: 'pw' });
    await assert.rejects(drain(reader), { kind: 'bad-response' });
  });

  it('follows nextLinks inside each $top window and then moves to the next window', async () => {
    mode = 'nextlink';
    requests.length = 0;
    const reader = createODataReader({ serviceUrl, username: 'ODATA', password: 'pw', pageSize: 10 });
    const keys: string[] = [];
    for await (const row of reader.rows<{ Key: string }>('Items', { orderBy: ['Key'] })) keys.push(row.Key);
    assert.deepEqual(
      keys,
      ROWS.map((r) => r.Key),
    );
    // windows of 10 (0, 10, 20), each in pages of 4: 3 + 3 + 1 requests
    assert.equal(reader.stats.requests, 7);
  });

  it('stops after one read when the server ignores $top and returns everything', async () => {
    mode = 'ignore-top';
    const reader = createODataReader({ serviceUrl, username: 'ODATA', password: 'pw', pageSize: 10 });
    const pages: number[] = [];
    for await (const page of reader.pages('Items')) pages.push(page.length);
    assert.deepEqual(pages, [23]);
  });

  it('refuses a nextLink that loops', async () => {
    mode = 'loop';
    const reader = createODataReader({ serviceUrl, username: 'ODATA', password: 'pw' });
    await assert.rejects(async () => {
      for await (const _ of reader.pages('Items')) {
        // drain
      }
    }, /loops/);
  });

  it('reports refused credentials as unauthorized, without the password', async () => {
    const reader = createODataReader({ serviceUrl, username: 'ODATA', password: 'wrong-secret' });
    await assert.rejects(
      async () => {
        for await (const _ of reader.pages('Items')) {
          // drain
        }
      },
      (e: unknown) =>
        e instanceof SysproError &&
        e.kind === 'unauthorized' &&
        e.status === 401 &&
        !e.message.includes('wrong-secret'),
    );
  });

  it('never asks for more than the 5,000-row cap', async () => {
    mode = 'nextlink';
    requests.length = 0;
    const reader = createODataReader({ serviceUrl, username: 'ODATA', password: 'pw', pageSize: 20_000 });
    for await (const _ of reader.pages('Items')) {
      // drain
    }
    assert.ok(requests.length > 0);
    for (const search of requests) assert.equal(new URLSearchParams(search).get('$top'), '5000');
  });
});
