import { XMLParser } from 'fast-xml-parser';
import { corrupt, limitExceeded, type ResolvedLimits } from './limits';

/** An XML element with its namespace-prefixed name (w:p, a:t, ...), attributes and children in order. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

/**
 * Non-validating parse of one OOXML part. A DOCTYPE is refused outright (OOXML never has one), so no
 * entity can be declared, expanded or fetched; only the five predefined entities and character
 * references are decoded (by decodeXml, in text and attribute values). Nesting deeper than `max_xml_depth` fails as LimitExceeded.
 */
export function parseXml(text: string, part: string, limits: Pick<ResolvedLimits, 'max_xml_depth'>): XmlElement {
  if (/<!DOCTYPE/i.test(text.slice(0, 4096)) || /<!ENTITY/i.test(text)) throw corrupt(`${part}: XML declares a DTD or entities, which OOXML never does`);
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: false,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    maxNestedTags: limits.max_xml_depth,
  });
  let ordered: OrderedNode[];
  try {
    ordered = parser.parse(text) as OrderedNode[];
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/nested tags/i.test(message)) throw limitExceeded('max_xml_depth', limits.max_xml_depth, `${part}: XML nests too deeply`);
    throw corrupt(`${part}: malformed XML: ${message}`);
  }
  const root = ordered.map(toElement).find((n): n is XmlElement => typeof n !== 'string');
  if (!root) throw corrupt(`${part}: XML has no root element`);
  return root;
}

function toElement(node: OrderedNode): XmlNode {
  const name = Object.keys(node).find((k) => k !== ':@')!;
  const value = node[name];
  if (name === '#text') return decodeXml(String(value));
  const attrs = Object.fromEntries(Object.entries(node[':@'] ?? {}).map(([k, v]) => [k, decodeXml(v)]));
  return { name, attrs, children: ((value as OrderedNode[]) ?? []).map(toElement) };
}

/** The five predefined XML entities and numeric character references; nothing else exists here. */
export function decodeXml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) => {
    if (e[0] !== '#') return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[e]!;
    const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
  });
}

export function childElements(el: XmlElement, name?: string): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string' && (name === undefined || c.name === name));
}

export function firstChild(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c): c is XmlElement => typeof c !== 'string' && c.name === name);
}

/** Follows a path of child names, e.g. path(sp, 'p:nvSpPr', 'p:cNvPr'). */
export function path(el: XmlElement | undefined, ...names: string[]): XmlElement | undefined {
  let at = el;
  for (const name of names) at = firstChild(at, name);
  return at;
}

/** Every descendant element with this name, document order, without descending into matches. */
export function findAll(el: XmlElement, name: string, out: XmlElement[] = []): XmlElement[] {
  for (const child of el.children) {
    if (typeof child === 'string') continue;
    if (child.name === name) out.push(child);
    else findAll(child, name, out);
  }
  return out;
}

/** Concatenated text of every `textName` element under `el` (e.g. a:t, w:t, t). */
export function textOf(el: XmlElement, textName: string): string {
  return findAll(el, textName).map(ownText).join('');
}

export function ownText(el: XmlElement): string {
  return el.children.filter((c): c is string => typeof c === 'string').join('');
}
