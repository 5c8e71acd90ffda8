import type { DocumentBBox, DocumentTableCell } from '../../../schemas/generated/types';
import { tableText, type BlockInput } from '../model';
import { joinLines, joinText } from '../text';
import { findRuledTables } from './tables';
import type { PageText, RuledTable, TextRun } from './types';

export interface Line {
  text: string;
  box: DocumentBBox;
  size: number;
  font: string;
  mono: boolean;
  /** Most of its characters are in a heavy weight. */
  bold: boolean;
  /** Set on the one pseudo-line that stands for a whole table found by column alignment. */
  table?: { rows: number; cols: number; cells: DocumentTableCell[] };
}

/** Consecutive lines of one column: the typographic fields are those of most of its characters. */
interface Paragraph extends Omit<Line, 'table'> {
  lines: Line[];
}

/** Typographic statistics of the whole document, which decide what is a heading. */
export interface DocumentStyle {
  bodySize: number;
  bodyFont: string;
  /** Whether body text itself is set in a heavy weight (then weight sets nothing apart). */
  bodyBold: boolean;
  /** Heading font sizes, largest first: index + 1 is the heading level. */
  headingSizes: number[];
}

const BULLET = /^[•◦▪▫●○■□►▸‣⁃∙·\-–—*]\s+/;
const ORDERED = /^(\(?\d{1,3}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])\s+/;
const NUMBERED_SECTION = /^(\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+\S/;
const CAPTION = /^\[?(figure|fig\.|table|chart|exhibit|그림|표|도표|图|表)\s*\d+[\].:\s：]/i;
const PAGE_NUMBER = /^(page\s*)?(\d{1,4}|[ivxlc]{1,6})(\s*(of|\/)\s*\d{1,4})?$/i;
/** Running headers and footers live in this top and bottom share of the page. */
const MARGIN_BAND = 0.09;

/** Weight words in PostScript font names (`Arial-BoldMT`, `KoPubDotumBold`, `NimbusRomNo9L-Medi`, `Inter-SemiBold`). */
const HEAVY_FONT = /bold|black|heavy|semibold|demi|medi(um)?\b|medi$|[-,](b|sb|bd|w[6-9])$/i;

export function isBoldFontName(name: string | undefined): boolean {
  return name !== undefined && HEAVY_FONT.test(name.replace(/^[A-Z]{6}\+/, ''));
}

/** Groups a page's runs into lines: same baseline, no gap wider than a column gutter. */
export function buildLines(runs: TextRun[]): Line[] {
  const sorted = runs.filter((r) => r.text.trim() !== '').sort((a, b) => a.y - b.y || a.x0 - b.x0);
  // Runs whose baselines differ by less than a third of the font size share a line.
  const rows: TextRun[][] = [];
  for (const run of sorted) {
    const row = rows[rows.length - 1];
    if (row && Math.abs(row[0]!.y - run.y) < Math.max(1, 0.35 * Math.min(row[0]!.size, run.size))) row.push(run);
    else rows.push([run]);
  }
  const lines: Line[] = [];
  for (const row of rows) {
    row.sort((a, b) => a.x0 - b.x0);
    let current: TextRun[] = [];
    const flush = () => {
      if (current.length) lines.push(toLine(current));
      current = [];
    };
    for (const run of row) {
      const prev = current[current.length - 1];
      if (prev && run.x0 - prev.x1 > 1.4 * Math.max(prev.size, run.size)) flush();
      current.push(run);
    }
    flush();
  }
  return lines;
}

function visibleChars(items: { text: string }[]): number {
  return items.reduce((n, item) => n + item.text.trim().length, 0);
}

function isMostlyBold(items: { text: string; bold?: boolean }[]): boolean {
  return visibleChars(items.filter((item) => item.bold)) >= 0.6 * visibleChars(items);
}

function toLine(runs: TextRun[]): Line {
  // A line of mostly right-to-left text is read from its right end, embedded left-to-right runs included.
  const rtl = visibleChars(runs.filter((r) => r.rtl)) > visibleChars(runs) / 2;
  const ordered = rtl ? [...runs].reverse() : runs;
  let text = '';
  for (let i = 0; i < ordered.length; i++) {
    const run = ordered[i]!;
    const prev = ordered[i - 1];
    const gap = prev ? (rtl ? prev.x0 - run.x1 : run.x0 - prev.x1) : 0;
    // Gaps under a fifth of the size are kerning; a gap wider than a full-width character separates even CJK words.
    // Where the direction changes (Latin inside Arabic), so does the word, whatever the gap.
    if (prev && prev.rtl !== run.rtl) text = joinText(text, run.text);
    else if (!prev || gap <= 0.2 * run.size) text += run.text;
    else if (gap > run.size && !/\s$/.test(text) && !/^\s/.test(run.text)) text += ` ${run.text}`;
    else text = joinText(text, run.text);
  }
  const sizes = runs.map((r) => r.size);
  const dominant = runs.reduce((a, b) => (b.text.length > a.text.length ? b : a));
  const size = Math.max(...sizes);
  return {
    text: text.replace(/\s+/g, ' ').trim(),
    box: { x0: Math.min(...runs.map((r) => r.x0)), x1: Math.max(...runs.map((r) => r.x1)), y0: Math.min(...runs.map((r) => r.y - r.size)), y1: Math.max(...runs.map((r) => r.y + 0.25 * r.size)) },
    size,
    font: dominant.font,
    mono: dominant.mono === true,
    bold: isMostlyBold(runs),
  };
}

/** Rows of a table sit closer than this many font sizes. */
const TABLE_ROW_GAP = 2.5;
/** A cell is never wider than this share of the page; wider fragments are prose. */
const TABLE_CELL_MAX_WIDTH = 0.4;
/** Fragments this wide (median by text) are two columns of prose side by side, not table cells. */
const PROSE_COLUMN_WIDTH = 0.3;

/**
 * Tables evident from column alignment: three or more consecutive rows, each split into two or
 * more narrow fragments, whose left edges line up in at least two columns. Each table replaces its
 * fragments with one pseudo-line carrying the cells, so reading order places it like a paragraph.
 */
export function extractTables(lines: Line[], pageWidth: number): Line[] {
  const rows: Line[][] = [];
  for (const line of [...lines].sort((a, b) => a.box.y1 - b.box.y1 || a.box.x0 - b.box.x0)) {
    const row = rows[rows.length - 1];
    if (row && Math.abs(row[0]!.box.y1 - line.box.y1) < 0.35 * line.size) row.push(line);
    else rows.push([line]);
  }
  const out: Line[] = [];
  let run: Line[][] = [];
  const flush = () => {
    const table = run.length >= 3 ? tableFromRows(run, pageWidth) : undefined;
    out.push(...(table ? [table] : run.flat()));
    run = [];
  };
  for (const row of rows) {
    row.sort((a, b) => a.box.x0 - b.box.x0);
    const tabular = row.length >= 2 && row.every((l) => l.box.x1 - l.box.x0 <= TABLE_CELL_MAX_WIDTH * pageWidth);
    const previous = run[run.length - 1];
    const adjacent = previous !== undefined && row[0]!.box.y0 - Math.max(...previous.map((l) => l.box.y1)) < TABLE_ROW_GAP * row[0]!.size;
    if (!tabular || (previous && !adjacent)) flush();
    if (tabular) run.push(row);
    else out.push(...row);
  }
  flush();
  return out;
}

function tableFromRows(rows: Line[][], pageWidth: number): Line | undefined {
  if (medianWidthByText(rows.flat()) >= PROSE_COLUMN_WIDTH * pageWidth) return undefined;
  const size = medianSize(rows.flat());
  // Left edges within a font size of each other form one column; a column needs two rows behind it.
  const edges = rows.flat().map((l) => l.box.x0).sort((a, b) => a - b);
  const columns: { x: number; rows: Set<number> }[] = [];
  for (const x of edges) {
    const last = columns[columns.length - 1];
    if (!last || x - last.x > size) columns.push({ x, rows: new Set() });
  }
  rows.forEach((row, r) => row.forEach((l) => columnOf(columns, l.box.x0, size)?.rows.add(r)));
  const kept = columns.filter((c) => c.rows.size >= 2);
  if (kept.length < 2) return undefined;
  const cells: DocumentTableCell[] = [];
  rows.forEach((row, r) => {
    const texts = new Map<number, string>();
    for (const l of row) {
      const col = Math.max(0, kept.indexOf(columnOf(kept, l.box.x0, size) ?? kept[0]!));
      texts.set(col, texts.has(col) ? `${texts.get(col)} ${l.text}` : l.text);
    }
    for (const [col, text] of [...texts.entries()].sort((a, b) => a[0] - b[0])) cells.push({ row: r, col, row_span: 1, col_span: 1, text });
  });
  const all = rows.flat();
  return {
    text: tableText(cells),
    box: boxAround(all),
    size,
    font: all[0]!.font,
    mono: false,
    bold: false,
    table: { rows: rows.length, cols: kept.length, cells },
  };
}

/** A table drawn with ruling lines as the pseudo-line that stands for it in reading order. */
function ruledTableLine(table: RuledTable): Line {
  const runs = table.cells.flatMap((c) => c.runs);
  const cells = table.cells.map(({ runs: cellRuns, ...cell }) => ({ ...cell, text: sortTopDown(buildLines(cellRuns)).map((l) => l.text).reduce((acc, next) => joinLines(acc, next), '') }));
  const dominant = runs.reduce((a, b) => (b.text.length > a.text.length ? b : a));
  return {
    text: tableText(cells),
    box: table.box,
    size: medianSize(runs),
    font: dominant.font,
    mono: false,
    bold: false,
    table: { rows: table.rows, cols: table.cols, cells },
  };
}

/** The smallest box holding every line's box. */
function boxAround(lines: Line[]): DocumentBBox {
  return { x0: Math.min(...lines.map((l) => l.box.x0)), y0: Math.min(...lines.map((l) => l.box.y0)), x1: Math.max(...lines.map((l) => l.box.x1)), y1: Math.max(...lines.map((l) => l.box.y1)) };
}

/** The width of the fragment holding the middle character: stray sub- and superscripts do not count. */
function medianWidthByText(lines: Line[]): number {
  const sorted = [...lines].sort((a, b) => a.box.x1 - a.box.x0 - (b.box.x1 - b.box.x0));
  let remaining = sorted.reduce((n, l) => n + l.text.length, 0) / 2;
  const middle = sorted.find((l) => (remaining -= l.text.length) <= 0) ?? sorted[sorted.length - 1]!;
  return middle.box.x1 - middle.box.x0;
}

/** The rightmost column whose left edge is at or left of x (within a font size). */
function columnOf<C extends { x: number }>(columns: C[], x: number, size: number): C | undefined {
  let found: C | undefined;
  for (const column of columns) if (column.x <= x + size) found = column;
  return found;
}

/**
 * Reading order by recursive cuts. A column gutter (a vertical strip crossed by at most a few
 * full-width lines such as titles or figure captions) splits the region: each stretch between
 * full-width lines is read left column then right column. Without a gutter, wide horizontal gaps
 * split it top to bottom. Each returned group is one column stretch, top to bottom.
 */
export function readingOrder(lines: Line[], depth = 0): Line[][] {
  if (lines.length <= 1 || depth > 8) return lines.length ? [sortTopDown(lines)] : [];
  const median = medianSize(lines);
  const gutter = findGutter(lines, median);
  if (gutter !== undefined) {
    const groups: Line[][] = [];
    let stretch: Line[] = [];
    const flush = () => {
      const left = stretch.filter((l) => l.box.x1 <= gutter);
      const right = stretch.filter((l) => l.box.x1 > gutter);
      groups.push(...readingOrder(left, depth + 1), ...readingOrder(right, depth + 1));
      stretch = [];
    };
    for (const line of sortTopDown(lines)) {
      if (line.box.x0 < gutter && line.box.x1 > gutter) {
        flush();
        groups.push([line]);
      } else stretch.push(line);
    }
    flush();
    return groups;
  }
  const bands = horizontalCuts(lines, median);
  if (bands.length > 1) return bands.flatMap((band) => readingOrder(band, depth + 1));
  return [sortTopDown(lines)];
}

function sortTopDown(lines: Line[]): Line[] {
  return [...lines].sort((a, b) => a.box.y0 - b.box.y0 || a.box.x0 - b.box.x0);
}

function medianSize(lines: { size: number }[]): number {
  const sizes = lines.map((l) => l.size).sort((a, b) => a - b);
  return sizes[Math.floor(sizes.length / 2)] ?? 10;
}

const GUTTER_STEP = 2;

/** x of a column gutter in the middle half of the region, when prose sits on both sides of it. */
function findGutter(lines: Line[], median: number): number | undefined {
  const left = Math.min(...lines.map((l) => l.box.x0));
  const right = Math.max(...lines.map((l) => l.box.x1));
  const width = right - left;
  if (width < 10 * median) return undefined;
  const allowedCrossings = Math.max(1, Math.floor(lines.length * 0.08));
  let best: { from: number; to: number } | undefined;
  let runStart: number | undefined;
  for (let x = left + width * 0.25; x <= left + width * 0.75; x += GUTTER_STEP) {
    const crossings = lines.reduce((n, l) => n + (l.box.x0 < x && l.box.x1 > x ? 1 : 0), 0);
    if (crossings <= allowedCrossings) {
      runStart ??= x;
      if (!best || x - runStart > best.to - best.from) best = { from: runStart, to: x };
    } else runStart = undefined;
  }
  if (!best || best.to - best.from < 0.6 * median) return undefined;
  const at = (best.from + best.to) / 2;
  const leftSide = lines.filter((l) => l.box.x1 <= at);
  const rightSide = lines.filter((l) => l.box.x0 >= at);
  // Columns of prose have many wide lines on both sides; label/value pairs and sparse grids do not.
  const proseLike = (side: Line[]) => side.filter((l) => l.box.x1 - l.box.x0 >= 0.3 * width).length >= 3;
  return proseLike(leftSide) && proseLike(rightSide) ? at : undefined;
}

function horizontalCuts(lines: Line[], median: number): Line[][] {
  const sorted = sortTopDown(lines);
  const bands: Line[][] = [];
  let reach = -Infinity;
  for (const line of sorted) {
    if (!bands.length || line.box.y0 - reach >= 0.9 * median) bands.push([]);
    bands[bands.length - 1]!.push(line);
    reach = Math.max(reach, line.box.y1);
  }
  return bands;
}

/** Consecutive lines of one column become paragraphs; list markers and gaps start new ones. */
export function buildParagraphs(column: Line[]): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  const columnLeft = Math.min(...column.map((l) => l.box.x0));
  const columnRight = Math.max(...column.map((l) => l.box.x1));
  let current: Line[] = [];
  const flush = () => {
    if (current.length) paragraphs.push(toParagraph(current));
    current = [];
  };
  for (const line of column) {
    if (line.table) {
      flush();
      current.push(line);
      flush();
      continue;
    }
    const prev = current[current.length - 1];
    if (prev?.table) flush();
    if (prev) {
      const gap = line.box.y0 - prev.box.y1;
      const sizeChanged = Math.abs(line.size - prev.size) > 0.15 * prev.size;
      // A bold line after regular text (or the reverse) is a heading set apart by weight alone.
      const weightChanged = line.bold !== prev.bold;
      const startsItem = BULLET.test(line.text) || ORDERED.test(line.text) || CAPTION.test(line.text);
      // A line that stops well before the column edge ends its paragraph (ragged text stays within a quarter).
      const prevEndedShort = prev.box.x1 < columnRight - 0.25 * (columnRight - columnLeft) || (/[.:!?。]$/.test(prev.text) && prev.box.x1 < line.box.x1 - 3 * line.size);
      if (gap > 0.6 * prev.size || sizeChanged || weightChanged || startsItem || prevEndedShort || line.box.y0 < prev.box.y0) flush();
    }
    current.push(line);
  }
  flush();
  return paragraphs;
}

function toParagraph(lines: Line[]): Paragraph {
  const text = lines.map((l) => l.text).reduce((acc, next) => joinLines(acc, next));
  const chars = new Map<string, number>();
  for (const l of lines) chars.set(`${l.size}|${l.font}`, (chars.get(`${l.size}|${l.font}`) ?? 0) + l.text.length);
  const [size, font] = [...chars.entries()].sort((a, b) => b[1] - a[1])[0]![0].split('|');
  return {
    lines,
    text,
    size: Number(size),
    font: font!,
    mono: lines.every((l) => l.mono),
    bold: isMostlyBold(lines),
    box: boxAround(lines),
  };
}

/** Body size and font are those that carry the most characters; larger sizes on short paragraphs rank as headings. */
export function documentStyle(pages: Paragraph[][]): DocumentStyle {
  const bySize = new Map<number, number>();
  const byFont = new Map<string, number>();
  let boldChars = 0;
  let allChars = 0;
  for (const p of pages.flat()) {
    allChars += p.text.length;
    if (p.bold) boldChars += p.text.length;
    const size = Math.round(p.size * 2) / 2;
    bySize.set(size, (bySize.get(size) ?? 0) + p.text.length);
    byFont.set(p.font, (byFont.get(p.font) ?? 0) + p.text.length);
  }
  const top = <K>(m: Map<K, number>, fallback: K) => [...m.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? fallback;
  const bodySize = top(bySize, 10);
  const headingSizes = [...new Set(pages.flat().filter((p) => isHeadingShaped(p, bodySize)).map((p) => Math.round(p.size * 2) / 2))].sort((a, b) => b - a);
  return { bodySize, bodyFont: top(byFont, ''), bodyBold: boldChars > allChars / 2, headingSizes };
}

function isHeadingShaped(p: Paragraph, bodySize: number): boolean {
  return p.size >= bodySize * 1.12 && p.lines.length <= 3 && p.text.length <= 200 && !/[.,;]$/.test(p.text);
}

/** Furniture: short paragraphs in the top/bottom bands whose digit-blind text recurs on many pages. */
export function repeatedMarginTexts(pages: { height: number; paragraphs: Paragraph[] }[]): Set<string> {
  const counts = new Map<string, number>();
  for (const page of pages) {
    const seen = new Set<string>();
    for (const p of page.paragraphs) if (inMargin(p.box, page.height)) seen.add(furnitureKey(p.text));
    for (const key of seen) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // Chapter-specific running heads recur on fewer pages than the document-wide ones.
  const threshold = Math.max(2, Math.ceil(pages.length * 0.15));
  return new Set([...counts.entries()].filter(([, n]) => n >= threshold).map(([key]) => key));
}

function inMargin(box: DocumentBBox, height: number): boolean {
  return box.y1 <= height * MARGIN_BAND || box.y0 >= height * (1 - MARGIN_BAND);
}

/** Page numbers (arabic or roman) at either end and digits anywhere do not make running text different. */
function furnitureKey(text: string): string {
  return text
    .replace(/^(page\s*)?[ivxlc]+\s+|\s+[ivxlc]+$/i, ' # ')
    .replace(/\d+/g, '#')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/** Types one paragraph of a page: furniture, heading (size rank or section number), list item, caption or body. */
export function classify(p: Paragraph, page: { index: number; height: number }, style: DocumentStyle, furniture: Set<string>, columnLeft: number): BlockInput {
  const base = { unit: page.index, text: p.text, bbox: round(p.box) };
  const table = p.lines[0]?.table;
  if (table) return { ...base, type: 'table', rows: table.rows, cols: table.cols, cells: table.cells };
  if (inMargin(p.box, page.height)) {
    if (PAGE_NUMBER.test(p.text)) return { ...base, type: 'page_number', layer: 'furniture' };
    if (furniture.has(furnitureKey(p.text))) return { ...base, type: p.box.y1 <= page.height * MARGIN_BAND ? 'header' : 'footer', layer: 'furniture' };
  }
  const sizeRank = style.headingSizes.indexOf(Math.round(p.size * 2) / 2);
  if (sizeRank >= 0 && isHeadingShaped(p, style.bodySize)) return { ...base, type: 'heading', level: Math.min(6, sizeRank + 1) };
  if (isSetApartByType(p, style)) {
    const section = NUMBERED_SECTION.exec(p.text);
    const depth = section ? section[1]!.split('.').length : 1;
    return { ...base, type: 'heading', level: Math.min(6, style.headingSizes.length + depth) };
  }
  if (CAPTION.test(p.text)) return { ...base, type: 'caption' };
  const bullet = BULLET.exec(p.text);
  const ordered = ORDERED.exec(p.text);
  if (bullet || ordered) {
    const marker = (bullet ?? ordered)![0].trim();
    const level = 1 + Math.max(0, Math.min(4, Math.round((p.box.x0 - columnLeft) / (2 * style.bodySize))));
    return { ...base, type: 'list_item', level, ordered: !bullet, marker, text: p.text.slice((bullet ?? ordered)![0].length) };
  }
  return { ...base, type: 'paragraph' };
}

/**
 * A heading at body size: a short standalone line that is not a sentence, set apart by a heavy
 * weight the body does not use (it may carry its number: "(1) Scope", "2.3 Limits"), or else by a
 * distinct non-monospace font starting like a title.
 */
function isSetApartByType(p: Paragraph, style: DocumentStyle): boolean {
  if (p.lines.length > 2 || p.text.length > 100 || p.mono || p.size < style.bodySize * 0.95 || /[.,;:]$/.test(p.text) || BULLET.test(p.text)) return false;
  if (p.bold && !style.bodyBold && !CAPTION.test(p.text)) return true;
  return p.font !== style.bodyFont && /^[\p{Lu}\p{Lo}\d]/u.test(p.text);
}

function round(box: DocumentBBox): DocumentBBox {
  const r = (n: number) => Math.round(n * 100) / 100;
  return { x0: r(box.x0), y0: r(box.y0), x1: r(box.x1), y1: r(box.y1) };
}

/** Lays out every page: lines, reading order, paragraphs, then typing against document-wide statistics. */
export function layoutPages(pages: PageText[]): BlockInput[] {
  const laidOut = pages.map((page) => {
    const ruled = findRuledTables(page.runs, page.rules ?? [], page.width);
    const lines = [...extractTables(buildLines(ruled.rest.filter((r) => !r.rotated)), page.width), ...ruled.tables.map(ruledTableLine)];
    const columns = readingOrder(lines).map((column) => ({
      left: Math.min(...column.map((l) => l.box.x0)),
      paragraphs: buildParagraphs(column),
    }));
    return { page, columns, paragraphs: columns.flatMap((c) => c.paragraphs), height: page.height, rotated: ruled.rest.filter((r) => r.rotated) };
  });
  const style = documentStyle(laidOut.map((p) => p.paragraphs));
  const furniture = repeatedMarginTexts(laidOut);
  return laidOut.flatMap(({ page, columns, rotated }) => [
    ...columns.flatMap((column) => column.paragraphs.map((p) => classify(p, page, style, furniture, column.left))),
    // Rotated text (margin stamps, axis labels) has no place in the column flow: it follows the page's body, untyped.
    ...buildLines(rotated).map((line): BlockInput => ({ type: 'paragraph', unit: page.index, text: line.text, bbox: round(line.box) })),
  ]);
}
