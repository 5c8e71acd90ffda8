import fs from 'node:fs';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { parseDocument, toMarkdown } from '../../../core/parse';
import { schemaProblems } from '../../../core/schemas';
import { corpusDir } from '../../../scripts/score-corpus';
import type { DocumentModel } from '../../../schemas/generated/types';
import { docx, paragraph } from './fixtures';

const parse = (body: string) => parseDocument(docx(body), { path: 'synthetic.docx' });
const cell = (content: string, props = '') => `<w:tc>${props ? `<w:tcPr>${props}</w:tcPr>` : ''}${content || '<w:p/>'}</w:tc>`;
const row = (...cells: string[]) => `<w:tr>${cells.join('')}</w:tr>`;
const table = (...rows: string[]) => `<w:tbl>${rows.join('')}</w:tbl>`;
const run = (inner: string) => `<w:p><w:r>${inner}</w:r></w:p>`;
const RENDERED_BREAK = '<w:lastRenderedPageBreak/>';
const PAGE_BREAK = '<w:br w:type="page"/>';
const text = (t: string) => `<w:t>${t}</w:t>`;

/** Page of the first block whose text starts with `prefix`. */
const pageOf = (model: DocumentModel, prefix: string) => model.blocks.find((b) => b.text.startsWith(prefix))?.unit;

describe('DOCX nested tables', () => {
  // Outer 2x2 table; cell (1,0) holds text around an inner table with a column span and a
  // vertical merge, whose cell (2,1) holds a third-level table.
  const deepest = table(row(cell(paragraph('Deep 1')), cell(paragraph('Deep 2'))));
  const inner = table(
    row(cell(paragraph('Inner head'), '<w:gridSpan w:val="2"/>')),
    row(cell(paragraph('Inner tall'), '<w:vMerge w:val="restart"/>'), cell(paragraph('Inner one'))),
    row(cell('', '<w:vMerge/>'), cell(paragraph('Inner two') + deepest + '<w:p/>')),
  );
  const outer = table(row(cell(paragraph('Outer A')), cell(paragraph('Outer B'))), row(cell(paragraph('Before inner') + inner + paragraph('After inner')), cell(paragraph('Outer D'))));

  it('become table blocks right after their parent, linked to the cell that holds them, without duplicated text', async () => {
    const model = await parse(outer + paragraph('Following paragraph'));
    expect(schemaProblems('DocumentModel', model)).toEqual([]);
    expect(model.blocks.map((b) => [b.id, b.type, b.parent_cell])).toEqual([
      ['b1', 'table', undefined],
      ['b2', 'table', { block: 'b1', row: 1, col: 0 }],
      ['b3', 'table', { block: 'b2', row: 2, col: 1 }],
      ['b4', 'paragraph', undefined],
    ]);
    const [outerBlock, innerBlock, deepestBlock] = model.blocks;
    expect(outerBlock!.cells!.find((c) => c.row === 1 && c.col === 0)).toEqual({ row: 1, col: 0, row_span: 1, col_span: 1, text: 'Before inner\nAfter inner', nested_blocks: ['b2'] });
    expect(innerBlock!.cells).toEqual([
      { row: 0, col: 0, row_span: 1, col_span: 2, text: 'Inner head' },
      { row: 1, col: 0, row_span: 2, col_span: 1, text: 'Inner tall' },
      { row: 1, col: 1, row_span: 1, col_span: 1, text: 'Inner one' },
      { row: 2, col: 1, row_span: 1, col_span: 1, text: 'Inner two', nested_blocks: ['b3'] },
    ]);
    expect([innerBlock!.rows, innerBlock!.cols]).toEqual([3, 2]);
    expect(deepestBlock!.text).toBe('Deep 1 | Deep 2');
    // Every word is in exactly one block's text.
    const all = model.blocks.map((b) => b.text).join('\n');
    for (const word of ['Inner head', 'Inner two', 'Deep 1', 'Before inner']) expect(all.split(word)).toHaveLength(2);
  });

  it('render in Markdown as HTML tables inside their parent cell, once', async () => {
    const markdown = toMarkdown(await parse(outer));
    expect(markdown).toContain('<td>Before inner<br>After inner\n<table>\n<tr><td colspan="2">Inner head</td></tr>\n<tr><td rowspan="2">Inner tall</td><td>Inner one</td></tr>');
    expect(markdown).toContain('<td>Inner two\n<table>\n<tr><td>Deep 1</td><td>Deep 2</td></tr>\n</table>\n</td>');
    expect(markdown.split('Inner head')).toHaveLength(2);
    expect(markdown.split('<table>')).toHaveLength(4);
  });

  it('pictures and text boxes in a cell are blocks of their own after the table, linked to their cell', async () => {
    const picture = '<w:drawing><wp:inline><wp:docPr id="1" name="Picture 1" descr="A duck"/><a:graphic><a:graphicData><pic:pic/></a:graphicData></a:graphic></wp:inline></w:drawing>';
    const textBox = `<w:drawing><wp:anchor><wp:docPr id="2" name="Text Box 2"/><a:graphic><a:graphicData><wps:wsp><wps:txbx><w:txbxContent>${paragraph('Boxed note')}</w:txbxContent></wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>`;
    const model = await parse(table(row(cell(paragraph('Photo') + run(picture)), cell(run(textBox)))) + paragraph('After'));
    expect(schemaProblems('DocumentModel', model)).toEqual([]);
    expect(model.blocks.map((b) => [b.id, b.type, b.text, b.parent_cell])).toEqual([
      ['b1', 'table', 'Photo | ', undefined],
      ['b2', 'image', 'A duck', { block: 'b1', row: 0, col: 0 }],
      ['b3', 'paragraph', 'Boxed note', { block: 'b1', row: 0, col: 1 }],
      ['b4', 'paragraph', 'After', undefined],
    ]);
    expect(model.blocks[0]!.cells!.map((c) => c.nested_blocks)).toEqual([['b2'], ['b3']]);
    expect(toMarkdown(model)).toContain('<tr><td>Photo<br><!-- image: A duck --></td><td>Boxed note</td></tr>');
  });

  it('in a header part keep their link when the repeated header is dropped and ids are renumbered', async () => {
    const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
    const header = `<w:hdr ${W}>${table(row(cell(paragraph('Logo') + table(row(cell(paragraph('Rev 3')))))))}</w:hdr>`;
    const rels = ['rId1', 'rId2'].map((id, i) => `<Relationship Id="${id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header${i + 1}.xml"/>`);
    const model = await parseDocument(
      docx(paragraph('Body'), {
        'word/_rels/document.xml.rels': `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rels.join('')}</Relationships>`,
        'word/header1.xml': header,
        'word/header2.xml': header,
      }),
    );
    expect(model.blocks.map((b) => [b.id, b.type, b.layer, b.text, b.parent_cell])).toEqual([
      ['b1', 'paragraph', 'body', 'Body', undefined],
      ['b2', 'table', 'furniture', 'Logo', undefined],
      ['b3', 'table', 'furniture', 'Rev 3', { block: 'b2', row: 0, col: 0 }],
    ]);
    expect(model.blocks[1]!.cells![0]!.nested_blocks).toEqual(['b3']);
  });
});

describe('DOCX pages from rendered, explicit and section breaks', () => {
  it('a rendered page break starts a new page; mid-paragraph it moves the next block on', async () => {
    const model = await parse(paragraph('One') + run(RENDERED_BREAK + text('Two')) + run(text('Three starts here') + RENDERED_BREAK + text('and ends on the next page')) + paragraph('Four'));
    expect(model.units.map((u) => u.index)).toEqual([1, 2, 3]);
    expect(['One', 'Two', 'Three', 'Four'].map((t) => pageOf(model, t))).toEqual([1, 2, 2, 3]);
  });

  it('a rendered break right after an explicit page break is the same page, not another one', async () => {
    const model = await parse(paragraph('One') + run(PAGE_BREAK) + '<w:p/>' + run(RENDERED_BREAK + text('Two')) + run(text('x') + PAGE_BREAK + RENDERED_BREAK + text('Three')));
    expect(model.units).toHaveLength(3);
    expect(['One', 'Two', 'x'].map((t) => pageOf(model, t))).toEqual([1, 2, 2]);
  });

  it('an explicit break before any text of a paragraph puts that paragraph on the new page', async () => {
    const model = await parse(paragraph('One') + run(PAGE_BREAK + '</w:r><w:r>' + text('Two')));
    expect(['One', 'Two'].map((t) => pageOf(model, t))).toEqual([1, 2]);
  });

  it('section breaks: next page by default, odd page may leave a blank one, continuous does not break', async () => {
    const sectionEnd = (type?: string) => `<w:p><w:pPr><w:sectPr>${type ? `<w:type w:val="${type}"/>` : ''}</w:sectPr></w:pPr><w:r>${text('end')}</w:r></w:p>`;
    // A section's w:type says how it starts: the break after a section is the next section's type.
    const model = await parse(paragraph('One') + sectionEnd() + run(RENDERED_BREAK + text('Two')) + sectionEnd() + paragraph('Three') + sectionEnd('continuous') + paragraph('Four') + '<w:sectPr><w:type w:val="oddPage"/></w:sectPr>');
    expect(['One', 'Two', 'Three', 'Four'].map((t) => pageOf(model, t))).toEqual([1, 2, 2, 3]);
    expect(model.units).toHaveLength(3);
    const odd = await parse(paragraph('One') + sectionEnd() + paragraph('Two') + '<w:sectPr><w:type w:val="oddPage"/></w:sectPr>');
    expect(['One', 'Two'].map((t) => pageOf(odd, t))).toEqual([1, 3]);
  });

  it('pageBreakBefore (direct or from the style) breaks unless the paragraph already starts a page', async () => {
    const styles = `<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:style w:styleId="Chapter"><w:name w:val="Chapter"/><w:pPr><w:pageBreakBefore/></w:pPr></w:style></w:styles>`;
    const before = (t: string) => `<w:p><w:pPr><w:pageBreakBefore/></w:pPr><w:r>${text(t)}</w:r></w:p>`;
    const model = await parseDocument(docx(before('First') + paragraph('Second', 'Chapter') + `<w:p><w:pPr><w:pageBreakBefore w:val="0"/></w:pPr><w:r>${text('Third')}</w:r></w:p>` + run(PAGE_BREAK) + before('Fourth'), { 'word/styles.xml': styles }));
    expect(['First', 'Second', 'Third', 'Fourth'].map((t) => pageOf(model, t))).toEqual([1, 2, 2, 3]);
  });

  it('a table row that crosses a page counts once, whatever number of its cells carry the rendered break', async () => {
    const breaking = (t: string) => run(RENDERED_BREAK + text(t));
    const model = await parse(table(row(cell(paragraph('Row one a')), cell(paragraph('Row one b'))), row(cell(breaking('Row two a')), cell(breaking('Row two b')))) + paragraph('After'));
    expect([pageOf(model, 'Row one a'), pageOf(model, 'After')]).toEqual([1, 2]);
    expect(model.units).toHaveLength(2);
    const startsPage = await parse(paragraph('Before') + table(row(cell(breaking('Top a')), cell(breaking('Top b')))));
    expect([pageOf(startsPage, 'Before'), pageOf(startsPage, 'Top a')]).toEqual([1, 2]);
  });

  it('page breaks in footnotes and text boxes do not add body pages', async () => {
    const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
    const textBox = `<w:p><w:r><w:drawing><wp:anchor><a:graphic><a:graphicData><wps:wsp><wps:txbx><w:txbxContent>${run(PAGE_BREAK + text('Boxed'))}</w:txbxContent></wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></w:r></w:p>`;
    const model = await parseDocument(docx(paragraph('Body') + textBox, { 'word/footnotes.xml': `<w:footnotes ${W}><w:footnote w:id="1">${run(text('Note') + PAGE_BREAK)}</w:footnote></w:footnotes>` }));
    expect(model.units).toHaveLength(1);
    expect(model.blocks.map((b) => [b.type, b.text, b.unit])).toEqual([
      ['paragraph', 'Body', 1],
      ['paragraph', 'Boxed', 1],
      ['footnote', 'Note', 1],
    ]);
  });

  // Word's own page count (docProps/app.xml) where the file says Word wrote it.
  it('matches Word\'s page count on the corpus files Word laid out, and says why where it cannot', async () => {
    const dir = path.join(corpusDir(), 'inputs', 'docx');
    const rows: string[] = [];
    for (const file of fs.readdirSync(dir).sort()) {
      const bytes = fs.readFileSync(path.join(dir, file));
      const app = strFromU8(unzipSync(bytes, { filter: (f) => f.name === 'docProps/app.xml' })['docProps/app.xml'] ?? new Uint8Array());
      const pages = /<Pages>(\d+)<\/Pages>/.exec(app)?.[1];
      if (!pages) continue;
      const model = await parseDocument(bytes);
      rows.push(`${file}: ${pages} ${model.units.length}`);
    }
    expect(rows).toEqual([
      'docling-docx_lists.docx: 3 3',
      // One explicit page break, no rendered ones: app.xml was not updated by whatever wrote the break.
      'docling-docx_page_header_footer_first_page.docx: 1 2',
      'docling-textbox.docx: 1 1',
      'docling-unit_test_headers_numbered.docx: 2 2',
      'docling-word_sample.docx: 2 2',
      // Saved without rendered page breaks: nothing in the file says where Word broke the page.
      'docling-word_tables.docx: 2 1',
      'unstructured-tables-with-incomplete-rows.docx: 1 1',
    ]);
  });
});
