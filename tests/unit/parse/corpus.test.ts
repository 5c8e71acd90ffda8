import fs from 'node:fs';
import path from 'node:path';
import { parseDocument, toMarkdown } from '../../../core/parse';
import { schemaProblems } from '../../../core/schemas';
import { corpusDir, scoreCorpus, summarise, type FileScore, type FormatSummary } from '../../../scripts/score-corpus';
import type { DocumentModel } from '../../../schemas/generated/types';

jest.setTimeout(120_000);

const input = (format: string, name: string) => path.join(corpusDir(), 'inputs', format, name);
const parse = (format: string, name: string, password?: string) =>
  parseDocument(fs.readFileSync(input(format, name)), { path: name, ...(password ? { password } : {}) });

describe('shared corpus: floors on the score table (npm run score:corpus)', () => {
  let scores: FileScore[];
  let byFormat: Map<string, FormatSummary>;
  beforeAll(async () => {
    scores = await scoreCorpus();
    byFormat = new Map(summarise(scores).map((s) => [s.format, s]));
  });

  it('parses every file except the encrypted workbook, and every count and verdict matches the facts', () => {
    expect(scores.filter((s) => !s.ok).map((s) => s.file)).toEqual(['unstructured-password_protected.xlsx']);
    const mismatches = scores.flatMap((s) => [...s.counts, ...s.verdicts].filter(([, e, g]) => String(e) !== String(g)).map((m) => `${s.file}: ${m.join(' ')}`));
    // Facts count gridSpan elements, including those on vMerge continuation cells, which are not cells of their own.
    expect(mismatches).toEqual(['unstructured-tables-with-incomplete-rows.docx: gridSpan cells 11 7']);
  });

  it('text token F1 against peer outputs', () => {
    expect(byFormat.get('pdf')!.text_f1).toBeGreaterThanOrEqual(0.96);
    expect(byFormat.get('docx')!.text_f1).toBeGreaterThanOrEqual(0.88);
    expect(byFormat.get('xlsx')!.text_f1).toBeGreaterThanOrEqual(0.93);
    // The decks are small: alt texts docling leaves out weigh heavily in their F1.
    expect(byFormat.get('pptx')!.text_f1).toBeGreaterThanOrEqual(0.75);
    for (const s of scores.filter((x) => x.text_f1 !== undefined && x.format !== 'pptx')) expect([s.file, s.text_f1! >= 0.8]).toEqual([s.file, true]);
  });

  it('headings: DOCX by style with exact levels, slide titles, PDF headings found', () => {
    expect(byFormat.get('docx')!.heading_recall).toBe(1);
    expect(byFormat.get('docx')!.heading_level_accuracy).toBe(1);
    expect(byFormat.get('pptx')!.heading_recall).toBe(1);
    expect(byFormat.get('pdf')!.heading_recall).toBeGreaterThanOrEqual(0.72);
    // Korean headings differ from the body by weight only.
    expect(scores.find((s) => s.file === 'docling-normal_4pages.pdf')!.heading_recall).toBeGreaterThanOrEqual(0.75);
  });

  it('XLSX merged ranges are exactly the declared ones on every sheet', () => {
    expect(byFormat.get('xlsx')!.merged_exact).toBe(1);
  });
});

describe('shared corpus: structure', () => {
  const valid = (model: DocumentModel) => expect(schemaProblems('DocumentModel', model)).toEqual([]);

  it('PDF: two columns are read left column first, and lines become de-hyphenated paragraphs', async () => {
    const model = await parse('pdf', 'unstructured-multi-column-2p.pdf');
    valid(model);
    const text = model.blocks.filter((b) => b.unit === 1).map((b) => b.text).join('\n');
    const abstract = text.indexOf('Open-domain question answering relies on efficient passage retrieval');
    const rightColumn = text.indexOf('Retrieval in open-domain QA is usually implemented');
    expect(abstract).toBeGreaterThan(-1);
    expect(rightColumn).toBeGreaterThan(abstract);
    expect(text).not.toContain('ef- ficient');
    expect(model.blocks.filter((b) => b.type === 'paragraph').length).toBeLessThan(model.blocks.length);
    for (const block of model.blocks) expect(block.bbox).toBeDefined();
  });

  it('PDF: a borderless table evident from column alignment becomes cells', async () => {
    const model = await parse('pdf', 'markitdown-SPARSE-2024-INV-1234_borderless_table.pdf');
    const tables = model.blocks.filter((b) => b.type === 'table');
    expect(tables).toHaveLength(2);
    const row = (table: (typeof tables)[number], text: string) => table.cells!.filter((c) => c.row === table.cells!.find((x) => x.text === text)!.row).map((c) => c.text);
    expect(row(tables[0]!, 'SKU-4563')).toEqual(['SKU-4563', 'D-22', '156', 'CRITICAL']);
    expect(row(tables[1]!, 'SKU-6678')).toEqual(['SKU-6678', 'Software', '$200.00', '$42,000.00', '2024-10-25', 'High Value']);
    expect(tables[1]!.rows).toBe(11);
  });

  it('PDF: Chinese text has no spaces between characters (CMaps loaded)', async () => {
    const model = await parse('pdf', 'unstructured-simplified_chinese.pdf');
    const text = model.blocks.map((b) => b.text).join('\n');
    expect(text).toContain('中华人民共和国国务院侨务办公室');
    expect(text).toContain('（按姓氏笔画排列）');
    expect(text).toContain('杨启光');
    expect(text).not.toMatch(/中 华|人 民|共 和|侨 务/);
  });

  it('PDF: running headers/footers and page numbers are furniture; heading levels are ranked', async () => {
    const model = await parse('pdf', 'docling-redp5110_sampled.pdf');
    const furniture = model.blocks.filter((b) => b.layer === 'furniture');
    expect(furniture.length).toBeGreaterThan(5);
    expect(new Set(furniture.map((b) => b.type))).toEqual(new Set(['page_number', 'header', 'footer'].filter((t) => furniture.some((b) => b.type === t))));
    expect(new Set(model.blocks.filter((b) => b.type === 'heading').map((b) => b.level)).size).toBeGreaterThan(1);
    const copyright = model.blocks.filter((b) => b.text.endsWith('© Copyright IBM Corp. 2014. All rights reserved.'));
    expect(copyright.length).toBeGreaterThanOrEqual(3);
    expect(copyright.every((b) => b.layer === 'furniture')).toBe(true);
    expect(toMarkdown(model)).not.toContain('All rights reserved');
  });

  it('PDF: a page without a text layer is a needs_ocr warning, not an empty success', async () => {
    const model = await parse('pdf', 'docling-ocr_test.pdf');
    expect(model.units).toHaveLength(1);
    expect(model.warnings).toEqual([expect.objectContaining({ code: 'needs_ocr', unit: 1 })]);
  });

  it('PDF: encrypted file opens with its password', async () => {
    const model = await parse('pdf', 'docling-2206.01062_pg3-password.pdf', '1234');
    expect(model.blocks.map((b) => b.text).join(' ').length).toBeGreaterThan(3000);
    await expect(parse('pdf', 'docling-2206.01062_pg3-password.pdf')).rejects.toMatchObject({ type: 'EncryptedDocument' });
    await expect(parse('pdf', 'docling-2206.01062_pg3-password.pdf', 'wrong')).rejects.toMatchObject({ type: 'EncryptedDocument' });
  });

  it('DOCX: gridSpan and vMerge become spans; headers, footers and footnotes are apart from the body', async () => {
    const tables = await parse('docx', 'docling-word_tables.docx');
    valid(tables);
    const cells = tables.blocks.filter((b) => b.type === 'table').flatMap((b) => b.cells!);
    expect(cells).toContainEqual(expect.objectContaining({ text: 'Merged Cell 1.1 2.1', row_span: 2, col_span: 1 }));
    expect(cells).toContainEqual(expect.objectContaining({ text: 'Merged Cell 1.1 1.2', row_span: 1, col_span: 2 }));
    const furniture = await parse('docx', 'docling-docx_page_header_footer_first_page.docx');
    expect(furniture.blocks.filter((b) => b.layer === 'furniture').map((b) => `${b.type}:${b.text}`).sort()).toEqual([
      'footer:FIRST PAGE FOOTER (page 1 only)',
      'footer:REGULAR FOOTER (page 2 onward)',
      'header:FIRST PAGE HEADER (page 1 only)',
      'header:REGULAR HEADER (page 2 onward)',
    ]);
    const sample = await parse('docx', 'docling-word_sample.docx');
    expect(sample.blocks.some((b) => b.type === 'image')).toBe(true);
    expect(sample.blocks.find((b) => b.type === 'image')!.alt_text).toMatch(/^A cartoon duck holding a paper\n/);
    expect(sample.blocks.find((b) => b.type === 'caption')!.text).toBe('Figure 1: This is a cute duckling');
  });

  it('DOCX: nested and numbered lists carry level, ordering and markers', async () => {
    const model = await parse('docx', 'docling-docx_lists.docx');
    const items = model.blocks.filter((b) => b.type === 'list_item');
    expect(items.length).toBeGreaterThanOrEqual(40);
    expect(new Set(items.map((b) => b.level))).toEqual(expect.objectContaining({ size: expect.any(Number) }));
    expect(Math.max(...items.map((b) => b.level!))).toBeGreaterThanOrEqual(3);
    expect(items.some((b) => b.ordered) && items.some((b) => !b.ordered)).toBe(true);
  });

  it('PPTX: titles, grouped shapes, tables with merges, charts with series, notes, regions with bboxes', async () => {
    const sample = await parse('pptx', 'docling-powerpoint_sample.pptx');
    valid(sample);
    const table = sample.blocks.find((b) => b.type === 'table')!;
    expect(table.cells).toContainEqual(expect.objectContaining({ text: 'Class1', col_span: 3 }));
    expect(sample.blocks.find((b) => b.type === 'notes')).toMatchObject({ unit: 2, layer: 'notes' });
    const chart = (await parse('pptx', 'docling-pptx_chart.pptx')).blocks.find((b) => b.type === 'chart')!;
    expect(chart.series).toEqual(['Freshwater Ducks', 'Saltwater Ducks']);
    expect(chart.cells!.filter((c) => c.row === 4).map((c) => c.text)).toEqual(['2022', '175', '130']);
    const grouped = await parse('pptx', 'officeparser-test-pptx.pptx');
    expect(grouped.blocks.filter((b) => b.unit === 1).length).toBeGreaterThan(3);
    for (const block of grouped.blocks.filter((b) => b.layer === 'body')) expect(block.bbox).toBeDefined();
  });

  it('XLSX: cells keep value, type and displayed text; formulas keep cached values; sheets in order', async () => {
    const model = await parse('xlsx', 'docling-xlsx_07_gap_tolerance_.xlsx');
    valid(model);
    const cells = model.blocks.flatMap((b) => b.cells ?? []);
    const formula = cells.find((c) => c.formula !== undefined)!;
    expect(formula.value).not.toBe('');
    expect(typeof formula.text).toBe('string');
    const workbook = await parse('xlsx', 'docling-xlsx_01.xlsx');
    expect(workbook.units.map((u) => u.name)).toEqual(['Sheet1', 'Sheet2', 'Sheet3', 'Sheet4']);
    expect(workbook.units[3]!.hidden).toBe(true);
    expect(workbook.blocks.filter((b) => b.type === 'chart')).toHaveLength(2);
    expect(workbook.blocks.find((b) => b.unit === 1 && b.type === 'table')!.cells!.filter((c) => c.header).map((c) => c.text.trim())).toEqual(['first', 'second', 'third']);
  });
});
