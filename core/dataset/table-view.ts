/**
 * A table block read as named columns over data rows, from the document model's cell grid, so that
 * every statement a template makes about a table ("Owner is Ana") pairs a header with a value of the
 * same row. The header comes from the parser's marks (DOCX/PPTX "Header Row", PDF booktabs rules,
 * chart series names) or, for sheets and unmarked tables, from the cells' own shape: text rows above
 * value rows. A table whose header cannot be told has no view: templates then say nothing about it
 * rather than pair data with data.
 */
import type { DocumentBlock, DocumentTableCell } from '../../schemas/generated/types';

export interface TableView {
  /** One name per column: the column's header cells top to bottom, distinct texts joined by " / " ("" when none). */
  columns: string[];
  /** Data rows, one text per column; a cell spanning rows repeats in each, a cell spanning columns fills its first. */
  rows: string[][];
  header: 'marked' | 'inferred';
}

/** What a cell holding only a number, date, amount or code-like figure looks like as text. */
const FIGURE = /^[\s\d.,:/%$€£¥()\-–+*#]*\d[\s\d.,:/%$€£¥()\-–+*#]*$/;
/** More leading text rows than this are body text in a text table, not a header. */
const MAX_HEADER_ROWS = 3;
/** A header cell longer than this is prose, not a column name. */
const MAX_NAME_CHARS = 80;

export function isFigure(text: string): boolean {
  return FIGURE.test(text.trim());
}

interface Slot {
  cell: DocumentTableCell;
  origin: boolean;
}

export function tableView(block: DocumentBlock): TableView | undefined {
  const cells = block.cells ?? [];
  if (!cells.length) return undefined;
  const grid = slotGrid(cells, block.rows ?? 0, block.cols ?? 0);
  const body = dropTitleRows(grid);
  if (body.length < 2) return undefined;
  // A sheet's typed values say more than its parser's one-row mark: text rows above value rows, title rows excluded.
  const typed = cells.some((c) => c.value_type !== undefined);
  const marked = typed ? 0 : leadingRows(body, (row) => row.some((s) => s.origin && s.cell.text.trim()) && row.every((s) => !s.origin || s.cell.header === true));
  const headerRows = marked > 0 && marked < body.length ? marked : inferredHeaderRows(body);
  if (!headerRows) return undefined;
  const columns = columnNames(body.slice(0, headerRows));
  if (!usableNames(columns)) return undefined;
  const rows = body.slice(headerRows).map(rowTexts).filter((row) => row.filter(Boolean).length >= Math.min(2, columns.length));
  if (!rows.length) return undefined;
  return { columns, rows, header: marked === headerRows ? 'marked' : 'inferred' };
}

/** The table as text, header line first: how table passages are shown, so the first row read is the header. */
export function tableViewText(view: Pick<TableView, 'columns' | 'rows'>): string {
  return [view.columns, ...view.rows].map((row) => row.join(' | ')).join('\n');
}

function slotGrid(cells: DocumentTableCell[], rows: number, cols: number): Slot[][] {
  const height = Math.max(rows, ...cells.map((c) => c.row + c.row_span));
  const width = Math.max(cols, ...cells.map((c) => c.col + c.col_span));
  const empty: DocumentTableCell = { row: 0, col: 0, row_span: 1, col_span: 1, text: '' };
  const grid: Slot[][] = Array.from({ length: height }, () => Array.from({ length: width }, () => ({ cell: empty, origin: false })));
  for (const cell of cells) {
    for (let r = cell.row; r < cell.row + cell.row_span; r++) {
      for (let c = cell.col; c < cell.col + cell.col_span; c++) grid[r]![c] = { cell, origin: r === cell.row && c === cell.col };
    }
  }
  return grid.filter((row) => row.some((s) => s.cell.text.trim()));
}

/** Leading rows with a single text across a table of three or more columns are its title, not its header. */
function dropTitleRows(grid: Slot[][]): Slot[][] {
  let start = 0;
  while (start < grid.length - 1 && grid[start]!.length >= 3 && distinctCells(grid[start]!).filter((c) => c.text.trim()).length === 1) start++;
  return grid.slice(start);
}

function distinctCells(row: Slot[]): DocumentTableCell[] {
  return [...new Set(row.map((s) => s.cell))];
}

function leadingRows(grid: Slot[][], test: (row: Slot[]) => boolean): number {
  let n = 0;
  while (n < grid.length && test(grid[n]!)) n++;
  return n;
}

/**
 * Unmarked header rows: leading rows of text only (no figures, no typed values) above at least one
 * row that holds values. A sheet's header is its text rows above value rows; a table of text only
 * gets a header when its first row reads like column names: short, distinct, no sentence endings,
 * and clearly terser than the rows under it.
 */
function inferredHeaderRows(grid: Slot[][]): number {
  const isTextRow = (row: Slot[]) => {
    const texts = distinctCells(row).filter((c) => c.text.trim());
    return texts.length > 0 && texts.every((c) => !isFigure(c.text) && (c.value_type === undefined || c.value_type === 'string'));
  };
  const textRows = leadingRows(grid, isTextRow);
  if (textRows === 0) return 0;
  // Typed cells (a sheet's) say which rows hold values; elsewhere a header row above figures holds no
  // figure itself, not even inside a longer text ("130 (131 Um)" is a value with its unit).
  const typed = grid.some((row) => row.some((s) => s.cell.value_type !== undefined));
  const digitFree = (row: Slot[]) => distinctCells(row).every((c) => !/\d/.test(c.text));
  if (textRows < grid.length) return textRows <= MAX_HEADER_ROWS && (typed || grid.slice(0, textRows).every(digitFree)) ? textRows : 0;
  // A text-only grid is a table of records only if every column holding data has a name (a form's
  // label grid, "Inspector | | Date | |", has blanks above its fields).
  const namesEveryDataColumn = grid[0]!.every((slot, col) => slot.cell.text.trim() || grid.slice(1).every((row) => !row[col]!.cell.text.trim()));
  const [first, ...rest] = grid.map((row) => distinctCells(row).map((c) => c.text.trim()).filter(Boolean));
  if (!namesEveryDataColumn || !first || first.length < 2 || new Set(first).size < first.length || first.some((t) => /[.。;；:：]$/.test(t))) return 0;
  const meanLength = (texts: string[]) => texts.reduce((sum, t) => sum + t.length, 0) / Math.max(1, texts.length);
  return meanLength(first) * 2 <= meanLength(rest.flat()) ? 1 : 0;
}

function columnNames(headerRows: Slot[][]): string[] {
  const width = headerRows[0]!.length;
  return Array.from({ length: width }, (_, col) => {
    const parts: string[] = [];
    for (const row of headerRows) {
      const text = row[col]!.cell.text.trim();
      if (text && parts.at(-1) !== text) parts.push(text);
    }
    // "Package no.:" labels the value beside or under it: the colon is the form's, not the name's.
    return parts.join(' / ').replace(/\s*[:：]$/, '');
  });
}

/** Names a reader can take for a header: at least two, each with a letter and not over-long, mostly not figures, no repeats. */
function usableNames(columns: string[]): boolean {
  const named = columns.filter(Boolean);
  if (named.length < 2 || named.some((n) => n.length > MAX_NAME_CHARS || !/\p{L}/u.test(n))) return false;
  if (new Set(named).size < named.length) return false;
  return named.filter(isFigure).length * 2 < named.length;
}

function rowTexts(row: Slot[]): string[] {
  // A spanned cell is read once per row it covers (its value holds for each), once per row across columns.
  const seen = new Set<DocumentTableCell>();
  return row.map((slot) => {
    if (seen.has(slot.cell)) return '';
    seen.add(slot.cell);
    return slot.cell.text.trim();
  });
}
