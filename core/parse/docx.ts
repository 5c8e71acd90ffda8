import type { DocumentTableCell } from '../../schemas/generated/types';
import { chartFields, readChart } from './chart';
import { ContentBuilder, normaliseSpace, tableText, type ParsedContent } from './model';
import { ListNumbering } from './numbering';
import { relKind, type OoxmlPackage, type Relationship } from './ooxml';
import { childElements, findAll, firstChild, path, type XmlElement } from './xml';

const MAIN_PART = 'word/document.xml';

interface StyleInfo {
  name: string;
  basedOn?: string;
  outlineLevel?: number;
  numId?: string;
  ilvl?: number;
}

/** Heading level of a style from its name (Title, heading N) or outline level, following basedOn. */
function headingLevelOfStyle(styles: Map<string, StyleInfo>, styleId: string | undefined): number | undefined {
  for (let id = styleId, hops = 0; id && hops < 20; hops++) {
    const style = styles.get(id);
    if (!style) return undefined;
    const name = style.name.toLowerCase();
    if (name === 'title') return 1;
    const named = /^heading\s*(\d)/.exec(name);
    if (named) return Math.min(6, Number(named[1]));
    if (style.outlineLevel !== undefined && style.outlineLevel < 9) return Math.min(6, style.outlineLevel + 1);
    id = style.basedOn;
  }
  return undefined;
}

function readStyles(root: XmlElement | undefined): Map<string, StyleInfo> {
  const styles = new Map<string, StyleInfo>();
  for (const style of root ? childElements(root, 'w:style') : []) {
    const pPr = firstChild(style, 'w:pPr');
    const numPr = path(pPr, 'w:numPr');
    const outline = path(pPr, 'w:outlineLvl')?.attrs['w:val'];
    styles.set(style.attrs['w:styleId'] ?? '', {
      name: firstChild(style, 'w:name')?.attrs['w:val'] ?? style.attrs['w:styleId'] ?? '',
      basedOn: firstChild(style, 'w:basedOn')?.attrs['w:val'],
      outlineLevel: outline === undefined ? undefined : Number(outline),
      numId: path(numPr, 'w:numId')?.attrs['w:val'],
      ilvl: numPr ? Number(path(numPr, 'w:ilvl')?.attrs['w:val'] ?? 0) : undefined,
    });
  }
  return styles;
}

/**
 * DOCX: walks word/document.xml in order. Headings come from paragraph styles (following basedOn)
 * and outline levels, lists from numPr with Word-style numbering, tables keep gridSpan/vMerge as
 * spans, drawings become image/chart blocks and text boxes are walked like the body. Headers,
 * footers and footnotes follow the body in their own block types.
 */
export function parseDocx(pkg: OoxmlPackage): ParsedContent {
  return new DocxWalker(pkg).run();
}

class DocxWalker {
  private readonly out = new ContentBuilder();
  private readonly styles: Map<string, StyleInfo>;
  private readonly numbering: ListNumbering;
  private readonly rels: Map<string, Relationship>;
  private page = 1;

  constructor(private readonly pkg: OoxmlPackage) {
    this.styles = readStyles(pkg.xml('word/styles.xml'));
    this.numbering = new ListNumbering(pkg.xml('word/numbering.xml'));
    this.rels = pkg.relationships(MAIN_PART);
  }

  run(): ParsedContent {
    const body = path(this.pkg.requiredXml(MAIN_PART), 'w:body');
    if (body) this.walkBlocks(body, this.rels);
    this.addFurniture();
    this.addFootnotes();
    const title = this.pkg.title();
    if (title) this.out.title = title;
    for (let index = 1; index <= this.page; index++) this.out.units.push({ kind: 'page', index });
    return this.out;
  }

  /** Block-level content: paragraphs, tables, content controls. */
  private walkBlocks(container: XmlElement, rels: Map<string, Relationship>, overrides: { type?: 'header' | 'footer' | 'footnote'; part?: string } = {}): void {
    for (const child of childElements(container)) {
      if (child.name === 'w:p') this.paragraph(child, rels, overrides);
      else if (child.name === 'w:tbl') this.table(child, overrides.part);
      else if (child.name === 'w:sdt' || child.name === 'w:customXml') {
        const content = firstChild(child, 'w:sdtContent') ?? child;
        this.walkBlocks(content, rels, overrides);
      }
    }
  }

  private paragraph(p: XmlElement, rels: Map<string, Relationship>, overrides: { type?: 'header' | 'footer' | 'footnote'; part?: string }): void {
    const pPr = firstChild(p, 'w:pPr');
    const styleId = path(pPr, 'w:pStyle')?.attrs['w:val'];
    const collected = collectRuns(p);
    const text = normaliseSpace(collected.text);
    const base = { unit: this.page, ...(overrides.part ? { source_part: overrides.part } : {}) };

    if (text) {
      if (overrides.type) {
        this.out.add({ ...base, type: overrides.type, text, layer: overrides.type === 'footnote' ? 'body' : 'furniture' });
      } else {
        this.bodyParagraph(pPr, styleId, text, base);
      }
    }
    for (const drawing of collected.drawings) this.drawing(drawing, rels, overrides);
    if (collected.pageBreak) this.page++;
  }

  private bodyParagraph(pPr: XmlElement | undefined, styleId: string | undefined, text: string, base: { unit: number }): void {
    const style = styleId ? this.styles.get(styleId) : undefined;
    const outline = path(pPr, 'w:outlineLvl')?.attrs['w:val'];
    const headingLevel = outline !== undefined && Number(outline) < 9 ? Math.min(6, Number(outline) + 1) : headingLevelOfStyle(this.styles, styleId);
    const numPr = path(pPr, 'w:numPr');
    const numId = path(numPr, 'w:numId')?.attrs['w:val'] ?? style?.numId;
    const ilvl = Number(path(numPr, 'w:ilvl')?.attrs['w:val'] ?? style?.ilvl ?? 0);
    const list = numId ? this.numbering.next(numId, ilvl) : undefined;

    if (headingLevel !== undefined) {
      const marker = list?.ordered && list.marker ? list.marker : undefined;
      this.out.add({ ...base, type: 'heading', level: headingLevel, text: marker ? `${marker} ${text}` : text, ...(marker ? { marker } : {}) });
    } else if (list) {
      this.out.add({ ...base, type: 'list_item', level: Math.min(9, ilvl + 1), ordered: list.ordered, text, ...(list.marker ? { marker: list.marker } : {}) });
    } else if (/caption/i.test(style?.name ?? '')) {
      this.out.add({ ...base, type: 'caption', text });
    } else {
      this.out.add({ ...base, type: 'paragraph', text });
    }
  }

  private drawing(drawing: XmlElement, rels: Map<string, Relationship>, overrides: { type?: 'header' | 'footer' | 'footnote'; part?: string }): void {
    for (const box of findAll(drawing, 'w:txbxContent').slice(0, 1)) this.walkBlocks(box, rels, overrides);
    const docPr = findAll(drawing, 'wp:docPr')[0];
    const alt = (docPr?.attrs.descr || docPr?.attrs.title || '').trim();
    const base = { unit: this.page, ...(alt ? { alt_text: alt } : {}), ...(overrides.part ? { source_part: overrides.part } : {}) };
    const chartRef = findAll(drawing, 'c:chart')[0]?.attrs['r:id'];
    const chartRel = chartRef ? rels.get(chartRef) : undefined;
    if (chartRel) {
      this.out.add({ ...base, type: 'chart', ...chartFields(readChart(this.pkg, chartRel.target), alt) });
    } else if (findAll(drawing, 'pic:pic').length || findAll(drawing, 'v:imagedata').length) {
      this.out.add({ ...base, type: 'image', text: alt });
    }
  }

  private table(tbl: XmlElement, part?: string): void {
    const cells: DocumentTableCell[] = [];
    /** Origin cell of an open vertical merge per grid column. */
    const openVertical = new Map<number, DocumentTableCell>();
    let rowIndex = 0;
    let cols = 0;
    for (const tr of childElements(tbl, 'w:tr')) {
      let col = Number(path(tr, 'w:trPr', 'w:gridBefore')?.attrs['w:val'] ?? 0);
      for (const tc of childElements(tr, 'w:tc')) {
        const tcPr = firstChild(tc, 'w:tcPr');
        const span = Math.max(1, Number(path(tcPr, 'w:gridSpan')?.attrs['w:val'] ?? 1));
        const vMerge = path(tcPr, 'w:vMerge');
        const above = openVertical.get(col);
        if (vMerge && vMerge.attrs['w:val'] !== 'restart' && above) {
          above.row_span++;
        } else {
          const cell: DocumentTableCell = { row: rowIndex, col, row_span: 1, col_span: span, text: cellText(tc) };
          cells.push(cell);
          if (vMerge) openVertical.set(col, cell);
          else openVertical.delete(col);
        }
        col += span;
      }
      cols = Math.max(cols, col);
      rowIndex++;
    }
    if (rowIndex === 0) return;
    this.out.add({ type: 'table', unit: this.page, text: tableText(cells), rows: rowIndex, cols, cells, ...(part ? { source_part: part } : {}) });
  }

  private addFurniture(): void {
    const seen = new Set<string>();
    for (const rel of this.rels.values()) {
      const kind = relKind(rel);
      if ((kind !== 'header' && kind !== 'footer') || rel.external) continue;
      const root = this.pkg.xml(rel.target);
      if (!root) continue;
      const before = this.out.blocks.length;
      const page = this.page;
      this.page = 1;
      this.walkBlocks(root, this.pkg.relationships(rel.target), { type: kind, part: rel.target });
      this.page = page;
      // The same running text in several sections (first/even/default) is one piece of furniture.
      const added = this.out.blocks.splice(before);
      for (const block of added) {
        const key = `${block.type}:${block.text}`;
        if (!seen.has(key)) (seen.add(key), this.out.blocks.push({ ...block, id: `b${this.out.blocks.length + 1}` }));
      }
    }
  }

  private addFootnotes(): void {
    for (const part of ['word/footnotes.xml', 'word/endnotes.xml']) {
      const root = this.pkg.xml(part);
      if (!root) continue;
      const rels = this.pkg.relationships(part);
      for (const note of [...childElements(root, 'w:footnote'), ...childElements(root, 'w:endnote')]) {
        if (note.attrs['w:type'] === 'separator' || note.attrs['w:type'] === 'continuationSeparator' || note.attrs['w:type'] === 'continuationNotice') continue;
        this.walkBlocks(note, rels, { type: 'footnote', part });
      }
    }
  }
}

interface CollectedRuns {
  text: string;
  drawings: XmlElement[];
  pageBreak: boolean;
}

/**
 * Text of a paragraph's runs in order (through hyperlinks, insertions, fields, smart tags), with
 * drawings set aside: their text boxes are separate blocks, and mc:AlternateContent keeps only its
 * first choice so the VML fallback is not read twice.
 */
function collectRuns(p: XmlElement): CollectedRuns {
  const out: CollectedRuns = { text: '', drawings: [], pageBreak: false };
  const stack: XmlElement[] = [p];
  const order: (XmlElement | string)[] = [];
  // Iterative pre-order walk: document order without recursion.
  while (stack.length) {
    const el = stack.pop()!;
    switch (el.name) {
      case 'w:t':
        order.push(el.children.filter((c): c is string => typeof c === 'string').join(''));
        continue;
      case 'w:tab':
      case 'w:ptab':
        order.push('\t');
        continue;
      case 'w:br':
        if (el.attrs['w:type'] === 'page') out.pageBreak = true;
        else order.push('\n');
        continue;
      case 'w:cr':
        order.push('\n');
        continue;
      case 'w:noBreakHyphen':
        order.push('-');
        continue;
      case 'w:drawing':
      case 'w:pict':
      case 'w:object':
        out.drawings.push(el);
        continue;
      case 'mc:AlternateContent': {
        const choice = firstChild(el, 'mc:Choice') ?? firstChild(el, 'mc:Fallback');
        if (choice) stack.push(choice);
        continue;
      }
      case 'w:del':
      case 'w:pPr':
      case 'w:rPr':
      case 'w:instrText':
      case 'w:footnoteReference':
      case 'w:endnoteReference':
        continue;
    }
    for (let i = el.children.length - 1; i >= 0; i--) {
      const child = el.children[i]!;
      if (typeof child !== 'string') stack.push(child);
    }
  }
  out.text = order.join('');
  return out;
}

function cellText(tc: XmlElement): string {
  const lines: string[] = [];
  for (const p of findAll(tc, 'w:p')) {
    const text = normaliseSpace(collectRuns(p).text);
    if (text) lines.push(text);
  }
  return lines.join('\n');
}
