import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SysproError } from '../errors.js';
import { child, children, parseXml, rootOf, text } from '../xml.js';
import { assertSucceeded } from './common.js';
import { buildCustomFormFields, buildCustomFormParameters } from './comsfm.js';
import { buildJournal, buildJournalParameters, parseJournalOutput } from './gentjl.js';
import { buildStockQuery, parseStockQuery } from './invqry.js';
import { buildDispatchNoteQuery, parseDispatchNoteQuery } from './sorqdn.js';
import { buildSalesOrderQuery, parseSalesOrderQuery } from './sorqry.js';
import { buildDispatchNoteParameters, buildDispatchNotes, parseDispatchNotes } from './sortdn.js';
import {
  buildSalesOrderImport,
  buildSalesOrderImportParameters,
  parseSalesOrderImport,
  type SalesOrderInput,
} from './sortoi.js';
import { buildOrderStatusChange, buildOrderStatusParameters, parseOrderStatusChange } from './sortos.js';

const TRICKY = `Smith & <Sons> "Ltd"`;
const root = (xml: string) => rootOf(parseXml(xml));

describe('SORQRY', () => {
  it('builds the query with every option explicit', () => {
    const xml = buildSalesOrderQuery({ salesOrder: '015562', options: { includeCustomForms: true } });
    const { name, node } = root(xml);
    assert.equal(name, 'Query');
    assert.equal(text(node, 'Key', 'SalesOrder'), '015562');
    assert.equal(text(node, 'Option', 'IncludeCustomForms'), 'Y');
    assert.equal(text(node, 'Option', 'IncludeSerials'), 'N');
    assert.equal(text(node, 'Option', 'XslStylesheet'), '');
    assert.match(xml, /xsd:noNamespaceSchemaLocation="SORQRY.XSD"/);
  });

  it('parses the header, addresses, lines and custom forms', () => {
    const xmlOut = `<?xml version="1.0" encoding="Windows-1252"?>
<SorDetail Language='05' Version='8.0.013' xmlns:SALSLS="SALSLS">
<SalesOrder>015562</SalesOrder><Customer>0000001</Customer><CustomerName>${TRICKY.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</CustomerName>
<CustomerPoNumber>PO-9</CustomerPoNumber><OrderDate>2024-01-15</OrderDate><ReqShipDate/>
<OrderStatus>1</OrderStatus><SALSLS:Name>Rep</SALSLS:Name>
<SoldToName>Bill Me</SoldToName><SoldAddr1>1 Main</SoldAddr1><SoldAddr2/>
<ShipAddress1>Dock 4</ShipAddress1><ShipAddress2>Harbour Rd</ShipAddress2><ShipAddress3/><ShipAddress4/><ShipAddress5/><ShipPostalCode>8001</ShipPostalCode>
<ShippingInstrs>UPS</ShippingInstrs><ShippingInstrsCod>UPS</ShippingInstrsCod><NumDispatches>000002</NumDispatches>
<SalesOrderLine>
 <Merchandise><SalesOrderLine>0001</SalesOrderLine><MStockCode>A100</MStockCode><MOrderQty>1,234.000 EA</MOrderQty><MShipQty>     10.000000</MShipQty><MPrice>   12.50000</MPrice></Merchandise>
 <Freight><SalesOrderLine>0002</SalesOrderLine><NMscChargeValue>  15.00</NMscChargeValue></Freight>
 <CommentLine><SalesOrderLine>0003</SalesOrderLine><NComment>Leave at door</NComment></CommentLine>
</SalesOrderLine>
<CustomForm><Field><FieldName>Tracking</FieldName><Value>1Z999</Value></Field></CustomForm>
</SorDetail>
 `;
    const order = parseSalesOrderQuery(xmlOut);
    assert.equal(order.found, true);
    assert.equal(order.salesOrder, '015562');
    assert.equal(order.customerName, TRICKY);
    assert.equal(order.reqShipDate, undefined);
    assert.deepEqual(order.shipTo, {
      name: TRICKY,
      lines: ['Dock 4', 'Harbour Rd'],
      locality: undefined,
      postalCode: '8001',
    });
    assert.equal(order.soldTo.name, 'Bill Me');
    assert.equal(order.shippingInstrsCode, 'UPS');
    assert.equal(order.numDispatches, 2);
    assert.equal(order.lines.length, 3);
    assert.deepEqual(
      order.lines.map((l) => [l.type, l.line]),
      [
        ['merchandise', 1],
        ['freight', 2],
        ['comment', 3],
      ],
    );
    assert.equal(order.lines[0]?.orderQty, 1234);
    assert.equal(order.lines[0]?.shipQty, 10);
    assert.equal(order.lines[0]?.price, 12.5);
    assert.equal(order.lines[1]?.value, 15);
    assert.equal(order.lines[2]?.comment, 'Leave at door');
    assert.deepEqual(order.customForms, { Tracking: '1Z999' });
    assert.equal(order.outcome.failed, false);
  });
});

describe('SORTOI', () => {
  const order: SalesOrderInput = {
    action: 'add',
    customerPoNumber: 'SS-1001',
    customer: '0000001',
    customerName: TRICKY,
    shipAddress: ['1 Quay & Dock', 'Cape Town'],
    shippingInstrsCode: 'UPS',
    orderDate: '2024-01-15',
    lines: [
      { kind: 'stock', customerPoLine: '1', stockCode: 'A100', orderQty: 2, price: 12.5 },
      { kind: 'comment', comment: 'Gift <wrap>', attachedLineNumber: '1' },
      { kind: 'stock', customerPoLine: '2', stockCode: 'B200', orderQty: 1.5, price: 0.1 + 0.2 },
      { kind: 'freight', customerPoLine: '3', freightValue: 9.99 },
    ],
  };

  it('builds parameters: Import or Validate, never StatusInProcess', () => {
    const real = root(
      buildSalesOrderImportParameters({ allocationAction: 'A', shipFromDefaultBin: true }),
    ).node;
    assert.equal(text(real, 'Parameters', 'Process'), 'Import');
    assert.equal(text(real, 'Parameters', 'AllocationAction'), 'A');
    assert.equal(text(real, 'Parameters', 'ShipFromDefaultBin'), 'Y');
    assert.equal(text(real, 'Parameters', 'StatusInProcess'), undefined);
    const dry = root(buildSalesOrderImportParameters({ validateOnly: true })).node;
    assert.equal(text(dry, 'Parameters', 'Process'), 'Validate');
  });

  it('builds the document: ShippingInstrsCode on input, fixed decimals, lines in order, values escaped', () => {
    const xml = buildSalesOrderImport([order]);
    assert.ok(xml.includes('<ShippingInstrsCode>UPS</ShippingInstrsCode>'));
    assert.ok(!xml.includes('<ShippingInstrsCod>'));
    assert.ok(xml.includes('&lt;Sons&gt;'));
    const doc = root(xml).node;
    const header = child(doc, 'Orders', 'OrderHeader');
    assert.equal(text(header, 'CustomerName'), TRICKY);
    assert.equal(text(header, 'OrderActionType'), 'A');
    assert.equal(text(header, 'ShipAddress1'), '1 Quay & Dock');
    const details = child(doc, 'Orders', 'OrderDetails');
    assert.deepEqual(
      children(details, 'StockLine').map((l) => [
        text(l, 'StockCode'),
        text(l, 'OrderQty'),
        text(l, 'Price'),
      ]),
      [
        ['A100', '2.000', '12.50'],
        ['B200', '1.500', '0.30'],
      ],
    );
    // Mixed line kinds keep their order in the XML.
    const order1 = xml.indexOf('<StockCode>A100');
    const comment = xml.indexOf('<Comment>Gift &lt;wrap&gt;');
    const order2 = xml.indexOf('<StockCode>B200');
    const freight = xml.indexOf('<FreightValue>9.99');
    assert.ok(order1 < comment && comment < order2 && order2 < freight, xml);
  });

  it('parses a clean import (no order number), a warning import and a failure', () => {
    const clean = parseSalesOrderImport(
      '<SalesOrders><StatusOfItems><ItemsProcessed>000001</ItemsProcessed><ItemsRejectedWithWarnings>000000</ItemsRejectedWithWarnings></StatusOfItems></SalesOrders>',
    );
    assert.equal(clean.outcome.failed, false);
    assert.deepEqual(clean.orders, []);
    const warned = parseSalesOrderImport(
      '<SalesOrders><Order><CustomerPoNumber>SS-1001</CustomerPoNumber><OrderActionType>A</OrderActionType><SalesOrder>015562</SalesOrder><WarningMessages><WarningDescription>Back ordered</WarningDescription></WarningMessages></Order><StatusOfItems><ItemsProcessed>000001</ItemsProcessed><ItemsProcessedWithWarnings>000001</ItemsProcessedWithWarnings></StatusOfItems></SalesOrders>',
    );
    assert.equal(warned.orders[0]?.salesOrder, '015562');
    assert.equal(warned.orders[0]?.warnings[0]?.description, 'Back ordered');
    const failed = parseSalesOrderImport(
      "<SalesOrders><Order><CustomerPoNumber>SS-1001</CustomerPoNumber><SalesOrder/><Customer><Value>ZZZ</Value><ErrorNumber>100001</ErrorNumber><ErrorDescription>Customer 'ZZZ' not found</ErrorDescription></Customer></Order><StatusOfItems><ItemsProcessed>000000</ItemsProcessed><ItemsInvalid>000001</ItemsInvalid></StatusOfItems></SalesOrders>",
    );
    assert.equal(failed.outcome.failed, true);
    assert.equal(failed.orders[0]?.salesOrder, undefined);
    assert.throws(
      () => assertSucceeded('SORTOI', 'order SS-1001', failed),
      (e: unknown) =>
        e instanceof SysproError &&
        e.kind === 'business-object' &&
        /Customer 'ZZZ' not found/.test(e.message) &&
        e.itemErrors?.[0]?.field === 'Customer',
    );
  });
});

describe('SORTOS', () => {
  it('always sends ValidateOnly (SORTOS defaults it to Y)', () => {
    assert.equal(text(root(buildOrderStatusParameters()).node, 'Parameters', 'ValidateOnly'), 'N');
    assert.equal(
      text(root(buildOrderStatusParameters({ validateOnly: true })).node, 'Parameters', 'ValidateOnly'),
      'Y',
    );
  });

  it('builds items and refuses delivery note fields unless moving to 4', () => {
    const doc = root(
      buildOrderStatusChange([
        { salesOrder: '015562', newStatus: '4', deliveryNoteNumber: 'DN1', currentStatus: '1' },
      ]),
    );
    assert.equal(doc.name, 'PostSorOrderStatus');
    assert.equal(text(doc.node, 'Item', 'NewOrderStatus'), '4');
    assert.equal(text(doc.node, 'Item', 'DeliveryNoteNumber'), 'DN1');
    assert.throws(
      () => buildOrderStatusChange([{ salesOrder: '1', newStatus: '9', deliveryNoteNumber: 'DN1' }]),
      /status 4/,
    );
  });
});

describe('SORTDN / SORQDN', () => {
  it('builds a dispatch note with comments and user fields', () => {
    const xml = buildDispatchNotes([
      {
        salesOrder: '015562',
        dispatchComments: ['UPS', 'Tracking 1Z<999>'],
        userDefined1: '1Z999',
        lines: [{ salesOrderLine: 1, dispatchQty: 2 }],
      },
    ]);
    const doc = root(xml);
    assert.equal(doc.name, 'PostDispatchNotes');
    const header = child(doc.node, 'DispatchNote', 'DispatchHeader');
    assert.deepEqual(
      children(header, 'DispatchComments').map((c) => text(c)),
      ['UPS', 'Tracking 1Z<999>'],
    );
    assert.equal(
      text(child(doc.node, 'DispatchNote', 'DispatchDetails', 'MerchandiseLine'), 'DispatchQty'),
      '2.000',
    );
    assert.equal(
      text(root(buildDispatchNoteParameters({ validateOnly: true })).node, 'Parameters', 'ValidateOnly'),
      'Y',
    );
    assert.throws(() => buildDispatchNotes([{ salesOrder: '1', lines: [] }]), /no lines/);
  });

  it('builds the dispatch note query and parses its output', () => {
    assert.equal(
      text(root(buildDispatchNoteQuery({ dispatchNote: '000074' })).node, 'Key', 'DispatchNote'),
      '000074',
    );
    const note = parseDispatchNoteQuery(
      '<DispatchNote><DispatchNote>000000000000074</DispatchNote><SalesOrder>015562</SalesOrder><DispatchComments1>UPS</DispatchComments1><DispatchComments2/><UserField1>1Z999</UserField1><DispatchNoteStatus>9</DispatchNoteStatus><PrevStatus>7</PrevStatus><ActualDeliveryDate>0000-00-00</ActualDeliveryDate></DispatchNote>',
    );
    assert.equal(note.found, true);
    assert.equal(note.dispatchNote, '000000000000074');
    assert.deepEqual(note.comments, ['UPS']);
    assert.equal(note.userField1, '1Z999');
    assert.equal(note.status, '9');
    assert.equal(note.actualDeliveryDate, undefined);
  });
});

describe('COMSFM / GENTJL / INVQRY', () => {
  it('builds a custom form field in the wire layout', () => {
    const doc = root(
      buildCustomFormFields([
        { formType: 'ORD', keyField: '015562', fieldName: 'Tracking', alphaValue: '1Z&9' },
      ]),
    );
    assert.equal(doc.name, 'SetupCustomForm');
    assert.equal(text(doc.node, 'Item', 'Key', 'FormType'), 'ORD');
    assert.equal(text(doc.node, 'Item', 'AlphaValue'), '1Z&9');
    assert.equal(
      text(root(buildCustomFormParameters({ validateOnly: true })).node, 'Parameters', 'ValidateOnly'),
      'Y',
    );
  });

  it('builds a balanced journal and refuses an unbalanced one', () => {
    const journal = {
      journalDate: '2024-01-15',
      postingYear: 2024,
      postingPeriod: 1,
      reference: 'SHIP-1',
      lines: [
        { ledgerCode: '6100', amount: 12.34 },
        { ledgerCode: '2100', amount: -12.34 },
      ],
    };
    const doc = root(buildJournal(journal));
    assert.deepEqual(
      children(child(doc.node, 'Item'), 'JournalDetails').map((d) => text(d, 'EntryAmount')),
      ['12.34', '-12.34'],
    );
    assert.throws(
      () =>
        buildJournal({
          ...journal,
          lines: [
            { ledgerCode: '1', amount: 1 },
            { ledgerCode: '2', amount: -0.5 },
          ],
        }),
      /does not balance/,
    );
    assert.equal(
      text(root(buildJournalParameters({ validateOnly: true })).node, 'Parameters', 'ValidateOnly'),
      'Y',
    );
    assert.deepEqual(
      parseJournalOutput('<PostGlJournal><Item><JournalNumber>000123</JournalNumber></Item></PostGlJournal>')
        .journalNumbers,
      ['000123'],
    );
  });

  it('writes journal line texts as Reference and AdditionalReference, cut to 30 characters', () => {
    const xml = buildJournal({
      journalDate: '2024-01-15',
      postingYear: 2024,
      postingPeriod: 1,
      lines: [
        { ledgerCode: '6100', amount: 1, reference: 'SHIP-1', additionalReference: 'UPS 1Z999AA10123456784' },
        {
          ledgerCode: '2100',
          amount: -1,
          reference: 'R'.repeat(31),
          additionalReference: `${'x'.repeat(28)}😀😀 tail`,
        },
      ],
    });
    const details = children(child(root(xml).node, 'Item'), 'JournalDetails');
    assert.deepEqual(
      details.map((d) => [text(d, 'Reference'), text(d, 'AdditionalReference')]),
      [
        ['SHIP-1', 'UPS 1Z999AA10123456784'],
        // Cut by characters: the emoji (outside Windows-1252) becomes one '?' each, never half of one.
        ['R'.repeat(30), `${'x'.repeat(28)}??`],
      ],
    );
    assert.doesNotMatch(xml, /<Comment>/);
  });

  it('builds the stock query with a warehouse filter and parses quantities', () => {
    const doc = root(buildStockQuery({ stockCode: 'A100', warehouses: ['FG'] }));
    const filter = child(doc.node, 'Filter', 'Warehouse');
    assert.equal(filter?.['@FilterType'], 'S');
    assert.equal(filter?.['@FilterValue'], 'FG');
    const stock = parseStockQuery(
      '<InvQuery><StockItem><StockCode>A100</StockCode><Description>Widget</Description></StockItem><WarehouseItem><Warehouse>FG</Warehouse><QtyOnHand>     747.800000</QtyOnHand><AvailableQty>  700.000000</AvailableQty></WarehouseItem></InvQuery>',
    );
    assert.equal(stock.found, true);
    assert.deepEqual(stock.warehouses[0], {
      warehouse: 'FG',
      qtyOnHand: 747.8,
      availableQty: 700,
      qtyAllocated: undefined,
      qtyOnOrder: undefined,
      qtyOnBackOrder: undefined,
    });
  });
});

/**
 * XmlOut as SYSPRO writes it (reference §2.0): a Windows-1252 declaration, single-quoted root
 * attributes, only `&` and `<` escaped in element text, and lower-case element names in recorded
 * `Post…` outputs. Which casing SORTDN, SORTOS and GENTJL use is UNCONFIRMED, so each is parsed in
 * both.
 */
const ATTRS = "Language='05' Language2='EN' CssStyle='' DecFormat='1' DateFormat='01' Role='01'";
const xmlOut = (rootName: string, body: string, version = '8.0.009') =>
  `<?xml version="1.0" encoding="Windows-1252"?>\n<${rootName} ${ATTRS} Version='${version}' OperatorPrimaryRole='   '>\n${body}\n</${rootName}>\n `;
/** The same document with every element name in lower case, as the recorded outputs are. */
const lowerCased = (xml: string) =>
  xml.replace(
    /<(\/?)([A-Za-z][\w:]*)/g,
    (_m, slash: string, name: string) => `<${slash}${name.toLowerCase()}`,
  );

describe('recorded-style XmlOut in both casings', () => {
  const sortdn = xmlOut(
    'PostDispatchNotes',
    '<Item><ItemNumber>000001</ItemNumber><SalesOrder>015562</SalesOrder><DispatchNoteNumber>000000000000075</DispatchNoteNumber><Status>Posted</Status></Item>' +
      "<Item><ItemNumber>000002</ItemNumber><SalesOrder>015563</SalesOrder><DispatchNoteNumber/><Status>Failed</Status><DispatchQty><Value>9.000</Value><ErrorNumber>100032</ErrorNumber><ErrorDescription>Line 0001 for stock code 'A100' cannot be dispatched: quantity 9.000 exceeds the outstanding quantity 2.000</ErrorDescription></DispatchQty></Item>" +
      '<StatusOfItems><ItemsProcessed>000001</ItemsProcessed><ItemsInvalid>000001</ItemsInvalid></StatusOfItems>',
  );

  for (const [casing, xml] of [
    ['proper case', sortdn],
    ['lower case', lowerCased(sortdn)],
  ] as const) {
    it(`SORTDN PostDispatchNotes in ${casing}: notes, statuses and the failed item`, () => {
      const result = parseDispatchNotes(xml);
      assert.deepEqual(result.notes, [
        { salesOrder: '015562', dispatchNote: '000000000000075', status: 'Posted' },
        { salesOrder: '015563', dispatchNote: undefined, status: 'Failed' },
      ]);
      assert.equal(result.outcome.failed, true);
      assert.equal(result.outcome.status.ItemsInvalid ?? result.outcome.status.itemsinvalid, 1);
      assert.equal(
        result.outcome.errors[0]?.description,
        "Line 0001 for stock code 'A100' cannot be dispatched: quantity 9.000 exceeds the outstanding quantity 2.000",
      );
    });
  }

  it('lower-case output really is lower case (the helper is not a no-op)', () => {
    assert.match(lowerCased(sortdn), /<postdispatchnotes Language='05'/);
    assert.match(lowerCased(sortdn), /<item><itemnumber>000001<\/itemnumber>/);
  });

  const sortos = xmlOut(
    'PostSorOrderStatus',
    '<Item><SalesOrder>015562</SalesOrder><NewOrderStatus>4</NewOrderStatus></Item><StatusOfItems><ItemsProcessed>000001</ItemsProcessed><ItemsInvalid>000000</ItemsInvalid></StatusOfItems>',
    '8.0.003',
  );
  const gentjl = xmlOut(
    'PostGlJournal',
    '<Item><ItemNumber>000001</ItemNumber><Journal>000012</Journal><JournalYear>2026</JournalYear></Item><StatusOfItems><ItemsProcessed>000001</ItemsProcessed><ItemsInvalid>000000</ItemsInvalid></StatusOfItems>',
    '8.0.005',
  );
  for (const [casing, cased] of [
    ['proper case', (x: string) => x],
    ['lower case', lowerCased],
  ] as const) {
    it(`SORTOS PostSorOrderStatus and GENTJL PostGlJournal in ${casing}`, () => {
      const status = parseOrderStatusChange(cased(sortos));
      assert.deepEqual(status.items, [{ salesOrder: '015562', newStatus: '4' }]);
      assert.equal(status.outcome.failed, false);
      const journal = parseJournalOutput(cased(gentjl));
      assert.deepEqual(journal.journalNumbers, ['000012']);
      assert.equal(journal.outcome.failed, false);
    });
  }

  const newSorqdn = xmlOut(
    'DispatchNoteDetail',
    '<DispatchNote>000000000000074</DispatchNote><SalesOrder>015562</SalesOrder><Customer>000000000000004</Customer>' +
      '<CustomerPoNumber>O\'Brien "rush" > 2</CustomerPoNumber><ShippingInstrs>UPS &amp; Co</ShippingInstrs>' +
      '<DispatchComments1>UPS</DispatchComments1><DispatchComments2>Tracking 1Z999</DispatchComments2><DispatchComments3/><DispatchComments4/>' +
      '<UserField1>1Z999</UserField1><UserField2/><PlannedDeliverDate>2026-03-02</PlannedDeliverDate><ActualDeliveryDate/>' +
      '<DispatchNoteStatus>7</DispatchNoteStatus><PrevStatus> </PrevStatus>' +
      '<Merchandise><DispatchNoteLine>   1</DispatchNoteLine><SalesOrderLine>   1</SalesOrderLine><MStockCode>A100</MStockCode><MStockDes>Widget</MStockDes><MWarehouse>FG</MWarehouse><MQtyToDispatch>            4.000000</MQtyToDispatch><MOrderUom>EA</MOrderUom></Merchandise>' +
      '<Merchandise><DispatchNoteLine>   2</DispatchNoteLine><SalesOrderLine>   3</SalesOrderLine><MStockCode>B200</MStockCode><MWarehouse>E</MWarehouse><MQtyToDispatch>            1.500000</MQtyToDispatch></Merchandise>',
    '8.0.002',
  );
  const oldSorqdn = xmlOut(
    'DispatchNoteQuery',
    '<DispatchNote>000000000000074</DispatchNote><SalesOrder>015562</SalesOrder><Customer>000000000000004</Customer>' +
      '<CustomerPoNumber>O&apos;Brien &quot;rush&quot; &gt; 2</CustomerPoNumber><ShippingInstrs>UPS &amp; Co</ShippingInstrs>' +
      '<DispatchComments1>UPS</DispatchComments1><DispatchComments2>Tracking 1Z999</DispatchComments2>' +
      '<UserField1>1Z999</UserField1><PlannedDeliverDate>2026-03-02</PlannedDeliverDate><DispatchNoteStatus>7</DispatchNoteStatus>' +
      '<DispatchLine><DispatchNoteLine>   1</DispatchNoteLine><SalesOrderLine>   1</SalesOrderLine><StockCode>A100</StockCode><Warehouse>FG</Warehouse><DispatchQty>            4.000000</DispatchQty></DispatchLine>' +
      '<DispatchLine><DispatchNoteLine>   2</DispatchNoteLine><SalesOrderLine>   3</SalesOrderLine><StockCode>B200</StockCode><Warehouse>E</Warehouse><DispatchQty>            1.500000</DispatchQty></DispatchLine>',
    '8.0.002',
  );
  const inContainer = newSorqdn
    .replace('<Merchandise>', '<DispatchNoteLines><Merchandise>')
    .replace(/<\/Merchandise>\n/, '</Merchandise></DispatchNoteLines>\n');

  for (const [label, xml] of [
    ['DispatchNoteDetail with Merchandise lines (public samples)', newSorqdn],
    ['DispatchNoteDetail in lower case', lowerCased(newSorqdn)],
    ['DispatchNoteDetail with the lines in a container', inContainer],
    ['the older DispatchNoteQuery with DispatchLine lines', oldSorqdn],
    ['DispatchNoteQuery in lower case', lowerCased(oldSorqdn)],
  ] as const) {
    it(`SORQDN: ${label}`, () => {
      const note = parseDispatchNoteQuery(xml);
      assert.equal(note.found, true);
      assert.equal(note.dispatchNote, '000000000000074');
      assert.equal(note.salesOrder, '015562');
      assert.equal(note.customerPoNumber, `O'Brien "rush" > 2`, 'raw and escaped quotes read the same');
      assert.equal(note.shippingInstrs, 'UPS & Co');
      assert.deepEqual(note.comments, ['UPS', 'Tracking 1Z999']);
      assert.equal(note.userField1, '1Z999');
      assert.equal(note.plannedDeliverDate, '2026-03-02');
      assert.equal(note.status, '7');
      assert.deepEqual(note.lines, [
        { salesOrderLine: 1, stockCode: 'A100', warehouse: 'FG', dispatchQty: 4 },
        { salesOrderLine: 3, stockCode: 'B200', warehouse: 'E', dispatchQty: 1.5 },
      ]);
    });
  }

  it('SORQRY without a <SalesOrderLine> element, TimeDelPrted 00 and raw apostrophes', () => {
    const sorqry = xmlOut(
      'SorDetail',
      `<SalesOrder>015562</SalesOrder><Customer>000000000000004</Customer><CustomerName>O'Neill &amp; Sons &lt;Ltd> "Cork"</CustomerName>` +
        '<OrderStatus>4</OrderStatus><DeliveryNote>015562</DeliveryNote><TimeDelPrtedHh>00</TimeDelPrtedHh><TimeDelPrtedMm>00</TimeDelPrtedMm><NumDispatches>     0</NumDispatches>',
      '8.0.013',
    );
    for (const xml of [sorqry, lowerCased(sorqry)]) {
      const order = parseSalesOrderQuery(xml);
      assert.equal(order.found, true);
      assert.equal(order.customerName, `O'Neill & Sons <Ltd> "Cork"`);
      assert.equal(order.orderStatus, '4');
      assert.equal(order.numDispatches, 0);
      assert.deepEqual(order.lines, []);
    }
  });

  it('SORTOI back-order texts as SYSPRO writes them (apostrophes raw)', () => {
    const result = parseSalesOrderImport(
      xmlOut(
        'SalesOrders',
        "<Order><CustomerPoNumber>SS-1001</CustomerPoNumber><OrderActionType>A</OrderActionType><SalesOrder>015562</SalesOrder><BackOrderComment>One or more lines have been placed on back order for order '015562'</BackOrderComment><WarningMessages><WarningDescription>Line 0001 for stock code 'A100' was placed on back order</WarningDescription></WarningMessages></Order>" +
          '<StatusOfItems><ItemsProcessed>000001</ItemsProcessed><ItemsRejectedWithWarnings>000000</ItemsRejectedWithWarnings><ItemsProcessedWithWarnings>000001</ItemsProcessedWithWarnings></StatusOfItems>',
        '8.0.032',
      ),
    );
    assert.equal(result.outcome.failed, false);
    assert.equal(result.orders[0]?.salesOrder, '015562');
    assert.equal(
      result.orders[0]?.backOrderComment,
      "One or more lines have been placed on back order for order '015562'",
    );
    assert.equal(
      result.orders[0]?.warnings[0]?.description,
      "Line 0001 for stock code 'A100' was placed on back order",
    );
  });
});
