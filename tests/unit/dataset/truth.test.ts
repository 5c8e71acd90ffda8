/**
 * True by construction, checked per template family on real documents of the shared corpus: every
 * statement a template sample makes is checked against the parsed document model itself (its cell
 * grid, its heading blocks, its sentences), not against the dataset code's own reading of it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from '../../../core/parse';
import { chunkDocument, documentOutline } from '../../../core/dataset/chunk';
import type { Chunk } from '../../../core/dataset/types';
import { loadStyleGuide } from '../../../core/dataset/config';
import type { Draft } from '../../../core/dataset/draft';
import { templateDrafts } from '../../../core/dataset/templates';
import { isFigure } from '../../../core/dataset/table-view';
import { corpusDir } from '../../../scripts/score-corpus';
import type { DocumentBlock, DocumentModel } from '../../../schemas/generated/types';

jest.setTimeout(120_000);

const FILES = [
  ['docx', 'docling-word_tables.docx'],
  ['docx', 'docling-word_sample.docx'],
  ['docx', 'docling-docx_lists.docx'],
  ['docx', 'unstructured-tables-with-incomplete-rows.docx'],
  ['pptx', 'docling-powerpoint_sample.pptx'],
  ['pptx', 'docling-pptx_chart.pptx'],
  ['pptx', 'officeparser-test-pptx.pptx'],
  ['xlsx', 'docling-xlsx_01.xlsx'],
  ['xlsx', 'docling-xlsx_06_edge_cases_.xlsx'],
  ['xlsx', 'exceljs-test-issue-877.xlsx'],
  ['xlsx', 'chatchat-langchain-ChatGLM_closed.xlsx'],
  ['pdf', 'docling-2305.03393v1-pg9.pdf'],
  ['pdf', 'docling-redp5110_sampled.pdf'],
  ['pdf', 'docling-multi_page.pdf'],
  ['pdf', 'unstructured-multi-column-2p.pdf'],
  ['pdf', 'unstructured-simplified_chinese.pdf'],
  ['pdf', 'unstructured-pdf2image-memory-error-test-400p.pdf'],
] as const;

/** The audit's page-furniture pattern (shared/tools/audit_dataset.py). */
const BOILERPLATE = /table of contents|contents$|intentionally left blank|^page \d|^index$|目录|^appendix$/i;

interface Case {
  doc: DocumentModel;
  chunk: Chunk;
  draft: Draft;
}

let cases: Case[] = [];
const docs: DocumentModel[] = [];

beforeAll(async () => {
  for (const [format, name] of FILES) {
    const doc = await parseDocument(fs.readFileSync(path.join(corpusDir(), 'inputs', format, name)), { path: name });
    docs.push(doc);
    const chunks = chunkDocument(doc, 512);
    const { taxonomy } = documentOutline(doc);
    chunks.forEach((chunk, i) => {
      const drafts = templateDrafts(chunk, { taskTypes: ['summary', 'classification', 'reasoning', 'rewrite', 'ranking'], taxonomy, styleGuide: loadStyleGuide('general'), seed: 13, distractor: chunks[(i + 1) % chunks.length]! });
      for (const draft of drafts) if (!draft.refusal) cases.push({ doc, chunk, draft });
    });
  }
});

const family = (task: string, template: string) => cases.filter((c) => c.draft.task_type === task && c.draft.generator.startsWith(`${task}.${template}.`));

/** The grid of a table block: text at every covered position, and which cells are marked header. */
function gridOf(block: DocumentBlock): { at: (r: number, c: number) => string; rows: number; cols: number } {
  const texts = new Map<string, string>();
  for (const cell of block.cells ?? []) {
    for (let r = cell.row; r < cell.row + cell.row_span; r++) for (let c = cell.col; c < cell.col + cell.col_span; c++) texts.set(`${r},${c}`, cell.text.trim());
  }
  const rows = Math.max(0, ...(block.cells ?? []).map((c) => c.row + c.row_span));
  const cols = Math.max(0, ...(block.cells ?? []).map((c) => c.col + c.col_span));
  return { at: (r, c) => texts.get(`${r},${c}`) ?? '', rows, cols };
}

function tableBlockOf({ doc, chunk }: Case): DocumentBlock {
  const block = doc.blocks.find((b) => b.id === chunk.block_ids[0])!;
  expect(block.cells?.length).toBeGreaterThan(0);
  return block;
}

/**
 * Whether a data row of the grid holds every value under its header: a row r where, for each pair,
 * the value is the cell at (r, c) and every part of the header name is a cell above r in column c.
 */
function rowSupports(block: DocumentBlock, pairs: [header: string, value: string][]): boolean {
  const grid = gridOf(block);
  for (let r = 1; r < grid.rows; r++) {
    const ok = pairs.every(([header, value]) => {
      for (let c = 0; c < grid.cols; c++) {
        if (grid.at(r, c) !== value) continue;
        const above = new Set(Array.from({ length: r }, (_, rr) => grid.at(rr, c)));
        if (header.split(' / ').every((part) => above.has(part))) return true;
      }
      return false;
    });
    if (ok) return true;
  }
  return false;
}

describe('the document model a template reads', () => {
  it('marks the header rows authors marked (Word and PowerPoint "Header Row")', () => {
    const marked = (name: string) => docs.find((d) => d.source.path === name)!.blocks.filter((b) => b.type === 'table' && b.cells?.some((c) => c.header));
    expect(marked('docling-word_tables.docx').length).toBeGreaterThan(0);
    expect(marked('docling-powerpoint_sample.pptx').length).toBeGreaterThan(0);
  });

  it('shows chart numbers as the chart does, not as binary doubles (4.4, not 4.4000000000000004)', () => {
    const cells = docs.flatMap((d) => d.blocks.filter((b) => b.type === 'chart').flatMap((b) => b.cells ?? []));
    expect(cells.length).toBeGreaterThan(0);
    expect(cells.filter((c) => /\d\.\d{9,}/.test(c.text))).toEqual([]);
  });
});

describe('true by construction, on real corpus files', () => {
  it('covers every template family', () => {
    for (const [task, template] of [
      ['summary', 'table'],
      ['summary', 'section'],
      ['summary', 'list'],
      ['rewrite', 'table-prose'],
      ['classification', 'taxonomy'],
      ['reasoning', 'cause'],
    ] as const) {
      expect([task, template, family(task, template).length > 0]).toEqual([task, template, true]);
    }
  });

  it('table rewrites: every "H is V" of a sentence is a header above a value of one row of that table in the document model', () => {
    const rewrites = family('rewrite', 'table-prose');
    for (const c of rewrites) {
      const block = tableBlockOf(c);
      const columns = c.chunk.table!.columns;
      for (const row of c.chunk.table!.rows.slice(0, 8)) {
        const pairs = row.flatMap((value, i): [string, string][] => (value && columns[i] ? [[columns[i]!, value]] : []));
        if (pairs.length < 2) continue;
        const stated = c.chunk.language === 'zh' ? pairs.map(([h, v]) => `${h}为${v}`).join('，') : pairs.map(([h, v]) => `${h} is ${v}`).join(', ');
        expect(c.draft.completion).toContain(stated);
        expect([c.doc.source.path, pairs, rowSupports(block, pairs)]).toEqual([c.doc.source.path, pairs, true]);
      }
      // The passage shows the header first, and the header is not a row of figures.
      const header = c.draft.passage.split('\n')[0]!.split('|').map((h) => h.trim()).filter(Boolean);
      expect(header.filter(isFigure).length * 2).toBeLessThan(header.length);
    }
  });

  it('table summaries: the row count and each stated range are those of the table', () => {
    for (const c of family('summary', 'table')) {
      const block = tableBlockOf(c);
      const grid = gridOf(block);
      const table = c.chunk.table!;
      expect(c.draft.completion).toContain(c.chunk.language === 'zh' ? `有${table.rows.length}行数据` : `has ${table.rows.length} data row`);
      expect(table.rows.length).toBeLessThan(grid.rows);
      for (const [, column, low, high] of c.draft.completion!.matchAll(/(?:; |\. )([^;.]+?) ranges from (\S+)(?: \([^)]*\))? to (\S+?)(?: \([^)]*\))?(?=;|\.$)/g)) {
        const col = table.columns.indexOf(column!);
        expect(col).toBeGreaterThan(0);
        const values = table.rows.map((r) => r[col]);
        expect(values).toContain(low);
        expect(values).toContain(high);
      }
    }
  });

  it('classification: labels are the document\'s sections, no page furniture, and the answer is the sections that enclose the passage', () => {
    const labelled = family('classification', 'taxonomy');
    for (const c of labelled) {
      expect(c.draft.labels!.filter((l) => BOILERPLATE.test(l))).toEqual([]);
      const headings = c.doc.blocks.filter((b) => b.type === 'heading' && b.layer === 'body');
      const firstBlock = c.doc.blocks.findIndex((b) => b.id === c.chunk.block_ids[0]);
      for (const label of c.draft.answer_labels!) {
        // The nearest heading with this text before the passage, and no heading of the same or a higher level between.
        const at = c.doc.blocks.findLastIndex((b, i) => i <= firstBlock && b.type === 'heading' && b.text.trim() === label);
        expect([label, at >= 0]).toEqual([label, true]);
        const level = c.doc.blocks[at]!.level ?? 1;
        const between = c.doc.blocks.slice(at + 1, firstBlock).filter((b) => b.type === 'heading' && (b.level ?? 1) <= level && headings.includes(b));
        expect([label, between.map((b) => b.text)]).toEqual([label, []]);
      }
    }
  });

  it('reasoning: premise and conclusion are whole clauses the source states, in its own words', () => {
    for (const c of cases.filter((x) => x.draft.task_type === 'reasoning')) {
      const given = /given that (.+), what (?:follows|should be done)\?$/.exec(c.draft.instruction)?.[1] ?? /已知(.+)，会产生什么结果？|在(.+)的情况下/.exec(c.draft.instruction)?.slice(1).find(Boolean);
      expect(given).toBeTruthy();
      const flat = (t: string) => t.toLowerCase().replace(/\s+/g, ' ');
      const source = flat(c.chunk.text);
      expect(source).toContain(flat(given!));
      expect(source).toContain(flat(c.draft.completion!.replace(/[.。]$/, '')));
      expect(given!.split(/\s+/).length >= 3 || /[\u3400-\u9fff]{4}/.test(given!)).toBe(true);
    }
  });

  it('summaries: whole sentences of the passage (or, for a list, its items), never cut mid-sentence', () => {
    for (const c of family('summary', 'section')) {
      expect(c.draft.completion).toMatch(/[.!?。！？]["”')\]]?$/);
      for (const sentence of c.draft.completion!.split(/(?<=[.!?。！？])\s+/)) expect(c.chunk.text).toContain(sentence);
    }
    for (const c of family('summary', 'list')) {
      expect(c.draft.completion).toMatch(/^(?:A list of \d+ items|这是一个包含\d+项的列表)/);
      expect(c.chunk.list_items!.length).toBeGreaterThanOrEqual(2);
    }
  });
});
