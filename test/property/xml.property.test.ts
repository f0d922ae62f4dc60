/**
 * Properties of the SYSPRO XML module (src/syspro/xml.ts): whatever text goes into a value or an
 * attribute comes back out of the real parser as the Windows-1252-safe text that was sent
 * (`toWindows1252Text`), trimmed as the parser trims; the built document is well formed and never
 * refused as carrying a DOCTYPE; and the SORTDN document of generated dispatch notes reads back
 * field for field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildDispatchNotes } from '../../src/syspro/business-objects/sortdn.js';
import { toWindows1252Text } from '../../src/syspro/windows-1252.js';
import { attribute, buildXml, child, children, parseXml, rootOf, text } from '../../src/syspro/xml.js';

const RUNS = { numRuns: 1000 };

/** Text a hostile field could hold: markup characters, entities, quotes, emoji, controls, CDATA ends. */
const hostileText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .array(
      fc.constantFrom(
        '&',
        '<',
        '>',
        '"',
        "'",
        '&amp;',
        '&lt;',
        '&#233;',
        '&copy;',
        '&nbsp;',
        ']]>',
        '<![CDATA[',
        '<!DOCTYPE x>',
        '<!ENTITY e "x">',
        '<?xml?>',
        '--',
        '<!--',
        '😀',
        '€',
        '\u0000',
        '\u0007',
        '\u00a0',
        '\r\n',
        '\t',
        ' ',
        'é',
        'O\u2019Brien',
        'A',
        '\ud800',
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join('')),
);

/** What the parser gives back for a sent value: the Windows-1252-safe text, trimmed (trimValues). */
function expected(value: string): string {
  // XML parsers normalise line ends (§2.11): CR LF and lone CR read as LF.
  return toWindows1252Text(value).replace(/\r\n?/g, '\n').trim();
}

describe('SYSPRO XML properties', () => {
  it('element text round-trips through buildXml and the real parser', () => {
    fc.assert(
      fc.property(hostileText, hostileText, (a, b) => {
        const xml = buildXml('Root', { A: a, Nested: { B: b } });
        const doc = parseXml(xml);
        const { name, node } = rootOf(doc);
        assert.equal(name, 'Root');
        assert.equal(text(node, 'A') ?? '', expected(a), JSON.stringify(a));
        assert.equal(text(node, 'Nested', 'B') ?? '', expected(b), JSON.stringify(b));
      }),
      RUNS,
    );
  });

  it('attribute values round-trip', () => {
    fc.assert(
      fc.property(hostileText, (a) => {
        const xml = buildXml('Root', { Item: { '@Key': a, Value: 'x' } });
        const node = child(rootOf(parseXml(xml)).node, 'Item');
        assert.equal((attribute(node, 'Key') ?? '').trim(), expected(a), JSON.stringify(a));
      }),
      RUNS,
    );
  });

  it('repeated elements keep their order and count', () => {
    fc.assert(
      fc.property(fc.array(hostileText, { minLength: 1, maxLength: 8 }), (values) => {
        const xml = buildXml('Root', { Line: values });
        const node = rootOf(parseXml(xml)).node;
        const got = children(node, 'Line').map((n) => (typeof n['#text'] === 'string' ? n['#text'] : ''));
        assert.deepEqual(
          got,
          values.map((v) => expected(v)),
        );
      }),
      RUNS,
    );
  });

  it('a SORTDN document of generated notes reads back field for field', () => {
    const note = fc.record({
      salesOrder: fc.stringMatching(/^[0-9A-Z]{1,15}$/),
      comments: fc.array(hostileText, { maxLength: 4 }),
      userDefined1: hostileText,
      userDefined2: hostileText,
      lines: fc.array(
        fc.record({
          salesOrderLine: fc.integer({ min: 1, max: 9999 }),
          dispatchQty: fc.double({ min: 0.001, max: 1e9, noNaN: true }),
        }),
        { minLength: 1, maxLength: 20 },
      ),
    });
    fc.assert(
      fc.property(note, (n) => {
        const xml = buildDispatchNotes([
          {
            salesOrder: n.salesOrder,
            dispatchComments: n.comments,
            userDefined1: n.userDefined1,
            userDefined2: n.userDefined2,
            lines: n.lines,
          },
        ]);
        const root = rootOf(parseXml(xml)).node;
        const header = child(root, 'DispatchNote', 'DispatchHeader');
        assert.equal(text(header, 'SalesOrder'), n.salesOrder);
        assert.equal(text(header, 'UserDefined1') ?? '', expected(n.userDefined1));
        assert.equal(text(header, 'UserDefined2') ?? '', expected(n.userDefined2));
        const comments = children(header, 'DispatchComments').map((c) =>
          typeof c['#text'] === 'string' ? c['#text'] : '',
        );
        assert.deepEqual(
          comments,
          n.comments.map((c) => expected(c)),
        );
        const lines = children(child(root, 'DispatchNote', 'DispatchDetails'), 'MerchandiseLine');
        assert.deepEqual(
          lines.map((l) => [Number(text(l, 'SalesOrderLine')), Number(text(l, 'DispatchQty'))]),
          n.lines.map((l) => [l.salesOrderLine, Number(l.dispatchQty.toFixed(3))]),
        );
      }),
      RUNS,
    );
  });
});
