import type { DocumentBBox, DocumentTableCell } from '../../schemas/generated/types';
import { chartFields, readChart } from './chart';
import { limitExceeded } from './limits';
import { ContentBuilder, normaliseSpace, tableText, type BlockInput, type ParsedContent } from './model';
import { emuToPt, pictureOf, relOfKind, type OoxmlPackage, type Relationship } from './ooxml';
import { childElements, findAll, firstChild, path, textOf, type XmlElement } from './xml';

/** An affine map from a group's child coordinates to slide coordinates (EMU). */
interface Frame {
  scaleX: number;
  scaleY: number;
  dx: number;
  dy: number;
}
const IDENTITY: Frame = { scaleX: 1, scaleY: 1, dx: 0, dy: 0 };

/** One leaf region of a slide with its blocks, before reading-order sorting. */
interface Region {
  bbox: DocumentBBox | undefined;
  isTitle: boolean;
  blocks: BlockInput[];
}

/** Shapes whose top edges are this close (fraction of slide height) are read left to right. */
const SAME_ROW_TOLERANCE = 0.04;

/**
 * PPTX: slides in presentation order; on each slide the title, then every leaf shape (through
 * nested groups, with group transforms applied) in visual reading order, tables with merges,
 * pictures with alt text, charts with title and series, then the speaker notes.
 */
export function parsePptx(pkg: OoxmlPackage, maxUnits: number): ParsedContent {
  const out = new ContentBuilder();
  const presentationPart = 'ppt/presentation.xml';
  const presentation = pkg.requiredXml(presentationPart);
  const rels = pkg.relationships(presentationPart);
  const size = path(presentation, 'p:sldSz');
  const width = emuToPt(size?.attrs.cx);
  const height = emuToPt(size?.attrs.cy);
  const slideIds = childElements(path(presentation, 'p:sldIdLst') ?? presentation, 'p:sldId');
  if (slideIds.length > maxUnits) throw limitExceeded('max_pages', maxUnits, `presentation has ${slideIds.length} slides`);
  const title = pkg.title();
  if (title) out.title = title;

  slideIds.forEach((sldId, i) => {
    const index = i + 1;
    const rel = rels.get(sldId.attrs['r:id'] ?? '');
    const slide = rel && pkg.xml(rel.target);
    if (!rel || !slide) {
      out.units.push({ kind: 'slide', index });
      out.warn('missing_slide', `slide ${index} has no slide part`, index);
      return;
    }
    const slideRels = pkg.relationships(rel.target);
    const layoutBoxes = placeholderBoxes(pkg, slideRels);
    const regions: Region[] = [];
    const tree = path(slide, 'p:cSld', 'p:spTree');
    if (tree) collectRegions(pkg, tree, IDENTITY, slideRels, layoutBoxes, index, regions);
    const ordered = readingOrder(regions, height);
    const slideTitle = regions.find((r) => r.isTitle)?.blocks.map((b) => b.text).join(' ');
    out.units.push({ kind: 'slide', index, width, height, ...(slideTitle ? { name: slideTitle } : {}), ...(slide.attrs.show === '0' ? { hidden: true } : {}) });
    for (const region of ordered) for (const block of region.blocks) out.add(block);
    const notes = relOfKind(slideRels, 'notesSlide');
    if (notes) addNotes(pkg, notes.target, index, out);
  });
  return out;
}

function readingOrder(regions: Region[], slideHeight: number): Region[] {
  const titles = regions.filter((r) => r.isTitle);
  const rest = regions.filter((r) => !r.isTitle).sort((a, b) => (a.bbox?.y0 ?? Infinity) - (b.bbox?.y0 ?? Infinity));
  const rows: Region[][] = [];
  for (const region of rest) {
    const row = rows[rows.length - 1];
    const top = row?.[0]?.bbox?.y0;
    if (row && top !== undefined && region.bbox && Math.abs(region.bbox.y0 - top) <= SAME_ROW_TOLERANCE * slideHeight) row.push(region);
    else rows.push([region]);
  }
  return [...titles, ...rows.flatMap((row) => row.sort((a, b) => (a.bbox?.x0 ?? 0) - (b.bbox?.x0 ?? 0)))];
}

/** Boxes of the layout's (and its master's) placeholders, for slide shapes that inherit their position. */
function placeholderBoxes(pkg: OoxmlPackage, slideRels: Map<string, Relationship>): Map<string, DocumentBBox> {
  const boxes = new Map<string, DocumentBBox>();
  const layout = relOfKind(slideRels, 'slideLayout');
  if (!layout) return boxes;
  const master = relOfKind(pkg.relationships(layout.target), 'slideMaster');
  for (const part of [master?.target, layout.target]) {
    const tree = part ? path(pkg.xml(part), 'p:cSld', 'p:spTree') : undefined;
    for (const sp of tree ? findAll(tree, 'p:sp') : []) {
      const box = shapeBox(sp, IDENTITY);
      const ph = placeholderOf(sp);
      if (box && ph) for (const key of placeholderKeys(ph)) boxes.set(key, box);
    }
  }
  return boxes;
}

function placeholderOf(shape: XmlElement): XmlElement | undefined {
  const nv = shape.children.find((c): c is XmlElement => typeof c !== 'string' && c.name.startsWith('p:nv'));
  return path(nv, 'p:nvPr', 'p:ph');
}

function placeholderKeys(ph: XmlElement): string[] {
  const type = ph.attrs.type ?? 'body';
  return [...(ph.attrs.idx ? [`idx:${ph.attrs.idx}`] : []), `type:${type}`];
}

function shapeBox(shape: XmlElement, frame: Frame): DocumentBBox | undefined {
  const xfrm = path(shape, 'p:spPr', 'a:xfrm') ?? path(shape, 'p:grpSpPr', 'a:xfrm') ?? firstChild(shape, 'p:xfrm');
  const off = firstChild(xfrm, 'a:off');
  const ext = firstChild(xfrm, 'a:ext');
  if (!off || !ext) return undefined;
  const x = frame.dx + Number(off.attrs.x ?? 0) * frame.scaleX;
  const y = frame.dy + Number(off.attrs.y ?? 0) * frame.scaleY;
  const w = Number(ext.attrs.cx ?? 0) * frame.scaleX;
  const h = Number(ext.attrs.cy ?? 0) * frame.scaleY;
  return { x0: emuToPt(String(x)), y0: emuToPt(String(y)), x1: emuToPt(String(x + w)), y1: emuToPt(String(y + h)) };
}

/** A group maps its child extent (chOff/chExt) onto its own box (off/ext). */
function groupFrame(group: XmlElement, parent: Frame): Frame {
  const xfrm = path(group, 'p:grpSpPr', 'a:xfrm');
  const n = (el: XmlElement | undefined, attr: string) => Number(el?.attrs[attr] ?? 0);
  const off = firstChild(xfrm, 'a:off');
  const ext = firstChild(xfrm, 'a:ext');
  const chOff = firstChild(xfrm, 'a:chOff');
  const chExt = firstChild(xfrm, 'a:chExt');
  if (!off || !ext || !chOff || !chExt) return parent;
  const sx = n(chExt, 'cx') ? n(ext, 'cx') / n(chExt, 'cx') : 1;
  const sy = n(chExt, 'cy') ? n(ext, 'cy') / n(chExt, 'cy') : 1;
  return {
    scaleX: parent.scaleX * sx,
    scaleY: parent.scaleY * sy,
    dx: parent.dx + parent.scaleX * (n(off, 'x') - n(chOff, 'x') * sx),
    dy: parent.dy + parent.scaleY * (n(off, 'y') - n(chOff, 'y') * sy),
  };
}

function collectRegions(
  pkg: OoxmlPackage,
  tree: XmlElement,
  frame: Frame,
  rels: Map<string, Relationship>,
  layoutBoxes: Map<string, DocumentBBox>,
  unit: number,
  regions: Region[],
): void {
  for (const shape of childElements(tree)) {
    if (shape.name === 'mc:AlternateContent') {
      const choice = firstChild(shape, 'mc:Choice') ?? firstChild(shape, 'mc:Fallback');
      if (choice) collectRegions(pkg, choice, frame, rels, layoutBoxes, unit, regions);
      continue;
    }
    if (shape.name === 'p:grpSp') {
      collectRegions(pkg, shape, groupFrame(shape, frame), rels, layoutBoxes, unit, regions);
      continue;
    }
    const ph = placeholderOf(shape);
    const bbox = shapeBox(shape, frame) ?? (ph ? placeholderKeys(ph).map((k) => layoutBoxes.get(k)).find(Boolean) : undefined);
    const base = { unit, ...(bbox ? { bbox } : {}) };
    if (shape.name === 'p:sp') {
      const isTitle = ph?.attrs.type === 'title' || ph?.attrs.type === 'ctrTitle';
      const isBody = ph !== undefined && (ph.attrs.type === undefined || ph.attrs.type === 'body' || ph.attrs.type === 'obj');
      const body = firstChild(shape, 'p:txBody');
      const blocks = body ? textBlocks(body, base, isTitle, isBody) : [];
      if (blocks.length) regions.push({ bbox, isTitle, blocks });
    } else if (shape.name === 'p:pic') {
      const cNvPr = path(shape, 'p:nvPicPr', 'p:cNvPr');
      const alt = (cNvPr?.attrs.descr || cNvPr?.attrs.title || '').trim();
      regions.push({ bbox, isTitle: false, blocks: [{ ...base, type: 'image', text: alt, ...(alt ? { alt_text: alt } : {}), ...pictureOf(pkg, shape, rels) }] });
    } else if (shape.name === 'p:graphicFrame') {
      const data = path(shape, 'a:graphic', 'a:graphicData');
      const table = firstChild(data, 'a:tbl');
      const chartRel = rels.get(findAll(data ?? shape, 'c:chart')[0]?.attrs['r:id'] ?? '');
      if (table) regions.push({ bbox, isTitle: false, blocks: [tableBlock(table, base)] });
      else if (chartRel) {
        regions.push({ bbox, isTitle: false, blocks: [{ ...base, type: 'chart', ...chartFields(readChart(pkg, chartRel.target)) }] });
      }
    }
  }
}

/** One block per non-empty paragraph: the title as a heading, bulleted paragraphs as list items. */
function textBlocks(body: XmlElement, base: Pick<BlockInput, 'unit' | 'bbox'>, isTitle: boolean, isBodyPlaceholder: boolean): BlockInput[] {
  const paragraphs = childElements(body, 'a:p');
  if (isTitle) {
    const text = normaliseSpace(paragraphs.map(paragraphText).join(' '));
    return text ? [{ ...base, type: 'heading', level: 1, text }] : [];
  }
  const blocks: BlockInput[] = [];
  for (const p of paragraphs) {
    const text = normaliseSpace(paragraphText(p));
    if (!text) continue;
    const pPr = firstChild(p, 'a:pPr');
    const level = Number(pPr?.attrs.lvl ?? 0) + 1;
    const numbered = firstChild(pPr, 'a:buAutoNum');
    const bulleted = firstChild(pPr, 'a:buChar') ?? firstChild(pPr, 'a:buBlip');
    const inheritsBullet = isBodyPlaceholder && !firstChild(pPr, 'a:buNone');
    if (numbered || bulleted || inheritsBullet) blocks.push({ ...base, type: 'list_item', level, ordered: numbered !== undefined, text });
    else blocks.push({ ...base, type: 'paragraph', text });
  }
  return blocks;
}

function paragraphText(p: XmlElement): string {
  return childElements(p)
    .map((run) => (run.name === 'a:br' ? '\n' : run.name === 'a:r' || run.name === 'a:fld' ? textOf(run, 'a:t') : ''))
    .join('');
}

/** DrawingML table: covered cells carry hMerge/vMerge and are dropped; origins carry the spans. */
function tableBlock(tbl: XmlElement, base: Pick<BlockInput, 'unit' | 'bbox'>): BlockInput {
  const cells: DocumentTableCell[] = [];
  const rows = childElements(tbl, 'a:tr');
  let cols = childElements(path(tbl, 'a:tblGrid') ?? tbl, 'a:gridCol').length;
  // PowerPoint's "Header Row" table option.
  const firstRowIsHeader = path(tbl, 'a:tblPr')?.attrs.firstRow === '1';
  rows.forEach((tr, row) => {
    childElements(tr, 'a:tc').forEach((tc, col) => {
      if (tc.attrs.hMerge === '1' || tc.attrs.vMerge === '1') return;
      const text = normaliseSpace(childElements(path(tc, 'a:txBody') ?? tc, 'a:p').map(paragraphText).join('\n'));
      cells.push({ row, col, row_span: Number(tc.attrs.rowSpan ?? 1), col_span: Number(tc.attrs.gridSpan ?? 1), text, ...(row === 0 && firstRowIsHeader ? { header: true } : {}) });
      cols = Math.max(cols, col + 1);
    });
  });
  return { ...base, type: 'table', text: tableText(cells), rows: rows.length, cols, cells };
}

function addNotes(pkg: OoxmlPackage, part: string, unit: number, out: ContentBuilder): void {
  const tree = path(pkg.xml(part), 'p:cSld', 'p:spTree');
  for (const sp of tree ? findAll(tree, 'p:sp') : []) {
    if (placeholderOf(sp)?.attrs.type !== 'body') continue;
    const body = firstChild(sp, 'p:txBody');
    const text = body ? normaliseSpace(childElements(body, 'a:p').map(paragraphText).join('\n')) : '';
    if (text) out.add({ type: 'notes', layer: 'notes', unit, text, source_part: part });
  }
}
