/**
 * Windows-1252, the charset SYSPRO declares on its XML. Node 20's `TextDecoder('windows-1252')`
 * decodes bytes 0x80–0x9F as C1 control characters (ISO-8859-1), not as `€ ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž
 * ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ`, so the table is written out here.
 */

/** Code points for bytes 0x80–0x9F; `undefined` marks the five bytes Windows-1252 leaves unassigned. */
const HIGH: readonly (number | undefined)[] = [
  0x20ac,
  undefined,
  0x201a,
  0x0192,
  0x201e,
  0x2026,
  0x2020,
  0x2021,
  0x02c6,
  0x2030,
  0x0160,
  0x2039,
  0x0152,
  undefined,
  0x017d,
  undefined,
  undefined,
  0x2018,
  0x2019,
  0x201c,
  0x201d,
  0x2022,
  0x2013,
  0x2014,
  0x02dc,
  0x2122,
  0x0161,
  0x203a,
  0x0153,
  undefined,
  0x017e,
  0x0178,
];

const ENCODE_HIGH = new Map<number, number>();
HIGH.forEach((cp, i) => {
  if (cp !== undefined) ENCODE_HIGH.set(cp, 0x80 + i);
});

/** Decodes Windows-1252 bytes (unassigned bytes map to the same code point, as browsers do). */
export function decodeWindows1252(bytes: Uint8Array): string {
  let out = '';
  const chunk: number[] = [];
  for (const byte of bytes) {
    chunk.push(byte >= 0x80 && byte <= 0x9f ? (HIGH[byte - 0x80] ?? byte) : byte);
    if (chunk.length >= 8192) {
      out += String.fromCharCode(...chunk);
      chunk.length = 0;
    }
  }
  return out + String.fromCharCode(...chunk);
}

/** Encodes text as Windows-1252 bytes; a character it cannot carry becomes `?`. */
export function encodeWindows1252(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0x3f;
    if (cp < 0x80 || (cp >= 0xa0 && cp <= 0xff)) bytes.push(cp);
    else bytes.push(ENCODE_HIGH.get(cp) ?? 0x3f);
  }
  return Uint8Array.from(bytes);
}

/** Whether Windows-1252 can carry the character (one code point). */
export function isWindows1252Char(cp: number): boolean {
  return cp < 0x80 || (cp >= 0xa0 && cp <= 0xff) || ENCODE_HIGH.has(cp);
}

/**
 * Makes text safe for a SYSPRO XML value: removes characters XML 1.0 cannot carry (C0 controls other
 * than tab, CR, LF; lone surrogates; U+FFFE/U+FFFF) and replaces characters Windows-1252 cannot
 * carry (emoji, CJK, …) with `replacement`. SYSPRO stores text in Windows-1252 columns; what it does
 * with other characters is not documented, so we never send them.
 */
export function toWindows1252Text(text: string, replacement = '?'): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp === 0x09 || cp === 0x0a || cp === 0x0d) out += ch;
    else if (cp < 0x20 || cp === 0xfffe || cp === 0xffff || (cp >= 0xd800 && cp <= 0xdfff)) continue;
    else if (isWindows1252Char(cp)) out += ch;
    else out += replacement;
  }
  return out;
}

/**
 * Decodes a response body by the charset its Content-Type names. Without a charset: UTF-8 when the
 * bytes are valid UTF-8, otherwise Windows-1252 (what SYSPRO declares in its XML).
 */
export function decodeBody(bytes: Uint8Array, contentType: string | null | undefined): string {
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset) {
    if (isWindows1252Label(charset)) return decodeWindows1252(bytes);
    try {
      return new TextDecoder(charset).decode(bytes);
    } catch {
      // An unknown label falls through to detection below.
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return decodeWindows1252(bytes);
  }
}

/** WHATWG maps these labels (and latin1 / iso-8859-1) to windows-1252. */
function isWindows1252Label(label: string): boolean {
  return [
    'windows-1252',
    'cp1252',
    'x-cp1252',
    'latin1',
    'iso-8859-1',
    'iso8859-1',
    'iso_8859-1',
    'l1',
    'ascii',
    'us-ascii',
    'ansi_x3.4-1968',
  ].includes(label);
}
