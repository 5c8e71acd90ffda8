import { PAGE_EDGE, type RuledCell, type RuledTable, type Segment, type TextRun } from './types';

/** Rules of one table start and end this close to each other (points). */
const SAME_EXTENT = 3;
/** Rules closer than this (points) are one: a thick or double rule holds no text between its strokes. */
const SAME_RULE = 4;
/** Narrower rules bracket no table: underlines, short separators, stripes of a logo. */
const MIN_TABLE_WIDTH = 60;
/**
 * Text hugs the rules of a table: its first line starts at most this many font sizes below the
 * rule above (booktabs leaves about a tenth, Word about none) and its last line ends at most
 * BELOW_TEXT sizes above the rule below (Word adds its paragraph spacing there). Captions, list
 * items and paragraphs between two rules sit further away.
 */
const ABOVE_TEXT = 0.6;
const BELOW_TEXT = 1;
/** A gap this many font sizes wide separates columns; narrower ones are word spaces. */
const COLUMN_GAP = 0.75;
/** Text running this many font sizes past a rule's end shows the rule does not span the region. */
const OVERHANG = 1;
/** At most this share of body lines may run across column gaps (group labels); code and prose do it on most lines. */
const MAX_SPANNING_SHARE = 0.25;
/** Cell fragments this wide (median by text, share of the page) are prose columns, not cells. */
const PROSE_WIDTH = 0.3;
/** Body text this much (share of characters) in a monospaced font is a code listing. */
const CODE_SHARE = 0.9;
/** A continuation line sits at most this many font sizes below the line it continues. */
const WRAP_LEADING = 1.6;
/** List markers: a first column of nothing else makes a list, not a table. */
const LIST_MARKER = /^([•◦▪▫●○■□►▸‣⁃∙·\-–—*]|\(?\d{1,3}[.)]|\(?[a-z][.)])$/;

/** Runs of one line closer together than a column gap, with their horizontal extent. */
interface Fragment {
  runs: TextRun[];
  x0: number;
  x1: number;
}

interface TextLine {
  /** Baseline. */
  y: number;
  size: number;
  fragments: Fragment[];
}

/** The text between two consecutive rules of a stack. */
interface Band {
  top: number;
  bottom: number;
  lines: TextLine[];
}

/** Part of a row covering columns from..to (inclusive), with the fragments of each of its lines. */
interface Cell {
  from: number;
  to: number;
  fragments: Fragment[];
}

interface Row {
  /** Baseline of its last line. */
  y: number;
  cells: Cell[];
}

interface Column {
  x0: number;
  x1: number;
}

/**
 * Tables ruled with horizontal lines only: LaTeX booktabs (a top rule, a rule under the header, a
 * bottom rule, partial rules under spanning headers) or a rule under every row. Rules of the same
 * extent, stacked, cut the text between them into bands; consecutive bands whose text hugs their
 * rules and has a line split by a wide gap form a candidate region. Its columns are the gaps in the
 * x-projection of the body's multi-cell lines (the band under the first rule is the header when
 * there is more than one band); each line is a row, except a line that only continues wrapped cells
 * of the row above. It is a table when it has two columns, two body rows with two cells each, few
 * lines across the gaps, no prose-wide cells, no monospaced body and no column of list markers or
 * line numbers: a boxed note, a list, a code listing or a page between a header rule and a footer
 * rule is not.
 * Taken runs leave `rest`.
 */
export function findHorizontallyRuledTables(runs: TextRun[], rules: Segment[], pageWidth: number): { tables: RuledTable[]; rest: TextRun[] } {
  const tables: RuledTable[] = [];
  let rest = runs;
  for (const stack of stacksOfSameExtent(rules, pageWidth)) {
    const { from, to } = stack[0]!;
    const bands = stack.slice(1).map((rule, i) => bandBetween(stack[i]!.at, rule.at, from, to, rest));
    for (const region of consecutive(bands, (band): band is Band => band !== undefined && isTableLike(band))) {
      const top = region[0]!.top;
      const bottom = region[region.length - 1]!.bottom;
      const table = tableOf(region, rules.filter((r) => r.from >= from - SAME_EXTENT && r.to <= to + SAME_EXTENT), pageWidth);
      if (!table) continue;
      tables.push({ box: { x0: from, y0: top, x1: to, y1: bottom }, ...table });
      const taken = new Set(table.cells.flatMap((c) => c.runs));
      rest = rest.filter((r) => !taken.has(r));
    }
  }
  return { tables, rest };
}

/** Full-length rules grouped by extent, each group top to bottom, widest groups first. */
function stacksOfSameExtent(rules: Segment[], pageWidth: number): Segment[][] {
  const stacks: Segment[][] = [];
  for (const rule of rules) {
    if (rule.to - rule.from < MIN_TABLE_WIDTH || rule.from <= PAGE_EDGE || rule.to >= pageWidth - PAGE_EDGE) continue;
    const stack = stacks.find((s) => Math.abs(s[0]!.from - rule.from) <= SAME_EXTENT && Math.abs(s[0]!.to - rule.to) <= SAME_EXTENT);
    if (stack) stack.push(rule);
    else stacks.push([rule]);
  }
  return stacks
    .map((stack) => stack.sort((a, b) => a.at - b.at).filter((rule, i, sorted) => i === 0 || rule.at - sorted[i - 1]!.at >= SAME_RULE))
    .filter((stack) => stack.length >= 2)
    .sort((a, b) => b[0]!.to - b[0]!.from - (a[0]!.to - a[0]!.from));
}

const middleY = (run: TextRun) => run.y - 0.3 * run.size;

/** The lines between two rules, or undefined when text between them runs past the rules' ends. */
function bandBetween(top: number, bottom: number, from: number, to: number, runs: TextRun[]): Band | undefined {
  const inside: TextRun[] = [];
  for (const run of runs) {
    if (run.rotated || run.text.trim() === '' || middleY(run) <= top || middleY(run) >= bottom || run.x1 <= from || run.x0 >= to) continue;
    if (run.x0 < from - OVERHANG * run.size || run.x1 > to + OVERHANG * run.size) return undefined;
    inside.push(run);
  }
  return { top, bottom, lines: textLines(inside, COLUMN_GAP * medianSize(inside)) };
}

/** Text that hugs both rules, with at least one line split by a column gap. */
function isTableLike(band: Band): boolean {
  const first = band.lines[0];
  const last = band.lines[band.lines.length - 1];
  if (!first || !last) return false;
  const hugsTop = first.y - first.size - band.top <= ABOVE_TEXT * first.size;
  const hugsBottom = band.bottom - (last.y + 0.25 * last.size) <= BELOW_TEXT * last.size;
  return hugsTop && hugsBottom && band.lines.some((l) => l.fragments.length >= 2);
}

/** Maximal runs of consecutive items that pass the test. */
function consecutive<T, S extends T>(items: T[], test: (item: T) => item is S): S[][] {
  const runs: S[][] = [];
  let current: S[] = [];
  for (const item of items) {
    if (test(item)) current.push(item);
    else if (current.length) (runs.push(current), (current = []));
  }
  if (current.length) runs.push(current);
  return runs;
}

function medianSize(runs: TextRun[]): number {
  const sizes = runs.map((r) => r.size).sort((a, b) => a - b);
  return sizes[Math.floor(sizes.length / 2)] ?? 10;
}

/** Runs on one baseline form a line, split into fragments at gaps of at least `gap`. */
function textLines(runs: TextRun[], gap: number): TextLine[] {
  const lines: TextRun[][] = [];
  for (const run of [...runs].sort((a, b) => a.y - b.y)) {
    const line = lines[lines.length - 1];
    if (line && run.y - line[0]!.y < Math.max(1, 0.35 * Math.min(line[0]!.size, run.size))) line.push(run);
    else lines.push([run]);
  }
  return lines.map((line) => {
    const fragments: Fragment[] = [];
    for (const run of line.sort((a, b) => a.x0 - b.x0)) {
      const last = fragments[fragments.length - 1];
      if (last && run.x0 - last.x1 < gap) (last.runs.push(run), (last.x1 = Math.max(last.x1, run.x1)));
      else fragments.push({ runs: [run], x0: run.x0, x1: run.x1 });
    }
    return { y: line[0]!.y, size: Math.max(...line.map((r) => r.size)), fragments };
  });
}

type Grid = Omit<RuledTable, 'box'>;

/** The table a region holds, if it is one; `rules` are those within its extent (partial ones mark header spans). */
function tableOf(bands: Band[], rules: Segment[], pageWidth: number): Grid | undefined {
  const header = bands.length > 1 ? bands[0]! : undefined;
  const bodyRuns = bands.slice(header ? 1 : 0).flatMap((b) => b.lines.flatMap((l) => l.fragments.flatMap((f) => f.runs)));
  const size = medianSize(bodyRuns);
  const gap = COLUMN_GAP * size;
  const bodyLines = textLines(bodyRuns, gap);
  const columns = projection(bodyLines.filter((l) => l.fragments.length >= 2).flatMap((l) => l.fragments), gap);
  if (columns.length < 2 || isProse(bodyLines.flatMap((l) => l.fragments), pageWidth) || isCode(bodyRuns)) return undefined;
  const bodyCells = bodyLines.map((line) => ({ y: line.y, cells: cellsOf(line.fragments, columns) }));
  if (bodyCells.filter((row) => row.cells.some((c) => c.to > c.from)).length > Math.max(1, MAX_SPANNING_SHARE * bodyLines.length)) return undefined;
  const body = joinWrapped(bodyCells, (row, line) => continuesInBody(row, line, columns, size));
  if (body.filter((row) => row.cells.length >= 2).length < 2 || isListing(body, columns.length)) return undefined;
  if (!header) return grid([], body, columns.length);
  const headerLines = textLines(header.lines.flatMap((l) => l.fragments.flatMap((f) => f.runs)), gap);
  const underHeaders = rules.filter((r) => r.at > header.top + SAME_RULE && r.at < header.bottom - SAME_RULE);
  const headerRows = joinWrapped(
    headerLines.map((line) => ({ y: line.y, cells: cellsOf(line.fragments, columns, spansFromRules(line, headerLines, underHeaders, columns)) })),
    (row, line) => continuesInHeader(row, line, size),
  );
  return grid(liftCentred(headerRows), body, columns.length);
}

/**
 * A header line whose cells all stand where the lines above and below it are empty is a title set
 * across both (\multirow): it joins the line above, and grid() lets it span down.
 */
function liftCentred(rows: Row[]): Row[] {
  const lifted: Row[] = [];
  rows.forEach((row, r) => {
    const above = lifted[lifted.length - 1];
    const below = rows[r + 1];
    const clearOf = (other: Row) => row.cells.every((cell) => !other.cells.some((c) => c.from <= cell.to && c.to >= cell.from));
    if (above && below && clearOf(above) && clearOf(below)) above.cells = [...above.cells, ...row.cells].sort((a, b) => a.from - b.from);
    else lifted.push(row);
  });
  return lifted;
}

/** Column intervals: the union of the fragments' extents, split at gaps of at least `gap`. */
function projection(fragments: Fragment[], gap: number): Column[] {
  const columns: Column[] = [];
  for (const f of [...fragments].sort((a, b) => a.x0 - b.x0)) {
    const last = columns[columns.length - 1];
    if (last && f.x0 - last.x1 < gap) last.x1 = Math.max(last.x1, f.x1);
    else columns.push({ x0: f.x0, x1: f.x1 });
  }
  return columns;
}

/** Whether the fragment holding the middle character is as wide as a column of prose. */
function isProse(fragments: Fragment[], pageWidth: number): boolean {
  const chars = (f: Fragment) => f.runs.reduce((n, r) => n + r.text.trim().length, 0);
  const sorted = [...fragments].sort((a, b) => a.x1 - a.x0 - (b.x1 - b.x0));
  let remaining = sorted.reduce((n, f) => n + chars(f), 0) / 2;
  const middle = sorted.find((f) => (remaining -= chars(f)) <= 0) ?? sorted[sorted.length - 1]!;
  return middle.x1 - middle.x0 >= PROSE_WIDTH * pageWidth;
}

/** Whether nearly all the text is monospaced: keywords and their arguments line up like cells in a listing too. */
function isCode(runs: TextRun[]): boolean {
  const chars = (some: TextRun[]) => some.reduce((n, r) => n + r.text.trim().length, 0);
  return chars(runs.filter((r) => r.mono)) >= CODE_SHARE * chars(runs);
}

/**
 * The columns a fragment covers: those it overlaps by at least half the narrower of the two (a
 * header wider than its column does not reach into the next), else the nearest one; a partial
 * rule drawn under it widens it to the columns the rule spans.
 */
function columnRange(f: Fragment, columns: Column[], widened?: { from: number; to: number }): { from: number; to: number } {
  const covered = columns
    .map((c, i) => ({ i, overlap: Math.min(c.x1, f.x1) - Math.max(c.x0, f.x0), need: 0.5 * Math.min(c.x1 - c.x0, f.x1 - f.x0) }))
    .filter((c) => c.overlap > 0 && c.overlap >= c.need)
    .map((c) => c.i);
  const middle = (f.x0 + f.x1) / 2;
  const nearest = columns.reduce((best, c, i) => (distance(c, middle) < distance(columns[best]!, middle) ? i : best), 0);
  const from = Math.min(covered[0] ?? nearest, widened?.from ?? Infinity);
  const to = Math.max(covered[covered.length - 1] ?? nearest, widened?.to ?? -Infinity);
  return { from, to };
}

function distance(c: Column, x: number): number {
  return x < c.x0 ? c.x0 - x : x > c.x1 ? x - c.x1 : 0;
}

/** A line's cells: fragments placed in columns, those that reach into the same columns joined. */
function cellsOf(fragments: Fragment[], columns: Column[], widened = new Map<Fragment, { from: number; to: number }>()): Cell[] {
  const cells: Cell[] = [];
  for (const f of fragments) {
    const { from, to } = columnRange(f, columns, widened.get(f));
    const last = cells[cells.length - 1];
    if (last && from <= last.to) (last.to = Math.max(last.to, to), last.fragments.push(f));
    else cells.push({ from, to, fragments: [f] });
  }
  return cells;
}

/**
 * Partial rules in the header (booktabs' \cmidrule under a spanning header): the fragment just
 * above each one spans the columns whose middles the rule covers.
 */
function spansFromRules(line: TextLine, lines: TextLine[], rules: Segment[], columns: Column[]): Map<Fragment, { from: number; to: number }> {
  const widened = new Map<Fragment, { from: number; to: number }>();
  for (const rule of rules) {
    const above = lines.filter((l) => l.y < rule.at).reduce<TextLine | undefined>((best, l) => (!best || l.y > best.y ? l : best), undefined);
    if (above !== line) continue;
    const fragment = line.fragments.find((f) => f.x0 < rule.to && f.x1 > rule.from);
    const spanned = columns.map((c, i) => ({ i, middle: (c.x0 + c.x1) / 2 })).filter((c) => c.middle >= rule.from && c.middle <= rule.to);
    if (fragment && spanned.length) widened.set(fragment, { from: spanned[0]!.i, to: spanned[spanned.length - 1]!.i });
  }
  return widened;
}

/** Lines become rows; a line that continues the row above (by `continues`) joins it. */
function joinWrapped(lines: Row[], continues: (row: Row, line: Row) => boolean): Row[] {
  const rows: Row[] = [];
  for (const line of lines) {
    const row = rows[rows.length - 1];
    if (!row || !continues(row, line)) {
      rows.push({ y: line.y, cells: line.cells.map((c) => ({ ...c, fragments: [...c.fragments] })) });
      continue;
    }
    for (const cell of line.cells) row.cells.find((c) => c.from === cell.from)!.fragments.push(...cell.fragments);
    row.y = line.y;
  }
  return rows;
}

/**
 * A line continues the row above when it sits at line distance below it, fills only some of the
 * row's single-column cells, and wraps in each of them as a cell's text does: it starts where the
 * cell's text starts, in lower case (or without case), and its first word would not have fitted at
 * the end of the cell's last line. A row of its own (a group label, a row with empty cells)
 * fails one of these.
 */
function continuesInBody(row: Row, line: Row, columns: Column[], size: number): boolean {
  if (line.y - row.y > WRAP_LEADING * size || line.cells.length >= row.cells.length) return false;
  return line.cells.every((cell) => {
    const above = row.cells.find((c) => c.from === cell.from && c.to === cell.to);
    if (!above || cell.to > cell.from) return false;
    const first = cell.fragments[0]!;
    const text = first.runs.map((r) => r.text).join(' ').trim();
    const word = text.split(/\s+/)[0]!;
    const wordWidth = ((first.x1 - first.x0) * word.length) / Math.max(1, text.length);
    const lastAbove = above.fragments[above.fragments.length - 1]!;
    return Math.abs(first.x0 - above.fragments[0]!.x0) <= 0.5 * size && !/^\p{Lu}/u.test(text) && lastAbove.x1 + 0.25 * size + wordWidth > columns[cell.from]!.x1;
  });
}

/** A header line continues the one above when it only adds to some of its single-column cells ("Time" over "(s)"). */
function continuesInHeader(row: Row, line: Row, size: number): boolean {
  if (line.y - row.y > WRAP_LEADING * size || line.cells.length >= row.cells.length) return false;
  return line.cells.every((cell) => cell.to === cell.from && row.cells.some((c) => c.from === cell.from && c.to === cell.from));
}

/** A list (a first column of markers) or a numbered listing (two columns, the first counting 1, 2, 3, ...). */
function isListing(rows: Row[], cols: number): boolean {
  const first = rows.flatMap((row) => row.cells.filter((c) => c.from === 0).map((c) => c.fragments.flatMap((f) => f.runs.map((r) => r.text)).join('').trim()));
  if (first.length === 0) return false;
  return first.every((text) => LIST_MARKER.test(text)) || (cols === 2 && first.every((text, i) => text === String(i + 1)));
}

/**
 * The grid: header rows then body rows, every position covered by exactly one cell. A header cell
 * with nothing under it in the header rows below spans down to the body (a column title set beside
 * a two-line group header); positions no text reaches are empty cells.
 */
function grid(header: Row[], body: Row[], cols: number): Grid {
  const rows = [...header, ...body];
  const owner = rows.map(() => new Array<boolean>(cols).fill(false));
  const cells: RuledCell[] = [];
  rows.forEach((row, r) => {
    for (const cell of row.cells) {
      let rowSpan = 1;
      const emptyBelow = (k: number) => !rows[k]!.cells.some((c) => c.from <= cell.to && c.to >= cell.from);
      if (r < header.length) while (r + rowSpan < header.length && emptyBelow(r + rowSpan)) rowSpan++;
      for (let i = r; i < r + rowSpan; i++) for (let k = cell.from; k <= cell.to; k++) owner[i]![k] = true;
      cells.push({ row: r, col: cell.from, row_span: rowSpan, col_span: cell.to - cell.from + 1, runs: cell.fragments.flatMap((f) => f.runs), ...(r < header.length ? { header: true } : {}) });
    }
  });
  owner.forEach((taken, r) =>
    taken.forEach((isTaken, c) => {
      if (!isTaken) cells.push({ row: r, col: c, row_span: 1, col_span: 1, runs: [], ...(r < header.length ? { header: true } : {}) });
    }),
  );
  cells.sort((a, b) => a.row - b.row || a.col - b.col);
  return { rows: rows.length, cols, cells };
}
