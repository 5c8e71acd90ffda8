/** A1 references: column letters <-> 0-based indices. */
export function columnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

export function columnLetters(index: number): string {
  let out = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) out = String.fromCharCode(65 + ((n - 1) % 26)) + out;
  return out;
}

/** 0-based row/col of an A1 reference such as "C12" (absolute markers allowed). */
export function parseCellRef(ref: string): { row: number; col: number } | undefined {
  const m = /^\$?([A-Z]{1,3})\$?(\d{1,7})$/.exec(ref);
  return m ? { row: Number(m[2]) - 1, col: columnIndex(m[1]!) } : undefined;
}

export function cellRef(row: number, col: number): string {
  return `${columnLetters(col)}${row + 1}`;
}

export interface CellRange {
  r0: number;
  c0: number;
  r1: number;
  c1: number;
}

export function parseRange(ref: string): CellRange | undefined {
  const [a, b = a] = ref.split(':');
  const from = parseCellRef(a ?? '');
  const to = parseCellRef(b ?? '');
  if (!from || !to) return undefined;
  return { r0: Math.min(from.row, to.row), c0: Math.min(from.col, to.col), r1: Math.max(from.row, to.row), c1: Math.max(from.col, to.col) };
}
