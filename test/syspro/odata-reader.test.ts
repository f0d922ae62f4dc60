/**
 * The OData reader against the SYSPRO sandbox over real HTTP: paging with $top/$skip and with
 * server-driven @odata.nextLink, the 5,000-row cap, $select of just the needed columns, $filter
 * literals with quotes and ampersands, date literals of both EDM types, and long key lists split
 * so that no URL exceeds the limit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { and, dateLiteral, dateTimeLiteral, eq, ge, inList, oneOf } from '../../src/syspro/odata-filter.js';
import { createODataReader, type ODataReaderOptions } from '../../src/syspro/odata-reader.js';
import { FakeClock } from '../helpers/clock.js';

const ORDERS = 2600;

function readerFor(sandbox: SysproSandbox, extra: Partial<ODataReaderOptions> = {}) {
  return createODataReader({
    serviceUrl: sandbox.odataUrl,
    username: sandbox.operator,
    password: sandbox.operatorPassword,
    timeoutMs: 10_000,
    ...extra,
  });
}

async function collect<T>(pages: AsyncGenerator<T[]>): Promise<{ rows: T[]; sizes: number[] }> {
  const rows: T[] = [];
  const sizes: number[] = [];
  for await (const page of pages) {
    rows.push(...page);
    sizes.push(page.length);
  }
  return { rows, sizes };
}

for (const nextLink of [false, true]) {
  describe(`OData reader, ${nextLink ? 'server-driven paging (@odata.nextLink)' : 'client paging ($top/$skip)'}`, () => {
    const clock = new FakeClock();
    let sandbox: SysproSandbox;
    before(async () => {
      sandbox = await startSysproSandbox({
        port: 0,
        clock,
        seed: 11,
        orders: ORDERS,
        odataNextLink: nextLink,
        odataMaxRows: nextLink ? 400 : 5000,
        logger: false,
      });
    });
    after(() => sandbox.close());

    it('reads every row of a table exactly once, in key order, with only the selected columns', async () => {
      const reader = readerFor(sandbox, { pageSize: 1000 });
      const { rows, sizes } = await collect(
        reader.pages<Record<string, unknown>>('SorMaster', {
          select: ['SalesOrder', 'OrderStatus'],
          orderBy: ['SalesOrder'],
        }),
      );
      const expected = sandbox.db.sorMaster.rows.map((r) => r.SalesOrder);
      assert.equal(rows.length, expected.length);
      assert.deepEqual(
        rows.map((r) => r.SalesOrder),
        expected,
      );
      assert.deepEqual(
        Object.keys(rows[0] ?? {})
          .filter((k) => !k.startsWith('@'))
          .sort(),
        ['OrderStatus', 'SalesOrder'],
      );
      if (nextLink) {
        // windows of 1000 served in pages of at most 400
        assert.ok(sizes.every((n) => n <= 400));
        assert.ok(reader.stats.requests >= Math.ceil(expected.length / 400));
      } else {
        assert.deepEqual(sizes.slice(0, 2), [1000, 1000]);
        assert.equal(
          reader.stats.requests,
          Math.ceil(expected.length / 1000) + (expected.length % 1000 === 0 ? 1 : 0),
        );
      }
    });

    it('asks for at most 5,000 rows a request however large the page size', async () => {
      const reader = readerFor(sandbox, { pageSize: 50_000 });
      const url = new URL(reader.url('SorMaster', { top: 5000 }));
      assert.equal(url.searchParams.get('$top'), '5000');
      const { rows } = await collect(
        reader.pages('SorMaster', { select: ['SalesOrder'], orderBy: ['SalesOrder'] }),
      );
      assert.equal(rows.length, sandbox.db.sorMaster.rows.length);
    });

    it('filters with escaped literals: quotes, ampersands, angle brackets', async () => {
      const customer = sandbox.db.arCustomer.rows.find((c) => /['&<"]/.test(String(c.Name)));
      assert.ok(customer, 'the seed has a customer with a quote, & or < in the name');
      const reader = readerFor(sandbox);
      const { rows } = await collect(
        reader.pages<{ Customer: string; Name: string }>('ArCustomer', {
          select: ['Customer', 'Name'],
          filter: eq('Name', customer.Name as string),
        }),
      );
      assert.ok(rows.length >= 1);
      assert.ok(rows.every((r) => r.Name === customer.Name));
      assert.ok(rows.some((r) => r.Customer === customer.Customer));
    });

    it('reads the rows of a long key list in URL-sized batches', async () => {
      const keys = sandbox.db.sorMaster.rows.filter((_, i) => i % 3 === 0).map((r) => r.SalesOrder as string);
      assert.ok(keys.length > 300);
      const reader = readerFor(sandbox, { maxUrlLength: 2000 });
      const { rows } = await collect(
        reader.pagesByKeys<{ SalesOrder: string }>('SorMaster', 'SalesOrder', [...keys, keys[0] as string], {
          select: ['SalesOrder'],
          orderBy: ['SalesOrder'],
        }),
      );
      assert.deepEqual(rows.map((r) => r.SalesOrder).sort(), [...keys].sort());
      assert.ok(reader.stats.requests > 10, `split into ${reader.stats.requests} requests`);
    });

    it('with keyList: in, reads the same rows of a key list in about a third of the requests', async () => {
      const keys = sandbox.db.sorMaster.rows.filter((_, i) => i % 3 === 0).map((r) => r.SalesOrder as string);
      const byOr = readerFor(sandbox, { maxUrlLength: 2000 });
      const byIn = readerFor(sandbox, { maxUrlLength: 2000, keyList: 'in' });
      const read = (reader: typeof byOr) =>
        collect(
          reader.pagesByKeys<{ SalesOrder: string }>('SorMaster', 'SalesOrder', keys, {
            select: ['SalesOrder'],
            orderBy: ['SalesOrder'],
          }),
        );
      const viaIn = await read(byIn);
      assert.deepEqual(viaIn.rows.map((r) => r.SalesOrder).sort(), [...keys].sort());
      assert.deepEqual(viaIn.rows, (await read(byOr)).rows);
      assert.ok(
        byIn.stats.requests * 2 < byOr.stats.requests,
        `in: ${byIn.stats.requests} requests, or: ${byOr.stats.requests}`,
      );
      assert.match(
        byIn.url('SorMaster', { filter: inList('SalesOrder', ['1', "2'"]) }),
        /SalesOrder%20in%20\('1'%2C'2'''\)/,
      );
    });

    it('combines a key list with another filter', async () => {
      const sample = sandbox.db.sorMaster.rows.slice(0, 50);
      const reader = readerFor(sandbox, { maxUrlLength: 1200 });
      const { rows } = await collect(
        reader.pagesByKeys<{ SalesOrder: string; OrderStatus: string }>(
          'SorMaster',
          'SalesOrder',
          sample.map((r) => r.SalesOrder as string),
          { select: ['SalesOrder', 'OrderStatus'], filter: oneOf('OrderStatus', ['1', '\\']) },
        ),
      );
      const expected = sample
        .filter((r) => r.OrderStatus === '1' || r.OrderStatus === '\\')
        .map((r) => r.SalesOrder);
      assert.deepEqual(rows.map((r) => r.SalesOrder).sort(), [...expected].sort());
    });
  });
}

describe('OData reader date literals', () => {
  const clock = new FakeClock();
  const sandboxes: SysproSandbox[] = [];
  after(async () => {
    for (const s of sandboxes) await s.close();
  });

  for (const dateType of ['DateTimeOffset', 'Date'] as const) {
    it(`filters OrderDate with the ${dateType} literal the site uses`, async () => {
      const sandbox = await startSysproSandbox({
        port: 0,
        clock,
        seed: 2,
        orders: 300,
        odataDateType: dateType,
        logger: false,
      });
      sandboxes.push(sandbox);
      const dates = sandbox.db.sorMaster.rows.map((r) => String(r.OrderDate)).sort();
      const middle = dates[Math.floor(dates.length / 2)] as string;
      const literal = dateType === 'Date' ? dateLiteral(middle) : dateTimeLiteral(`${middle}T00:00:00Z`);
      const reader = readerFor(sandbox);
      const { rows } = await collect(
        reader.pages<{ SalesOrder: string }>('SorMaster', {
          select: ['SalesOrder'],
          filter: and(ge('OrderDate', literal)),
        }),
      );
      const expected = sandbox.db.sorMaster.rows.filter((r) => String(r.OrderDate) >= middle).length;
      assert.equal(rows.length, expected);
    });
  }

  it('refuses bad credentials with an unauthorized error', async () => {
    const sandbox = await startSysproSandbox({ port: 0, clock, seed: 2, orders: 5, logger: false });
    sandboxes.push(sandbox);
    const reader = readerFor(sandbox, { password: 'wrong-password' });
    await assert.rejects(collect(reader.pages('SorMaster')), (e: unknown) => {
      assert.equal((e as { kind?: string }).kind, 'unauthorized');
      assert.ok(!(e as Error).message.includes('wrong-password'));
      return true;
    });
  });
});

describe('OData reader: a failed page is asked for again', () => {
  it('repeats a page that answered 500 or dropped the connection, not one that answered 401', async () => {
    const { createServer } = await import('node:http');
    const answers: Array<'500' | 'reset' | '401' | 'ok'> = ['500', 'reset', 'ok', '401'];
    const seen: string[] = [];
    const server = createServer((req, res) => {
      const next = answers.shift() ?? 'ok';
      seen.push(next);
      if (next === 'reset') req.socket.destroy();
      else if (next === '500') res.writeHead(500).end('{"error":{"code":"","message":"boom"}}');
      else if (next === '401') res.writeHead(401).end('{"error":{"code":"","message":"denied"}}');
      else
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"value":[{"SalesOrder":"000001"}]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const clock = new FakeClock();
    const slept: number[] = [];
    const sleepy = {
      now: () => clock.now(),
      sleep: async (ms: number) => {
        slept.push(ms);
      },
    };
    try {
      const reader = createODataReader({
        serviceUrl: `http://127.0.0.1:${port}/odata`,
        timeoutMs: 5000,
        clock: sleepy,
      });
      const { rows } = await collect(reader.pages('SorMaster', { select: ['SalesOrder'] }));
      assert.deepEqual(rows, [{ SalesOrder: '000001' }]);
      assert.deepEqual(seen, ['500', 'reset', 'ok']);
      assert.deepEqual(slept, [500, 1000]);
      await assert.rejects(collect(reader.pages('SorMaster', { select: ['SalesOrder'] })), /401/);
      assert.deepEqual(seen, ['500', 'reset', 'ok', '401'], 'a 401 is not asked again');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
