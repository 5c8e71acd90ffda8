import { parseDocument, toMarkdown } from '../../../core/parse';
import { layoutPages, readingOrder, buildLines } from '../../../core/parse/pdf/layout';
import type { TextRun } from '../../../core/parse/pdf/types';
import { joinLines } from '../../../core/parse/text';
import type { DocumentModel } from '../../../schemas/generated/types';
import { docx, paragraph } from './fixtures';

/** One run per line of text at (x, baseline y), 10 pt, about 5 pt per character. */
function run(text: string, x: number, y: number, size = 10, font = 'body'): TextRun {
  return { text, x0: x, x1: x + text.length * size * 0.5, y, size, font };
}

const sentence = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do';

describe('PDF layout (pure functions over positioned text)', () => {
  it('reads a two-column page left column first, with a full-width title before both', () => {
    const runs = [run('A Title Across Both Columns Of The Page Here', 100, 60, 10)];
    for (let i = 0; i < 6; i++) {
      runs.push(run(`left ${i} ${sentence}`.slice(0, 50), 50, 100 + i * 12));
      runs.push(run(`right ${i} ${sentence}`.slice(0, 50), 320, 100 + i * 12));
    }
    const order = readingOrder(buildLines(runs)).flat().map((l) => l.text.split(' ').slice(0, 2).join(' '));
    expect(order).toEqual(['A Title', ...[0, 1, 2, 3, 4, 5].map((i) => `left ${i}`), ...[0, 1, 2, 3, 4, 5].map((i) => `right ${i}`)]);
  });

  it('keeps label/value pairs on one line instead of splitting them into columns', () => {
    const runs = [run('Name:', 50, 100), run('Alice', 200, 100), run('Role:', 50, 112), run('Engineer', 200, 112)];
    expect(readingOrder(buildLines(runs)).flat().map((l) => l.text)).toEqual(['Name:', 'Alice', 'Role:', 'Engineer']);
  });

  it('de-hyphenates words broken across lines, and never puts spaces between CJK characters', () => {
    expect(joinLines('an exam-', 'ple of it')).toBe('an example of it');
    expect(joinLines('state-of-the-', 'Art')).toBe('state-of-the- Art');
    expect(joinLines('中华人民', '共和国')).toBe('中华人民共和国');
    expect(joinLines('한국어', '문장')).toBe('한국어 문장');
  });

  it('rebuilds paragraphs, ranks heading sizes, finds lists and separates running footers', () => {
    const page = (index: number) => {
      const runs = [run(`Big Heading ${index}`, 50, 160, 18), run(`Smaller Heading ${index}`, 50, 190, 14)];
      for (let i = 0; i < 3; i++) runs.push(run(sentence, 50, 220 + i * 12));
      runs.push(run('• first point of the list', 60, 270), run('• second point of the list', 60, 282));
      runs.push(run('Confidential report', 50, 770), run(String(index), 300, 785));
      return { index, width: 612, height: 792, runs };
    };
    const blocks = layoutPages([page(1), page(2), page(3)]).filter((b) => b.unit === 2);
    expect(blocks.map((b) => [b.type, b.level ?? null, b.layer ?? 'body'])).toEqual([
      ['heading', 1, 'body'],
      ['heading', 2, 'body'],
      ['paragraph', null, 'body'],
      ['list_item', 1, 'body'],
      ['list_item', 1, 'body'],
      ['footer', null, 'furniture'],
      ['page_number', null, 'furniture'],
    ]);
    expect(blocks[2]!.text).toBe([sentence, sentence, sentence].join(' '));
    expect(blocks[3]!.text).toBe('first point of the list');
  });
});

describe('Markdown export', () => {
  const model = (blocks: DocumentModel['blocks']): DocumentModel => ({
    schema_version: '1',
    source: { path: 'x.docx', sha256: '0'.repeat(64), bytes: 1, format: 'docx' },
    units: [{ kind: 'page', index: 1 }],
    blocks,
    warnings: [],
  });

  it('renders headings, nested lists, GFM tables and HTML tables for merged cells; leaves furniture out', () => {
    const md = toMarkdown(
      model([
        { id: 'b1', type: 'heading', level: 2, text: 'Results', unit: 1, layer: 'body' },
        { id: 'b2', type: 'list_item', level: 2, ordered: false, text: 'nested', unit: 1, layer: 'body' },
        { id: 'b3', type: 'table', text: '', unit: 1, layer: 'body', cells: [{ row: 0, col: 0, row_span: 1, col_span: 1, text: 'a|b' }, { row: 0, col: 1, row_span: 1, col_span: 1, text: 'c' }] },
        { id: 'b4', type: 'table', text: '', unit: 1, layer: 'body', cells: [{ row: 0, col: 0, row_span: 1, col_span: 2, text: 'wide' }, { row: 1, col: 0, row_span: 1, col_span: 1, text: 'x' }, { row: 1, col: 1, row_span: 1, col_span: 1, text: 'y' }] },
        { id: 'b5', type: 'footer', text: 'page footer', unit: 1, layer: 'furniture' },
      ]),
    );
    expect(md).toContain('## Results');
    expect(md).toContain('  - nested');
    expect(md).toContain('| a\\|b | c |\n| --- | --- |');
    expect(md).toContain('<td colspan="2">wide</td>');
    expect(md).not.toContain('page footer');
  });
});

describe('section tree', () => {
  it('links every body block to the heading it sits under', async () => {
    const styles =
      '<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">' +
      '<w:style w:styleId="H1"><w:name w:val="heading 1"/></w:style><w:style w:styleId="H2"><w:name w:val="heading 2"/></w:style>' +
      '<w:style w:styleId="Custom"><w:name w:val="Chapter Title"/><w:basedOn w:val="H1"/></w:style></w:styles>';
    const model = await parseDocument(docx([paragraph('One', 'Custom'), paragraph('intro'), paragraph('Two', 'H2'), paragraph('body'), paragraph('Three', 'H1')].join(''), { 'word/styles.xml': styles }));
    expect(model.blocks.map((b) => [b.text, b.type, b.level ?? null, b.parent ?? null])).toEqual([
      ['One', 'heading', 1, null],
      ['intro', 'paragraph', null, 'b1'],
      ['Two', 'heading', 2, 'b1'],
      ['body', 'paragraph', null, 'b3'],
      ['Three', 'heading', 1, null],
    ]);
  });
});
