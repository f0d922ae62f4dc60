/**
 * The sandbox's wire text where shipment write-back depends on it, asserted exactly: element text
 * escaped as SYSPRO does (`&` and `<` only), SYSPRO-worded back-order and dispatch texts, the
 * SORQDN root `DispatchNoteDetail`, SORQRY without an empty `<SalesOrderLine>` and with
 * `TimeDelPrtedHh`/`Mm` `00`, and the `Post…` outputs in proper or lower case.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SysproSandbox, startSysproSandbox } from '../../../src/sandbox/syspro/index.js';
import { buildXmlOut, el, escapeAttribute, escapeText, group } from '../../../src/sandbox/syspro/xml.js';
import { FakeClock } from '../../helpers/clock.js';
import { enet, logon, odata, post, queryObject, SORQRY_ALL, xmlValue } from './enet-client.js';

const IMPORT = '<SalesOrders><Parameters><Process>Import</Process></Parameters></SalesOrders>';
const DN_PARAMS =
  '<PostDispatchNotes><Parameters><ValidateOnly>N</ValidateOnly></Parameters></PostDispatchNotes>';
const ROOT_ATTRS = "Language='05' Language2='EN' CssStyle='' DecFormat='1' DateFormat='01' Role='01'";
const NO_LINES =
  '<Option><IncludeStockedLines>N</IncludeStockedLines><IncludeNonStockedLines>N</IncludeNonStockedLines>' +
  '<IncludeFreightLines>N</IncludeFreightLines><IncludeMiscLines>N</IncludeMiscLines>' +
  '<IncludeCommentLines>N</IncludeCommentLines><XslStylesheet/></Option>';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('SYSPRO sandbox XML writing', () => {
  it('escapes only & and < in element text, and quotes as well in attribute values', () => {
    assert.equal(escapeText(`O'Brien & <Sons> "Ltd"`), `O'Brien &amp; &lt;Sons> "Ltd"`);
    // `]]>` may not appear raw in XML text: its `>` is the one escaped.
    assert.equal(escapeText('a]]>b > c'), 'a]]&gt;b > c');
    assert.equal(escapeAttribute(`8.0'1"&<`), '8.0&apos;1&quot;&amp;&lt;');
    const xml = buildXmlOut({ name: 'Test', version: "1'2" }, [
      el('Text', `it's "x" > y & z < w`),
      el('Empty', ''),
      group('Group', []),
    ]);
    assert.equal(
      xml,
      `<?xml version="1.0" encoding="Windows-1252"?>\n<Test ${ROOT_ATTRS} Version='1&apos;2' OperatorPrimaryRole='   '>\n` +
        `<Text>it's "x" > y &amp; z &lt; w</Text><Empty/><Group/>\n</Test>\n `,
    );
  });

  it('writes a lower-case document on request (root and every element)', () => {
    const xml = buildXmlOut({ name: 'PostDispatchNotes', version: '8.0.009', lowerCase: true }, [
      group('Item', [el('SalesOrder', 'AB1'), el('Status', 'Posted')]),
    ]);
    assert.match(xml, /\n<postdispatchnotes Language='05' /);
    assert.match(
      xml,
      /<item><salesorder>AB1<\/salesorder><status>Posted<\/status><\/item>\n<\/postdispatchnotes>\n $/,
    );
  });
});

describe('SYSPRO sandbox wire text for shipments', () => {
  const clock = new FakeClock(Date.parse('2026-03-02T09:00:00Z'));
  let sandbox: SysproSandbox;
  let userId: string;
  let stockA: string;
  let stockB: string;
  let customer: string;

  before(async () => {
    sandbox = await startSysproSandbox({ clock, seed: 23, orders: 120 });
    userId = await logon(sandbox);
    const stocked = sandbox.db.invWarehouse.rows.filter((r) => r.Warehouse === 'FG');
    for (const row of stocked.slice(0, 2)) row.QtyOnHand = (row.QtyAllocated as number) + 500;
    stockA = stocked[0]?.StockCode as string;
    stockB = stocked[1]?.StockCode as string;
    customer = sandbox.db.arCustomer.rows.find((c) => c.CustomerOnHold === 'N')?.Customer as string;
  });
  after(async () => {
    await enet(sandbox, 'Logoff', { UserId: userId });
    await sandbox.close();
  });

  const order = (po: string, name: string, lines: string, parameters = IMPORT) =>
    post(
      sandbox,
      userId,
      'SORTOI',
      parameters,
      `<SalesOrders><Orders><OrderHeader><CustomerPoNumber>${po}</CustomerPoNumber><OrderActionType>A</OrderActionType>` +
        `<Customer>${customer}</Customer><OrderDate>2026-03-02</OrderDate><CustomerName>${name}</CustomerName>` +
        `</OrderHeader><OrderDetails>${lines}</OrderDetails></Orders></SalesOrders>`,
    );
  const stockLine = (code: string, qty: number) =>
    `<StockLine><StockCode>${code}</StockCode><Warehouse>FG</Warehouse><OrderQty>${qty}</OrderQty><Price>1.00</Price></StockLine>`;

  async function orderByPo(po: string): Promise<string> {
    const found = await odata(
      sandbox,
      `SorMaster?$filter=CustomerPoNumber%20eq%20'${po}'&$select=SalesOrder`,
    );
    const rows = found.body.value as Array<{ SalesOrder: string }>;
    assert.equal(rows.length, 1);
    return rows[0]?.SalesOrder as string;
  }

  it('SORQRY writes apostrophes, quotes and > raw, & and < escaped', async () => {
    const out = await order(
      'PO-ESC-1',
      `O&apos;Brien &amp; &lt;Sons&gt; &quot;Ltd&quot;`,
      stockLine(stockA, 1),
    );
    assert.doesNotMatch(out, /<Order>/);
    const xml = await queryObject(sandbox, userId, 'SORQRY', SORQRY_ALL(await orderByPo('PO-ESC-1')));
    assert.ok(xml.includes(`<CustomerName>O'Brien &amp; &lt;Sons> "Ltd"</CustomerName>`), xml);
    assert.doesNotMatch(xml, /&apos;|&quot;|&gt;/);
  });

  it('SORTOI back-order texts: a warning per line (its number and stock code) and the order comment', async () => {
    const parameters =
      '<SalesOrders><Parameters><Process>Import</Process><AllocationAction>B</AllocationAction></Parameters></SalesOrders>';
    const out = await order(
      'PO-BO-1',
      'Back Order Ltd',
      `${stockLine(stockA, 2)}<CommentLine><Comment>between</Comment></CommentLine>${stockLine(stockB, 3)}`,
      parameters,
    );
    const salesOrder = await orderByPo('PO-BO-1');
    assert.ok(
      out.includes(
        `<Order><CustomerPoNumber>PO-BO-1</CustomerPoNumber><OrderActionType>A</OrderActionType><SalesOrder>${salesOrder}</SalesOrder>` +
          `<BackOrderComment>One or more lines have been placed on back order for order '${salesOrder}'</BackOrderComment>` +
          '<WarningMessages>' +
          `<WarningDescription>Line 0001 for stock code '${stockA}' was placed on back order</WarningDescription>` +
          `<WarningDescription>Line 0003 for stock code '${stockB}' was placed on back order</WarningDescription>` +
          '</WarningMessages></Order>' +
          '<StatusOfItems><ItemsProcessed>000001</ItemsProcessed><ItemsRejectedWithWarnings>000000</ItemsRejectedWithWarnings><ItemsProcessedWithWarnings>000001</ItemsProcessedWithWarnings></StatusOfItems>',
      ),
      out,
    );
  });

  it('SORQRY writes no <SalesOrderLine> when no lines are asked for, and TimeDelPrtedHh/Mm as 00', async () => {
    const salesOrder = await orderByPo('PO-ESC-1');
    const headerOnly = await queryObject(
      sandbox,
      userId,
      'SORQRY',
      `<Query><Key><SalesOrder>${salesOrder}</SalesOrder></Key>${NO_LINES}</Query>`,
    );
    assert.doesNotMatch(headerOnly, /<SalesOrderLine|<Merchandise/);
    assert.ok(headerOnly.includes('<TimeDelPrtedHh>00</TimeDelPrtedHh><TimeDelPrtedMm>00</TimeDelPrtedMm>'));
    assert.match(headerOnly, /<\/Commissions>\n<\/SorDetail>\n $/);
    const withLines = await queryObject(sandbox, userId, 'SORQRY', SORQRY_ALL(salesOrder));
    assert.match(withLines, /<SalesOrderLine><Merchandise><SalesOrderLine> {3}1<\/SalesOrderLine>/);
    // An order whose delivery note was printed still shows 00: the sandbox keeps no print time.
    const printed = sandbox.db.sorMaster.rows.find((o) => o.LastDelNote);
    assert.ok(printed);
    const printedXml = await queryObject(sandbox, userId, 'SORQRY', SORQRY_ALL(printed.SalesOrder as string));
    assert.equal(xmlValue(printedXml, 'TimeDelPrtedHh'), '00');
    assert.equal(xmlValue(printedXml, 'TimeDelPrtedMm'), '00');
  });

  it('SORQDN answers with root DispatchNoteDetail, flat header fields and <Merchandise> lines', async () => {
    const salesOrder = await orderByPo('PO-ESC-1');
    const posted = await post(
      sandbox,
      userId,
      'SORTDN',
      DN_PARAMS,
      `<PostDispatchNotes><DispatchNote><DispatchHeader><SalesOrder>${salesOrder}</SalesOrder>` +
        `<DispatchComments>UPS &amp; Co's "Ground"</DispatchComments><UserDefined1>1Z999</UserDefined1></DispatchHeader>` +
        '<DispatchDetails><MerchandiseLine><SalesOrderLine>1</SalesOrderLine><DispatchQty>1</DispatchQty></MerchandiseLine></DispatchDetails></DispatchNote></PostDispatchNotes>',
    );
    const note = xmlValue(posted, 'DispatchNoteNumber') as string;
    assert.match(note, /^\d{15}$/);
    assert.ok(posted.includes(`<Status>Posted</Status>`), posted);
    const xml = await queryObject(
      sandbox,
      userId,
      'SORQDN',
      `<Query><Key><DispatchNote>${Number(note)}</DispatchNote></Key></Query>`,
    );
    const head =
      `<?xml version="1.0" encoding="Windows-1252"?>\n<DispatchNoteDetail ${ROOT_ATTRS} Version='8.0.002' OperatorPrimaryRole='   '>\n` +
      `<DispatchNote>${note}</DispatchNote><SalesOrder>${salesOrder}</SalesOrder><Customer>${customer}</Customer>`;
    assert.ok(xml.startsWith(head), xml);
    assert.ok(xml.includes(`<DispatchComments1>UPS &amp; Co's "Ground"</DispatchComments1>`), xml);
    assert.match(
      xml,
      new RegExp(
        `<Merchandise><DispatchNoteLine> {3}1</DispatchNoteLine><SalesOrderLine> {3}1</SalesOrderLine><MStockCode>${escapeRegExp(stockA)}</MStockCode>` +
          '<MStockDes>[^<]*</MStockDes><MWarehouse>FG</MWarehouse><MQtyToDispatch> {12}1\\.000000</MQtyToDispatch><MOrderUom>[^<]+</MOrderUom></Merchandise>\n</DispatchNoteDetail>\n $',
      ),
    );
  });

  it('SORTDN error texts read like SYSPRO: line numbers of four digits, codes in single quotes', async () => {
    const salesOrder = await orderByPo('PO-BO-1');
    const out = await post(
      sandbox,
      userId,
      'SORTDN',
      DN_PARAMS,
      `<PostDispatchNotes><DispatchNote><DispatchHeader><SalesOrder>${salesOrder}</SalesOrder></DispatchHeader><DispatchDetails>` +
        '<MerchandiseLine><SalesOrderLine>1</SalesOrderLine><DispatchQty>9</DispatchQty></MerchandiseLine>' +
        '<MerchandiseLine><SalesOrderLine>2</SalesOrderLine><DispatchQty>1</DispatchQty></MerchandiseLine>' +
        '<MerchandiseLine><SalesOrderLine>3</SalesOrderLine><DispatchQty>x</DispatchQty></MerchandiseLine>' +
        '</DispatchDetails></DispatchNote></PostDispatchNotes>',
    );
    assert.ok(
      out.includes(
        `<Item><ItemNumber>000001</ItemNumber><SalesOrder>${salesOrder}</SalesOrder><DispatchNoteNumber/><Status>Failed</Status>` +
          `<DispatchQty><Value>9</Value><ErrorNumber>100032</ErrorNumber><ErrorDescription>Line 0001 for stock code '${stockA}' cannot be dispatched: quantity 9.000 exceeds the outstanding quantity 2.000</ErrorDescription></DispatchQty>` +
          `<SalesOrderLine><Value>2</Value><ErrorNumber>100031</ErrorNumber><ErrorDescription>Line 0002 for sales order '${salesOrder}' is not a merchandise line on file</ErrorDescription></SalesOrderLine>` +
          `<DispatchQty><Value>x</Value><ErrorNumber>100029</ErrorNumber><ErrorDescription>Line 0003 for stock code '${stockB}' has an invalid dispatch quantity 'x'</ErrorDescription></DispatchQty>` +
          '</Item><StatusOfItems><ItemsProcessed>000000</ItemsProcessed><ItemsInvalid>000001</ItemsInvalid></StatusOfItems>',
      ),
      out,
    );
  });
});

describe('SYSPRO sandbox Post… output casing (quirks.postOutputCase)', () => {
  const clock = new FakeClock(Date.parse('2026-03-02T09:00:00Z'));
  const cases = [
    ['proper', '<PostSorOrderStatus ', '<Item><ItemNumber>000001</ItemNumber><SalesOrder>'],
    ['lower', '<postsororderstatus ', '<item><itemnumber>000001</itemnumber><salesorder>'],
  ] as const;
  for (const [postOutputCase, rootTag, item] of cases) {
    it(`SORTOS answers in ${postOutputCase} case`, async () => {
      const sandbox = await startSysproSandbox({ clock, seed: 5, orders: 40, quirks: { postOutputCase } });
      try {
        const userId = await logon(sandbox);
        const open = sandbox.db.sorMaster.rows.find((o) => o.OrderStatus === '1')?.SalesOrder as string;
        const out = await post(
          sandbox,
          userId,
          'SORTOS',
          '<PostSorOrderStatus><Parameters><ValidateOnly>Y</ValidateOnly></Parameters></PostSorOrderStatus>',
          `<PostSorOrderStatus><Item><SalesOrder>${open}</SalesOrder><NewOrderStatus>8</NewOrderStatus></Item></PostSorOrderStatus>`,
        );
        assert.ok(out.includes(`\n${rootTag}${ROOT_ATTRS}`), out);
        assert.ok(out.includes(`${item}${open}`), out);
        await enet(sandbox, 'Logoff', { UserId: userId });
      } finally {
        await sandbox.close();
      }
    });
  }
});
