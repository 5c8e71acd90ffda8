/**
 * Structural chunking of a parsed document: a section is a heading with its body, a table stands
 * alone, a slide is one chunk, a sheet's tables are its regions. Sections over the token budget are
 * cut at block (then sentence) boundaries so every chunk fits a teacher prompt.
 */
import { canonicalJson, sha256Hex } from '../artifacts';
import type { DocumentBlock, DocumentModel } from '../../schemas/generated/types';
import { isFigure, tableView, tableViewText, type TableView } from './table-view';
import type { Chunk, ChunkKind, DocumentOutline } from './types';
import { detectLanguage, estimateTokens, isProseSentence, splitSentences } from './text';

/** Fewer characters than this is a caption or a stray cell, too little to ask anything about. */
const MIN_CHUNK_CHARS = 40;
/** A body at least this share list items (and two or more of them) is a list. */
const LIST_SHARE = 0.6;
const TAXONOMY_SIZE = 12;

interface OpenChunk {
  kind: ChunkKind;
  heading_path: string[];
  title: string;
  blocks: DocumentBlock[];
  table?: TableView;
}

export function chunkDocument(doc: DocumentModel, maxTokens: number): Chunk[] {
  const unitLabel = new Map(doc.units.map((u) => [u.index, `${u.kind} ${u.index}`]));
  const unitName = new Map(doc.units.map((u) => [u.index, u.name ?? `${u.kind} ${u.index}`]));
  const perUnit = doc.source.format === 'pptx' ? 'slide' : doc.source.format === 'xlsx' ? 'sheet' : undefined;
  // Contents entries ("Security ....... 13") are navigation, not content.
  const body = doc.blocks.filter((b) => b.layer === 'body' && b.text.trim().length > 0 && !DOT_LEADER.test(b.text));

  const open: OpenChunk[] = [];
  const headings: { level: number; text: string }[] = [];
  let current: OpenChunk | undefined;
  let currentUnit = -1;
  const startChunk = (kind: ChunkKind, title: string): OpenChunk => {
    const chunk: OpenChunk = { kind, title, heading_path: headings.map((h) => h.text), blocks: [] };
    open.push(chunk);
    return chunk;
  };

  for (const block of body) {
    if (perUnit && block.unit !== currentUnit) {
      currentUnit = block.unit;
      headings.length = 0;
      current = startChunk(perUnit, unitName.get(block.unit) ?? '');
    }
    if (block.type === 'heading') {
      const level = block.level ?? 1;
      while (headings.length && headings[headings.length - 1]!.level >= level) headings.pop();
      headings.push({ level, text: block.text.trim() });
      if (perUnit === 'slide' && current && current.blocks.length === 0) {
        current.title = block.text.trim();
        current.heading_path = headings.map((h) => h.text);
      } else if (!perUnit) {
        current = startChunk('section', block.text.trim());
      }
      current?.blocks.push(block);
      continue;
    }
    // Tables (and charts' data) stand alone, on slides too: rows are not sentences of the prose around them.
    if (block.type === 'table' || (block.type === 'chart' && block.cells?.length)) {
      const table = startChunk(perUnit === 'sheet' ? 'sheet' : 'table', (block.type === 'chart' && block.text.split('\n')[0]) || current?.title || unitName.get(block.unit) || '');
      table.blocks.push(block);
      continue;
    }
    current ??= startChunk('section', doc.title ?? '');
    current.blocks.push(block);
  }

  const pieces = open.flatMap((c) => splitToBudget(c, maxTokens));
  const overview = documentOverview(doc, pieces.filter((p) => !FURNITURE_HEADING.test(p.title)), maxTokens);
  const chunks: Chunk[] = [];
  // A section under a furniture heading (contents, index, a blank-page notice) has nothing to learn from.
  const content = pieces.filter((p) => !(p.kind === 'section' && FURNITURE_HEADING.test(p.title)));
  for (const piece of overview ? [...content, overview] : content) {
    const text = piece.table ? tableViewText(piece.table) : piece.blocks.filter((b) => !(b.type === 'heading' && b.text.trim() === piece.title)).map((b) => b.text.trim()).join('\n');
    if (text.replace(/\s+/g, '').length < MIN_CHUNK_CHARS) continue;
    const block_ids = piece.blocks.map((b) => b.id);
    const units = [...new Set(piece.blocks.map((b) => unitLabel.get(b.unit) ?? `unit ${b.unit}`))];
    const list_items = piece.kind === 'document' ? undefined : listItems(piece.blocks);
    const content = {
      kind: piece.kind,
      title: piece.title,
      heading_path: piece.heading_path,
      text,
      block_ids,
      units,
      ...(piece.table ? { table: piece.table } : {}),
      ...(list_items ? { list_items } : {}),
      source_sha256: doc.source.sha256,
    };
    chunks.push({
      id: `${doc.source.sha256.slice(0, 12)}-${chunks.length}`,
      ...content,
      source_path: doc.source.path,
      ...(piece.blocks.some((b) => b.source === 'ocr') ? { ocr_confidence: Math.min(...piece.blocks.map((b) => b.confidence ?? 1)) } : {}),
      language: detectLanguage(`${piece.title}\n${text}`),
      content_hash: sha256Hex(canonicalJson(content)),
    });
  }
  return chunks;
}

/**
 * Headings of the two outermost levels, deduplicated, as the taxonomy derived labels come from.
 * A lone outermost heading is the document title: it encloses everything, so it labels nothing.
 */
export function documentOutline(doc: DocumentModel): DocumentOutline {
  const all = doc.blocks.filter((b) => b.layer === 'body' && b.type === 'heading' && b.text.trim());
  const occurrences = new Map<string, number>();
  for (const b of all) occurrences.set(b.text.trim(), (occurrences.get(b.text.trim()) ?? 0) + 1);
  const headings = all.filter((b) => !isFurnitureHeading(b.text.trim(), occurrences.get(b.text.trim())!));
  const levels = [...new Set(headings.map((b) => b.level ?? 1))].sort((a, b) => a - b);
  const titleOnly = levels.length > 1 && headings.filter((b) => (b.level ?? 1) === levels[0]).length === 1;
  const used = new Set(titleOnly ? levels.slice(1, 3) : levels.slice(0, 2));
  const taxonomy = [...new Set(headings.filter((b) => used.has(b.level ?? 1)).map((b) => b.text.trim()))].slice(0, TAXONOMY_SIZE);
  return { sha256: doc.source.sha256, path: doc.source.path, taxonomy };
}

/**
 * Headings that name page furniture or navigation rather than a topic: contents, index, blank-page
 * notices, revision boilerplate, page numbers, and any heading repeated on three or more pages (a
 * running header taken for a heading). They are not classes a passage could belong to.
 */
const FURNITURE_HEADING =
  /^(?:table of )?contents$|^(?:index|appendix|glossary|references|bibliography)$|intentionally (?:left )?blank|^page \d+|^(?:revision|document|change|version) (?:history|log|record)s?$|^revisions?$|^change ?log$|^(?:目录|索引|附录|修订记录|修订历史|版本记录|变更记录)$|此页.*空白/i;
const MAX_LABEL_CHARS = 80;
/** A line ending in a run of leader dots and a page number. */
const DOT_LEADER = /(?:\.\s?){4,}\s*\d+\s*$/m;
const RUNNING_HEADING_REPEATS = 3;

function isFurnitureHeading(text: string, occurrences: number): boolean {
  return FURNITURE_HEADING.test(text) || isFigure(text) || text.length > MAX_LABEL_CHARS || occurrences >= RUNNING_HEADING_REPEATS;
}

/** The first sentence of each prose chunk, within the token budget; none for a single-section document. */
function documentOverview(doc: DocumentModel, pieces: OpenChunk[], maxTokens: number): OpenChunk | undefined {
  const prose = pieces.filter((p) => p.kind === 'section' || p.kind === 'slide');
  if (prose.length < 2) return undefined;
  const leads: DocumentBlock[] = [];
  let tokens = 0;
  for (const piece of prose) {
    const block = piece.blocks.find((b) => b.type !== 'heading');
    const sentence = block && splitSentences(block.text).find(isProseSentence);
    if (!block || !sentence || tokens + estimateTokens(sentence) > maxTokens) continue;
    leads.push({ ...block, text: sentence });
    tokens += estimateTokens(sentence);
  }
  const title = doc.title ?? pieces.find((p) => p.heading_path.length)?.heading_path[0] ?? doc.source.path.split('/').pop()!;
  return leads.length >= 2 ? { kind: 'document', title, heading_path: [], blocks: leads } : undefined;
}

/** The list's items when the body (headings aside) is mostly list items. */
function listItems(blocks: DocumentBlock[]): string[] | undefined {
  const body = blocks.filter((b) => b.type !== 'heading');
  const items = body.filter((b) => b.type === 'list_item').map((b) => b.text.trim());
  return items.length >= 2 && items.length >= body.length * LIST_SHARE ? items : undefined;
}

function splitToBudget(chunk: OpenChunk, maxTokens: number): OpenChunk[] {
  const tableBlock = (chunk.kind === 'table' || chunk.kind === 'sheet') && chunk.blocks.length === 1 ? chunk.blocks[0]! : undefined;
  const view = tableBlock && tableView(tableBlock);
  if (view) return splitTable(chunk, view, maxTokens);
  const pieces: OpenChunk[] = [];
  let piece: OpenChunk = { ...chunk, blocks: [] };
  let tokens = 0;
  for (const block of chunk.blocks.flatMap((b) => splitBlock(b, maxTokens))) {
    const t = estimateTokens(block.text);
    if (tokens + t > maxTokens && piece.blocks.length) {
      pieces.push(piece);
      piece = { ...chunk, blocks: [] };
      tokens = 0;
    }
    piece.blocks.push(block);
    tokens += t;
  }
  if (piece.blocks.length) pieces.push(piece);
  return pieces;
}

/** A table over budget becomes consecutive row ranges, each with the column names. */
function splitTable(chunk: OpenChunk, view: TableView, maxTokens: number): OpenChunk[] {
  const pieces: OpenChunk[] = [];
  let rows: string[][] = [];
  const headerTokens = estimateTokens(view.columns.join(' | '));
  let tokens = headerTokens;
  for (const row of view.rows) {
    const t = estimateTokens(row.join(' | '));
    if (tokens + t > maxTokens && rows.length) {
      pieces.push({ ...chunk, table: { ...view, rows } });
      rows = [];
      tokens = headerTokens;
    }
    rows.push(row);
    tokens += t;
  }
  if (rows.length) pieces.push({ ...chunk, table: { ...view, rows } });
  return pieces;
}

/**
 * A single block over budget becomes consecutive parts that keep the block's id: tables by rows,
 * each part repeating the header row so it still reads as a table; text by sentences.
 */
function splitBlock(block: DocumentBlock, maxTokens: number): DocumentBlock[] {
  if (estimateTokens(block.text) <= maxTokens) return [block];
  const isTable = block.type === 'table';
  const lines = isTable ? block.text.split('\n') : splitSentences(block.text);
  const header = isTable ? lines.shift()! : '';
  const parts: DocumentBlock[] = [];
  let text = header;
  const separator = isTable ? '\n' : ' ';
  for (const line of lines) {
    if (text !== header && estimateTokens(text + line) > maxTokens) {
      parts.push({ ...block, text });
      text = header;
    }
    text = text ? `${text}${separator}${line}` : line;
  }
  if (text !== header) parts.push({ ...block, text });
  return parts;
}
