import type { DocumentBlock, DocumentModel, DocumentTableCell } from '../../schemas/generated/types';
import { tableText } from './model';

/** Blocks by id, so what a table cell holds (a nested table, a picture) renders inside that cell. */
type BlockLookup = (id: string) => DocumentBlock | undefined;

/**
 * Markdown export of a model: headings as #, lists indented by level, GFM tables, HTML tables
 * where cells span rows or columns or hold other blocks (GFM can express neither). Furniture is
 * left out; speaker notes and footnotes are kept, marked as such.
 */
export function toMarkdown(doc: DocumentModel): string {
  const byId = new Map(doc.blocks.map((b) => [b.id, b]));
  const lookup: BlockLookup = (id) => byId.get(id);
  const parts: string[] = [];
  let unit = 0;
  for (const block of doc.blocks) {
    // A block held in a table cell is drawn inside that cell.
    if (block.layer === 'furniture' || block.parent_cell) continue;
    if (block.unit !== unit && doc.source.format !== 'docx') {
      unit = block.unit;
      const u = doc.units.find((x) => x.index === unit);
      parts.push(`<!-- ${u?.kind ?? 'unit'} ${unit}${u?.name ? `: ${escapeComment(u.name)}` : ''} -->`);
    }
    parts.push(renderBlock(block, lookup));
  }
  return parts.filter((p) => p !== '').join('\n\n') + '\n';
}

function renderBlock(block: DocumentBlock, lookup: BlockLookup): string {
  const text = block.text;
  switch (block.type) {
    case 'heading':
      return `${'#'.repeat(block.level ?? 1)} ${oneLine(text)}`;
    case 'list_item': {
      const indent = '  '.repeat(Math.max(0, (block.level ?? 1) - 1));
      return `${indent}${block.ordered ? `${/^\d+$/.test(block.marker?.replace(/[.)]$/, '') ?? '') ? block.marker!.replace(/\)$/, '.') : '1.'}` : '-'} ${oneLine(text)}`;
    }
    case 'table':
      return renderTable(block.cells ?? [], lookup);
    case 'image':
      // Text read in the picture by OCR follows it, as a chart's title does.
      return `<!-- image${block.alt_text ? `: ${escapeComment(block.alt_text)}` : ''} -->${block.source === 'ocr' && text ? `\n${text}` : ''}`;
    case 'chart': {
      // A chart's text is its title followed by its data rows; the data renders as a table instead.
      const dataText = block.cells?.length ? tableText(block.cells) : '';
      const title = dataText && text.endsWith(dataText) ? text.slice(0, -dataText.length).trim() : text;
      const data = dataText ? `\n\n${renderTable(block.cells!, lookup)}` : '';
      return `<!-- chart${block.chart_type ? ` (${block.chart_type})` : ''} -->${title ? `\n${title}` : ''}${data}`;
    }
    case 'notes':
      return `> Notes: ${text.replace(/\n/g, '\n> ')}`;
    case 'footnote':
      return `[^]: ${oneLine(text)}`;
    case 'caption':
      return `*${oneLine(text)}*`;
    default:
      return text;
  }
}

function renderTable(cells: DocumentTableCell[], lookup: BlockLookup): string {
  if (!cells.length) return '';
  const { rows, cols } = gridSize(cells);
  if (cells.some((c) => c.row_span > 1 || c.col_span > 1 || c.nested_blocks?.length)) return htmlTable(cells, rows, lookup);
  const grid = Array.from({ length: rows }, () => Array<string>(cols).fill(''));
  for (const c of cells) grid[c.row]![c.col] = c.text.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
  const line = (row: string[]) => `| ${row.join(' | ')} |`;
  return [line(grid[0]!), line(Array<string>(cols).fill('---')), ...grid.slice(1).map(line)].join('\n');
}

/** Rows and columns a table's cells cover (a loop: spreading a sheet's million cells into Math.max overflows the stack). */
function gridSize(cells: DocumentTableCell[]): { rows: number; cols: number } {
  let [rows, cols] = [0, 0];
  for (const c of cells) [rows, cols] = [Math.max(rows, c.row + c.row_span), Math.max(cols, c.col + c.col_span)];
  return { rows, cols };
}

function htmlTable(cells: DocumentTableCell[], rows: number, lookup: BlockLookup): string {
  const out = ['<table>'];
  const byRow = Array.from({ length: rows }, (): DocumentTableCell[] => []);
  for (const c of cells) byRow[c.row]!.push(c);
  for (const row of byRow) {
    row.sort((a, b) => a.col - b.col);
    const tds = row.map((c) => {
      const tag = c.header ? 'th' : 'td';
      const spans = `${c.row_span > 1 ? ` rowspan="${c.row_span}"` : ''}${c.col_span > 1 ? ` colspan="${c.col_span}"` : ''}`;
      const held = (c.nested_blocks ?? []).map(lookup).filter((b): b is DocumentBlock => b !== undefined);
      let html = escapeHtml(c.text).replace(/\n/g, '<br>');
      for (const b of held) html += html && b.type !== 'table' ? `<br>${blockInCell(b, lookup)}` : blockInCell(b, lookup);
      return `<${tag}${spans}>${html}</${tag}>`;
    });
    out.push(`<tr>${tds.join('')}</tr>`);
  }
  out.push('</table>');
  return out.join('\n');
}

/** A block inside an HTML table cell: tables as HTML, pictures and charts as comments, text escaped. */
function blockInCell(block: DocumentBlock, lookup: BlockLookup): string {
  const cells = block.cells ?? [];
  if (block.type === 'table' && cells.length) return `\n${htmlTable(cells, gridSize(cells).rows, lookup)}\n`;
  if (block.type === 'image' || block.type === 'chart') return `<!-- ${block.type}${block.alt_text || block.text ? `: ${escapeComment(block.alt_text || oneLine(block.text))}` : ''} -->`;
  return escapeHtml(block.text).replace(/\n/g, '<br>');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeComment(text: string): string {
  return text.replace(/--/g, '—').replace(/\n/g, ' ');
}
