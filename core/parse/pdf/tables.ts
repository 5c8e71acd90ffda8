import { findHorizontallyRuledTables } from './booktabs';
import { PAGE_EDGE, type RuledCell, type RuledTable, type Segment, type TextRun } from './types';

/** Rules this close (points) are the same line; rule ends this close to a crossing rule touch it. */
const SNAP = 2;
/** Grid lines closer than this are one (double rules, borders drawn as two thin rectangles). */
const MIN_CELL = 4;
/** Share of a grid's cells that must hold text: chart gridlines and empty forms are not tables. */
const MIN_FILLED_SHARE = 0.25;

/**
 * Tables drawn with ruling lines. Horizontal and vertical rules (see collectRules) that cross or
 * touch form connected groups; each group spanning at least two rows and two columns is a grid
 * whose lines are the group's distinct rule positions, plus its outer edges where the frame is
 * not drawn. Two neighbouring grid cells with no rule between them are one merged cell, whose
 * row_span/col_span cover both. Every run whose centre lies in the grid (rotated column headers
 * included) goes to its cell and is taken out of `rest`, so table text never appears again as
 * paragraphs. Horizontal rules crossing no vertical one go on to findHorizontallyRuledTables.
 */
export function findRuledTables(runs: TextRun[], rules: number[], pageWidth: number): { tables: RuledTable[]; rest: TextRun[] } {
  // Fewer than two rules bracket nothing.
  if (rules.length < 8) return { tables: [], rest: runs };
  const horizontal: Segment[] = [];
  const vertical: Segment[] = [];
  for (let i = 0; i + 3 < rules.length; i += 4) {
    const [x0, y0, x1, y1] = [rules[i]!, rules[i + 1]!, rules[i + 2]!, rules[i + 3]!];
    if (y0 === y1) horizontal.push({ at: y0, from: x0, to: x1 });
    else vertical.push({ at: x0, from: y0, to: y1 });
  }
  const tables: RuledTable[] = [];
  let rest = runs;
  const [rows, columns] = [mergeCollinear(horizontal), mergeCollinear(vertical)];
  for (const group of connectedGroups(rows, columns)) {
    const table = gridOf(group.horizontal, group.vertical, rest);
    if (!table || table.box.x0 <= PAGE_EDGE || table.box.x1 >= pageWidth - PAGE_EDGE) continue;
    const taken = new Set(table.cells.flatMap((c) => c.runs));
    rest = rest.filter((r) => !taken.has(r));
    tables.push(table);
  }
  // Horizontal rules that meet no vertical one may still bracket a table (booktabs).
  const open = findHorizontallyRuledTables(rest, rows.filter((h) => !columns.some((v) => crosses(h, v))), pageWidth);
  return { tables: [...tables, ...open.tables], rest: open.rest };
}

/** Pieces of one line (a border drawn cell by cell) joined into one rule. */
function mergeCollinear(segments: Segment[]): Segment[] {
  // Rules within half a snap of each other are one line, whatever the rounding of their positions.
  const lines: Segment[][] = [];
  for (const s of [...segments].sort((a, b) => a.at - b.at)) {
    const line = lines[lines.length - 1];
    if (line && s.at - line[0]!.at <= SNAP / 2) line.push(s);
    else lines.push([s]);
  }
  return lines.flatMap((line) => {
    const merged: Segment[] = [];
    for (const s of line.sort((a, b) => a.from - b.from)) {
      const last = merged[merged.length - 1];
      if (last && s.from <= last.to + SNAP) last.to = Math.max(last.to, s.to);
      else merged.push({ ...s });
    }
    return merged;
  });
}

function crosses(h: Segment, v: Segment): boolean {
  return v.at >= h.from - SNAP && v.at <= h.to + SNAP && h.at >= v.from - SNAP && h.at <= v.to + SNAP;
}

/** Groups of horizontal and vertical rules connected by crossings (union-find). */
function connectedGroups(horizontal: Segment[], vertical: Segment[]): { horizontal: Segment[]; vertical: Segment[] }[] {
  const parent = [...horizontal, ...vertical].map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  horizontal.forEach((h, i) =>
    vertical.forEach((v, j) => {
      if (crosses(h, v)) parent[find(i)] = find(horizontal.length + j);
    }),
  );
  const groups = new Map<number, { horizontal: Segment[]; vertical: Segment[] }>();
  const groupOf = (i: number) => groups.get(find(i)) ?? groups.set(find(i), { horizontal: [], vertical: [] }).get(find(i))!;
  horizontal.forEach((h, i) => groupOf(i).horizontal.push(h));
  vertical.forEach((v, j) => groupOf(horizontal.length + j).vertical.push(v));
  return [...groups.values()].filter((g) => g.horizontal.length >= 1 && g.vertical.length >= 1);
}

/** Distinct positions, closer ones merged (their mean). */
function gridLines(positions: number[]): number[] {
  const lines: number[][] = [];
  for (const p of [...positions].sort((a, b) => a - b)) {
    const last = lines[lines.length - 1];
    if (last && p - last[last.length - 1]! < MIN_CELL) last.push(p);
    else lines.push([p]);
  }
  return lines.map((l) => l.reduce((a, b) => a + b, 0) / l.length);
}

/** Whether rules at `at` cover the middle of the span from..to (a drawn border between two cells). */
function ruled(segments: Segment[], at: number, from: number, to: number): boolean {
  const middle = (from + to) / 2;
  return segments.some((s) => Math.abs(s.at - at) <= MIN_CELL && s.from - SNAP <= middle && s.to + SNAP >= middle);
}

function gridOf(horizontal: Segment[], vertical: Segment[], runs: TextRun[]): RuledTable | undefined {
  const left = Math.min(...horizontal.map((h) => h.from), ...vertical.map((v) => v.at));
  const right = Math.max(...horizontal.map((h) => h.to), ...vertical.map((v) => v.at));
  const top = Math.min(...vertical.map((v) => v.from), ...horizontal.map((h) => h.at));
  const bottom = Math.max(...vertical.map((v) => v.to), ...horizontal.map((h) => h.at));
  const xs = gridLines([left, right, ...vertical.map((v) => v.at)]);
  const ys = gridLines([top, bottom, ...horizontal.map((h) => h.at)]);
  const rows = ys.length - 1;
  const cols = xs.length - 1;
  if (rows < 2 || cols < 2) return undefined;
  const index = (lines: number[], p: number) => {
    if (p < lines[0]! || p > lines[lines.length - 1]!) return -1;
    let i = 0;
    while (i < lines.length - 2 && p >= lines[i + 1]!) i++;
    return i;
  };
  const placed = runs
    .map((run) => ({ run, r: index(ys, run.center?.y ?? run.y - 0.3 * run.size), c: index(xs, run.center?.x ?? (run.x0 + run.x1) / 2) }))
    .filter((p) => p.r >= 0 && p.c >= 0);
  const visible = placed.filter((p) => p.run.text.trim() !== '');
  const holdsText = new Set(visible.map((p) => `${p.r},${p.c}`));
  // Text on both sides of an undrawn column border, none of it across, means the border is only left
  // undrawn (body rows under a ruled header), not that the cells merge.
  const impliedBorder = (r: number, c: number) =>
    holdsText.has(`${r},${c}`) && holdsText.has(`${r},${c + 1}`) && !visible.some((p) => p.r === r && !p.run.rotated && p.run.x0 < xs[c + 1]! - SNAP && p.run.x1 > xs[c + 1]! + SNAP);
  // The outer edges bound the grid whether or not a frame is drawn there.
  const borderRight = (r: number, c: number) => c === cols - 1 || ruled(vertical, xs[c + 1]!, ys[r]!, ys[r + 1]!) || impliedBorder(r, c);
  const borderBelow = (r: number, c: number) => r === rows - 1 || ruled(horizontal, ys[r + 1]!, xs[c]!, xs[c + 1]!);
  const owner: (RuledCell | undefined)[][] = Array.from({ length: rows }, () => new Array<RuledCell | undefined>(cols));
  const cells: RuledCell[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (owner[r]![c]) continue;
      let colSpan = 1;
      while (!borderRight(r, c + colSpan - 1) && !owner[r]![c + colSpan]) colSpan++;
      let rowSpan = 1;
      const openBelow = (k: number) => !borderBelow(r + rowSpan - 1, k) && !owner[r + rowSpan]![k];
      while (r + rowSpan < rows && Array.from({ length: colSpan }, (_, k) => c + k).every(openBelow)) rowSpan++;
      const cell: RuledCell = { row: r, col: c, row_span: rowSpan, col_span: colSpan, runs: [] };
      for (let i = r; i < r + rowSpan; i++) for (let k = c; k < c + colSpan; k++) owner[i]![k] = cell;
      cells.push(cell);
    }
  }
  for (const { run, r, c } of placed) owner[r]![c]!.runs.push(run);
  const filled = cells.filter((c) => c.runs.some((r) => r.text.trim() !== '')).length;
  if (filled < 2 || filled < MIN_FILLED_SHARE * cells.length) return undefined;
  return { box: { x0: xs[0]!, y0: ys[0]!, x1: xs[cols]!, y1: ys[rows]! }, rows, cols, cells };
}
