import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from '../../../core/parse';
import { corpusDir } from '../../../scripts/score-corpus';
import type { DocumentBlock, DocumentModel } from '../../../schemas/generated/types';
import { bar, line, pdf, text } from './pdf-fixtures';

const cellsOf = (block: DocumentBlock) => block.cells!.map(({ row, col, row_span, col_span, text }) => ({ row, col, row_span, col_span, text }));
const tables = (model: DocumentModel) => model.blocks.filter((b) => b.type === 'table');
const cell = (row: number, col: number, text: string, row_span = 1, col_span = 1) => ({ row, col, row_span, col_span, text });

/**
 * A 3 x 3 grid of stroked lines whose top row merges its last two cells (no rule between them).
 * The cell texts sit at different offsets in every row, so no column alignment gives the table
 * away: only the rules do.
 */
const strokedGridText = [
  text(72, 740, 'Quarterly figures', 16, 'Helvetica-Bold'),
  text(65, 686, 'Region'),
  text(235, 686, 'Sales 2024'),
  text(100, 666, 'North'),
  text(170, 666, '120'),
  text(330, 666, '95'),
  text(120, 646, 'South'),
  text(200, 646, '7'),
  text(275, 646, '1,204'),
  text(72, 600, 'The figures above are provisional and will be revised next quarter.'),
];
const strokedGridRules = [
  ...[700, 680, 660, 640].map((y) => line(60, y, 360, y)),
  line(60, 640, 60, 700),
  line(160, 640, 160, 700),
  line(260, 640, 260, 680),
  line(360, 640, 360, 700),
];

/** A 3 x 2 grid of thin filled rectangles, placed by a transformation, whose first column merges its last two rows. */
const barGrid = [
  'q 1 0 0 1 50 300 cm',
  bar(0, 59.7, 240, 0.6),
  bar(0, 39.7, 240, 0.6),
  bar(120, 19.7, 120, 0.6),
  bar(0, -0.3, 240, 0.6),
  ...[0, 120, 240].map((x) => bar(x - 0.3, 0, 0.6, 60)),
  'Q',
  text(55, 346, 'Key'),
  text(180, 346, 'Value'),
  text(60, 318, 'Group A'),
  text(185, 326, 'alpha'),
  text(175, 306, 'beta'),
];

describe('PDF tables drawn with ruling lines', () => {
  it('reads a stroked grid as cells, with a merged header cell as a column span, and keeps its text out of the paragraphs', async () => {
    const model = await parseDocument(pdf([[...strokedGridText, ...strokedGridRules]]));
    const [table, ...others] = tables(model);
    expect(others).toEqual([]);
    expect(table).toMatchObject({ unit: 1, rows: 3, cols: 3 });
    expect(cellsOf(table!)).toEqual([
      cell(0, 0, 'Region'),
      cell(0, 1, 'Sales 2024', 1, 2),
      cell(1, 0, 'North'),
      cell(1, 1, '120'),
      cell(1, 2, '95'),
      cell(2, 0, 'South'),
      cell(2, 1, '7'),
      cell(2, 2, '1,204'),
    ]);
    expect(table!.bbox).toEqual({ x0: 60, y0: 92, x1: 360, y1: 152 });
    const prose = model.blocks.filter((b) => b.type !== 'table').map((b) => b.text);
    expect(prose).toEqual(['Quarterly figures', 'The figures above are provisional and will be revised next quarter.']);
    // Reading order: heading, table, then the note below it.
    expect(model.blocks.map((b) => b.type)).toEqual(['heading', 'table', 'paragraph']);
  });

  it('the same text without the rules is not a table: the rules are what make it one', async () => {
    const model = await parseDocument(pdf([strokedGridText]));
    expect(tables(model)).toEqual([]);
    expect(model.blocks.map((b) => b.text).join(' ')).toContain('North');
  });

  it('reads borders drawn as thin filled rectangles under a transformation, with a row span', async () => {
    const model = await parseDocument(pdf([barGrid]));
    const [table] = tables(model);
    expect(table).toMatchObject({ rows: 3, cols: 2, bbox: { x0: 50, y0: 432, x1: 290, y1: 492 } });
    expect(cellsOf(table!)).toEqual([cell(0, 0, 'Key'), cell(0, 1, 'Value'), cell(1, 0, 'Group A', 2), cell(1, 1, 'alpha'), cell(2, 1, 'beta')]);
    expect(model.blocks.filter((b) => b.type !== 'table')).toEqual([]);
  });

  it('shaded header cells count as borders; body rows without column rules split at the header\'s columns unless text runs across', async () => {
    const page = [
      '0.6 0.7 0.9 rg',
      ...[100, 200, 300].map((x) => bar(x, 600, 100, 20)),
      '0 g',
      ...[600, 580, 560, 540, 520].map((y) => line(100, y, 400, y)),
      line(100, 520, 100, 600),
      line(400, 520, 400, 600),
      ...[['Name', 'Count', 'Flag'], ['alpha', '1', 'x'], ['beta', '22', 'y'], [], ['gamma', '333', 'z']].flatMap((row, r) => row.map((t, c) => text(105 + 100 * c, 606 - 20 * r, t))),
      text(105, 546, 'A note that runs across the whole table'),
    ];
    const [table] = tables(await parseDocument(pdf([page])));
    expect(table).toMatchObject({ rows: 5, cols: 3 });
    expect(cellsOf(table!)).toEqual([
      cell(0, 0, 'Name'),
      cell(0, 1, 'Count'),
      cell(0, 2, 'Flag'),
      cell(1, 0, 'alpha'),
      cell(1, 1, '1'),
      cell(1, 2, 'x'),
      cell(2, 0, 'beta'),
      cell(2, 1, '22'),
      cell(2, 2, 'y'),
      cell(3, 0, 'A note that runs across the whole table', 1, 3),
      cell(4, 0, 'gamma'),
      cell(4, 1, '333'),
      cell(4, 2, 'z'),
    ]);
  });

  it('finds several ruled tables on one page and one on each of two pages', async () => {
    const model = await parseDocument(pdf([[...strokedGridText, ...strokedGridRules, ...barGrid], barGrid]));
    expect(tables(model).map((t) => [t.unit, t.rows, t.cols])).toEqual([
      [1, 3, 3],
      [1, 3, 2],
      [2, 3, 2],
    ]);
  });

  it('a framed text box, a single rule under a heading and a full-width page panel are not tables', async () => {
    const box = [line(60, 500, 400, 500), line(60, 440, 400, 440), line(60, 440, 60, 500), line(400, 440, 400, 500), line(60, 480, 400, 480), text(70, 486, 'Note'), text(70, 460, 'Framed remarks are prose, not a grid.')];
    const underline = [text(60, 700, 'Heading'), line(60, 695, 300, 695)];
    const panel = [line(0, 300, 612, 300), line(0, 200, 612, 200), line(0, 100, 612, 100), line(306, 100, 306, 300), text(20, 250, 'Left panel'), text(330, 250, 'Right panel'), text(20, 150, 'More'), text(330, 150, 'Text')];
    const model = await parseDocument(pdf([[...box, ...underline, ...panel]]));
    expect(tables(model)).toEqual([]);
    expect(model.blocks.map((b) => b.text)).toEqual(expect.arrayContaining(['Note', 'Framed remarks are prose, not a grid.', 'Left panel', 'Right panel']));
  });
});

describe('PDF ruled tables in the corpus', () => {
  const parse = (name: string) => parseDocument(fs.readFileSync(path.join(corpusDir(), 'inputs/pdf', name)));

  it('arXiv results table: a two-level header with row and column spans (docling-2305.03393v1-pg9)', async () => {
    const model = await parse('docling-2305.03393v1-pg9.pdf');
    const [table] = tables(model);
    expect(table).toMatchObject({ rows: 6, cols: 8 });
    expect(cellsOf(table!).slice(0, 9)).toEqual([
      cell(0, 0, '# enc-layers', 2),
      cell(0, 1, '# dec-layers', 2),
      cell(0, 2, 'Language', 2),
      cell(0, 3, 'TEDs', 1, 3),
      cell(0, 6, 'mAP (0.75)', 2),
      cell(0, 7, 'Inference time (secs)', 2),
      cell(1, 3, 'simple'),
      cell(1, 4, 'complex'),
      cell(1, 5, 'all'),
    ]);
    // Same grid as docling's: each data row holds the OTSL and HTML figures in one cell.
    expect(cellsOf(table!).filter((c) => c.row === 5).map((c) => c.text)).toEqual(['4', '2', 'OTSL HTML', '0.952 0.944', '0.92 0.903', '0.942 0.931', '0.857 0.824', '1.22 2']);
    expect(model.blocks.filter((b) => b.type !== 'table' && /\bcomplex\b.*\ball\b/.test(b.text))).toEqual([]);
  });

  it('Korean report: a table whose header row is set off by shaded cells, not rules (docling-normal_4pages)', async () => {
    const [table] = tables(await parse('docling-normal_4pages.pdf'));
    expect(table).toMatchObject({ unit: 2, rows: 5, cols: 3 });
    expect(cellsOf(table!).slice(0, 6)).toEqual([cell(0, 0, '구분'), cell(0, 1, '개정전'), cell(0, 2, '개정후'), cell(1, 0, '분류'), cell(1, 1, '1군 감염병'), cell(1, 2, '1급 감염병')]);
  });

  it('two columns of prose side by side are not a column-aligned table, stray sub- and superscripts included', async () => {
    expect(tables(await parse('unstructured-multi-column-2p.pdf'))).toEqual([]);
    expect(tables(await parse('docling-normal_4pages.pdf')).map((t) => t.unit)).toEqual([2]);
  });

  it('IBM Redbook: ruled tables become header + rows of cells; a full-bleed cover panel is not a table (docling-redp5110_sampled)', async () => {
    const model = await parse('docling-redp5110_sampled.pdf');
    const special = tables(model).find((t) => t.cells![0]!.text === 'Special register')!;
    expect(special).toMatchObject({ unit: 11, cols: 2 });
    expect(cellsOf(special).slice(0, 4)).toEqual([cell(0, 0, 'Special register'), cell(0, 1, 'Corresponding value'), cell(1, 0, 'USER or SESSION_USER'), cell(1, 1, 'The effective user of the thread excluding adopted authority.')]);
    expect(tables(model).some((t) => t.unit === 18)).toBe(false);
    // Column headers set vertically still land in their cells.
    const authorities = tables(model).find((t) => t.unit === 9)!;
    expect(authorities.cells!.filter((c) => c.row === 0).map((c) => c.text)).toEqual(['User action', '*JOBCTL', 'QIBM_DB_SECADM', 'QIBM_DB_SQLADM', 'QIBM_DB_SYSMON', 'No Authority']);
    expect(model.blocks.filter((b) => b.unit === 9 && b.type !== 'table' && b.text.includes('QIBM_DB_SYSMON'))).toEqual([]);
  });
});
