/**
 * XmlIn parsing and XmlOut writing, as SYSPRO e.net does them (reference §2.0):
 * - XmlIn element names are matched case-insensitively and namespace prefixes are dropped.
 * - XmlOut starts with a Windows-1252 declaration, has single-quoted root attributes
 *   (`Language='05' … Version='…'`), self-closing empty elements, right-aligned numbers with
 *   fixed decimals plus `Edited_*` twins, zero-padded counts, and ends with "\n ".
 * - Element text is escaped as SYSPRO does it: only `&` and `<` (`&amp;`, `&lt;`); apostrophes,
 *   quotes and `>` stay raw (`<ErrorDescription>Stock code 'A1' not found</ErrorDescription>`).
 *   The one exception is a `>` that closes `]]>`, which XML forbids raw in text; it is written
 *   `&gt;` (what SYSPRO does there is UNCONFIRMED, but raw it would not be XML).
 * - Attribute values (only the root's, single-quoted) also escape `'` and `"`.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface XNode {
  /** Local element name in lower case (for matching). */
  name: string;
  /** The element name as sent. */
  rawName: string;
  /** Attributes by lower-case local name. */
  attrs: Record<string, string>;
  /** Concatenated text content, untrimmed. */
  text: string;
  children: XNode[];
}

export class XmlInError extends Error {}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  removeNSPrefix: true,
  processEntities: true,
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

type Parsed = Record<string, unknown>;

function toNode(entry: Parsed): XNode | undefined {
  const name = Object.keys(entry).find((k) => k !== ':@' && k !== '#text');
  if (!name) return undefined;
  const attrsIn = (entry[':@'] ?? {}) as Record<string, unknown>;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrsIn)) attrs[k.toLowerCase()] = String(v);
  const node: XNode = { name: name.toLowerCase(), rawName: name, attrs, text: '', children: [] };
  const content = entry[name];
  if (Array.isArray(content)) {
    for (const item of content as Parsed[]) {
      if ('#text' in item) node.text += String(item['#text']);
      else {
        const child = toNode(item);
        if (child) node.children.push(child);
      }
    }
  }
  return node;
}

/** Parses an XmlIn or XmlParameters document; throws XmlInError when it is not well formed. */
export function parseXml(xml: string): XNode {
  const check = XMLValidator.validate(xml);
  if (check !== true) throw new XmlInError(`${check.err.msg} (line ${check.err.line})`);
  const parsed = parser.parse(xml) as Parsed[];
  for (const entry of parsed) {
    const node = toNode(entry);
    if (node) return node;
  }
  throw new XmlInError('the document has no root element');
}

/** The first child with this name (case-insensitive). */
export function child(node: XNode | undefined, name: string): XNode | undefined {
  const wanted = name.toLowerCase();
  return node?.children.find((c) => c.name === wanted);
}

export function children(node: XNode | undefined, name: string): XNode[] {
  const wanted = name.toLowerCase();
  return node?.children.filter((c) => c.name === wanted) ?? [];
}

/** Trimmed text of a child element; '' when absent. */
export function textOf(node: XNode | undefined, name: string): string {
  return child(node, name)?.text.trim() ?? '';
}

/** A Y/N flag with a default. */
export function flagOf(node: XNode | undefined, name: string, fallback: boolean): boolean {
  const value = textOf(node, name).toUpperCase();
  if (value === 'Y') return true;
  if (value === 'N') return false;
  return fallback;
}

// ---- XmlOut ----

/** An output element: text (empty = self-closing) or child elements. */
export interface Element {
  name: string;
  text?: string;
  children?: Element[];
}

export const el = (name: string, text: string | number | null | undefined = ''): Element => ({
  name,
  text: text === null || text === undefined ? '' : String(text),
});

export const group = (name: string, items: Element[]): Element => ({ name, children: items });

/** SYSPRO's element-level validation error: the failing element becomes a group. */
export function errorElement(name: string, value: string, errorNumber: number, description: string): Element {
  return group(name, [
    el('Value', value),
    el('ErrorNumber', String(errorNumber)),
    el('ErrorDescription', description),
  ]);
}

/** Right-aligned fixed-decimal number, e.g. `          747.800000`. */
export function padNumber(value: number, decimals: number, width = 20): string {
  return value.toFixed(decimals).padStart(width, ' ');
}

/** The `Edited_*` twin: thousands separators, DecFormat 1. */
export function editedNumber(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Zero-padded count (`000001`). */
export function padCount(value: number, width = 6): string {
  return String(value).padStart(width, '0');
}

/** Element text as SYSPRO writes it: `&` and `<` escaped, `'`, `"` and `>` raw (except in `]]>`). */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/]]>/g, ']]&gt;');
}

/** An attribute value for a single- or double-quoted attribute: quotes escaped as well. */
export function escapeAttribute(value: string): string {
  return escapeText(value).replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

function buildElement(element: Element): string {
  if (element.children) {
    if (element.children.length === 0) return `<${element.name}/>`;
    return `<${element.name}>${buildElements(element.children)}</${element.name}>`;
  }
  if (!element.text) return `<${element.name}/>`;
  return `<${element.name}>${escapeText(element.text)}</${element.name}>`;
}

/** Serialises elements (text escaped as SYSPRO does; empty elements self-closing). */
export function buildElements(elements: Element[]): string {
  return elements.map(buildElement).join('');
}

export interface XmlOutRoot {
  name: string;
  /** The business object's own version (differs per BO). */
  version: string;
  /** Extra root attributes, e.g. namespace declarations. */
  extraAttributes?: string;
  /**
   * Element names (root included) in lower case, as in the recorded SYSPRO 7 outputs of Setup and
   * some Transaction objects (`<postpurchaseorderreceipts>`, reference §2.0).
   */
  lowerCase?: boolean;
}

function lowerCaseNames(element: Element): Element {
  return {
    ...element,
    name: element.name.toLowerCase(),
    ...(element.children ? { children: element.children.map(lowerCaseNames) } : {}),
  };
}

/** A complete XmlOut document as e.net returns it. */
export function buildXmlOut(rootIn: XmlOutRoot, bodyIn: Element[]): string {
  const root = rootIn.lowerCase ? { ...rootIn, name: rootIn.name.toLowerCase() } : rootIn;
  const body = rootIn.lowerCase ? bodyIn.map(lowerCaseNames) : bodyIn;
  const attributes =
    `Language='05' Language2='EN' CssStyle='' DecFormat='1' DateFormat='01' Role='01' ` +
    `Version='${escapeAttribute(root.version)}' OperatorPrimaryRole='   '${root.extraAttributes ? ` ${root.extraAttributes}` : ''}`;
  return (
    `<?xml version="1.0" encoding="Windows-1252"?>\n<${root.name} ${attributes}>\n` +
    `${buildElements(body)}\n</${root.name}>\n `
  );
}

/** Dates are CCYY-MM-DD on input; anything else is error 100028 (reference §2.0). */
export function isSysproDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === text;
}

/**
 * Numbers in XmlIn: plain fixed decimals with `.`, no thousands separators. A long float string
 * such as `12.345678901234567` is rejected as "not numeric" (reference §2.3, S2).
 */
export function parseSysproNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^-?\d{1,12}(\.\d{1,6})?$/.test(trimmed)) return undefined;
  return Number(trimmed);
}
