import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBody, decodeWindows1252, encodeWindows1252, toWindows1252Text } from './windows-1252.js';

describe('Windows-1252', () => {
  it('decodes 0x80-0x9F as Windows-1252, not as C1 controls', () => {
    const text = decodeWindows1252(Uint8Array.from([0x80, 0x93, 0x94, 0x99, 0x41, 0xe9, 0xfc]));
    assert.equal(text, '€“”™Aéü');
  });

  it('encodes and decodes every assigned character back to itself', () => {
    const sample = 'Smith & <Sons> "Ltd" – café €5 Œuvre ‰ ß';
    assert.equal(decodeWindows1252(encodeWindows1252(sample)), sample);
    assert.equal(decodeWindows1252(encodeWindows1252('😀')), '?');
  });

  it('decodes a body by its Content-Type charset, detecting UTF-8 when none is given', () => {
    const cp1252 = encodeWindows1252('Müller € “x”');
    assert.equal(decodeBody(cp1252, 'text/xml; charset=windows-1252'), 'Müller € “x”');
    assert.equal(decodeBody(cp1252, 'application/octet-stream'), 'Müller € “x”');
    const utf8 = new TextEncoder().encode('Müller € “x”');
    assert.equal(decodeBody(utf8, 'application/octet-stream'), 'Müller € “x”');
    assert.equal(decodeBody(utf8, 'text/plain; charset="utf-8"'), 'Müller € “x”');
  });

  it('makes text safe for SYSPRO', () => {
    assert.equal(toWindows1252Text('a\u0000b\u0001c\td\ne'), 'abc\td\ne');
    assert.equal(toWindows1252Text('日本', '_'), '__');
    assert.equal(toWindows1252Text('Ångström – €'), 'Ångström – €');
  });
});
