import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { encodeQueryValue } from './enet-client.js';

it('e.net query values: / : @ , stay plain; what has a meaning in a query is encoded', () => {
  assert.equal(encodeQueryValue('<a b="1">x/y: z@w,v</a>'), '%3Ca%20b%3D%221%22%3Ex/y:%20z@w,v%3C/a%3E');
  for (const c of ['&', '=', '+', '#', ';', '?', ' ', '<', '>', '%', '"', '\n'])
    assert.notEqual(encodeQueryValue(c), c, `${JSON.stringify(c)} is encoded`);
  assert.equal(encodeQueryValue("'()*!-._~"), "'()*!-._~");
});

it('e.net query values decode back to the text (as a query-string parser reads them)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (text) => {
      const encoded = encodeQueryValue(text);
      assert.equal(decodeURIComponent(encoded), text);
      assert.equal(new URLSearchParams(`XmlIn=${encoded}&x=1`).get('XmlIn'), text);
    }),
  );
});

it("e.net query values with syspro.queryEncoding 'strict': / : @ , are encoded too, as encodeURIComponent does", () => {
  const text = '<a b="1">x/y: z@w,v</a>';
  assert.equal(encodeQueryValue(text, 'strict'), encodeURIComponent(text));
  assert.ok(encodeQueryValue(text, 'strict').length > encodeQueryValue(text).length);
});
