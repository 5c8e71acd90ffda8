import type { DocumentBlock, DocumentModel, DocumentTableCell } from '../../schemas/generated/types';
import { tableText } from './model';

/** Table blocks by id, so a table nested in a cell renders inside that cell. */
type TableLookup = (id: string) => DocumentBlock | undefined;

/**
 * Markdown export of a model: headings as #, lists indented by level, GFM tables, HTML tables
 * where cells span rows or columns or hold nested tables (GFM can express neither). Furniture is
 * left out; speaker notes and footnotes are kept, marked as such.
 */
export function toMarkdown(doc: DocumentModel): string {
  const tables = new Map(doc.blocks.filter((b) => b.type === 'table').map((b) => [b.id, b]));
  const lookup: TableLookup = (id) => tables.get(id);
  const parts: string[] = [];
  let unit = 0;
  for (const block of doc.blocks) {
    // A nested table is drawn inside its parent's cell.
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

function renderBlock(block: DocumentBlock, lookup: TableLookup): string {
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
      return `<!-- image${block.alt_text ? `: ${escapeComment(block.alt_text)}` : ''} -->`;
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

function renderTable(cells: DocumentTableCell[], lookup: TableLookup): string {
  if (!cells.length) return '';
  const rows = Math.max(...cells.map((c) => c.row + c.row_span));
  const cols = Math.max(...cells.map((c) => c.col + c.col_span));
  if (cells.some((c) => c.row_span > 1 || c.col_span > 1 || c.nested_tables?.length)) return htmlTable(cells, rows, lookup);
  const grid = Array.from({ length: rows }, () => Array<string>(cols).fill(''));
  for (const c of cells) grid[c.row]![c.col] = c.text.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
  const line = (row: string[]) => `| ${row.join(' | ')} |`;
  return [line(grid[0]!), line(Array<string>(cols).fill('---')), ...grid.slice(1).map(line)].join('\n');
}

function htmlTable(cells: DocumentTableCell[], rows: number, lookup: TableLookup): string {
  const out = ['<table>'];
  for (let r = 0; r < rows; r++) {
    const row = cells.filter((c) => c.row === r).sort((a, b) => a.col - b.col);
    const tds = row.map((c) => {
      const tag = c.header ? 'th' : 'td';
      const spans = `${c.row_span > 1 ? ` rowspan="${c.row_span}"` : ''}${c.col_span > 1 ? ` colspan="${c.col_span}"` : ''}`;
      const nested = (c.nested_tables ?? []).map((id) => lookup(id)?.cells ?? []).filter((n) => n.length);
      const inner = nested.map((n) => `\n${htmlTable(n, Math.max(...n.map((x) => x.row + x.row_span)), lookup)}\n`).join('');
      return `<${tag}${spans}>${escapeHtml(c.text).replace(/\n/g, '<br>')}${inner}</${tag}>`;
    });
    out.push(`<tr>${tds.join('')}</tr>`);
  }
  out.push('</table>');
  return out.join('\n');
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
