/**
 * What the PDF modules hand each other: the text runs and ruling lines of a page (parse.ts reads them
 * in a thread, layout.ts lays them out) and the ruled tables found among them (tables.ts for grids,
 * booktabs.ts for horizontal rules only). Kept apart so that the modules import these shapes from here
 * rather than from each other.
 */
import type { DocumentBBox } from '../../../schemas/generated/types';

/** A run of text as the PDF places it, in page points with a top-left origin. */
export interface TextRun {
  text: string;
  x0: number;
  x1: number;
  /** Baseline. */
  y: number;
  size: number;
  font: string;
  /** Set for text not running left to right (rotated margin stamps, vertical labels). */
  rotated?: boolean;
  /** For rotated text, the middle of its glyphs (x0..x1 then span its advance, not its box). */
  center?: { x: number; y: number };
  /** Set for monospaced fonts: code, whose distinct type does not make it a heading. */
  mono?: boolean;
  /** Set for heavy weights (bold, semibold, black), told by the font's name. */
  bold?: boolean;
  /** Set for right-to-left text (Arabic, Hebrew); pdf.js gives each run in logical order. */
  rtl?: boolean;
}

export interface PageText {
  index: number;
  width: number;
  height: number;
  runs: TextRun[];
  /** Ruling lines, `[x0, y0, x1, y1, ...]` (see collectRules). */
  rules?: number[];
}

/** A straight rule: `at` is its y (horizontal) or x (vertical), `from`..`to` its extent along it. */
export interface Segment {
  at: number;
  from: number;
  to: number;
}

export interface RuledCell {
  row: number;
  col: number;
  row_span: number;
  col_span: number;
  runs: TextRun[];
  /** Set on the cells of a header told apart by a rule under it (booktabs). */
  header?: boolean;
}

/** A grid drawn with ruling lines, with the text runs that fall in each of its cells. */
export interface RuledTable {
  box: DocumentBBox;
  rows: number;
  cols: number;
  cells: RuledCell[];
}

/** Rules and grids reaching this close to the page's side edges are page layout (bleed panels, covers), not tables. */
export const PAGE_EDGE = 2;
