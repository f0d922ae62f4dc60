import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SysproSandbox, startSysproSandbox } from '../../../src/sandbox/syspro/index.js';
import { FakeClock } from '../../helpers/clock.js';
import { enet, logon, odata, post, queryObject, SORQRY_ALL, xmlValue } from './enet-client.js';

const IMPORT = '<SalesOrders><Parameters><Process>Import</Process></Parameters></SalesOrders>';
const VALIDATE = '<SalesOrders><Parameters><Process>Validate</Process></Parameters></SalesOrders>';

describe('SYSPRO sandbox business objects', () => {
  const clock = new FakeClock(Date.parse('2026-03-02T09:00:00Z'));
  let sandbox: SysproSandbox;
  let userId: string;
  let stockA: string;
  let stockB: string;
  let customer: string;

  before(async () => {
    sandbox = await startSysproSandbox({ clock, seed: 11, orders: 300 });
    userId = await logon(sandbox);
    // Two stock items with plenty available in FG, a customer not on hold.
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

  const orderXml = (po: string, extraHeader = '', extraLines = '') =>
    `<SalesOrders xmlns:xsd="http://www.w3.org/2001/XMLSchema-instance" xsd:noNamespaceSchemaLocation="SORTOIDOC.XSD"><Orders><OrderHeader>` +
    `<CustomerPoNumber>${po}</CustomerPoNumber><OrderActionType>A</OrderActionType><Customer>${customer}</Customer>` +
    `<OrderDate>2026-03-02</OrderDate><ShippingInstrsCode>UPS</ShippingInstrsCode><ShippingInstrs>UPS Ground</ShippingInstrs>` +
    `<CustomerName>Fish &amp; Chips &lt;Ltd&gt;</CustomerName><ShipAddress1>12 Quai d’Orsay</ShipAddress1><ShipPostalCode>75007</ShipPostalCode>` +
    `<Telephone>ignored</Telephone>${extraHeader}</OrderHeader><OrderDetails>` +
    `<StockLine><CustomerPoLine>1</CustomerPoLine><LineActionType>A</LineActionType><StockCode>${stockA}</StockCode><Warehouse>FG</Warehouse><OrderQty>10</OrderQty><Price>12.50</Price><ProductTaxCode>X</ProductTaxCode></StockLine>` +
    `<StockLine><CustomerPoLine>2</CustomerPoLine><LineActionType>A</LineActionType><StockCode>${stockB}</StockCode><Warehouse>FG</Warehouse><OrderQty>4</OrderQty><Price>3.00</Price></StockLine>` +
    `<FreightLine><FreightValue>9.95</FreightValue><FreightCost>7.10</FreightCost></FreightLine>` +
    `<CommentLine><Comment>Leave at door 🚪</Comment></CommentLine>${extraLines}` +
    `</OrderDetails></Orders></SalesOrders>`;

  async function orderByPo(po: string): Promise<string> {
    const found = await odata(
      sandbox,
      `SorMaster?$filter=CustomerPoNumber%20eq%20'${encodeURIComponent(po)}'&$select=SalesOrder`,
    );
    const value = found.body.value as Array<{ SalesOrder: string }>;
    assert.equal(value.length, 1, `one order with PO ${po}`);
    return value[0]?.SalesOrder as string;
  }

  it('SORTOI creates an order (clean import: no <Order> block) that SORQRY reads back', async () => {
    const out = await post(sandbox, userId, 'SORTOI', IMPORT, orderXml('PO-CREATE-1'));
    assert.doesNotMatch(out, /<Order>/, 'a clean import does not return the order');
    assert.match(
      out,
      /<StatusOfItems><ItemsProcessed>000001<\/ItemsProcessed><ItemsRejectedWithWarnings>000000<\/ItemsRejectedWithWarnings><ItemsProcessedWithWarnings>000000<\/ItemsProcessedWithWarnings><\/StatusOfItems>/,
    );
    const salesOrder = await orderByPo('PO-CREATE-1');
    const xml = await queryObject(sandbox, userId, 'SORQRY', SORQRY_ALL(salesOrder));
    assert.equal(xmlValue(xml, 'CustomerPoNumber'), 'PO-CREATE-1');
    // SYSPRO escapes only `&` and `<` in element text; `>` stays raw.
    assert.equal(xmlValue(xml, 'CustomerName'), 'Fish &amp; Chips &lt;Ltd>');
    assert.equal(xmlValue(xml, 'ShipAddress1'), '12 Quai d’Orsay', 'Windows-1252 characters survive');
    assert.equal(
      xmlValue(xml, 'ShippingInstrsCod'),
      'UPS',
      'input ShippingInstrsCode lands in ShippingInstrsCod',
    );
    assert.equal(xmlValue(xml, 'OrderStatus'), '1');
    assert.equal(xmlValue(xml, 'MStockCode'), stockA);
    assert.equal(xmlValue(xml, 'MOrderQty'), `10.000 ${sandbox.db.invMaster.get(stockA)?.StockUom}`);
    assert.equal(xmlValue(xml, 'NMscChargeValue'), '9.95');
    assert.equal(xmlValue(xml, 'NComment'), 'Leave at door ?', 'characters outside code page 1252 become ?');
    assert.equal(xml.match(/<Merchandise>/g)?.length, 2);
  });

  it('SORTOI reports element errors inside the XmlOut and imports nothing for that order', async () => {
    const before = sandbox.db.sorMaster.rows.length;
    const bad = orderXml('PO-BAD-1', '<RequestedShipDate>2026-02-30</RequestedShipDate>').replace(
      `<StockCode>${stockB}</StockCode>`,
      '<StockCode>NO-SUCH</StockCode>',
    );
    const out = await post(sandbox, userId, 'SORTOI', IMPORT, bad);
    assert.match(
      out,
      /<Order><CustomerPoNumber>PO-BAD-1<\/CustomerPoNumber><OrderActionType>A<\/OrderActionType><SalesOrder\/>/,
    );
    assert.match(
      out,
      /<StockCode><Value>NO-SUCH<\/Value><ErrorNumber>240004<\/ErrorNumber><ErrorDescription>Stock code 'NO-SUCH' not found<\/ErrorDescription><\/StockCode>/,
    );
    assert.match(out, /<ErrorNumber>100028<\/ErrorNumber>/);
    assert.equal(sandbox.db.sorMaster.rows.length, before);
  });

  it('SORTOI rejects a duplicate customer PO and a long float price', async () => {
    const duplicate = await post(sandbox, userId, 'SORTOI', IMPORT, orderXml('PO-CREATE-1'));
    assert.match(duplicate, /already exists on sales order/);
    const float = await post(
      sandbox,
      userId,
      'SORTOI',
      IMPORT,
      orderXml('PO-FLOAT').replace('12.50', '12.500000000000002'),
    );
    assert.match(float, /is not numeric/);
  });

  it('SORTOI Validate and ValidateOnly=Y change nothing', async () => {
    const before = sandbox.db.sorMaster.rows.length;
    const stock = sandbox.db.invWarehouse.get(stockA, 'FG');
    const allocated = stock?.QtyAllocated;
    const out = await post(sandbox, userId, 'SORTOI', VALIDATE, orderXml('PO-VALIDATE-1'));
    assert.match(out, /<ValidationStatus><Status>Successful<\/Status><\/ValidationStatus>/);
    const out2 = await post(
      sandbox,
      userId,
      'SORTOI',
      '<SalesOrders><Parameters><ValidateOnly>Y</ValidateOnly></Parameters></SalesOrders>',
      orderXml('PO-VALIDATE-2'),
    );
    assert.match(out2, /<Status>Successful<\/Status>/);
    assert.equal(sandbox.db.sorMaster.rows.length, before);
    assert.equal(sandbox.db.invWarehouse.get(stockA, 'FG')?.QtyAllocated, allocated);
    const calls = sandbox.calls.list({ businessObject: 'SORTOI', contains: 'PO-VALIDATE' });
    assert.deepEqual(
      calls.map((c) => c.validateOnly),
      [true, true],
    );
  });

  it('SORTOS defaults ValidateOnly to Y and changes status only with ValidateOnly=N', async () => {
    const salesOrder = await orderByPo('PO-CREATE-1');
    const item = `<PostSorOrderStatus><Item><SalesOrder>${salesOrder}</SalesOrder><NewOrderStatus>4</NewOrderStatus><DeliveryNoteNumber>DN77</DeliveryNoteNumber></Item></PostSorOrderStatus>`;
    const dry = await post(
      sandbox,
      userId,
      'SORTOS',
      '<PostSorOrderStatus><Parameters/></PostSorOrderStatus>',
      item,
    );
    assert.match(dry, /<ItemsProcessed>000001<\/ItemsProcessed><ItemsInvalid>000000<\/ItemsInvalid>/);
    assert.equal(sandbox.db.sorMaster.get(salesOrder)?.OrderStatus, '1');
    await post(
      sandbox,
      userId,
      'SORTOS',
      '<PostSorOrderStatus><Parameters><ValidateOnly>N</ValidateOnly></Parameters></PostSorOrderStatus>',
      item,
    );
    const seen = await odata(
      sandbox,
      `SorMaster?$filter=SalesOrder%20eq%20'${salesOrder}'&$select=OrderStatus,DeliveryNote`,
    );
    assert.deepEqual((seen.body.value as unknown[])[0], { OrderStatus: '4', DeliveryNote: 'DN77' });
    const closed = await post(
      sandbox,
      userId,
      'SORTOS',
      '<PostSorOrderStatus><Parameters><ValidateOnly>N</ValidateOnly></Parameters></PostSorOrderStatus>',
      '<PostSorOrderStatus><Item><SalesOrder>000011</SalesOrder><NewOrderStatus>1</NewOrderStatus></Item></PostSorOrderStatus>',
    );
    assert.match(closed, /<ItemsInvalid>000001<\/ItemsInvalid>/, 'a cancelled order cannot change status');
  });

  it('SORTDN for part of an order updates shipped quantities seen through OData; ValidateOnly=Y changes nothing', async () => {
    await post(sandbox, userId, 'SORTOI', IMPORT, orderXml('PO-SHIP-1'));
    const salesOrder = await orderByPo('PO-SHIP-1');
    const note = (qty: number, tracking: string) =>
      `<DispatchNote><DispatchHeader><SalesOrder>${salesOrder}</SalesOrder><DispatchComments>UPS</DispatchComments>` +
      `<DispatchComments>Tracking ${tracking}</DispatchComments><UserDefined1>${tracking}</UserDefined1><UserDefined2>UPS</UserDefined2>` +
      `<PlannedDispatchDate>2026-03-02</PlannedDispatchDate></DispatchHeader><DispatchDetails>` +
      `<MerchandiseLine><SalesOrderLine>1</SalesOrderLine><DispatchQty>${qty}</DispatchQty></MerchandiseLine></DispatchDetails></DispatchNote>`;
    const dry = await post(
      sandbox,
      userId,
      'SORTDN',
      '<PostDispatchNotes><Parameters><ValidateOnly>Y</ValidateOnly></Parameters></PostDispatchNotes>',
      `<PostDispatchNotes>${note(4, '1ZDRY')}</PostDispatchNotes>`,
    );
    assert.match(dry, /<Status>Valid<\/Status>/);
    const line1 = async () => {
      const r = await odata(
        sandbox,
        `SorDetail?$filter=SalesOrder%20eq%20'${salesOrder}'%20and%20SalesOrderLine%20eq%201&$select=MOrderQty,MShipQty,MQtyDispatched,MLastDelNote`,
      );
      return (r.body.value as Array<Record<string, unknown>>)[0];
    };
    assert.deepEqual(await line1(), { MOrderQty: 10, MShipQty: 10, MQtyDispatched: 0, MLastDelNote: '' });
    assert.equal(
      ((await odata(sandbox, `MdnMaster?$filter=UserField1%20eq%20'1ZDRY'`)).body.value as unknown[]).length,
      0,
    );

    // Two notes in one post, the second asks for more than is outstanding: per-item status.
    const out = await post(
      sandbox,
      userId,
      'SORTDN',
      '<PostDispatchNotes><Parameters><ValidateOnly>N</ValidateOnly></Parameters></PostDispatchNotes>',
      `<PostDispatchNotes>${note(4, '1ZA')}${note(7, '1ZB')}</PostDispatchNotes>`,
    );
    assert.match(
      out,
      /<ItemNumber>000001<\/ItemNumber><SalesOrder>\d+<\/SalesOrder><DispatchNoteNumber>\d{15}<\/DispatchNoteNumber><Status>Posted<\/Status>/,
    );
    assert.match(
      out,
      /<ItemNumber>000002<\/ItemNumber>.*<Status>Failed<\/Status><DispatchQty><Value>7<\/Value>/,
    );
    assert.match(out, /<ItemsProcessed>000001<\/ItemsProcessed><ItemsInvalid>000001<\/ItemsInvalid>/);
    const noteNumber = /<DispatchNoteNumber>(\d{15})<\/DispatchNoteNumber>/.exec(out)?.[1] as string;
    assert.deepEqual(await line1(), {
      MOrderQty: 10,
      MShipQty: 6,
      MQtyDispatched: 4,
      MLastDelNote: noteNumber,
    });
    const header = await odata(
      sandbox,
      `SorMaster?$filter=SalesOrder%20eq%20'${salesOrder}'&$select=OrderStatus,NumDispatches,LiveDispExist`,
    );
    assert.deepEqual((header.body.value as unknown[])[0], {
      OrderStatus: '1',
      NumDispatches: 1,
      LiveDispExist: 'Y',
    });
    const mdn = await odata(
      sandbox,
      `MdnMaster?$filter=DispatchNote%20eq%20'${noteNumber}'&$select=UserField1,UserField2,DispatchComments1,DispatchComments2`,
    );
    assert.deepEqual((mdn.body.value as unknown[])[0], {
      UserField1: '1ZA',
      UserField2: 'UPS',
      DispatchComments1: 'UPS',
      DispatchComments2: 'Tracking 1ZA',
    });
    const sorqdn = await queryObject(
      sandbox,
      userId,
      'SORQDN',
      `<Query><Key><DispatchNote>${Number(noteNumber)}</DispatchNote></Key></Query>`,
    );
    assert.match(
      sorqdn,
      /^<\?xml version="1\.0" encoding="Windows-1252"\?>\n<DispatchNoteDetail Language='05' /,
    );
    assert.match(sorqdn, /<\/DispatchNoteDetail>\n $/);
    assert.equal(xmlValue(sorqdn, 'UserField1'), '1ZA');
    assert.match(
      sorqdn,
      /<Merchandise><DispatchNoteLine> {3}1<\/DispatchNoteLine><SalesOrderLine> {3}1<\/SalesOrderLine><MStockCode>[^<]+<\/MStockCode><MStockDes>[^<]*<\/MStockDes><MWarehouse>[^<]+<\/MWarehouse><MQtyToDispatch> +4\.000000<\/MQtyToDispatch><MOrderUom>[^<]+<\/MOrderUom><\/Merchandise>/,
    );
    assert.doesNotMatch(sorqdn, /<DispatchLine>|<DispatchNoteQuery/);
    assert.equal(sandbox.calls.count({ businessObject: 'SORTDN', contains: '1ZA' }), 1);
  });

  it('COMSFM sets a custom form field read back by SORQRY; GENTJL posts a balanced journal', async () => {
    const salesOrder = await orderByPo('PO-SHIP-1');
    const out = await enet(sandbox, 'Setup/Add', {
      UserId: userId,
      BusinessObject: 'COMSFM',
      XmlParameters:
        '<SetupCustomForm><Parameters><ValidateOnly>N</ValidateOnly></Parameters></SetupCustomForm>',
      XmlIn: `<SetupCustomForm><Item><Key><FormType>ORD</FormType><KeyField>${salesOrder}</KeyField><FieldName>TRACKNO</FieldName></Key><AlphaValue>1Z999</AlphaValue></Item></SetupCustomForm>`,
    });
    assert.match(out, /<RecordsRead>1<\/RecordsRead><RecordsInvalid>0<\/RecordsInvalid>/);
    const xml = await queryObject(
      sandbox,
      userId,
      'SORQRY',
      `<Query><Key><SalesOrder>${salesOrder}</SalesOrder></Key><Option><IncludeCustomForms>Y</IncludeCustomForms></Option></Query>`,
    );
    assert.match(
      xml,
      /<CustomForm><Field><FieldName>TRACKNO<\/FieldName><Value>1Z999<\/Value><\/Field><\/CustomForm>/,
    );

    const journal = (a: string, b: string) =>
      `<PostGlJournal><Item><JournalDate>2026-03-02</JournalDate><JournalReference>SHIP 1Z999</JournalReference><PostingPeriod>3</PostingPeriod><PostingYear>2026</PostingYear>` +
      `<JournalDetails><LedgerCode>5100-000</LedgerCode><EntryAmount>${a}</EntryAmount></JournalDetails>` +
      `<JournalDetails><LedgerCode>2150-000</LedgerCode><EntryAmount>${b}</EntryAmount></JournalDetails></Item></PostGlJournal>`;
    const unbalanced = await post(
      sandbox,
      userId,
      'GENTJL',
      '<PostGlJournal><Parameters/></PostGlJournal>',
      journal('12.34', '-12.00'),
    );
    assert.match(unbalanced, /does not balance/);
    const ok = await post(
      sandbox,
      userId,
      'GENTJL',
      '<PostGlJournal><Parameters/></PostGlJournal>',
      journal('12.34', '-12.34'),
    );
    assert.match(ok, /<Journal>\d{6}<\/Journal>/);
    const rows = await odata(
      sandbox,
      `GenJnlDetail?$filter=Reference%20eq%20''%20and%20GlCode%20eq%20'5100-000'%20and%20EntryValue%20eq%2012.34`,
    );
    assert.equal((rows.body.value as unknown[]).length, 1);

    // A line keeps Reference and AdditionalReference; an element SYSPRO does not have is ignored.
    const texts = await post(
      sandbox,
      userId,
      'GENTJL',
      '<PostGlJournal><Parameters/></PostGlJournal>',
      `<PostGlJournal><Item><JournalDate>2026-03-03</JournalDate><PostingPeriod>3</PostingPeriod><PostingYear>2026</PostingYear>` +
        `<JournalDetails><LedgerCode>5100-000</LedgerCode><Reference>SHIP-9</Reference><EntryAmount>5.00</EntryAmount><AdditionalReference>UPS 1Z999</AdditionalReference><Comment>lost</Comment></JournalDetails>` +
        `<JournalDetails><LedgerCode>2150-000</LedgerCode><Reference>SHIP-9</Reference><EntryAmount>-5.00</EntryAmount><Comment>lost too</Comment></JournalDetails></Item></PostGlJournal>`,
    );
    const journalNumber = Number(xmlValue(texts, 'Journal'));
    const lines = sandbox.db.genJnlDetail.rows.filter(
      (r) => r.JnlYear === 2026 && r.JnlPeriod === 3 && r.Journal === journalNumber,
    );
    assert.deepEqual(
      lines.map((r) => [r.GlCode, r.Reference, r.AdditionalReference]),
      [
        ['5100-000', 'SHIP-9', 'UPS 1Z999'],
        ['2150-000', 'SHIP-9', ''],
      ],
    );
    assert.ok(
      lines.every((r) => !Object.values(r).includes('lost') && !Object.values(r).includes('lost too')),
      JSON.stringify(lines),
    );
  });

  it('INVQRY and COMFND read stock and rows; COMFCH fetches a whole row', async () => {
    const inv = await queryObject(
      sandbox,
      userId,
      'INVQRY',
      `<Query><Key><StockCode>${stockA}</StockCode></Key><Option/><Filter><Warehouse FilterType="S" FilterValue="FG"/></Filter></Query>`,
    );
    assert.equal(xmlValue(inv, 'Warehouse'), 'FG');
    assert.match(inv, /<AvailableQty> +\d+\.000000<\/AvailableQty>/);
    const found = await queryObject(
      sandbox,
      userId,
      'COMFND',
      `<Query><TableName>SorMaster</TableName><ReturnRows>5</ReturnRows><Columns><Column>SalesOrder</Column><Column>OrderStatus</Column></Columns>` +
        `<Where><Expression><OpenBracket>(</OpenBracket><AndOr>And</AndOr><Column>CustomerPoNumber</Column><Condition>EQ</Condition><Value>PO-SHIP-1</Value><CloseBracket>)</CloseBracket></Expression></Where></Query>`,
    );
    assert.match(
      found,
      /<Row><SalesOrder>\d{6}<\/SalesOrder><OrderStatus>1<\/OrderStatus><\/Row><RowsReturned> {7}1<\/RowsReturned>/,
    );
    const fetched = await enet(sandbox, 'Query/Fetch', {
      UserId: userId,
      XmlIn: `<Fetch><TableName>InvMaster</TableName><Key>${stockA}</Key><FullKeyProvided>Y</FullKeyProvided></Fetch>`,
    });
    assert.equal(xmlValue(fetched, 'StockCode'), stockA);
  });
});
