/**
 * Text as SYSPRO stores and sends it: the company database is varchar on code page 1252 and every
 * XmlOut declares `encoding="Windows-1252"` (reference §1.1, pitfall 9). Characters outside that
 * code page become `?` when stored, as SQL Server does for varchar columns.
 */

/**
 * Bytes 0x80-0x9F of Windows-1252. Written out because Node 20's TextDecoder('windows-1252')
 * decodes them as C1 controls (U+0080-U+009F), which is wrong. Undefined bytes map to themselves.
 */
const HIGH_CHARS =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const HIGH_BYTES = new Map<string, number>([...HIGH_CHARS].map((char, i) => [char, 0x80 + i]));

function byteOf(char: string): number | undefined {
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x80 || (code >= 0xa0 && code <= 0xff)) return code;
  return HIGH_BYTES.get(char);
}

/** The string as a varchar(1252) column would keep it: unrepresentable characters become `?`. */
export function toCodePage(text: string): string {
  // Fast path: plain Latin-1 without C1 controls needs no change.
  if (!/[^\u0000-\u007f\u00a0-\u00ff]/.test(text)) return text;
  let out = '';
  for (const char of text) out += byteOf(char) === undefined ? '?' : char;
  return out;
}

/** Encodes text as Windows-1252 bytes (unrepresentable characters become `?`). */
export function encodeWindows1252(text: string): Buffer {
  const bytes: number[] = [];
  for (const char of text) bytes.push(byteOf(char) ?? 0x3f);
  return Buffer.from(bytes);
}

/** Truncates to a SYSPRO column length after code-page conversion. */
export function fitColumn(text: string, length: number): string {
  const converted = toCodePage(text);
  return converted.length > length ? converted.slice(0, length) : converted;
}

/** Decodes Windows-1252 bytes (correctly for 0x80-0x9F, unlike Node 20's TextDecoder). */
export function decodeWindows1252(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes)
    out += byte >= 0x80 && byte <= 0x9f ? HIGH_CHARS[byte - 0x80] : String.fromCharCode(byte);
  return out;
}
