/**
 * Contract tests over real HTTP for sandbox behaviours the other files do not cover:
 * - COMBRW through `Query/Browse` (reference §2.1): row shape, `<NextPrevKey>` paging, the
 *   "40 rows for ReturnRows 30" quirk;
 * - COMSFM through `Setup/Update` (§2.4 option 3): values read back through SORQRY
 *   IncludeCustomForms and OData AdmFormData; `ValidateOnly=Y` and invalid items change nothing;
 * - SORTOI `OrderActionType` C (§2.3): header and line changes seen through SORQRY and OData,
 *   SYSPRO's in-XmlOut validation errors for an unknown order or line;
 * - latency faults (docs/sandbox-syspro.md), timed on the fake clock the sandbox sleeps on, and
 *   once on real timers for faults given as options.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import {
  parseFaultFlags,
  type SysproSandbox,
  startSysproSandbox,
} from '../../../src/sandbox/syspro/index.js';
import { FakeClock } from '../../helpers/clock.js';
import { enet, logon, odata, post, queryObject, SORQRY_ALL, xmlValue } from './enet-client.js';

const IMPORT = '<SalesOrders><Parameters><Process>Import</Process></Parameters></SalesOrders>';
const VALIDATE = '<SalesOrders><Parameters><Process>Validate</Process></Parameters></SalesOrders>';
const SETUP = (validateOnly: 'Y' | 'N') =>
  `<SetupCustomForm><Parameters><ValidateOnly>${validateOnly}</ValidateOnly></Parameters></SetupCustomForm>`;

interface BrowsePage {
  rows: string[][];
  prevKey: string | undefined;
  nextKey: string | undefined;
  fwd: string | undefined;
  back: string | undefined;
  columns: string[];
}

/** Splits a COMBRW XmlOut into its rows (Col values, unescaped only as far as tests need). */
function browsePage(xml: string): BrowsePage {
  const rows = [...xml.matchAll(/<Row>(.*?)<\/Row>/g)].map((row) =>
    [...(row[1] as string).matchAll(/<Col><Value>([^<]*)<\/Value>|<Col><Value\/>/g)].map((m) => m[1] ?? ''),
  );
  const nextPrev = /<NextPrevKey>.*<\/NextPrevKey>/.exec(xml)?.[0] ?? '';
  const header = /<HeaderDetails>.*<\/HeaderDetails>/.exec(xml)?.[0] ?? '';
  return {
    rows,
    prevKey: xmlValue(nextPrev, 'PrevKey'),
    nextKey: xmlValue(nextPrev, 'NextKey'),
    fwd: xmlValue(nextPrev, 'Fwd'),
    back: xmlValue(nextPrev, 'Back'),
    columns: [...header.matchAll(/<Column><Name>([^<]*)<\/Name>/g)].map((m) => m[1] as string),
  };
}

const rowsOf = (body: Record<string, unknown>) => body.value as Array<Record<string, unknown>>;

async function timedOnClock<T>(clock: FakeClock, call: () => Promise<T>): Promise<[T, number]> {
  const start = clock.now();
  const result = await call();
  return [result, clock.now() - start];
}

describe('SYSPRO sandbox: browse, custom form update, order change, latency', () => {
  const clock = new FakeClock(Date.parse('2026-03-02T09:00:00Z'));
  let sandbox: SysproSandbox;
  let userId: string;

  before(async () => {
    sandbox = await startSysproSandbox({ clock, seed: 13, orders: 150 });
    userId = await logon(sandbox);
  });
  after(async () => {
    await enet(sandbox, 'Logoff', { UserId: userId });
    await sandbox.close();
  });

  const browse = (xmlIn: string) => enet(sandbox, 'Query/Browse', { UserId: userId, XmlIn: xmlIn });
  const browseXml = (table: string, startAtKey = '', condition = '', returnRows = 30) =>
    `<Browse><BrowseName>${table}</BrowseName><StartAtKey>${startAtKey}</StartAtKey>` +
    `<StartCondition>${condition}</StartCondition><ReturnRows>${returnRows}</ReturnRows></Browse>`;

  describe('COMBRW (Query/Browse)', () => {
    it('returns a whole small table as Row/Col/Value/DataType, then NextPrevKey and HeaderDetails', async () => {
      const xml = await browse(browseXml('InvWhControl'));
      assert.match(xml, /^<\?xml version="1.0" encoding="Windows-1252"\?>\n<Browse Language='05' /);
      assert.match(
        xml,
        /<\/Row><NextPrevKey>.*<\/NextPrevKey><HeaderDetails><BrowseName>InvWhControl<\/BrowseName>/,
        'rows first, then NextPrevKey, then HeaderDetails',
      );
      const page = browsePage(xml);
      assert.deepEqual(page.columns, ['Warehouse', 'Description']);
      const warehouses = await odata(sandbox, 'InvWhControl?$select=Warehouse,Description');
      assert.deepEqual(
        page.rows,
        rowsOf(warehouses.body).map((w) => [w.Warehouse, String(w.Description).replace(/&/g, '&amp;')]),
        'the browse rows are the table rows, in key order, values XML-escaped',
      );
      assert.equal(xml.match(/<DataType>AlphaNumeric<\/DataType>/g)?.length, page.rows.length * 2 + 2);
      assert.deepEqual([page.prevKey, page.nextKey, page.fwd, page.back], ['E', '', 'False', 'False']);
    });

    it('pages through SorMaster with NextKey until Fwd is False, every order exactly once', async () => {
      const all = await odata(sandbox, 'SorMaster?$select=SalesOrder');
      const expected = rowsOf(all.body).map((r) => r.SalesOrder as string);
      assert.equal(expected.length, 150);
      const seen: string[] = [];
      const pageSizes: number[] = [];
      let startAt = '';
      for (let pageNo = 0; pageNo < 10; pageNo++) {
        const page = browsePage(await browse(browseXml('SorMaster', startAt)));
        pageSizes.push(page.rows.length);
        assert.equal(page.prevKey, page.rows[0]?.[0], 'PrevKey is the first key of the page');
        assert.equal(page.back, pageNo === 0 ? 'False' : 'True');
        seen.push(...page.rows.map((r) => r[0] as string));
        if (page.fwd === 'False') {
          assert.equal(page.nextKey, '');
          break;
        }
        assert.equal(page.fwd, 'True');
        assert.ok(page.nextKey, 'a page with more to come names the next key');
        startAt = page.nextKey as string;
      }
      assert.deepEqual(pageSizes, [40, 40, 40, 30], 'ReturnRows 30 gives 40 rows, as seen on the wire');
      assert.deepEqual(seen, expected);
    });

    it('honours a larger ReturnRows, StartCondition GT, and refuses an unknown table', async () => {
      const big = browsePage(await browse(browseXml('SorMaster', '', '', 55)));
      assert.equal(big.rows.length, 55);
      const ge = browsePage(await browse(browseXml('SorMaster', '000010', 'GE')));
      const gt = browsePage(await browse(browseXml('SorMaster', '000010', 'GT')));
      assert.equal(ge.rows[0]?.[0], '000010');
      assert.equal(gt.rows[0]?.[0], '000011');
      assert.equal(gt.back, 'True');
      assert.equal(
        await browse(browseXml('NoSuchTable')),
        "ERROR: Table 'NoSuchTable' is not a valid table name",
      );
    });
  });

  describe('COMSFM (Setup/Update)', () => {
    let salesOrder: string;

    before(() => {
      salesOrder = sandbox.db.sorMaster.rows.find((r) => r.OrderStatus === '1')?.SalesOrder as string;
    });

    const update = (validateOnly: 'Y' | 'N', items: string) =>
      enet(sandbox, 'Setup/Update', {
        UserId: userId,
        BusinessObject: 'COMSFM',
        XmlParameters: SETUP(validateOnly),
        XmlIn: `<SetupCustomForm>${items}</SetupCustomForm>`,
      });
    const item = (keyField: string, field: string, value: string) =>
      `<Item><Key><FormType>ORD</FormType><KeyField>${keyField}</KeyField><FieldName>${field}</FieldName></Key>${value}</Item>`;
    const formData = async () => {
      const r = await odata(
        sandbox,
        `AdmFormData?$filter=FormType%20eq%20'ORD'%20and%20KeyField%20eq%20'${salesOrder}'` +
          '&$select=FieldName,AlphaValue,NumericValue,DateValue&$orderby=FieldName',
      );
      assert.equal(r.status, 200);
      return rowsOf(r.body);
    };
    const customForm = async () => {
      const xml = await queryObject(
        sandbox,
        userId,
        'SORQRY',
        `<Query><Key><SalesOrder>${salesOrder}</SalesOrder></Key><Option><IncludeCustomForms>Y</IncludeCustomForms></Option></Query>`,
      );
      return /<CustomForm>.*<\/CustomForm>|<CustomForm\/>/.exec(xml)?.[0];
    };

    it('ValidateOnly=Y validates the items and stores nothing', async () => {
      const out = await update('Y', item(salesOrder, 'TRACKNO', '<AlphaValue>1ZDRYRUN</AlphaValue>'));
      assert.match(out, /<setupcustomform Language='05' /, 'setup output is lower-case');
      assert.match(out, /<RecordsRead>0*1<\/RecordsRead><RecordsInvalid>0*0<\/RecordsInvalid>/);
      assert.deepEqual(await formData(), []);
      assert.equal(await customForm(), '<CustomForm/>');
    });

    it('stores alpha, numeric and date fields (unpadded key accepted), seen through OData and SORQRY', async () => {
      const out = await update(
        'N',
        item(String(Number(salesOrder)), 'TRACKNO', '<AlphaValue>1Z111</AlphaValue>') +
          item(salesOrder, 'shipcost', '<NumericValue>12.50</NumericValue>') +
          item(salesOrder, 'SHIPDATE', '<DateValue>2026-03-01</DateValue>'),
      );
      assert.match(out, /<RecordsRead>0*3<\/RecordsRead><RecordsInvalid>0*0<\/RecordsInvalid>/);
      assert.doesNotMatch(out, /<ErrorNumber>/);
      assert.deepEqual(await formData(), [
        { FieldName: 'SHIPCOST', AlphaValue: '', NumericValue: 12.5, DateValue: null },
        { FieldName: 'SHIPDATE', AlphaValue: '', NumericValue: 0, DateValue: '2026-03-01T00:00:00Z' },
        { FieldName: 'TRACKNO', AlphaValue: '1Z111', NumericValue: 0, DateValue: null },
      ]);
      const form = await customForm();
      assert.match(form ?? '', /<Field><FieldName>TRACKNO<\/FieldName><Value>1Z111<\/Value><\/Field>/);
      assert.match(form ?? '', /<Field><FieldName>SHIPCOST<\/FieldName><Value>12.5<\/Value><\/Field>/);
      assert.match(form ?? '', /<Field><FieldName>SHIPDATE<\/FieldName><Value>2026-03-01<\/Value><\/Field>/);
    });

    it('updating an existing field replaces its value in place; a dry run of another value keeps it', async () => {
      await update('N', item(salesOrder, 'TRACKNO', '<AlphaValue>1Z222</AlphaValue>'));
      await update('Y', item(salesOrder, 'TRACKNO', '<AlphaValue>1Z333</AlphaValue>'));
      const tracking = (await formData()).filter((r) => r.FieldName === 'TRACKNO');
      assert.deepEqual(
        tracking.map((r) => r.AlphaValue),
        ['1Z222'],
      );
      assert.match((await customForm()) ?? '', /<FieldName>TRACKNO<\/FieldName><Value>1Z222<\/Value>/);
    });

    it('reports a bad date, an undefined field and an unknown order inside the XmlOut, storing none', async () => {
      const out = await update(
        'N',
        item(salesOrder, 'SHIPDATE', '<DateValue>2026-02-30</DateValue>') +
          item(salesOrder, 'NOSUCHFIELD', '<AlphaValue>x</AlphaValue>') +
          item('999999', 'TRACKNO', '<AlphaValue>1Z444</AlphaValue>'),
      );
      assert.match(out, /<RecordsRead>0*3<\/RecordsRead><RecordsInvalid>0*3<\/RecordsInvalid>/);
      assert.match(out, /<datevalue><Value>2026-02-30<\/Value><ErrorNumber>100028<\/ErrorNumber>/i);
      assert.match(out, /<fieldname><Value>NOSUCHFIELD<\/Value><ErrorNumber>\d+<\/ErrorNumber>/i);
      assert.match(out, /<keyfield><Value>999999<\/Value><ErrorNumber>\d+<\/ErrorNumber>/i);
      const shipDate = (await formData()).find((r) => r.FieldName === 'SHIPDATE');
      assert.equal(shipDate?.DateValue, '2026-03-01T00:00:00Z');
      const elsewhere = await odata(sandbox, `AdmFormData?$filter=AlphaValue%20eq%20'1Z444'`);
      assert.deepEqual(rowsOf(elsewhere.body), []);
    });
  });

  describe('SORTOI change (OrderActionType C)', () => {
    let salesOrder: string;
    let stockA: string;
    let stockB: string;

    before(async () => {
      const stocked = sandbox.db.invWarehouse.rows.filter((r) => r.Warehouse === 'FG');
      for (const row of stocked.slice(0, 2)) row.QtyOnHand = (row.QtyAllocated as number) + 500;
      stockA = stocked[0]?.StockCode as string;
      stockB = stocked[1]?.StockCode as string;
      const customer = sandbox.db.arCustomer.rows.find((c) => c.CustomerOnHold === 'N')?.Customer as string;
      const add =
        `<SalesOrders><Orders><OrderHeader><CustomerPoNumber>PO-CHANGE-1</CustomerPoNumber><OrderActionType>A</OrderActionType>` +
        `<Customer>${customer}</Customer><OrderDate>2026-03-02</OrderDate><ShipAddress1>1 Old Road</ShipAddress1></OrderHeader><OrderDetails>` +
        `<StockLine><LineActionType>A</LineActionType><StockCode>${stockA}</StockCode><Warehouse>FG</Warehouse><OrderQty>10</OrderQty><Price>12.50</Price></StockLine>` +
        `<StockLine><LineActionType>A</LineActionType><StockCode>${stockB}</StockCode><Warehouse>FG</Warehouse><OrderQty>4</OrderQty><Price>3.00</Price></StockLine>` +
        `<FreightLine><FreightValue>9.95</FreightValue></FreightLine>` +
        `<CommentLine><Comment>first comment</Comment></CommentLine></OrderDetails></Orders></SalesOrders>`;
      assert.match(
        await post(sandbox, userId, 'SORTOI', IMPORT, add),
        /<ItemsProcessed>000001<\/ItemsProcessed>/,
      );
      const found = await odata(
        sandbox,
        `SorMaster?$filter=CustomerPoNumber%20eq%20'PO-CHANGE-1'&$select=SalesOrder`,
      );
      salesOrder = rowsOf(found.body)[0]?.SalesOrder as string;
      assert.match(salesOrder, /^\d{6}$/);
    });

    const change = (order: string, header: string, details: string, po = 'PO-CHANGE-1') =>
      `<SalesOrders><Orders><OrderHeader><CustomerPoNumber>${po}</CustomerPoNumber><OrderActionType>C</OrderActionType>` +
      `<SalesOrder>${order}</SalesOrder>${header}</OrderHeader><OrderDetails>${details}</OrderDetails></Orders></SalesOrders>`;
    const lines = async () => {
      const r = await odata(
        sandbox,
        `SorDetail?$filter=SalesOrder%20eq%20'${salesOrder}'&$select=SalesOrderLine,LineType,MStockCode,MOrderQty,MShipQty,MBackOrderQty,MPrice,NMscChargeValue,NComment`,
      );
      return rowsOf(r.body);
    };

    it('a validated change changes nothing', async () => {
      const before = await lines();
      const out = await post(
        sandbox,
        userId,
        'SORTOI',
        VALIDATE,
        change(
          salesOrder,
          '<ShipAddress1>Validated Street</ShipAddress1>',
          '<StockLine><LineActionType>C</LineActionType><SalesOrderLine>1</SalesOrderLine><OrderQty>2</OrderQty></StockLine>',
        ),
      );
      assert.match(out, /<ValidationStatus><Status>Successful<\/Status><\/ValidationStatus>/);
      assert.deepEqual(await lines(), before);
      const header = await odata(
        sandbox,
        `SorMaster?$filter=SalesOrder%20eq%20'${salesOrder}'&$select=ShipAddress1`,
      );
      assert.deepEqual(rowsOf(header.body)[0], { ShipAddress1: '1 Old Road' });
    });

    it('changes header fields and lines, deletes and adds lines; SORQRY and OData show the result', async () => {
      const out = await post(
        sandbox,
        userId,
        'SORTOI',
        IMPORT,
        change(
          // The order number without its zero padding, as SYSPRO also accepts.
          String(Number(salesOrder)),
          '<ShipAddress1>9 New Street</ShipAddress1><ShippingInstrs>FedEx Ground</ShippingInstrs><RequestedShipDate>2026-03-09</RequestedShipDate>',
          '<StockLine><LineActionType>C</LineActionType><SalesOrderLine>1</SalesOrderLine><OrderQty>6</OrderQty><Price>11.00</Price></StockLine>' +
            '<StockLine><LineActionType>D</LineActionType><SalesOrderLine>2</SalesOrderLine></StockLine>' +
            '<FreightLine><LineActionType>C</LineActionType><SalesOrderLine>3</SalesOrderLine><FreightValue>12.00</FreightValue></FreightLine>' +
            '<CommentLine><LineActionType>A</LineActionType><Comment>changed by e.net</Comment></CommentLine>',
        ),
      );
      assert.doesNotMatch(out, /<Order>/, 'a clean change, like a clean import, has no <Order> block');
      assert.match(out, /<ItemsProcessed>000001<\/ItemsProcessed>/);

      const header = await odata(
        sandbox,
        `SorMaster?$filter=SalesOrder%20eq%20'${salesOrder}'&$select=ShipAddress1,ShippingInstrs,ReqShipDate,LastOperator,NextDetailLine`,
      );
      assert.deepEqual(rowsOf(header.body)[0], {
        ShipAddress1: '9 New Street',
        ShippingInstrs: 'FedEx Ground',
        ReqShipDate: '2026-03-09T00:00:00Z',
        LastOperator: sandbox.operator,
        NextDetailLine: 6,
      });
      assert.deepEqual(await lines(), [
        {
          SalesOrderLine: 1,
          LineType: '1',
          MStockCode: stockA,
          MOrderQty: 6,
          MShipQty: 6,
          MBackOrderQty: 0,
          MPrice: 11,
          NMscChargeValue: 0,
          NComment: '',
        },
        {
          SalesOrderLine: 3,
          LineType: '4',
          MStockCode: '',
          MOrderQty: 0,
          MShipQty: 0,
          MBackOrderQty: 0,
          MPrice: 0,
          NMscChargeValue: 12,
          NComment: '',
        },
        {
          SalesOrderLine: 4,
          LineType: '6',
          MStockCode: '',
          MOrderQty: 0,
          MShipQty: 0,
          MBackOrderQty: 0,
          MPrice: 0,
          NMscChargeValue: 0,
          NComment: 'first comment',
        },
        {
          SalesOrderLine: 5,
          LineType: '6',
          MStockCode: '',
          MOrderQty: 0,
          MShipQty: 0,
          MBackOrderQty: 0,
          MPrice: 0,
          NMscChargeValue: 0,
          NComment: 'changed by e.net',
        },
      ]);

      const xml = await queryObject(sandbox, userId, 'SORQRY', SORQRY_ALL(salesOrder));
      assert.equal(xmlValue(xml, 'ShipAddress1'), '9 New Street');
      assert.equal(xmlValue(xml, 'ShippingInstrs'), 'FedEx Ground');
      assert.equal(xmlValue(xml, 'ReqShipDate'), '2026-03-09');
      assert.equal(xml.match(/<Merchandise>/g)?.length, 1, 'the deleted line is gone');
      assert.doesNotMatch(xml, new RegExp(`<MStockCode>${stockB}</MStockCode>`));
      assert.equal(xmlValue(xml, 'MOrderQty'), `6.000 ${sandbox.db.invMaster.get(stockA)?.StockUom}`);
      assert.equal(xmlValue(xml, 'MPrice'), '11.00000');
      assert.equal(xmlValue(xml, 'NMscChargeValue'), '12.00');
      assert.match(
        xml,
        /<CommentLine><SalesOrderLine> *5<\/SalesOrderLine><LineType>6<\/LineType><NComment>changed by e.net<\/NComment>/,
      );
    });

    it('a change of an unknown order or line is refused with element errors, and nothing is applied', async () => {
      const unknown = await post(
        sandbox,
        userId,
        'SORTOI',
        IMPORT,
        change('999999', '<ShipAddress1>Nowhere</ShipAddress1>', '', 'PO-NONE'),
      );
      assert.match(
        unknown,
        /<Order><CustomerPoNumber>PO-NONE<\/CustomerPoNumber><OrderActionType>C<\/OrderActionType><SalesOrder\/>/,
      );
      assert.match(
        unknown,
        /<SalesOrder><Value>999999<\/Value><ErrorNumber>\d+<\/ErrorNumber><ErrorDescription>Sales order &apos;999999&apos; not found<\/ErrorDescription><\/SalesOrder>/,
      );
      assert.match(unknown, /<ItemsProcessed>000000<\/ItemsProcessed><ItemsInvalid>000001<\/ItemsInvalid>/);
      assert.equal(sandbox.calls.list({ businessObject: 'SORTOI' }).at(-1)?.outcome, 'invalid');

      const before = await lines();
      const badLine = await post(
        sandbox,
        userId,
        'SORTOI',
        IMPORT,
        change(
          salesOrder,
          '<ShipAddress1>Should Not Land</ShipAddress1>',
          '<StockLine><LineActionType>C</LineActionType><SalesOrderLine>1</SalesOrderLine><OrderQty>7</OrderQty></StockLine>' +
            '<StockLine><LineActionType>C</LineActionType><SalesOrderLine>42</SalesOrderLine><OrderQty>1</OrderQty></StockLine>',
        ),
      );
      assert.match(badLine, /<SalesOrderLine><Value>42<\/Value><ErrorNumber>\d+<\/ErrorNumber>/);
      assert.match(badLine, /<ItemsInvalid>000001<\/ItemsInvalid>/);
      assert.deepEqual(await lines(), before, 'the valid line change of a refused order is not applied');
      const xml = await queryObject(sandbox, userId, 'SORQRY', SORQRY_ALL(salesOrder));
      assert.equal(xmlValue(xml, 'ShipAddress1'), '9 New Street');

      const cancelled = sandbox.db.sorMaster.rows.find((r) => r.OrderStatus === '\\')?.SalesOrder as string;
      const closed = await post(
        sandbox,
        userId,
        'SORTOI',
        IMPORT,
        change(cancelled, '<ShipAddress1>Too Late</ShipAddress1>', '', 'PO-CLOSED'),
      );
      assert.match(
        closed,
        new RegExp(`<SalesOrder><Value>${cancelled}</Value><ErrorNumber>\\d+</ErrorNumber>`),
      );
      assert.notEqual(sandbox.db.sorMaster.get(cancelled)?.ShipAddress1, 'Too Late');
    });
  });

  describe('latency faults (fake clock)', () => {
    after(() => sandbox.setFaults({}));

    it('delays one business object, every request, and logon by the configured time', async () => {
      const put = await fetch(`${sandbox.url}/_sandbox/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ flags: ['latency:SORQRY=5000', 'latency=250', 'latency:LOGON=1000'] }),
      });
      assert.equal(put.status, 200);
      assert.deepEqual(await put.json(), { objectLatencyMs: { SORQRY: 5000, LOGON: 1000 }, latencyMs: 250 });

      const order = sandbox.db.sorMaster.rows[0]?.SalesOrder as string;
      const startedAt = clock.now();
      const [xml, sorqry] = await timedOnClock(clock, () =>
        queryObject(sandbox, userId, 'SORQRY', SORQRY_ALL(order)),
      );
      assert.equal(xmlValue(xml, 'SalesOrder'), order, 'a slow call still answers');
      assert.ok(sorqry >= 5250, `SORQRY took ${sorqry} ms of sandbox time`);
      const call = sandbox.calls.list({ businessObject: 'SORQRY' }).at(-1);
      assert.ok((call?.at ?? 0) >= startedAt + 5250, 'the call was handled after the delay');

      const [, other] = await timedOnClock(clock, () =>
        queryObject(
          sandbox,
          userId,
          'COMFND',
          '<Query><TableName>InvWhControl</TableName><ReturnRows>1</ReturnRows></Query>',
        ),
      );
      assert.ok(other >= 250 && other < 5000, `COMFND took ${other} ms: the global delay only`);
      const [response, od] = await timedOnClock(clock, () => odata(sandbox, 'InvWhControl?$top=1'));
      assert.equal(response.status, 200);
      assert.ok(od >= 250 && od < 5000, `OData took ${od} ms`);
      const [second, logonMs] = await timedOnClock(clock, () => logon(sandbox, 'ADMIN', 'admin'));
      assert.match(second, /^[0-9A-F]{34} {2}$/);
      assert.ok(logonMs >= 1250, `Logon took ${logonMs} ms`);
      await enet(sandbox, 'Logoff', { UserId: second });

      const cleared = await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
      assert.equal(cleared.status, 204);
      const [, fast] = await timedOnClock(clock, () =>
        queryObject(sandbox, userId, 'SORQRY', SORQRY_ALL(order)),
      );
      assert.equal(fast, 0, 'without latency faults no sandbox time passes');
    });
  });
});

describe('SYSPRO sandbox: latency faults given as options (real timers)', () => {
  let sandbox: SysproSandbox;

  before(async () => {
    // No clock: the sandbox waits with setTimeout. 155 ms leaves room for timer rounding.
    sandbox = await startSysproSandbox({
      seed: 2,
      orders: 20,
      faults: parseFaultFlags(['latency:ODATA=155', 'latency:GETVERSION=155']),
    });
  });
  after(() => sandbox.close());

  it('an OData request and an e.net call take at least the configured latency', async () => {
    assert.deepEqual(sandbox.faults.objectLatencyMs, { ODATA: 155, GETVERSION: 155 });
    let start = performance.now();
    const response = await odata(sandbox, 'SorMaster?$top=1&$select=SalesOrder');
    const odataMs = performance.now() - start;
    assert.equal(response.status, 200);
    assert.ok(odataMs >= 150, `OData took ${odataMs.toFixed(1)} ms`);
    start = performance.now();
    const version = await fetch(`${sandbox.enetUrl}/GetVersion`).then((r) => r.text());
    const enetMs = performance.now() - start;
    assert.match(version, /^\d+\.\d+\.\d+\.\d+$/);
    assert.ok(enetMs >= 150, `GetVersion took ${enetMs.toFixed(1)} ms`);
  });
});
