import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SysproSandbox, seedCompany, startSysproSandbox } from '../../../src/sandbox/syspro/index.js';
import { FakeClock } from '../../helpers/clock.js';
import { odata } from './enet-client.js';

const ROWS = 12_000;

describe('SYSPRO sandbox OData', () => {
  const clock = new FakeClock();
  let client: SysproSandbox; // client-driven paging ($top/$skip)
  let server: SysproSandbox; // server-driven paging (@odata.nextLink)

  before(async () => {
    const db = seedCompany({ seed: 5, orders: ROWS, now: clock.now() });
    client = await startSysproSandbox({ clock, db });
    server = await startSysproSandbox({ clock, db, odataNextLink: true });
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  type Page = { status: number; body: Record<string, unknown> };
  const values = (page: Page) => page.body.value as Array<Record<string, unknown>>;

  it('pages 12,000 rows with $top/$skip: each row exactly once, capped at 5,000 a request', async () => {
    for (const orderBy of ['', '&$orderby=Customer%20desc,OrderDate']) {
      const seen: string[] = [];
      for (let skip = 0; ; skip += 5000) {
        const page = await odata(client, `SorMaster?$select=SalesOrder&$top=5000&$skip=${skip}${orderBy}`);
        assert.equal(page.status, 200);
        assert.equal(page.body['@odata.nextLink'], undefined);
        seen.push(...values(page).map((r) => r.SalesOrder as string));
        if (values(page).length < 5000) break;
      }
      assert.equal(seen.length, ROWS, `rows ${orderBy || 'by key'}`);
      assert.equal(new Set(seen).size, ROWS, `no duplicates ${orderBy || 'by key'}`);
    }
    const big = await odata(client, 'SorMaster?$select=SalesOrder&$top=9000');
    assert.equal(values(big).length, 5000, 'a request returns at most 5,000 rows');
  });

  it('pages 12,000 rows by following @odata.nextLink: each row exactly once', async () => {
    for (const orderBy of ['', '&$orderby=OrderStatus']) {
      const seen: string[] = [];
      let next: string | undefined = `SorMaster?$select=SalesOrder${orderBy}`;
      let pages = 0;
      while (next) {
        const page: Page = await odata(server, next);
        assert.equal(page.status, 200);
        assert.ok(values(page).length <= 5000);
        seen.push(...values(page).map((r) => r.SalesOrder as string));
        next = page.body['@odata.nextLink'] as string | undefined;
        pages++;
      }
      assert.equal(pages, 3);
      assert.equal(seen.length, ROWS);
      assert.equal(new Set(seen).size, ROWS);
    }
    // $top is honoured across pages.
    const first = await odata(server, 'SorMaster?$select=SalesOrder&$top=7000');
    const second = await odata(server, first.body['@odata.nextLink'] as string);
    assert.equal(values(first).length + values(second).length, 7000);
    assert.equal(second.body['@odata.nextLink'], undefined);
  });

  it("filters on the backslash cancelled status written as OData requires ('\\' percent-encoded)", async () => {
    const expected = client.db.sorMaster.rows.filter((r) => r.OrderStatus === '\\').length;
    assert.ok(expected > 0);
    const page = await odata(
      client,
      `SorMaster?$filter=${encodeURIComponent("OrderStatus eq '\\'")}&$select=SalesOrder,OrderStatus&$top=5000`,
    );
    assert.equal(page.status, 200);
    assert.equal(values(page).length, Math.min(expected, 5000));
    assert.ok(values(page).every((r) => r.OrderStatus === '\\'));
    // Single quotes are doubled inside literals; the asterisk status works the same way.
    const star = await odata(
      client,
      `SorMaster?$filter=${encodeURIComponent("OrderStatus eq '*' or CustomerName eq 'O''Brien Ltd'")}&$select=OrderStatus,CustomerName`,
    );
    assert.ok(values(star).length > 0);
    assert.ok(values(star).every((r) => r.OrderStatus === '*' || r.CustomerName === "O'Brien Ltd"));
  });

  it('takes date and datetime literals, startswith, and/or; $select limits columns', async () => {
    const day = client.db.sorMaster.rows[100]?.OrderDate as string;
    const expected = client.db.sorMaster.rows.filter(
      (r) => (r.OrderDate as string) >= day && (r.OrderStatus === '1' || r.OrderStatus === '2'),
    ).length;
    const asDate = await odata(
      client,
      `SorMaster?$filter=${encodeURIComponent(`OrderDate ge ${day} and (OrderStatus eq '1' or OrderStatus eq '2')`)}&$top=5000&$select=SalesOrder,OrderDate`,
    );
    const asDateTime = await odata(
      client,
      `SorMaster?$filter=${encodeURIComponent(`OrderDate ge ${day}T00:00:00Z and (OrderStatus eq '1' or OrderStatus eq '2')`)}&$top=5000&$select=SalesOrder`,
    );
    assert.equal(values(asDate).length, Math.min(expected, 5000));
    assert.equal(values(asDateTime).length, values(asDate).length);
    assert.deepEqual(Object.keys(values(asDate)[0] ?? {}), ['SalesOrder', 'OrderDate']);
    assert.match(values(asDate)[0]?.OrderDate as string, /^\d{4}-\d{2}-\d{2}T00:00:00Z$/);
    const starts = await odata(
      client,
      `ArCustomer?$filter=${encodeURIComponent("startswith(Name,'Smith & Sons')")}&$select=Name`,
    );
    assert.ok(values(starts).length > 0);
    assert.ok(values(starts).every((r) => (r.Name as string).startsWith('Smith & Sons')));
  });

  it('answers errors in the OData JSON error shape, and 401 without OData-enabled Basic credentials', async () => {
    const unknown = await odata(client, `SorMaster?$filter=${encodeURIComponent("NoSuchColumn eq 'x'")}`);
    assert.equal(unknown.status, 400);
    assert.match(
      (unknown.body.error as { message: string }).message,
      /Could not find a property named 'NoSuchColumn'/,
    );
    const mismatch = await odata(
      client,
      `SorMaster?$filter=${encodeURIComponent("OrderDate eq '2026-01-01'")}`,
    );
    assert.equal(mismatch.status, 400);
    assert.match((mismatch.body.error as { message: string }).message, /incompatible types/);
    const noAuth = await odata(client, 'SorMaster?$top=1', `${client.operator}:wrong`);
    assert.equal(noAuth.status, 401);
    assert.ok(noAuth.body.error);
    const notOData = await odata(client, 'SorMaster?$top=1', 'JANE:jane');
    assert.equal(notOData.status, 401);
    const missing = await odata(client, 'NoSuchTable');
    assert.equal(missing.status, 404);
  });

  it('serves $metadata and a service document naming the tables', async () => {
    const response = await fetch(`${client.odataUrl}/$metadata`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${client.operator}:${client.operatorPassword}`).toString('base64')}`,
      },
    });
    const xml = await response.text();
    assert.match(xml, /<EntitySet Name="SorMaster" EntityType="SYSPRO.SorMaster"\/>/);
    assert.match(xml, /<Property Name="MShipQty" Type="Edm.Decimal"/);
    const root = await odata(client, '');
    assert.ok((root.body.value as Array<{ name: string }>).some((s) => s.name === 'InvWarehouse'));
  });

  it('answers key lists (eq … or …, in) from its index exactly as a scan, also after rows change', async () => {
    const db = client.db;
    const orders = db.sorMaster.rows.filter((_, i) => i % 97 === 0).map((r) => String(r.SalesOrder));
    // Case and trailing spaces do not matter (SQL Server collation); an unknown key finds nothing.
    const keys = [...orders.slice(0, 40), `${orders[0]}  `, 'NOPE'];
    const quoted = keys.map((k) => `'${k.replace(/'/g, "''")}'`);
    const orList = keys.map((_, i) => `SalesOrder eq ${quoted[i]}`).join(' or ');
    const read = async (filter: string) => {
      const page = await odata(
        client,
        `SorDetail?$select=SalesOrder,SalesOrderLine,MOrderQty&$orderby=SalesOrder,SalesOrderLine&$filter=${encodeURIComponent(filter)}`,
      );
      assert.equal(page.status, 200, JSON.stringify(page.body));
      return values(page);
    };
    // `not (not …)` is the same filter without a key list: the sandbox scans every row.
    const scanned = await read(`not (not (${orList}))`);
    assert.ok(scanned.length > 40);
    assert.deepEqual(await read(orList), scanned);
    assert.deepEqual(await read(`SalesOrder in (${quoted.join(',')})`), scanned);
    assert.deepEqual(
      await read(`(${orList}) and MOrderQty gt 1`),
      scanned.filter((r) => Number(r.MOrderQty) > 1),
      'the rest of the filter still applies',
    );
    // By the one-column key of a table (SorMaster.SalesOrder), upper or lower case.
    const headers = await odata(
      client,
      `SorMaster?$select=SalesOrder&$filter=${encodeURIComponent(`SalesOrder in (${quoted.join(',')})`)}`,
    );
    assert.equal(values(headers).length, 40);

    // A line added and one removed are seen by the index.
    const target = orders[1] as string;
    const lines = db.linesOf(target);
    const removed = lines[0];
    assert.ok(removed);
    db.sorDetail.delete(removed);
    db.sorDetail.insert({ ...removed, SalesOrderLine: 900 });
    try {
      const after = await read(`SalesOrder eq '${target.toLowerCase()}'`);
      assert.deepEqual(
        after.map((r) => r.SalesOrderLine),
        (await read(`not (not (SalesOrder eq '${target}'))`)).map((r) => r.SalesOrderLine),
      );
      assert.ok(after.some((r) => r.SalesOrderLine === 900));
      assert.ok(!after.some((r) => r.SalesOrderLine === removed.SalesOrderLine));
    } finally {
      const added = db.linesOf(target).find((l) => l.SalesOrderLine === 900);
      if (added) db.sorDetail.delete(added);
      db.sorDetail.insert(removed);
    }
  });
});
