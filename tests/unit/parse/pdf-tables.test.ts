import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from '../../../core/parse';
import { toMarkdown } from '../../../core/parse/markdown';
import { corpusDir } from '../../../scripts/score-corpus';
import type { DocumentBlock, DocumentModel } from '../../../schemas/generated/types';
import { bar, line, pdf, rule, text } from './pdf-fixtures';

const cellsOf = (block: DocumentBlock) => block.cells!.map(({ row, col, row_span, col_span, text }) => ({ row, col, row_span, col_span, text }));
const tables = (model: DocumentModel) => model.blocks.filter((b) => b.type === 'table');
const cell = (row: number, col: number, text: string, row_span = 1, col_span = 1) => ({ row, col, row_span, col_span, text });
/** Cell texts row by row, in column order. */
const textRows = (block: DocumentBlock) => Array.from({ length: block.rows! }, (_, r) => block.cells!.filter((c) => c.row === r).sort((a, b) => a.col - b.col).map((c) => c.text));

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

/** Texts placed at (x, baseline) pairs: [x, y, text][]. */
const placed = (items: [number, number, string][]) => items.map(([x, y, t]) => text(x, y, t));

/**
 * A booktabs table (top rule, a rule under a two-line header, bottom rule; no vertical rules):
 * "TEDs" is set over three columns with a partial rule (\cmidrule) under it; "Model" is centred
 * across both header lines (\multirow) and "Time (s)" stands on the first one only. Caption
 * above, a paragraph below.
 */
const booktabsPage = [
  text(100, 716, 'Table 1: Structure recognition results.'),
  rule(95, 430, 700, 0.8),
  ...placed([[246, 688, 'TEDs'], [380, 688, 'Time (s)'], [100, 681, 'Model']]),
  rule(180, 335, 684),
  ...placed([[180, 674, 'simple'], [240, 674, 'complex'], [310, 674, 'all']]),
  rule(95, 430, 670),
  ...[['OTSL', '0.965', '0.934', '0.955', '2.73'], ['HTML', '0.969', '0.927', '0.955', '5.39'], ['Ours', '0.970', '0.940', '0.961', '2.10']].flatMap((row, r) =>
    row.map((t, c) => text([100, 180, 240, 310, 380][c]!, 658 - 12 * r, t)),
  ),
  rule(95, 430, 630, 0.8),
  text(72, 600, 'Both encodings reach the same accuracy; the shorter one is faster.'),
];

describe('PDF tables ruled with horizontal lines only (booktabs)', () => {
  it('reads a booktabs table: header rows above the rule under the header, spans from a partial rule and from a title centred across the header, text out of the flow', async () => {
    const model = await parseDocument(pdf([booktabsPage]));
    const [table, ...others] = tables(model);
    expect(others).toEqual([]);
    expect(table).toMatchObject({ unit: 1, rows: 5, cols: 5, bbox: { x0: 95, y0: 92, x1: 430, y1: 162 } });
    expect(cellsOf(table!).slice(0, 6)).toEqual([cell(0, 0, 'Model', 2), cell(0, 1, 'TEDs', 1, 3), cell(0, 4, 'Time (s)', 2), cell(1, 1, 'simple'), cell(1, 2, 'complex'), cell(1, 3, 'all')]);
    expect(textRows(table!)[4]).toEqual(['Ours', '0.970', '0.940', '0.961', '2.10']);
    expect(table!.cells!.filter((c) => c.header).map((c) => c.row)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(model.blocks.map((b) => b.type)).toEqual(['caption', 'table', 'paragraph']);
    expect(toMarkdown(model)).toContain('<th colspan="3">TEDs</th>');
  });

  it('a cell that wraps stays in its row, and so does a header that wraps; a label alone on its line in capitals is a row of its own', async () => {
    const page = [
      rule(95, 420, 700, 0.8),
      ...placed([[100, 689, 'Method'], [180, 689, 'Description'], [360, 689, 'Score']]),
      ...placed([[360, 677, '(%)']]),
      rule(95, 420, 672),
      ...placed([[100, 660, 'Baseline'], [180, 660, 'a plain transformer encoder with'], [360, 660, '71.2']]),
      ...placed([[180, 648, 'learned positions']]),
      ...placed([[100, 636, 'Variants']]),
      ...placed([[100, 624, 'Ours'], [180, 624, 'relative positions and gated'], [360, 624, '74.9']]),
      ...placed([[180, 612, 'attention']]),
      rule(95, 420, 608, 0.8),
    ];
    const [table] = tables(await parseDocument(pdf([page])));
    expect(table).toMatchObject({ rows: 4, cols: 3 });
    expect(table!.cells!.every((c) => c.row_span === 1 && c.col_span === 1)).toBe(true);
    expect(textRows(table!)).toEqual([
      ['Method', 'Description', 'Score (%)'],
      ['Baseline', 'a plain transformer encoder with learned positions', '71.2'],
      ['Variants', '', ''],
      ['Ours', 'relative positions and gated attention', '74.9'],
    ]);
  });

  it('two tables of the same width stacked with a caption between them stay two tables and a caption', async () => {
    const table = (top: number) => [
      rule(95, 330, top, 0.8),
      ...placed([[100, top - 11, 'Key'], [200, top - 11, 'Value']]),
      rule(95, 330, top - 16),
      ...placed([[100, top - 28, 'alpha'], [200, top - 28, '1'], [100, top - 40, 'beta'], [200, top - 40, '2']]),
      rule(95, 330, top - 44, 0.8),
    ];
    const model = await parseDocument(pdf([[...table(700), text(100, 642, 'Table 2: The same keys, later.'), ...table(630)]]));
    expect(model.blocks.map((b) => b.type)).toEqual(['table', 'caption', 'table']);
    const keyValues = [['Key', 'Value'], ['alpha', '1'], ['beta', '2']];
    expect(tables(model).map(textRows)).toEqual([keyValues, keyValues]);
  });

  it('a rule under every row (a word processor\'s horizontal borders) reads the same way, the first row as header', async () => {
    const rows = [['Item', 'Qty', 'Price'], ['Bolts', '12', '3.40'], ['Nuts', '40', '1.20'], ['Washers', '100', '0.90']];
    const page = [...[700, 684, 668, 652, 636].map((y) => rule(95, 330, y)), ...rows.flatMap((row, r) => row.map((t, c) => text([100, 180, 260][c]!, 689 - 16 * r, t)))];
    const [table] = tables(await parseDocument(pdf([page])));
    expect(table).toMatchObject({ rows: 4, cols: 3 });
    expect(textRows(table!)).toEqual(rows);
    expect(table!.cells!.filter((c) => c.header).map((c) => c.text)).toEqual(rows[0]);
  });

  /** Lines of text from baseline y down, 12 pt apart: each line is [x, text][] (cells set 10 pt or more apart). */
  const linesFrom = (y: number, lines: [number, string][][]) => lines.flatMap((line, i) => line.map(([x, t]) => text(x, y - 12 * i, t)));
  /**
   * Three justified prose columns (each a fifth of the page, 10-11 pt gutters) between two rules,
   * their text `above` and `below` points clear of them.
   */
  const threeColumns = (above: number, below: number) => [
    rule(72, 540, 700),
    ...linesFrom(700 - 10 - above, ['Narrow columns of running', 'them a quarter of the page.', 'Narrow columns of running', 'them a quarter of the page.'].map((t) => [[72, t], [203, t], [334, t]])),
    rule(72, 540, 700 - 10 - above - 36 - 2.5 - below),
  ];
  const notTables: [string, string[], string][] = [
    [
      'a boxed note whose first line sets a label apart',
      [rule(60, 400, 500), ...linesFrom(489, [[[60, 'Note:'], [100, 'framed remarks are prose between two rules,']], [[60, 'not a grid, even when their first line sets a label apart']]]), rule(60, 400, 473)],
      'Note: framed remarks',
    ],
    ['a list', [rule(60, 300, 500), ...linesFrom(489, ['Alpha', 'Beta', 'Gamma'].map((t) => [[64, '-'], [76, t]])), rule(60, 300, 461)], 'Gamma'],
    ['a numbered listing', [rule(60, 300, 500), ...linesFrom(489, ['x = 0', 'y = x + 1', 'z = y * 2'].map((t, i) => [[64, String(i + 1)], [80, t]])), rule(60, 300, 461)], 'y = x + 1'],
    [
      'a code listing whose statements run across its label column',
      [
        rule(60, 300, 500),
        ...linesFrom(489, [[[60, 'CREATE MASK'], [142, 'M1']], [[60, 'ON'], [142, 'T1']], [[60, 'RETURN CASE WHEN X = 1']], [[60, 'THEN Y ELSE Z END']], [[60, 'ENABLE']], [[60, 'ALTER TABLE T1 SET']]]),
        rule(60, 300, 425),
      ],
      'RETURN CASE WHEN X = 1',
    ],
    [
      'an SQL listing in a monospaced font, keywords in one column and their arguments in the next',
      [
        rule(60, 300, 500),
        ...[['SELECT', 'name,'], ['', 'usage'], ['FROM', 'function_usage'], ['WHERE', 'id = 1'], ['ORDER BY', 'name;']].flatMap(([keyword, args], i) => [
          text(64, 489 - 12 * i, keyword!, 10, 'Courier'),
          text(124, 489 - 12 * i, args!, 10, 'Courier'),
        ]),
        rule(60, 300, 437),
      ],
      'function_usage',
    ],
    [
      'two prose columns',
      [rule(72, 540, 500), ...linesFrom(489, Array.from({ length: 4 }, () => [[72, 'Left column prose runs on and on across its measure'], [320, 'Right column prose running on as well, to its end']])), rule(72, 540, 449)],
      'Right column prose',
    ],
    [
      'a page of prose with a numbered equation, under a rule below its running header and over a rule above its footer',
      [
        text(72, 756, 'Annual report 2026'),
        rule(72, 540, 750),
        ...linesFrom(739, [
          ...Array.from({ length: 4 }, (): [number, string][] => [[72, 'Running text fills the measure of its column from one side to the other, line after line.']]),
          [[250, 'E = m c2'], [520, '(1)']],
          ...Array.from({ length: 4 }, (): [number, string][] => [[72, 'Running text fills the measure of its column from one side to the other, line after line.']]),
        ]),
        rule(72, 540, 638),
        text(72, 626, 'Page 3'),
      ],
      'E = m c2',
    ],
    ['narrow prose columns well below a rule under a page header', threeColumns(14, 1), 'quarter of the page.'],
    ['narrow prose columns well above a rule over a page footer', threeColumns(1, 14), 'quarter of the page.'],
    ['a header and a single body row', [rule(95, 330, 300, 0.8), ...linesFrom(289, [[[100, 'Key'], [200, 'Value']]]), rule(95, 330, 284), ...linesFrom(272, [[[100, 'alpha'], [200, 'one']]]), rule(95, 330, 268, 0.8)], 'alpha'],
  ];

  it.each(notTables)('%s between two rules is not a table', async (_, page, words) => {
    const model = await parseDocument(pdf([page]));
    expect(tables(model)).toEqual([]);
    expect(model.blocks.map((b) => b.text).join(' ')).toContain(words);
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
    // Page 13 sets a list and a code listing between full-width horizontal rules: neither is read as
    // a table between those rules (column alignment still takes the listing's three label/value lines).
    expect(tables(model).filter((t) => t.unit === 13).map((t) => t.bbox!.x1 < 400)).toEqual([true]);
    expect(model.blocks.some((b) => b.unit === 13 && b.type !== 'table' && b.text.includes('WHEN VERIFY_GROUP_FOR_USER'))).toBe(true);
    expect(model.blocks.some((b) => b.unit === 13 && b.type === 'list_item' && b.text.startsWith('Human Resources can see'))).toBe(true);
    // Nor is the monospaced SQL query between rules on page 8 (SELECT and its column names).
    expect(model.blocks.some((b) => b.unit === 8 && b.type === 'table' && b.text.startsWith('SELECT'))).toBe(false);
    // Column headers set vertically still land in their cells.
    const authorities = tables(model).find((t) => t.unit === 9)!;
    expect(authorities.cells!.filter((c) => c.row === 0).map((c) => c.text)).toEqual(['User action', '*JOBCTL', 'QIBM_DB_SECADM', 'QIBM_DB_SQLADM', 'QIBM_DB_SYSMON', 'No Authority']);
    expect(model.blocks.filter((b) => b.unit === 9 && b.type !== 'table' && b.text.includes('QIBM_DB_SYSMON'))).toEqual([]);
  });
});
