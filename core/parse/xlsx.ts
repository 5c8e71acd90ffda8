import type { DocumentTableCell } from '../../schemas/generated/types';
import { cellRef, parseCellRef, parseRange, type CellRange } from './a1';
import { chartFields, readChart } from './chart';
import { corrupt, limitExceeded, type ResolvedLimits } from './limits';
import { ContentBuilder, tableText, type ParsedContent } from './model';
import { builtinFormatCode, formatNumber, formatText, isDateFormat } from './numfmt';
import { pictureOf, relKind, relOfKind, type OoxmlPackage } from './ooxml';
import { childElements, decodeXml, findAll, ownText, path, textOf } from './xml';

type ValueType = NonNullable<DocumentTableCell['value_type']>;

export interface SheetCell {
  row: number;
  col: number;
  value: string | number | boolean;
  value_type: ValueType;
  text: string;
  formula?: string;
}

/** Largest piece of a worksheet held unparsed while streaming; a single cell never needs more. */
const MAX_PENDING_XML = 16 * 1024 * 1024;
/** A cell element's content holds a formula, a value or inline text (for counting cells past the budget). */
const HAS_CONTENT = /<f\b|<v>[^<]|<t\b[^>]*>[^<]/;
const CELL_OR_MERGE = /<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)|<mergeCell\b[^>]*?\bref="([^"]+)"/g;

/**
 * XLSX: every sheet in workbook order (chartsheets included). Worksheet XML is scanned as it
 * inflates, so memory is bounded by the cells kept (max_cells), not by the part size. Non-empty
 * cells are grouped into tables (connected regions, merged ranges included) with exact merged
 * ranges; formulas keep their cached values. Charts and pictures of a sheet's drawing follow.
 */
export function parseXlsx(pkg: OoxmlPackage, limits: ResolvedLimits): ParsedContent {
  const out = new ContentBuilder();
  const workbookPart = 'xl/workbook.xml';
  const workbook = pkg.requiredXml(workbookPart);
  const rels = pkg.relationships(workbookPart);
  const sharedStrings = readSharedStrings(pkg, relOfKind(rels, 'sharedStrings')?.target);
  const formats: CellFormats = {
    codes: readCellFormats(pkg, relOfKind(rels, 'styles')?.target),
    date1904: ['1', 'true'].includes(path(workbook, 'workbookPr')?.attrs.date1904 ?? ''),
  };
  const sheets = childElements(path(workbook, 'sheets') ?? workbook, 'sheet');
  if (sheets.length > limits.max_pages) throw limitExceeded('max_pages', limits.max_pages, `workbook has ${sheets.length} sheets`);
  const title = pkg.title();
  if (title) out.title = title;
  const budget = new CellBudget(limits.max_cells);

  sheets.forEach((sheet, i) => {
    const index = i + 1;
    const rel = rels.get(sheet.attrs['r:id'] ?? '');
    const kind = rel && relKind(rel) === 'chartsheet' ? 'chartsheet' : 'worksheet';
    out.units.push({ kind: 'sheet', index, name: sheet.attrs.name ?? `Sheet${index}`, sheet_kind: kind, ...(sheet.attrs.state && sheet.attrs.state !== 'visible' ? { hidden: true } : {}) });
    if (!rel || !pkg.zip.has(rel.target)) {
      out.warn('missing_sheet', `sheet ${sheet.attrs.name ?? index} has no part`, index);
      return;
    }
    if (kind === 'worksheet') {
      const scanned = scanWorksheet(pkg, rel.target, sharedStrings, formats, budget);
      // Past the budget the model is not built any further: the remaining sheets are only counted.
      if (budget.exceeded) return;
      for (const table of detectTables(scanned.cells, scanned.merged, budget)) out.add({ ...table, unit: index });
    }
    if (!budget.exceeded) addDrawingBlocks(pkg, rel.target, index, out);
  });
  if (budget.exceeded) {
    throw limitExceeded('max_cells', limits.max_cells, `workbook has ${budget.seen} non-empty cells (merged areas included), more than allowed; the first past the limit is in ${budget.firstOver}`, { cells: budget.seen });
  }
  return out;
}

/**
 * Non-empty cells (and the cells merged ranges cover) across a workbook's sheets. Past `max` a
 * sheet keeps none, but scanning goes on counting, so the failure can say how many there are:
 * memory stays bounded by `max`, time by the inflate budget and the parser thread's clock.
 */
class CellBudget {
  seen = 0;
  firstOver = '';

  constructor(readonly max: number) {}

  get exceeded(): boolean {
    return this.seen > this.max;
  }

  /** Counts `cells` in `part` (at `cell`); true while they still fit. */
  take(cells: number, part: string, cell?: { row: number; col: number }): boolean {
    this.seen += cells;
    if (this.exceeded && !this.firstOver) this.firstOver = cell ? `${part} at ${cellRef(cell.row, cell.col)}` : part;
    return !this.exceeded;
  }
}

function readSharedStrings(pkg: OoxmlPackage, part: string | undefined): string[] {
  const root = part ? pkg.xml(part) : undefined;
  // Phonetic guides (rPh) annotate East Asian text; they are not part of the displayed string.
  return root ? childElements(root, 'si').map((si) => childElements(si).filter((c) => c.name !== 'rPh').map((c) => (c.name === 't' ? ownText(c) : textOf(c, 't'))).join('')) : [];
}

/** Number format code of each cell style index (cellXfs), built-in ids resolved. */
function readCellFormats(pkg: OoxmlPackage, part: string | undefined): string[] {
  const root = part ? pkg.xml(part) : undefined;
  if (!root) return [];
  const custom = new Map(childElements(path(root, 'numFmts') ?? root, 'numFmt').map((f) => [Number(f.attrs.numFmtId), f.attrs.formatCode ?? '']));
  return childElements(path(root, 'cellXfs') ?? root, 'xf').map((xf) => {
    const id = Number(xf.attrs.numFmtId ?? 0);
    return custom.get(id) ?? builtinFormatCode(id);
  });
}

interface CellFormats {
  codes: string[];
  date1904: boolean;
}

interface ScannedSheet {
  cells: SheetCell[];
  merged: string[];
}

function scanWorksheet(pkg: OoxmlPackage, part: string, shared: string[], formats: CellFormats, budget: CellBudget): ScannedSheet {
  const scanned: ScannedSheet = { cells: [], merged: [] };
  const decoder = new TextDecoder();
  let pending = '';
  let lastCell = { row: 0, col: -1 };
  const consume = (final: boolean) => {
    CELL_OR_MERGE.lastIndex = 0;
    let consumed = 0;
    for (let m = CELL_OR_MERGE.exec(pending); m; m = CELL_OR_MERGE.exec(pending)) {
      consumed = CELL_OR_MERGE.lastIndex;
      if (m[3] !== undefined) {
        scanned.merged.push(m[3]);
        continue;
      }
      if (budget.exceeded) {
        // Past the budget cells are counted without reading their values.
        if (HAS_CONTENT.test(m[2] ?? '')) budget.take(1, part);
        continue;
      }
      const cell = readCell(m[1] ?? '', m[2] ?? '', lastCell, shared, formats);
      if (!cell) continue;
      lastCell = cell;
      if (cell.value === '' && cell.formula === undefined) continue;
      if (budget.take(1, part, cell)) scanned.cells.push(cell);
      else scanned.cells.length = 0;
    }
    const openTag = Math.max(pending.lastIndexOf('<c '), pending.lastIndexOf('<c>'), pending.lastIndexOf('<mergeCell'));
    pending = openTag >= consumed ? pending.slice(openTag) : pending.slice(Math.max(consumed, pending.length - 16));
    if (pending.length > MAX_PENDING_XML) throw limitExceeded('max_uncompressed_bytes', MAX_PENDING_XML, `${part}: one cell spans more XML than allowed`);
    if (final && /<!DOCTYPE|<!ENTITY/i.test(pending)) throw corrupt(`${part}: XML declares a DTD or entities, which OOXML never does`);
  };
  let sawHead = false;
  pkg.zip.stream(part, (chunk) => {
    pending += decoder.decode(chunk, { stream: true });
    if (!sawHead) {
      if (/<!DOCTYPE|<!ENTITY/i.test(pending.slice(0, 4096))) throw corrupt(`${part}: XML declares a DTD or entities, which OOXML never does`);
      sawHead = pending.length >= 4096;
    }
    consume(false);
  });
  pending += decoder.decode();
  consume(true);
  return scanned;
}

function readCell(attrText: string, inner: string, previous: { row: number; col: number }, shared: string[], formats: CellFormats): SheetCell | undefined {
  const attrs = Object.fromEntries([...attrText.matchAll(/([\w:]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  const position = attrs.r ? parseCellRef(attrs.r) : { row: previous.row, col: previous.col + 1 };
  if (!position) return undefined;
  const raw = /<v>([\s\S]*?)<\/v>/.exec(inner)?.[1];
  const formula = /<f\b[^>]*>([\s\S]*?)<\/f>/.exec(inner)?.[1];
  const base = { ...position, ...(formula ? { formula: decodeXml(formula) } : {}) };
  const code = formats.codes[Number(attrs.s ?? 0)] ?? 'General';
  // Padding (_x) aligns text within the cell; it is not part of what the cell says (the text itself keeps its spaces).
  const shownText = (text: string) => {
    const shown = code === 'General' ? text : formatText(text, code);
    return shown === text ? text : shown.trim();
  };
  switch (attrs.t) {
    case 's': {
      const text = shared[Number(raw)] ?? '';
      return { ...base, value: text, value_type: 'string', text: shownText(text) };
    }
    case 'inlineStr': {
      const text = decodeXml([...inner.matchAll(/<t\b[^>]*>([\s\S]*?)<\/t>/g)].map((m) => m[1]).join(''));
      return { ...base, value: text, value_type: 'string', text: shownText(text) };
    }
    case 'str': {
      const text = decodeXml(raw ?? '');
      return { ...base, value: text, value_type: 'formula_string', text: shownText(text) };
    }
    case 'b':
      return { ...base, value: raw === '1', value_type: 'boolean', text: raw === '1' ? 'TRUE' : 'FALSE' };
    case 'e':
      return { ...base, value: decodeXml(raw ?? ''), value_type: 'error', text: decodeXml(raw ?? '') };
    default: {
      if (raw === undefined || raw === '') return { ...base, value: '', value_type: 'string', text: '' };
      const number = Number(raw);
      if (!Number.isFinite(number)) return { ...base, value: raw, value_type: 'string', text: raw };
      const text = formatNumber(number, code, { date1904: formats.date1904 }).trim();
      return { ...base, value: number, value_type: isDateFormat(code) ? 'date' : 'number', text };
    }
  }
}

/**
 * Tables are connected regions of non-empty cells (4-neighbourhood, merged ranges count as filled).
 * The first row is marked as a header when it is all text and the region has more rows.
 */
function detectTables(cells: SheetCell[], merged: string[], budget: CellBudget) {
  const key = (row: number, col: number) => row * 16384 + col;
  const ranges = merged.map((ref) => ({ ref, range: parseRange(ref) })).filter((m): m is { ref: string; range: CellRange } => m.range !== undefined);
  // Every position a merged range covers is filled: a range as large as the sheet would be billions of them.
  for (const { ref, range } of ranges) if (!budget.take((range.r1 - range.r0 + 1) * (range.c1 - range.c0 + 1) - 1, `merged range ${ref}`)) return [];
  const mergedAt = new Map<number, number>();
  ranges.forEach(({ range }, i) => {
    for (let r = range.r0; r <= range.r1; r++) for (let c = range.c0; c <= range.c1; c++) mergedAt.set(key(r, c), i);
  });
  const filled = new Set<number>(mergedAt.keys());
  for (const cell of cells) filled.add(key(cell.row, cell.col));
  /** Index in `regions` of every filled position. */
  const regionOf = new Map<number, number>();
  const regions: CellRange[] = [];
  for (const start of [...filled].sort((a, b) => a - b)) {
    if (regionOf.has(start)) continue;
    const region = { r0: Infinity, c0: Infinity, r1: -1, c1: -1 };
    const queue = [start];
    regionOf.set(start, regions.length);
    while (queue.length) {
      const at = queue.pop()!;
      const row = Math.floor(at / 16384);
      const col = at % 16384;
      region.r0 = Math.min(region.r0, row);
      region.r1 = Math.max(region.r1, row);
      region.c0 = Math.min(region.c0, col);
      region.c1 = Math.max(region.c1, col);
      for (const next of [key(row - 1, col), key(row + 1, col), col > 0 ? key(row, col - 1) : -1, key(row, col + 1)]) {
        if (next >= 0 && filled.has(next) && !regionOf.has(next)) (regionOf.set(next, regions.length), queue.push(next));
      }
    }
    regions.push(region);
  }
  // Cells and merged ranges go to their region in one pass each (a merged range lies inside one region).
  const cellsOf = regions.map((): DocumentTableCell[] => []);
  const mergesOf = regions.map((): string[] => []);
  for (const { ref, range } of ranges) mergesOf[regionOf.get(key(range.r0, range.c0))!]!.push(ref);
  for (const cell of cells) {
    const m = mergedAt.get(key(cell.row, cell.col));
    const span = m === undefined ? undefined : ranges[m]!.range;
    if (span && (span.r0 !== cell.row || span.c0 !== cell.col)) continue;
    const r = regionOf.get(key(cell.row, cell.col))!;
    const region = regions[r]!;
    cellsOf[r]!.push({
      row: cell.row - region.r0,
      col: cell.col - region.c0,
      row_span: span ? span.r1 - span.r0 + 1 : 1,
      col_span: span ? span.c1 - span.c0 + 1 : 1,
      text: cell.text,
      ref: cellRef(cell.row, cell.col),
      value_type: cell.value_type,
      value: cell.value,
      ...(cell.formula !== undefined ? { formula: cell.formula } : {}),
    });
  }
  return regions.map((region, r) => {
    const regionCells = cellsOf[r]!;
    const rows = region.r1 - region.r0 + 1;
    const firstRow = regionCells.filter((c) => c.row === 0);
    if (rows > 1 && firstRow.length > 0 && firstRow.every((c) => c.value_type === 'string')) for (const c of firstRow) c.header = true;
    return {
      type: 'table' as const,
      text: tableText(regionCells),
      range: `${cellRef(region.r0, region.c0)}:${cellRef(region.r1, region.c1)}`,
      rows,
      cols: region.c1 - region.c0 + 1,
      cells: regionCells,
      merged: mergesOf[r]!,
    };
  });
}

/** Charts and pictures anchored in the sheet's drawing part (or a chartsheet's). */
function addDrawingBlocks(pkg: OoxmlPackage, sheetPart: string, unit: number, out: ContentBuilder): void {
  const sheetRels = pkg.relationships(sheetPart);
  for (const drawingRel of [...sheetRels.values()].filter((r) => relKind(r) === 'drawing')) {
    const drawing = pkg.xml(drawingRel.target);
    if (!drawing) continue;
    const rels = pkg.relationships(drawingRel.target);
    for (const anchor of childElements(drawing)) {
      for (const pic of findAll(anchor, 'xdr:pic')) {
        const cNvPr = path(pic, 'xdr:nvPicPr', 'xdr:cNvPr');
        const alt = (cNvPr?.attrs.descr || cNvPr?.attrs.title || '').trim();
        out.add({ type: 'image', unit, text: alt, ...(alt ? { alt_text: alt } : {}), source_part: drawingRel.target, ...pictureOf(pkg, pic, rels) });
      }
      for (const chartEl of findAll(anchor, 'c:chart')) {
        const rel = rels.get(chartEl.attrs['r:id'] ?? '');
        out.add({ type: 'chart', unit, ...chartFields(rel ? readChart(pkg, rel.target) : undefined), source_part: drawingRel.target });
      }
    }
  }
}

