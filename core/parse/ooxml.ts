import { posix } from 'node:path';
import { corrupt, type ResolvedLimits } from './limits';
import { childElements, findAll, ownText, parseXml, path, type XmlElement } from './xml';
import type { SafeZip } from './zip';

export interface Relationship {
  id: string;
  type: string;
  /** Package part name the relationship points at, or the raw target when external. */
  target: string;
  external: boolean;
}

/** One OOXML package: parsed parts with their relationships, all under the same limits. */
export class OoxmlPackage {
  constructor(
    readonly zip: SafeZip,
    readonly limits: ResolvedLimits,
  ) {}

  /** The parsed part, or undefined when the package has no such part. */
  xml(part: string): XmlElement | undefined {
    const text = this.zip.text(part);
    return text === null ? undefined : parseXml(text, part, this.limits);
  }

  requiredXml(part: string): XmlElement {
    const root = this.xml(part);
    if (!root) throw corrupt(`package has no ${part}`);
    return root;
  }

  /** Relationships of a part (from _rels/<name>.rels), keyed by r:id. */
  relationships(part: string): Map<string, Relationship> {
    const relsPart = posix.join(posix.dirname(part), '_rels', `${posix.basename(part)}.rels`);
    const root = this.xml(relsPart);
    const rels = new Map<string, Relationship>();
    if (!root) return rels;
    for (const rel of childElements(root, 'Relationship')) {
      const external = rel.attrs.TargetMode === 'External';
      const raw = rel.attrs.Target ?? '';
      const target = external ? raw : raw.startsWith('/') ? raw.slice(1) : posix.normalize(posix.join(posix.dirname(part), raw));
      rels.set(rel.attrs.Id ?? '', { id: rel.attrs.Id ?? '', type: rel.attrs.Type ?? '', target, external });
    }
    return rels;
  }

  /** Title from docProps/core.xml, when the author set one. */
  title(): string | undefined {
    const core = this.xml('docProps/core.xml');
    const title = core && path(core, 'dc:title');
    const text = title ? ownText(title).trim() : '';
    return text || undefined;
  }
}

/**
 * The picture a drawing element shows (its a:blip, or a VML v:imagedata): the media part and its
 * declared size, for OCR of embedded images. Nothing for a linked (external) or missing picture.
 */
export function pictureOf(pkg: OoxmlPackage, element: XmlElement, rels: Map<string, Relationship>): { image_part: string; image_bytes: number } | Record<string, never> {
  const id = findAll(element, 'a:blip')[0]?.attrs['r:embed'] ?? findAll(element, 'v:imagedata')[0]?.attrs['r:id'];
  const rel = id ? rels.get(id) : undefined;
  const bytes = rel && !rel.external ? pkg.zip.declaredSize(rel.target) : undefined;
  return rel && bytes !== undefined ? { image_part: rel.target, image_bytes: bytes } : {};
}

/** Relationship type URIs end in a stable word (officeDocument/2006/relationships/<kind>). */
export function relKind(rel: Relationship): string {
  return rel.type.slice(rel.type.lastIndexOf('/') + 1);
}

/** The first of these relationships of a kind (see relKind), e.g. a slide's notesSlide. */
export function relOfKind(rels: Map<string, Relationship>, kind: string): Relationship | undefined {
  for (const rel of rels.values()) if (relKind(rel) === kind) return rel;
  return undefined;
}

/** EMU (English Metric Units) to points. */
export function emuToPt(emu: string | undefined): number {
  return Math.round((Number(emu ?? 0) / 12700) * 100) / 100;
}
