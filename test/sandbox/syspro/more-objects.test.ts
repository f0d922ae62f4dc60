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

    it('gives 40 rows only for ReturnRows 30, the value seen on the wire; other values are honoured', async () => {
      const sizes: number[] = [];
      for (const returnRows of [30, 10, 35, 40, 1]) {
        sizes.push(browsePage(await browse(browseXml('SorMaster', '', '', returnRows))).rows.length);
      }
      assert.deepEqual(sizes, [40, 10, 35, 40, 1]);
      const noReturnRows = browsePage(await browse('<Browse><BrowseName>SorMaster</BrowseName></Browse>'));
      assert.equal(noReturnRows.rows.length, 30, 'without ReturnRows: 30 rows (the reference is silent)');
      const tenth = browsePage(await browse(browseXml('SorMaster', '', '', 10)));
      assert.equal(tenth.nextKey, '000011', 'NextKey follows the rows actually returned');
    });

    it('pages through InvWarehouse (two-part key) by the full key: every row exactly once, in OData order', async () => {
      const all = await odata(sandbox, 'InvWarehouse?$select=StockCode,Warehouse');
      const expected = rowsOf(all.body).map((r) => `${r.StockCode}/${r.Warehouse}`);
      assert.ok(expected.length > 40, `${expected.length} InvWarehouse rows: more than one page`);
      const stockCodes = [...new Set(rowsOf(all.body).map((r) => r.StockCode as string))];
      assert.ok(stockCodes.length < expected.length, 'some stock codes are in more than one warehouse');

      /** Follows NextKey from a start key until Fwd is False. */
      const pageAll = async (startAt: string) => {
        const seen: string[] = [];
        let key = startAt;
        for (let pageNo = 0; pageNo < 100; pageNo++) {
          const page = browsePage(await browse(browseXml('InvWarehouse', key)));
          assert.deepEqual(page.columns.slice(0, 2), ['StockCode', 'Warehouse']);
          const first = page.rows[0] as string[];
          assert.equal(
            page.prevKey,
            `${(first[0] as string).padEnd(30)}${first[1]}`,
            'PrevKey is the full key',
          );
          seen.push(...page.rows.map((r) => `${r[0]}/${r[1]}`));
          if (page.fwd === 'False') return seen;
          key = page.nextKey as string;
          assert.match(key, /^.{30}\S+$/, 'NextKey: stock code padded to 30, then the warehouse');
        }
        assert.fail('Fwd never became False');
      };
      const seen = await pageAll('');
      assert.equal(seen.length, expected.length, 'no row returned twice or skipped');
      assert.deepEqual(seen, expected);
      // From other starting stock codes the page boundaries fall elsewhere, some between two
      // warehouses of one stock code: still every row once.
      for (const stockCode of stockCodes.slice(1, 13)) {
        const from = expected.findIndex((k) => k.startsWith(`${stockCode}/`));
        assert.deepEqual(await pageAll(stockCode), expected.slice(from), `paging from ${stockCode}`);
      }

      // A full key with GT starts after that row; a stock code alone starts at its first warehouse.
      const twoWarehouses = rowsOf(all.body).find((r, i, rows) => rows[i + 1]?.StockCode === r.StockCode) as {
        StockCode: string;
        Warehouse: string;
      };
      const key = `${twoWarehouses.StockCode.padEnd(30)}${twoWarehouses.Warehouse}`;
      const at = expected.indexOf(`${twoWarehouses.StockCode}/${twoWarehouses.Warehouse}`);
      const gt = browsePage(await browse(browseXml('InvWarehouse', key, 'GT', 2)));
      assert.deepEqual(
        gt.rows.map((r) => `${r[0]}/${r[1]}`),
        expected.slice(at + 1, at + 3),
      );
      const byStock = browsePage(await browse(browseXml('InvWarehouse', twoWarehouses.StockCode, 'GE', 1)));
      assert.deepEqual(
        byStock.rows.map((r) => `${r[0]}/${r[1]}`),
        [expected[at]],
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
      assert.match(
        out,
        /<StatusOfItems><RecordsRead>1<\/RecordsRead><RecordsInvalid>0<\/RecordsInvalid><\/StatusOfItems>/,
        'setup counts are unpadded, as on the wire (reference §1.3)',
      );
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
      assert.match(out, /<RecordsRead>3<\/RecordsRead><RecordsInvalid>0<\/RecordsInvalid>/);
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
      assert.match(out, /<RecordsRead>3<\/RecordsRead><RecordsInvalid>3<\/RecordsInvalid>/);
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
        /<Order><CustomerPoNumber>PO-NONE<\/CustomerPoNumber><OrderActionType>C<\/OrderActionType><SalesOrder><Value>999999<\/Value><ErrorNumber>\d+<\/ErrorNumber><ErrorDescription>Sales order '999999' not found<\/ErrorDescription><\/SalesOrder><\/Order>/,
        'the failing SalesOrder element is replaced by its error group, in place',
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

  describe('SORTOI failed order output', () => {
    const orderBlocks = (xml: string) => [...xml.matchAll(/<Order>.*?<\/Order>/g)].map((m) => m[0]);
    const salesOrderElements = (block: string) => block.match(/<SalesOrder[ />]/g)?.length ?? 0;

    it('an order failing on SalesOrder shows only the error group: exactly one SalesOrder element', async () => {
      const unknown = await post(
        sandbox,
        userId,
        'SORTOI',
        IMPORT,
        '<SalesOrders><Orders><OrderHeader><CustomerPoNumber>PO-ONE-SO</CustomerPoNumber><OrderActionType>C</OrderActionType>' +
          '<SalesOrder>999998</SalesOrder></OrderHeader><OrderDetails/></Orders></SalesOrders>',
      );
      const [changeBlock] = orderBlocks(unknown);
      assert.equal(salesOrderElements(changeBlock ?? ''), 1, changeBlock);
      assert.doesNotMatch(changeBlock ?? '', /<SalesOrder\/>/);
      assert.match(changeBlock ?? '', /<SalesOrder><Value>999998<\/Value><ErrorNumber>\d+<\/ErrorNumber>/);

      // An add with a manual order number that already exists fails on SalesOrder too.
      const existing = sandbox.db.sorMaster.rows[0]?.SalesOrder as string;
      const customer = sandbox.db.arCustomer.rows.find((c) => c.CustomerOnHold === 'N')?.Customer as string;
      const stock = sandbox.db.invWarehouse.rows.find((r) => r.Warehouse === 'FG')?.StockCode as string;
      const manual = await post(
        sandbox,
        userId,
        'SORTOI',
        '<SalesOrders><Parameters><Process>Import</Process><AllowManualOrderNumberToBeUsed>Y</AllowManualOrderNumberToBeUsed></Parameters></SalesOrders>',
        `<SalesOrders><Orders><OrderHeader><CustomerPoNumber>PO-MANUAL-DUP</CustomerPoNumber><OrderActionType>A</OrderActionType><Customer>${customer}</Customer>` +
          `<SalesOrder>${existing}</SalesOrder></OrderHeader><OrderDetails><StockLine><StockCode>${stock}</StockCode><Warehouse>FG</Warehouse><OrderQty>1</OrderQty></StockLine></OrderDetails></Orders></SalesOrders>`,
      );
      const [addBlock] = orderBlocks(manual);
      assert.equal(salesOrderElements(addBlock ?? ''), 1, addBlock);
      assert.match(
        addBlock ?? '',
        new RegExp(`<OrderActionType>A</OrderActionType><SalesOrder><Value>${existing}</Value><ErrorNumber>`),
      );
      assert.match(manual, /<ItemsInvalid>000001<\/ItemsInvalid>/);
    });

    it('an order failing elsewhere keeps one empty <SalesOrder/>', async () => {
      const out = await post(
        sandbox,
        userId,
        'SORTOI',
        IMPORT,
        '<SalesOrders><Orders><OrderHeader><CustomerPoNumber>PO-NO-CUST</CustomerPoNumber><OrderActionType>A</OrderActionType>' +
          '<Customer>NOSUCHCUSTOMER</Customer></OrderHeader><OrderDetails/></Orders></SalesOrders>',
      );
      const [block] = orderBlocks(out);
      assert.equal(salesOrderElements(block ?? ''), 1, block);
      assert.match(
        block ?? '',
        /<OrderActionType>A<\/OrderActionType><SalesOrder\/><Customer><Value>NOSUCHCUSTOMER<\/Value>/,
      );
    });
  });

  describe('SORTOI change moves allocated stock (InvWarehouse.QtyAllocated)', () => {
    let salesOrder: string;
    let stockC: string;
    let stockD: string;

    const stockOf = async (code: string) => {
      const r = await odata(
        sandbox,
        `InvWarehouse?$filter=StockCode%20eq%20'${encodeURIComponent(code)}'%20and%20Warehouse%20eq%20'FG'&$select=QtyOnHand,QtyAllocated`,
      );
      assert.equal(r.status, 200);
      return rowsOf(r.body)[0] as { QtyOnHand: number; QtyAllocated: number };
    };
    const orderState = async () => {
      const header = await odata(
        sandbox,
        `SorMaster?$filter=SalesOrder%20eq%20'${salesOrder}'&$select=OrderStatus`,
      );
      const lines = await odata(
        sandbox,
        `SorDetail?$filter=SalesOrder%20eq%20'${salesOrder}'%20and%20LineType%20eq%20'1'&$select=SalesOrderLine,MOrderQty,MShipQty,MBackOrderQty`,
      );
      return { status: rowsOf(header.body)[0]?.OrderStatus, lines: rowsOf(lines.body) };
    };
    const changeLines = (details: string, parameters = IMPORT) =>
      post(
        sandbox,
        userId,
        'SORTOI',
        parameters,
        `<SalesOrders><Orders><OrderHeader><CustomerPoNumber>PO-ALLOC-1</CustomerPoNumber><OrderActionType>C</OrderActionType>` +
          `<SalesOrder>${salesOrder}</SalesOrder></OrderHeader><OrderDetails>${details}</OrderDetails></Orders></SalesOrders>`,
      );
    const qtyLine = (line: number, qty: number, extra = '') =>
      `<StockLine><LineActionType>C</LineActionType><SalesOrderLine>${line}</SalesOrderLine><OrderQty>${qty}</OrderQty>${extra}</StockLine>`;
    /** Leaves exactly `free` units available in FG for a stock code (test set-up, straight into the db). */
    const leaveAvailable = (code: string, free: number) => {
      const row = sandbox.db.invWarehouse.get(code, 'FG');
      if (!row) throw new Error(`no FG row for ${code}`);
      row.QtyOnHand = (row.QtyAllocated as number) + free;
    };

    before(async () => {
      const stocked = sandbox.db.invWarehouse.rows.filter((r) => r.Warehouse === 'FG');
      stockC = stocked[2]?.StockCode as string;
      stockD = stocked[3]?.StockCode as string;
      leaveAvailable(stockC, 100);
      leaveAvailable(stockD, 100);
      const customer = sandbox.db.arCustomer.rows.find((c) => c.CustomerOnHold === 'N')?.Customer as string;
      const beforeC = await stockOf(stockC);
      const beforeD = await stockOf(stockD);
      const add =
        `<SalesOrders><Orders><OrderHeader><CustomerPoNumber>PO-ALLOC-1</CustomerPoNumber><OrderActionType>A</OrderActionType>` +
        `<Customer>${customer}</Customer><OrderDate>2026-03-02</OrderDate></OrderHeader><OrderDetails>` +
        `<StockLine><StockCode>${stockC}</StockCode><Warehouse>FG</Warehouse><OrderQty>10</OrderQty><Price>1.00</Price></StockLine>` +
        `<StockLine><StockCode>${stockD}</StockCode><Warehouse>FG</Warehouse><OrderQty>4</OrderQty><Price>1.00</Price></StockLine>` +
        '</OrderDetails></Orders></SalesOrders>';
      assert.match(
        await post(sandbox, userId, 'SORTOI', IMPORT, add),
        /<ItemsProcessed>000001<\/ItemsProcessed>/,
      );
      const found = await odata(
        sandbox,
        `SorMaster?$filter=CustomerPoNumber%20eq%20'PO-ALLOC-1'&$select=SalesOrder`,
      );
      salesOrder = rowsOf(found.body)[0]?.SalesOrder as string;
      assert.equal((await stockOf(stockC)).QtyAllocated, beforeC.QtyAllocated + 10, 'create allocates');
      assert.equal((await stockOf(stockD)).QtyAllocated, beforeD.QtyAllocated + 4);
    });

    it('reducing a line quantity and deleting a line free their allocation', async () => {
      const beforeC = await stockOf(stockC);
      const beforeD = await stockOf(stockD);
      const out = await changeLines(
        `${qtyLine(1, 6)}<StockLine><LineActionType>D</LineActionType><SalesOrderLine>2</SalesOrderLine></StockLine>`,
      );
      assert.match(out, /<ItemsProcessed>000001<\/ItemsProcessed>/);
      assert.deepEqual(await stockOf(stockC), { ...beforeC, QtyAllocated: beforeC.QtyAllocated - 4 });
      assert.deepEqual(await stockOf(stockD), { ...beforeD, QtyAllocated: beforeD.QtyAllocated - 4 });
      assert.deepEqual(await orderState(), {
        status: '1',
        lines: [{ SalesOrderLine: 1, MOrderQty: 6, MShipQty: 6, MBackOrderQty: 0 }],
      });
    });

    it('a validated change moves no stock', async () => {
      const beforeC = await stockOf(stockC);
      await changeLines(qtyLine(1, 2), VALIDATE);
      await changeLines(qtyLine(1, 20), VALIDATE);
      assert.deepEqual(await stockOf(stockC), beforeC);
    });

    it('raising a line quantity allocates the increase when it is available', async () => {
      const beforeC = await stockOf(stockC);
      const out = await changeLines(qtyLine(1, 9));
      assert.doesNotMatch(out, /<Order>/, 'fully allocated: a clean change');
      assert.deepEqual(await stockOf(stockC), { ...beforeC, QtyAllocated: beforeC.QtyAllocated + 3 });
      assert.deepEqual(await orderState(), {
        status: '1',
        lines: [{ SalesOrderLine: 1, MOrderQty: 9, MShipQty: 9, MBackOrderQty: 0 }],
      });
    });

    it('an increase beyond available stock is back-ordered as on create (F, A), the order goes to status 2 and back', async () => {
      leaveAvailable(stockC, 2);
      const beforeC = await stockOf(stockC);
      // AllocationAction F (default): the increase of 5 is not fully available, so none is allocated.
      const full = await changeLines(qtyLine(1, 14));
      assert.ok(
        full.includes(
          `<SalesOrder>${salesOrder}</SalesOrder><BackOrderComment>One or more lines have been placed on back order for order '${salesOrder}'</BackOrderComment>` +
            `<WarningMessages><WarningDescription>Line 0001 for stock code '${stockC}' was placed on back order</WarningDescription></WarningMessages>`,
        ),
        full,
      );
      assert.deepEqual(await stockOf(stockC), beforeC);
      assert.deepEqual(await orderState(), {
        status: '2',
        lines: [{ SalesOrderLine: 1, MOrderQty: 14, MShipQty: 9, MBackOrderQty: 5 }],
      });

      // AllocationAction A on the line: the 2 available are allocated, the rest of the increase back-ordered.
      await changeLines(qtyLine(1, 17, '<AllocationAction>A</AllocationAction>'));
      assert.deepEqual(await stockOf(stockC), { ...beforeC, QtyAllocated: beforeC.QtyAllocated + 2 });
      assert.deepEqual(await orderState(), {
        status: '2',
        lines: [{ SalesOrderLine: 1, MOrderQty: 17, MShipQty: 11, MBackOrderQty: 6 }],
      });

      // Reducing takes the back order off first; with none left the order is open (1) again.
      await changeLines(qtyLine(1, 11));
      assert.deepEqual(await stockOf(stockC), { ...beforeC, QtyAllocated: beforeC.QtyAllocated + 2 });
      assert.deepEqual(await orderState(), {
        status: '1',
        lines: [{ SalesOrderLine: 1, MOrderQty: 11, MShipQty: 11, MBackOrderQty: 0 }],
      });

      // Then the allocation itself, and AllocationAction B back-orders the whole increase.
      await changeLines(qtyLine(1, 5));
      assert.deepEqual(await stockOf(stockC), { ...beforeC, QtyAllocated: beforeC.QtyAllocated - 4 });
      await changeLines(
        qtyLine(1, 7),
        '<SalesOrders><Parameters><Process>Import</Process><AllocationAction>B</AllocationAction></Parameters></SalesOrders>',
      );
      assert.deepEqual(await stockOf(stockC), { ...beforeC, QtyAllocated: beforeC.QtyAllocated - 4 });
      assert.deepEqual(await orderState(), {
        status: '2',
        lines: [{ SalesOrderLine: 1, MOrderQty: 7, MShipQty: 5, MBackOrderQty: 2 }],
      });
    });
    it('lines of one document share what is available: a raised line and an added line never allocate it twice', async () => {
      leaveAvailable(stockC, 3);
      const beforeC = await stockOf(stockC);
      // Line 1 goes from 7 to 10 (3 more, all available); a new line for 3 more of the same stock
      // finds nothing left and is back-ordered (AllocationAction F).
      const out = await changeLines(
        `${qtyLine(1, 10)}<StockLine><LineActionType>A</LineActionType><StockCode>${stockC}</StockCode>` +
          '<Warehouse>FG</Warehouse><OrderQty>3</OrderQty><Price>1.00</Price></StockLine>',
      );
      assert.deepEqual(await stockOf(stockC), { ...beforeC, QtyAllocated: beforeC.QtyAllocated + 3 });
      const state = await orderState();
      const added = String(state.lines[1]?.SalesOrderLine).padStart(4, '0');
      assert.ok(
        out.includes(
          `<WarningMessages><WarningDescription>Line ${added} for stock code '${stockC}' was placed on back order</WarningDescription></WarningMessages>`,
        ),
        out,
      );
      assert.equal(state.status, '2');
      assert.deepEqual(
        state.lines.map((l) => [l.MShipQty, l.MBackOrderQty]),
        [
          [8, 2],
          [0, 3],
        ],
      );
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
