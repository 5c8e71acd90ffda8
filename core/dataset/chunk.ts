/**
 * Structural chunking of a parsed document: a section is a heading with its body, a table stands
 * alone, a slide is one chunk, a sheet's tables are its regions. Sections over the token budget are
 * cut at block (then sentence) boundaries so every chunk fits a teacher prompt.
 */
import { canonicalJson, sha256Hex } from '../artifacts';
import type { DatasetBuildConfig, DatasetLanguage, DocumentBlock, DocumentModel } from '../../schemas/generated/types';
import type { PlannedFeedback } from './feedback';
import { detectLanguage, estimateTokens, splitSentences } from './text';

/**
 * `document`: the lead sentence of every prose chunk, for whole-document summaries.
 * `feedback`: production prompts from the feedback loop (core/dataset/feedback.ts), no document text.
 */
export type ChunkKind = 'section' | 'table' | 'slide' | 'sheet' | 'document' | 'feedback';

export interface Chunk {
  id: string;
  kind: ChunkKind;
  source_sha256: string;
  source_path: string;
  /** Headings enclosing the chunk, outermost first (the chunk's own heading last). */
  heading_path: string[];
  title: string;
  text: string;
  block_ids: string[];
  units: string[];
  language: DatasetLanguage;
  /** Hash of everything a generator reads from the chunk: with the config, the chunk's cache key. */
  content_hash: string;
}

export interface DocumentOutline {
  sha256: string;
  path: string;
  /** Top-level headings: the label taxonomy when the config gives no label set. */
  taxonomy: string[];
}

export interface DatasetPlanContent {
  kind: 'llmloop.dataset-plan/v1';
  config: DatasetBuildConfig;
  documents: DocumentOutline[];
  chunks: Chunk[];
  /** The feedback tasks the plan's feedback chunks draft from, when the build was given any. */
  feedback?: PlannedFeedback;
  /** Inputs left out of the build, with the reason. */
  skipped_documents: { input: string; reason: string }[];
}

/** Fewer characters than this is a caption or a stray cell, too little to ask anything about. */
const MIN_CHUNK_CHARS = 40;
const TAXONOMY_SIZE = 12;

interface OpenChunk {
  kind: ChunkKind;
  heading_path: string[];
  title: string;
  blocks: DocumentBlock[];
}

export function chunkDocument(doc: DocumentModel, maxTokens: number): Chunk[] {
  const unitLabel = new Map(doc.units.map((u) => [u.index, `${u.kind} ${u.index}`]));
  const unitName = new Map(doc.units.map((u) => [u.index, u.name ?? `${u.kind} ${u.index}`]));
  const perUnit = doc.source.format === 'pptx' ? 'slide' : doc.source.format === 'xlsx' ? 'sheet' : undefined;
  const body = doc.blocks.filter((b) => b.layer === 'body' && b.text.trim().length > 0);

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
    if (block.type === 'table' && perUnit !== 'slide') {
      const table = startChunk(perUnit === 'sheet' ? 'sheet' : 'table', current?.title || unitName.get(block.unit) || '');
      table.blocks.push(block);
      continue;
    }
    current ??= startChunk('section', doc.title ?? '');
    current.blocks.push(block);
  }

  const pieces = open.flatMap((c) => splitToBudget(c, maxTokens));
  const overview = documentOverview(doc, pieces, maxTokens);
  const chunks: Chunk[] = [];
  for (const piece of overview ? [...pieces, overview] : pieces) {
    const text = piece.blocks.filter((b) => !(b.type === 'heading' && b.text.trim() === piece.title)).map((b) => b.text.trim()).join('\n');
    if (text.replace(/\s+/g, '').length < MIN_CHUNK_CHARS) continue;
    const block_ids = piece.blocks.map((b) => b.id);
    const units = [...new Set(piece.blocks.map((b) => unitLabel.get(b.unit) ?? `unit ${b.unit}`))];
    const content = { kind: piece.kind, title: piece.title, heading_path: piece.heading_path, text, block_ids, units, source_sha256: doc.source.sha256 };
    chunks.push({
      id: `${doc.source.sha256.slice(0, 12)}-${chunks.length}`,
      ...content,
      source_path: doc.source.path,
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
  const headings = doc.blocks.filter((b) => b.layer === 'body' && b.type === 'heading' && b.text.trim());
  const levels = [...new Set(headings.map((b) => b.level ?? 1))].sort((a, b) => a - b);
  const titleOnly = levels.length > 1 && headings.filter((b) => (b.level ?? 1) === levels[0]).length === 1;
  const used = new Set(titleOnly ? levels.slice(1, 3) : levels.slice(0, 2));
  const taxonomy = [...new Set(headings.filter((b) => used.has(b.level ?? 1)).map((b) => b.text.trim()))].slice(0, TAXONOMY_SIZE);
  return { sha256: doc.source.sha256, path: doc.source.path, taxonomy };
}

/** The first sentence of each prose chunk, within the token budget; none for a single-section document. */
function documentOverview(doc: DocumentModel, pieces: OpenChunk[], maxTokens: number): OpenChunk | undefined {
  const prose = pieces.filter((p) => p.kind === 'section' || p.kind === 'slide');
  if (prose.length < 2) return undefined;
  const leads: DocumentBlock[] = [];
  let tokens = 0;
  for (const piece of prose) {
    const block = piece.blocks.find((b) => b.type !== 'heading');
    const sentence = block && splitSentences(block.text)[0];
    if (!block || !sentence || tokens + estimateTokens(sentence) > maxTokens) continue;
    leads.push({ ...block, text: sentence });
    tokens += estimateTokens(sentence);
  }
  const title = doc.title ?? pieces.find((p) => p.heading_path.length)?.heading_path[0] ?? doc.source.path.split('/').pop()!;
  return leads.length >= 2 ? { kind: 'document', title, heading_path: [], blocks: leads } : undefined;
}

function splitToBudget(chunk: OpenChunk, maxTokens: number): OpenChunk[] {
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
