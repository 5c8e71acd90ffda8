import type { DocumentBlock, DocumentModel, DocumentTableCell, DocumentUnit, DocumentWarning } from '../../schemas/generated/types';

export type { DocumentBlock, DocumentModel, DocumentTableCell, DocumentUnit, DocumentWarning };
export type BlockInput = Omit<DocumentBlock, 'id' | 'layer'> & { layer?: DocumentBlock['layer'] };

/** The parts of a DocumentModel a format parser produces; parseDocument adds the source. */
export interface ParsedContent {
  title?: string;
  units: DocumentUnit[];
  blocks: DocumentBlock[];
  warnings: DocumentWarning[];
}

/** Collects blocks in reading order and numbers them b1, b2, ... */
export class ContentBuilder implements ParsedContent {
  title?: string;
  readonly units: DocumentUnit[] = [];
  readonly blocks: DocumentBlock[] = [];
  readonly warnings: DocumentWarning[] = [];

  add(block: BlockInput): DocumentBlock {
    const full = { id: `b${this.blocks.length + 1}`, layer: 'body', ...block } as DocumentBlock;
    this.blocks.push(full);
    return full;
  }

  warn(code: string, message: string, unit?: number): void {
    this.warnings.push(unit === undefined ? { code, message } : { code, unit, message });
  }
}

/** Plain-text rendering of a table grid: rows by newline, cells by ' | '. */
export function tableText(cells: DocumentTableCell[]): string {
  const rows = new Map<number, DocumentTableCell[]>();
  for (const cell of cells) {
    const row = rows.get(cell.row);
    if (row) row.push(cell);
    else rows.set(cell.row, [cell]);
  }
  return [...rows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, row]) => row.sort((a, b) => a.col - b.col).map((c) => c.text.replace(/\s+/g, ' ').trim()).join(' | '))
    .join('\n');
}

export function normaliseSpace(text: string): string {
  return text.replace(/[ \t\u00a0]+/g, ' ').replace(/ *\n */g, '\n').trim();
}
