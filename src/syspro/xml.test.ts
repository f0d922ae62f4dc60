import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readOutcome } from './outcome.js';
import {
  buildXml,
  child,
  children,
  date,
  number,
  parseSysproNumber,
  parseXml,
  rootOf,
  SEQUENCE,
  sameKey,
  text,
} from './xml.js';

const TRICKY = `Smith & <Sons> "Ltd" 'quoted'`;

describe('buildXml', () => {
  it('escapes &, <, > and quotes in values and attributes, and round-trips through parseXml', () => {
    const xml = buildXml('Query', { Key: { Name: TRICKY } }, { attributes: { note: `a"b&c` } });
    assert.match(xml, /^<\?xml version="1.0" encoding="Windows-1252"\?>/);
    assert.ok(xml.includes('Smith &amp; &lt;Sons&gt; &quot;Ltd&quot;'), xml);
    assert.ok(!xml.includes('<Sons>'));
    assert.ok(xml.includes('note="a&quot;b&amp;c"'), xml);
    const root = rootOf(parseXml(xml)).node;
    assert.equal(text(root, 'Key', 'Name'), TRICKY);
  });

  it('keeps Windows-1252 characters and replaces what Windows-1252 cannot carry', () => {
    const xml = buildXml('X', { A: 'Café € “q” Zürich', B: 'emoji 😀 and 漢字', C: 'bell\u0007tab\t' });
    const root = rootOf(parseXml(xml)).node;
    assert.equal(text(root, 'A'), 'Café € “q” Zürich');
    assert.equal(text(root, 'B'), 'emoji ? and ??');
    assert.equal(text(root, 'C'), 'belltab');
  });

  it('writes Y/N for booleans, leaves undefined elements out, self-closes empty ones, repeats arrays', () => {
    const xml = buildXml(
      'X',
      { Flag: true, Off: false, Gone: undefined, Empty: '', Item: [{ N: 1 }, { N: 2.5 }] },
      {
        omitDeclaration: true,
      },
    );
    assert.equal(
      xml,
      '<X><Flag>Y</Flag><Off>N</Off><Empty/><Item><N>1</N></Item><Item><N>2.5</N></Item></X>',
    );
  });

  it('keeps the order of mixed children given in a sequence', () => {
    const xml = buildXml(
      'D',
      { [SEQUENCE]: [{ A: '1' }, { B: '2' }, { A: '3' }] },
      { omitDeclaration: true },
    );
    assert.equal(xml, '<D><A>1</A><B>2</B><A>3</A></D>');
  });

  it('writes attributes on nested elements', () => {
    const xml = buildXml(
      'Q',
      { Filter: { Warehouse: { '@FilterType': 'S', '@FilterValue': 'P&0' } } },
      {
        omitDeclaration: true,
      },
    );
    assert.equal(xml, '<Q><Filter><Warehouse FilterType="S" FilterValue="P&amp;0"/></Filter></Q>');
  });

  it('never writes a number in exponent form', () => {
    const xml = buildXml('X', { P: 1e-7, Q: 0.1 + 0.2 }, { omitDeclaration: true });
    assert.equal(xml, '<X><P>0</P><Q>0.3</Q></X>');
  });
});

describe('parseXml and accessors', () => {
  const sample = `<?xml version="1.0" encoding="Windows-1252"?>
<SorDetail Language='05' Language2='EN' xmlns:SALSLS="SALSLS">
  <SalesOrder>015562</SalesOrder>
  <SALSLS:Name>Acme &amp; Co</SALSLS:Name>
  <QtyOnHand>          747.800000</QtyOnHand>
  <Big>1,234.000 EA</Big>
  <Neg>12.50-</Neg>
  <ShipPostalCode/>
  <OrderDate>2024-01-15</OrderDate>
  <Supercession>0000-00-00</Supercession>
  <line><StockCode>A</StockCode></line>
  <LINE><StockCode>B</StockCode></LINE>
</SorDetail>
 `;
  const root = rootOf(parseXml(sample)).node;

  it('keeps leading zeros, drops namespace prefixes and trims padding', () => {
    assert.equal(text(root, 'SalesOrder'), '015562');
    assert.equal(text(root, 'Name'), 'Acme & Co');
    assert.equal(number(root, 'QtyOnHand'), 747.8);
    assert.equal(text(root, 'ShipPostalCode'), '');
  });

  it('parses SYSPRO numbers with separators, units and trailing minus', () => {
    assert.equal(number(root, 'Big'), 1234);
    assert.equal(number(root, 'Neg'), -12.5);
    assert.equal(parseSysproNumber('   '), undefined);
    assert.equal(parseSysproNumber('abc'), undefined);
  });

  it('reads dates, treating 0000-00-00 as empty', () => {
    assert.equal(date(root, 'OrderDate'), '2024-01-15');
    assert.equal(date(root, 'Supercession'), undefined);
  });

  it('finds elements without regard to case', () => {
    assert.equal(children(root, 'Line').length, 1);
    assert.equal(text(child(root, 'line'), 'stockcode'), 'A');
    assert.equal(text(root, 'salesorder'), '015562');
  });

  it('refuses text that is not XML', () => {
    assert.throws(() => parseXml('0'), /not XML/);
    assert.throws(() => parseXml('<a><b></a>'), /not well-formed/);
  });

  it('refuses a DOCTYPE or entity declaration instead of expanding entities into values', () => {
    const spoofed = `<?xml version="1.0"?>
<!DOCTYPE SorDetail [ <!ENTITY so "099999"> ]>
<SorDetail><SalesOrder>&so;</SalesOrder></SorDetail>`;
    assert.throws(() => parseXml(spoofed), /DOCTYPE or entity declaration/);
    assert.throws(() => parseXml('<!doctype a><a>1</a>'), /DOCTYPE/);
    assert.throws(() => parseXml('<a><![CDATA[<!ENTITY x "y">]]></a>'), /entity declaration/);
    // The predefined entities and character references are still decoded.
    assert.equal(text(rootOf(parseXml('<a><b>A &amp; B &#233;</b></a>')).node, 'b'), 'A & B é');
  });

  it('compares zero-padded keys', () => {
    assert.ok(sameKey('000000000015574', '015574'));
    assert.ok(sameKey('15574', '015574 '));
    assert.ok(!sameKey('15574', '15575'));
    assert.ok(sameKey('0', '000'));
  });
});

describe('readOutcome', () => {
  it('reads per-item errors, status counts and failure (Setup output, lower-case)', () => {
    const xml = `<setupinvwarehouse Language='05'><item><key><stockcode><Value>1004</Value><ErrorNumber>240004</ErrorNumber><ErrorDescription>Stock code '1004' not found</ErrorDescription></stockcode><warehouse>FG</warehouse></key></item><StatusOfItems><RecordsRead>1</RecordsRead><RecordsInvalid>1</RecordsInvalid></StatusOfItems></setupinvwarehouse>`;
    const outcome = readOutcome(rootOf(parseXml(xml)).node);
    assert.equal(outcome.failed, true);
    assert.deepEqual(outcome.status, { RecordsRead: 1, RecordsInvalid: 1 });
    assert.equal(outcome.errors.length, 1);
    assert.deepEqual(outcome.errors[0], {
      path: 'item.key.stockcode',
      field: 'stockcode',
      value: '1004',
      number: '240004',
      description: "Stock code '1004' not found",
    });
  });

  it('reads warnings without failing, and zero-padded counts', () => {
    const xml = `<SalesOrders><Order><CustomerPoNumber>PO1</CustomerPoNumber><SalesOrder>015562</SalesOrder><WarningMessages><WarningDescription>Line 1 placed on back order</WarningDescription></WarningMessages></Order><StatusOfItems><ItemsProcessed>000001</ItemsProcessed><ItemsRejectedWithWarnings>000000</ItemsRejectedWithWarnings><ItemsProcessedWithWarnings>000001</ItemsProcessedWithWarnings></StatusOfItems></SalesOrders>`;
    const outcome = readOutcome(rootOf(parseXml(xml)).node);
    assert.equal(outcome.failed, false);
    assert.equal(outcome.warnings.length, 1);
    assert.equal(outcome.warnings[0]?.description, 'Line 1 placed on back order');
    assert.equal(outcome.status.ItemsProcessed, 1);
  });

  it('fails on ValidationStatus Failed, ItemsInvalid and ErrorMessages blocks', () => {
    const failedValidation = readOutcome(
      rootOf(parseXml('<X><ValidationStatus><Status>Failed</Status></ValidationStatus></X>')).node,
    );
    assert.equal(failedValidation.failed, true);
    assert.equal(failedValidation.validationStatus, 'Failed');
    const invalid = readOutcome(
      rootOf(parseXml('<X><StatusOfItems><ItemsInvalid>2</ItemsInvalid></StatusOfItems></X>')).node,
    );
    assert.equal(invalid.failed, true);
    const messages = readOutcome(
      rootOf(
        parseXml(
          '<X><Item><ErrorMessages><ErrorMessage>Customer on hold</ErrorMessage></ErrorMessages></Item></X>',
        ),
      ).node,
    );
    assert.equal(messages.failed, true);
    assert.equal(messages.errors[0]?.description, 'Customer on hold');
  });
});
