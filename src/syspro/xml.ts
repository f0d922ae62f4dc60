/**
 * XML in and out of SYSPRO business objects, through fast-xml-parser.
 *
 * Building: values are escaped by the library (`& < > " '`), characters XML 1.0 or Windows-1252
 * cannot carry are replaced (see `toWindows1252Text`), booleans become `Y`/`N`, and a value that is
 * `undefined` leaves its element out (SYSPRO silently ignores unknown elements, so we never invent
 * any). Parsing: namespace prefixes (`SALSLS:Name`) are dropped, element names are looked up without
 * regard to case (Setup outputs are lower-case), values stay strings (`015562` keeps its zeros).
 *
 * A document with a DOCTYPE (or any `<!ENTITY` declaration) is refused before it is parsed. The
 * parser expands internal entities, so `<!ENTITY so "099999">` in the prolog and `&so;` in a value
 * let one piece of a document decide another's value (or blow up in size); SYSPRO's XmlOut never
 * carries a DOCTYPE, so refusing costs nothing. The five XML entities and character references
 * (`&amp;`, `&#233;`) are still decoded.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { toWindows1252Text } from './windows-1252.js';

/** Input to the builder: nested records; arrays repeat an element. */
export type XmlInputValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | XmlInput
  | readonly XmlInputValue[];
export interface XmlInput {
  [name: string]: XmlInputValue;
}

/** Parsed XmlOut: attributes are `@name`, the text of an element that also has attributes is `#text`. */
export type XmlValue = string | XmlNode | XmlValue[];
export interface XmlNode {
  [name: string]: XmlValue;
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="Windows-1252"?>';

const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  suppressEmptyNode: true,
  format: false,
  processEntities: true,
});

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

export interface BuildOptions {
  /** Root attributes, e.g. the schema location. */
  attributes?: Record<string, string>;
  /** Replacement for characters Windows-1252 cannot carry (default `?`). */
  replacement?: string;
  /** Leave out the `<?xml …?>` declaration (default: include it, as SYSPRO's samples do). */
  omitDeclaration?: boolean;
}

/** Formats a number for SYSPRO: fixed decimals, `.` separator, no thousands separator, no exponent. */
export function formatDecimal(value: number, places = 2): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  return value.toFixed(places);
}

/** Key whose value (an array of one-key records) emits children in exactly that order. */
export const SEQUENCE = '#sequence';

type Ordered = Record<string, unknown>;

function scalar(value: string | number | boolean, replacement: string): string {
  if (typeof value === 'boolean') return value ? 'Y' : 'N';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
    // Integers as they are; others with at most 6 decimals and no exponent (SYSPRO rejects long floats).
    return Number.isInteger(value) ? value.toFixed(0) : value.toFixed(6).replace(/\.?0+$/, '');
  }
  return toWindows1252Text(value, replacement);
}

/** Appends the elements for `name: value` to `out` (fast-xml-parser's ordered form). */
function emit(out: Ordered[], name: string, value: XmlInputValue, replacement: string): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) emit(out, name, item as XmlInputValue, replacement);
    return;
  }
  if (typeof value === 'object') {
    const element: Ordered = { [name]: content(value as XmlInput, replacement) };
    const attributes: Record<string, string> = {};
    for (const [key, v] of Object.entries(value as XmlInput)) {
      if (key.startsWith('@') && v !== undefined && v !== null && typeof v !== 'object') {
        attributes[key] = scalar(v, replacement);
      }
    }
    if (Object.keys(attributes).length > 0) element[':@'] = attributes;
    out.push(element);
    return;
  }
  const textValue = scalar(value as string | number | boolean, replacement);
  out.push({ [name]: textValue === '' ? [] : [{ '#text': textValue }] });
}

function content(input: XmlInput, replacement: string): Ordered[] {
  const out: Ordered[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (key.startsWith('@')) continue;
    if (key === SEQUENCE && Array.isArray(value)) {
      for (const entry of value) {
        if (entry && typeof entry === 'object' && !Array.isArray(entry)) {
          for (const [name, v] of Object.entries(entry as XmlInput)) emit(out, name, v, replacement);
        }
      }
    } else {
      emit(out, key, value, replacement);
    }
  }
  return out;
}

/** Builds `<root …>content</root>` with the Windows-1252 declaration SYSPRO uses. */
export function buildXml(root: string, body: XmlInput, options: BuildOptions = {}): string {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.attributes ?? {})) attributes[`@${name}`] = value;
  const element: Ordered = { [root]: content(body, options.replacement ?? '?') };
  if (Object.keys(attributes).length > 0) element[':@'] = attributes;
  const xml = builder.build([element]) as string;
  return options.omitDeclaration ? xml : XML_DECLARATION + xml;
}

/** Root attributes that point at a business object's schema, as in SYSPRO's samples. */
export function schemaAttributes(xsd: string): Record<string, string> {
  return {
    'xmlns:xsd': 'http://www.w3.org/2001/XMLSchema-instance',
    'xsd:noNamespaceSchemaLocation': xsd,
  };
}

/** Parses XML text; throws `Error` when it is not XML. */
export function parseXml(text: string): XmlNode {
  const trimmed = text.trim();
  if (!trimmed.startsWith('<')) throw new Error(`not XML: ${trimmed.slice(0, 80)}`);
  // Anywhere, in any case (also inside CDATA or a comment): cheaper and safer than deciding where
  // a declaration would count.
  if (/<!(DOCTYPE|ENTITY)/i.test(trimmed)) {
    throw new Error(
      'the XML carries a DOCTYPE or entity declaration, which SYSPRO XmlOut never has; refused without parsing it',
    );
  }
  const valid = XMLValidator.validate(trimmed);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const parsed = parser.parse(trimmed) as unknown;
  if (!parsed || typeof parsed !== 'object' || Object.keys(parsed).length === 0) {
    throw new Error(`not XML: ${trimmed.slice(0, 80)}`);
  }
  return parsed as XmlNode;
}

/** The root element of a parsed document (the first non-declaration key) and its name. */
export function rootOf(doc: XmlNode): { name: string; node: XmlNode } {
  for (const [name, value] of Object.entries(doc)) {
    if (name.startsWith('?') || name.startsWith('@')) continue;
    return { name, node: asNode(Array.isArray(value) ? value[0] : value) };
  }
  throw new Error('XML has no root element');
}

function asNode(value: XmlValue | undefined): XmlNode {
  if (value === undefined) return {};
  if (typeof value === 'string') return value === '' ? {} : { '#text': value };
  if (Array.isArray(value)) return asNode(value[0]);
  return value;
}

/** The key in `node` matching `name` without regard to case. */
function findKey(node: XmlNode, name: string): string | undefined {
  if (name in node) return name;
  const lower = name.toLowerCase();
  return Object.keys(node).find((k) => k.toLowerCase() === lower);
}

/** All child elements named `name` (any case), as nodes. */
export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  if (!node) return [];
  const key = findKey(node, name);
  if (key === undefined) return [];
  const value = node[key];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => asNode(v));
}

/** The first child element named `name`, following a path of names. */
export function child(node: XmlNode | undefined, ...path: string[]): XmlNode | undefined {
  let current = node;
  for (const name of path) {
    current = children(current, name)[0];
    if (!current) return undefined;
  }
  return current;
}

/** The text of a node (`''` for `<X/>`). */
export function textOf(node: XmlNode | undefined): string | undefined {
  if (!node) return undefined;
  const text = node['#text'];
  if (typeof text === 'string') return text;
  return Object.keys(node).some((k) => !k.startsWith('@')) ? undefined : '';
}

/** The trimmed text of the child at `path`, or `undefined` when absent. */
export function text(node: XmlNode | undefined, ...path: string[]): string | undefined {
  return textOf(child(node, ...path))?.trim();
}

/** The trimmed text of the first of several possible child names that is present. */
export function textAny(node: XmlNode | undefined, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = text(node, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** The attribute `name` of a node (any case). */
export function attribute(node: XmlNode | undefined, name: string): string | undefined {
  if (!node) return undefined;
  const key = findKey(node, `@${name}`);
  const value = key === undefined ? undefined : node[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * A SYSPRO number: space-padded, maybe with thousands separators or a unit (`1,234.000 EA`).
 * `undefined` for an empty or absent value.
 */
export function parseSysproNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const cleaned = value.trim().split(/\s+/)[0]?.replace(/,/g, '') ?? '';
  if (cleaned === '') return undefined;
  // SYSPRO writes negative numbers either `-12.50` or with a trailing minus `12.50-`.
  const trailingMinus = cleaned.endsWith('-');
  const n = Number(trailingMinus ? cleaned.slice(0, -1) : cleaned);
  if (!Number.isFinite(n)) return undefined;
  return trailingMinus ? -n : n;
}

/** The number at `path` (see `parseSysproNumber`). */
export function number(node: XmlNode | undefined, ...path: string[]): number | undefined {
  return parseSysproNumber(text(node, ...path));
}

/** A SYSPRO date (`CCYY-MM-DD`); `undefined` for empty and `0000-00-00`. */
export function date(node: XmlNode | undefined, ...path: string[]): string | undefined {
  const value = text(node, ...path);
  if (!value || /^0{4}-0{2}-0{2}/.test(value)) return undefined;
  return value.slice(0, 10);
}

/** Compares SYSPRO keys that may be zero-padded (`000000000015574` = `015574` = `15574`). */
export function sameKey(a: string, b: string): boolean {
  const strip = (s: string) => s.trim().replace(/^0+(?=.)/, '');
  return strip(a).toLowerCase() === strip(b).toLowerCase();
}
