import type { DocumentBlock, DocumentTableCell } from '../../schemas/generated/types';
import { chartFields, readChart } from './chart';
import { ContentBuilder, normaliseSpace, tableText, type ParsedContent } from './model';
import { ListNumbering } from './numbering';
import { pictureOf, relKind, type OoxmlPackage, type Relationship } from './ooxml';
import { childElements, findAll, firstChild, ownText, path, type XmlElement } from './xml';

const MAIN_PART = 'word/document.xml';

interface StyleInfo {
  name: string;
  basedOn?: string;
  outlineLevel?: number;
  numId?: string;
  ilvl?: number;
  pageBreakBefore?: boolean;
}

/** The style and those it is based on, nearest first; an unknown id ends the chain, and 20 hops end a cycle. */
function* styleChain(styles: Map<string, StyleInfo>, styleId: string | undefined): Generator<StyleInfo> {
  for (let id = styleId, hops = 0; id && hops < 20; hops++) {
    const style = styles.get(id);
    if (!style) return;
    yield style;
    id = style.basedOn;
  }
}

/** Heading level of a style from its name (Title, heading N) or outline level, following basedOn. */
function headingLevelOfStyle(styles: Map<string, StyleInfo>, styleId: string | undefined): number | undefined {
  for (const style of styleChain(styles, styleId)) {
    const name = style.name.toLowerCase();
    if (name === 'title') return 1;
    const named = /^heading\s*(\d)/.exec(name);
    if (named) return Math.min(6, Number(named[1]));
    if (style.outlineLevel !== undefined && style.outlineLevel < 9) return Math.min(6, style.outlineLevel + 1);
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
      pageBreakBefore: onOff(path(pPr, 'w:pageBreakBefore')),
    });
  }
  return styles;
}

/** An OOXML on/off property: present means on unless its val says otherwise. */
function onOff(el: XmlElement | undefined): boolean | undefined {
  if (!el) return undefined;
  return !['0', 'false', 'off'].includes(el.attrs['w:val'] ?? 'true');
}

function stylePageBreakBefore(styles: Map<string, StyleInfo>, styleId: string | undefined): boolean {
  for (const style of styleChain(styles, styleId)) if (style.pageBreakBefore !== undefined) return style.pageBreakBefore;
  return false;
}

/**
 * What moves the page on, in document order. `hard`: an explicit page break or a next-page section
 * break, always a new page (`odd`/`even`: a section that starts on an odd/even page, so Word may
 * leave a blank one). `soft`: where Word broke the page when it last laid the file out
 * (w:lastRenderedPageBreak) or pageBreakBefore; the same boundary as a hard break just before it,
 * so it only counts when something has been put on the page since. `content`: text or a drawing.
 */
type PageEvent = 'hard' | 'odd' | 'even' | 'soft' | 'content';

/** Section break types (w:sectPr/w:type of the section that starts) that begin a new page. */
const SECTION_PAGE_EVENTS: Record<string, PageEvent | undefined> = { nextPage: 'hard', oddPage: 'odd', evenPage: 'even' };

/** A table or a drawing (picture, chart, text box) inside a table cell. */
type CellContent = { table: ReadTable } | { drawing: XmlElement };

/** A table read from w:tbl, before it is numbered into blocks. */
interface ReadTable {
  cells: DocumentTableCell[];
  rows: number;
  cols: number;
  /** What cells hold beyond their text, in document order, with the cell that holds it. */
  nested: { cell: DocumentTableCell; content: CellContent }[];
  /** Page events of the whole table, the rows of a page-spanning table counted once each. */
  pages: PageEvent[];
}

interface WalkContext {
  /** Headers, footers and footnotes: their own block type, outside the body's pagination. */
  type?: 'header' | 'footer' | 'footnote';
  part?: string;
  /** Text boxes are laid out apart from the body text, so they do not move its pages either. */
  unpaged?: boolean;
}

/**
 * DOCX: walks word/document.xml in order. Headings come from paragraph styles (following basedOn)
 * and outline levels, lists from numPr with Word-style numbering, tables keep gridSpan/vMerge as
 * spans (a table inside a cell is a table block of its own right after its parent, linked by
 * `parent_cell`), drawings become image/chart blocks and text boxes are walked like the body.
 * Headers, footers and footnotes follow the body in their own block types. Pages follow Word's
 * last layout (rendered page breaks) plus explicit page and section breaks.
 */
export function parseDocx(pkg: OoxmlPackage): ParsedContent {
  return new DocxWalker(pkg).run();
}

class DocxWalker {
  private readonly out = new ContentBuilder();
  private readonly styles: Map<string, StyleInfo>;
  private readonly numbering: ListNumbering;
  private readonly rels: Map<string, Relationship>;
  /** The page event at the end of each section whose paragraph carries its w:sectPr. */
  private readonly sectionBreaks = new Map<XmlElement, PageEvent | undefined>();
  private page = 1;
  /** Nothing is on the current page yet, so a rendered break here is the one already counted. */
  private atPageTop = true;

  constructor(private readonly pkg: OoxmlPackage) {
    this.styles = readStyles(pkg.xml('word/styles.xml'));
    this.numbering = new ListNumbering(pkg.xml('word/numbering.xml'));
    this.rels = pkg.relationships(MAIN_PART);
  }

  run(): ParsedContent {
    const body = path(this.pkg.requiredXml(MAIN_PART), 'w:body');
    if (body) {
      // A section's w:type says how it starts, so the break after section n is section n+1's type.
      const sections = findAll(body, 'w:sectPr');
      sections.slice(0, -1).forEach((sectPr, i) => this.sectionBreaks.set(sectPr, SECTION_PAGE_EVENTS[path(sections[i + 1], 'w:type')?.attrs['w:val'] ?? 'nextPage']));
      this.walkBlocks(body, this.rels);
    }
    this.addFurniture();
    this.addFootnotes();
    const title = this.pkg.title();
    if (title) this.out.title = title;
    for (let index = 1; index <= this.page; index++) this.out.units.push({ kind: 'page', index });
    return this.out;
  }

  /** Block-level content: paragraphs, tables, content controls. */
  private walkBlocks(container: XmlElement, rels: Map<string, Relationship>, context: WalkContext = {}): void {
    for (const child of childElements(container)) {
      if (child.name === 'w:p') this.paragraph(child, rels, context);
      else if (child.name === 'w:tbl') {
        const table = readTable(child);
        this.placed(table.pages, context, () => this.addTable(table, rels, context));
      } else if (child.name === 'w:sdt' || child.name === 'w:customXml') {
        const content = firstChild(child, 'w:sdtContent') ?? child;
        this.walkBlocks(content, rels, context);
      }
    }
  }

  /** Adds blocks on the page where their content starts, then moves on past the breaks inside them. */
  private placed(events: PageEvent[], context: WalkContext, add: () => void): void {
    if (context.type || context.unpaged) return add();
    const start = events.indexOf('content');
    this.advance(start < 0 ? events : events.slice(0, start));
    add();
    if (start >= 0) this.advance(events.slice(start));
  }

  private advance(events: PageEvent[]): void {
    for (const event of events) {
      if (event === 'content') this.atPageTop = false;
      else if (event !== 'soft' || !this.atPageTop) {
        this.page++;
        this.atPageTop = true;
        if ((event === 'odd' && this.page % 2 === 0) || (event === 'even' && this.page % 2 === 1)) this.page++;
      }
    }
  }

  private paragraph(p: XmlElement, rels: Map<string, Relationship>, context: WalkContext): void {
    const pPr = firstChild(p, 'w:pPr');
    const styleId = path(pPr, 'w:pStyle')?.attrs['w:val'];
    const collected = collectRuns(p);
    const text = normaliseSpace(collected.text);
    const breakBefore = onOff(path(pPr, 'w:pageBreakBefore')) ?? stylePageBreakBefore(this.styles, styleId);
    const sectPr = path(pPr, 'w:sectPr');
    const sectionEnd = sectPr && this.sectionBreaks.get(sectPr);
    const events: PageEvent[] = [...(breakBefore ? ['soft' as const] : []), ...collected.pages, ...(sectionEnd ? [sectionEnd] : [])];

    this.placed(events, context, () => {
      const base = { unit: this.page, ...(context.part ? { source_part: context.part } : {}) };
      if (text && context.type) {
        this.out.add({ ...base, type: context.type, text, layer: context.type === 'footnote' ? 'body' : 'furniture' });
      } else if (text) {
        this.bodyParagraph(pPr, styleId, text, base);
      }
      for (const drawing of collected.drawings) this.drawing(drawing, rels, context);
    });
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

  private drawing(drawing: XmlElement, rels: Map<string, Relationship>, context: WalkContext): void {
    for (const box of findAll(drawing, 'w:txbxContent').slice(0, 1)) this.walkBlocks(box, rels, { ...context, unpaged: true });
    const docPr = findAll(drawing, 'wp:docPr')[0];
    const alt = (docPr?.attrs.descr || docPr?.attrs.title || '').trim();
    const base = { unit: this.page, ...(alt ? { alt_text: alt } : {}), ...(context.part ? { source_part: context.part } : {}) };
    const chartRef = findAll(drawing, 'c:chart')[0]?.attrs['r:id'];
    const chartRel = chartRef ? rels.get(chartRef) : undefined;
    if (chartRel) {
      this.out.add({ ...base, type: 'chart', ...chartFields(readChart(this.pkg, chartRel.target), alt) });
    } else if (findAll(drawing, 'pic:pic').length || findAll(drawing, 'v:imagedata').length) {
      this.out.add({ ...base, type: 'image', text: alt, ...pictureOf(this.pkg, drawing, rels) });
    }
  }

  /**
   * The table, then what its cells hold beyond text (nested tables, pictures, charts, text boxes),
   * depth first so in reading order: each such block points at its cell with `parent_cell` and is
   * listed in that cell's `nested_blocks`. They share the table's page: its page events already
   * cover every row.
   */
  private addTable(table: ReadTable, rels: Map<string, Relationship>, context: WalkContext, parentCell?: DocumentBlock['parent_cell']): DocumentBlock {
    const block = this.out.add({
      type: 'table',
      unit: this.page,
      text: tableText(table.cells),
      rows: table.rows,
      cols: table.cols,
      cells: table.cells,
      ...(context.type === 'header' || context.type === 'footer' ? { layer: 'furniture' as const } : {}),
      ...(context.part ? { source_part: context.part } : {}),
      ...(parentCell ? { parent_cell: parentCell } : {}),
    });
    for (const { cell, content } of table.nested) {
      const where = { block: block.id, row: cell.row, col: cell.col };
      const before = this.out.blocks.length;
      if ('table' in content) this.addTable(content.table, rels, context, where);
      else this.drawing(content.drawing, rels, { ...context, unpaged: true });
      // Blocks nested deeper already point at their own parent.
      const held = this.out.blocks.slice(before).filter((b) => b.parent_cell === undefined || b.parent_cell === where);
      for (const b of held) b.parent_cell = where;
      cell.nested_blocks = [...(cell.nested_blocks ?? []), ...held.map((b) => b.id)];
    }
    return block;
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
      // The same running text in several sections (first/even/default) is one piece of furniture;
      // what a table cell holds goes with its table, and block ids are renumbered past the dropped ones.
      const added = this.out.blocks.splice(before);
      const byId = new Map(added.map((b) => [b.id, b]));
      const renamed = new Map<string, string>();
      for (const block of added) {
        const parent = block.parent_cell;
        if (parent ? !renamed.has(parent.block) : seen.has(furnitureKey(block, byId))) continue;
        if (!parent) seen.add(furnitureKey(block, byId));
        renamed.set(block.id, `b${this.out.blocks.length + 1}`);
        this.out.blocks.push({ ...block, id: renamed.get(block.id)!, ...(parent ? { parent_cell: { ...parent, block: renamed.get(parent.block)! } } : {}) });
      }
      for (const cell of added.flatMap((b) => b.cells ?? [])) if (cell.nested_blocks) cell.nested_blocks = cell.nested_blocks.map((id) => renamed.get(id)!);
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

/** A furniture block with the text of what its cells hold: what makes two of them the same. */
function furnitureKey(block: DocumentBlock, byId: Map<string, DocumentBlock>): string {
  const nested = (block.cells ?? []).flatMap((c) => c.nested_blocks ?? []).map((id) => furnitureKey(byId.get(id)!, byId));
  return [`${block.type}:${block.text}`, ...nested].join('\n');
}

/**
 * Reads a w:tbl: gridSpan/vMerge/gridBefore as spans, the text of each cell's own paragraphs, and
 * what cells hold beyond text: nested tables (read the same way, not part of the cell's text) and
 * drawings. A row that
 * crosses a page break has a rendered break in several of its cells, so a row moves the page on by
 * its busiest cell, not by the sum over its cells.
 */
function readTable(tbl: XmlElement): ReadTable {
  const table: ReadTable = { cells: [], rows: 0, cols: 0, nested: [], pages: [] };
  /** Origin cell of an open vertical merge per grid column. */
  const openVertical = new Map<number, DocumentTableCell>();
  const firstRowIsHeader = headerRowLook(tbl);
  for (const tr of childElements(tbl, 'w:tr')) {
    let col = Number(path(tr, 'w:trPr', 'w:gridBefore')?.attrs['w:val'] ?? 0);
    const header = onOff(path(tr, 'w:trPr', 'w:tblHeader')) === true || (table.rows === 0 && firstRowIsHeader);
    const rowPages: PageEvent[][] = [];
    for (const tc of childElements(tr, 'w:tc')) {
      const tcPr = firstChild(tc, 'w:tcPr');
      const span = Math.max(1, Number(path(tcPr, 'w:gridSpan')?.attrs['w:val'] ?? 1));
      const vMerge = path(tcPr, 'w:vMerge');
      const above = openVertical.get(col);
      const content = readCellContent(tc);
      let cell: DocumentTableCell;
      if (vMerge && vMerge.attrs['w:val'] !== 'restart' && above) {
        // A continuation cell is covered by the merge: whatever it holds belongs to the origin cell.
        cell = above;
        cell.row_span++;
      } else {
        cell = { row: table.rows, col, row_span: 1, col_span: span, text: content.text, ...(header ? { header: true } : {}) };
        table.cells.push(cell);
        if (vMerge) openVertical.set(col, cell);
        else openVertical.delete(col);
      }
      for (const nested of content.nested) table.nested.push({ cell, content: nested });
      rowPages.push(content.pages);
      col += span;
    }
    table.cols = Math.max(table.cols, col);
    table.rows++;
    table.pages.push(...rowPageEvents(rowPages));
  }
  return table;
}

/**
 * Word's "Header Row" table option (w:tblLook firstRow, or bit 0x0020 of its legacy hex w:val): the
 * author marked the first row as the header, whether or not the table style draws it differently.
 */
function headerRowLook(tbl: XmlElement): boolean {
  const look = path(tbl, 'w:tblPr', 'w:tblLook');
  if (!look) return false;
  const flag = look.attrs['w:firstRow'];
  if (flag !== undefined) return ['1', 'true', 'on'].includes(flag);
  const legacy = look.attrs['w:val'];
  return legacy !== undefined && (Number.parseInt(legacy, 16) & 0x0020) !== 0;
}

/** A cell's own text (paragraphs, content controls), its nested tables and drawings, and its page events. */
function readCellContent(container: XmlElement, into: { text: string[]; nested: CellContent[]; pages: PageEvent[] } = { text: [], nested: [], pages: [] }) {
  for (const child of childElements(container)) {
    if (child.name === 'w:p') {
      const collected = collectRuns(child);
      const text = normaliseSpace(collected.text);
      if (text) into.text.push(text);
      into.nested.push(...collected.drawings.map((drawing) => ({ drawing })));
      into.pages.push(...collected.pages);
    } else if (child.name === 'w:tbl') {
      const table = readTable(child);
      into.nested.push({ table });
      into.pages.push(...table.pages);
    } else if (child.name === 'w:sdt' || child.name === 'w:customXml') {
      readCellContent(firstChild(child, 'w:sdtContent') ?? child, into);
    }
  }
  return { text: into.text.join('\n'), nested: into.nested, pages: into.pages };
}

/**
 * One row's page events from its cells': the longest run of breaks before any content (the row
 * starts a page), content if any cell has some, then as many hard breaks as the busiest cell has
 * after its content (soft ones already covered by a page counted are dropped first).
 */
function rowPageEvents(cells: PageEvent[][]): PageEvent[] {
  let lead: PageEvent[] = [];
  let after = 0;
  let content = false;
  for (const events of cells) {
    const start = events.indexOf('content');
    const leading = start < 0 ? events : events.slice(0, start);
    if (leading.length > lead.length || (leading.length === lead.length && leading.includes('hard'))) lead = leading;
    if (start < 0) continue;
    content = true;
    let count = 0;
    let atTop = false;
    for (const event of events.slice(start)) {
      if (event === 'content') atTop = false;
      else if (event !== 'soft' || !atTop) (count++, (atTop = true));
    }
    after = Math.max(after, count);
  }
  return [...lead, ...(content ? (['content'] as const) : []), ...Array<PageEvent>(after).fill('hard')];
}

interface CollectedRuns {
  text: string;
  drawings: XmlElement[];
  /** Page breaks (explicit and rendered) and content, in order. */
  pages: PageEvent[];
}

/**
 * Text of a paragraph's runs in order (through hyperlinks, insertions, fields, smart tags), with
 * drawings set aside: their text boxes are separate blocks, and mc:AlternateContent keeps only its
 * first choice so the VML fallback is not read twice.
 */
function collectRuns(p: XmlElement): CollectedRuns {
  const out: CollectedRuns = { text: '', drawings: [], pages: [] };
  const stack: XmlElement[] = [p];
  const order: string[] = [];
  const content = () => {
    if (out.pages[out.pages.length - 1] !== 'content') out.pages.push('content');
  };
  // Iterative pre-order walk: document order without recursion.
  while (stack.length) {
    const el = stack.pop()!;
    switch (el.name) {
      case 'w:t': {
        const text = ownText(el);
        order.push(text);
        if (text.trim()) content();
        continue;
      }
      case 'w:tab':
      case 'w:ptab':
        order.push('\t');
        continue;
      case 'w:br':
        if (el.attrs['w:type'] === 'page') out.pages.push('hard');
        else order.push('\n');
        continue;
      case 'w:lastRenderedPageBreak':
        out.pages.push('soft');
        continue;
      case 'w:cr':
        order.push('\n');
        continue;
      case 'w:noBreakHyphen':
        order.push('-');
        content();
        continue;
      case 'w:drawing':
      case 'w:pict':
      case 'w:object':
        out.drawings.push(el);
        content();
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
