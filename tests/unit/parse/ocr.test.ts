import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCommand } from '../../../cli/commands/parse';
import { parseDocument, toMarkdown } from '../../../core/parse';
import { imagesToOcr, mergeOcr, ocrFailedWarnings, pagesToOcr } from '../../../core/parse/ocr-merge';
import { TypedError } from '../../../core/errors';
import { schemaProblems } from '../../../core/schemas';
import type { DocumentBlock, DocumentModel, OcrResult } from '../../../schemas/generated/types';
import { docx, paragraph } from './fixtures';

const SCANNED = path.join(process.env.LLMLOOP_SHARED_DIR ?? path.join(__dirname, '..', '..', '..', '..', 'shared'), 'corpus', 'inputs', 'pdf', 'docling-ocr_test.pdf');

const block = (id: string, unit: number, type: DocumentBlock['type'], text: string, extra: Partial<DocumentBlock> = {}): DocumentBlock => ({ id, type, text, unit, layer: 'body', ...extra });

/** Three pages: text on 1 and 3, page 2 a scan; a level-1 heading on page 1 that page 2's level-2 heading sits under. */
function threePages(): DocumentModel {
  return {
    schema_version: '1',
    source: { path: 'mixed.pdf', sha256: '0'.repeat(64), bytes: 1, format: 'pdf' },
    units: [1, 2, 3].map((index) => ({ kind: 'page', index })),
    blocks: [block('b1', 1, 'heading', 'Report', { level: 1 }), block('b2', 1, 'paragraph', 'Intro.', { parent: 'b1' }), block('b3', 3, 'paragraph', 'Closing.', { parent: 'b1' })],
    warnings: [{ code: 'needs_ocr', unit: 2, message: 'page 2 has no text layer' }],
  };
}

const ocrOf = (pages: OcrResult['pages']): OcrResult => ({ engine: 'test', dpi: 200, seconds: 1, pages });

describe('OCR merge', () => {
  it('puts an OCR page in its place in reading order, renumbers ids and links its headings into the section tree', () => {
    const merged = mergeOcr(threePages(), ocrOf([{ unit: 2, blocks: [
      block('o2-1', 2, 'heading', 'Findings', { level: 2, source: 'ocr', confidence: 0.98 }),
      block('o2-2', 2, 'paragraph', 'Seals worn.', { source: 'ocr', confidence: 0.61, low_confidence: true }),
    ] }]));
    expect(merged.blocks.map((b) => [b.id, b.unit, b.text, b.parent, b.source])).toEqual([
      ['b1', 1, 'Report', undefined, undefined],
      ['b2', 1, 'Intro.', 'b1', undefined],
      ['b3', 2, 'Findings', 'b1', 'ocr'],
      ['b4', 2, 'Seals worn.', 'b3', 'ocr'],
      ['b5', 3, 'Closing.', 'b3', undefined],
    ]);
    expect(merged.warnings).toEqual([]);
    expect(schemaProblems('DocumentModel', merged)).toEqual([]);
  });

  it('a page whose OCR failed keeps needs_ocr and says why; a failed run marks every page it was asked for', () => {
    const merged = mergeOcr(threePages(), ocrOf([{ unit: 2, error: { type: 'CorruptDocument', message: 'page 2: the page image cannot be decoded' } }]));
    expect(merged.blocks).toHaveLength(3);
    expect(merged.warnings.map((w) => [w.code, w.unit, w.message.split(':')[0]])).toEqual([['needs_ocr', 2, 'page 2 has no text layer'], ['ocr_failed', 2, 'CorruptDocument']]);
    expect(ocrFailedWarnings([2, 5], new TypedError('OcrFailed', 'no python'))).toEqual([
      { code: 'ocr_failed', unit: 2, message: 'OcrFailed: no python' },
      { code: 'ocr_failed', unit: 5, message: 'OcrFailed: no python' },
    ]);
  });

  it('chooses the pages: none when off or not a PDF, the needs_ocr pages under auto, every page under force', () => {
    const model = threePages();
    expect([pagesToOcr(model, 'off'), pagesToOcr(model, 'auto'), pagesToOcr(model, 'force')]).toEqual([[], [2], [1, 2, 3]]);
    expect(pagesToOcr({ ...model, source: { ...model.source, format: 'docx' } }, 'force')).toEqual([]);
  });

  it('force replaces a page\'s text-layer blocks with its OCR blocks', () => {
    const merged = mergeOcr(threePages(), ocrOf([{ unit: 1, blocks: [block('o1-1', 1, 'paragraph', 'Report Intro.', { source: 'ocr', confidence: 0.9 })] }]));
    expect(merged.blocks.map((b) => [b.id, b.text])).toEqual([['b1', 'Report Intro.'], ['b2', 'Closing.']]);
  });
});

describe('llmloop parse --ocr (python -m trainers.ocr, real models)', () => {
  let dir: string;
  let stderr: string[];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-parse-ocr-'));
    stderr = [];
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    jest.spyOn(console, 'error').mockImplementation((line: string) => void stderr.push(line));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    delete process.env.LLMLOOP_PYTHON;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const written = (name: string) => JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as DocumentModel;

  it('reads the scanned corpus page by default; off keeps the needs_ocr warning', async () => {
    expect(await parseCommand.run([SCANNED, '--out', dir])).toBe(0);
    const model = written('docling-ocr_test.pdf');
    expect(schemaProblems('DocumentModel', model)).toEqual([]);
    expect(model.warnings).toEqual([]);
    const text = model.blocks.map((b) => b.text).join('\n');
    expect(text).toContain('Docling bundles PDF document conversion to JSON and Markdown in an easy self contained package');
    expect(model.blocks.every((b) => b.source === 'ocr' && b.confidence! > 0.8)).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'docling-ocr_test.pdf.md'), 'utf8')).toContain('Docling bundles');

    expect(await parseCommand.run([SCANNED, '--out', dir, '--ocr', 'off'])).toBe(0);
    expect(written('docling-ocr_test.pdf').warnings.map((w) => w.code)).toEqual(['needs_ocr']);
    expect(stderr).toEqual([]);
  }, 120_000);

  it('an OCR run that fails still writes the parse, keeps needs_ocr, prints the typed failure and exits 1', async () => {
    process.env.LLMLOOP_PYTHON = '/bin/false';
    expect(await parseCommand.run([SCANNED, '--out', dir])).toBe(1);
    expect(written('docling-ocr_test.pdf').warnings.map((w) => w.code)).toEqual(['needs_ocr', 'ocr_failed']);
    expect(stderr.map((line) => JSON.parse(line).error.type)).toEqual(['OcrFailed']);
    await expect(parseCommand.run([SCANNED, '--out', dir, '--ocr', 'sometimes'])).rejects.toThrow(/--ocr expects auto, off or force/);
  });

  it('the parse alone still reports the scanned page as needs_ocr', async () => {
    const model = await parseDocument(fs.readFileSync(SCANNED));
    expect(pagesToOcr(model, 'auto')).toEqual([1]);
  });
});

describe('OCR of pictures embedded in a DOCX', () => {
  const picture = (id: string, alt: string) =>
    `<w:p><w:r><w:drawing><wp:inline><wp:docPr id="1" name="Picture" descr="${alt}"/><a:graphic><a:graphicData><pic:pic><pic:blipFill><a:blip r:embed="${id}"/></pic:blipFill></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>`;
  const rels = ['image1.png', 'image2.png'].map((target, i) => `<Relationship Id="rId${i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/${target}"/>`);
  const parsed = () =>
    parseDocument(
      docx(paragraph('Site photos') + picture('rId1', 'Scanned form') + picture('rId2', 'Logo'), {
        'word/_rels/document.xml.rels': `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rels.join('')}</Relationships>`,
        'word/media/image1.png': new Uint8Array(5000),
        'word/media/image2.png': new Uint8Array(200),
      }),
    );

  it('image blocks name their media part and its size; only pictures at least images_min_bytes large are sent, and only when asked', async () => {
    const model = await parsed();
    expect(model.blocks.filter((b) => b.type === 'image').map((b) => [b.text, b.image_part, b.image_bytes])).toEqual([
      ['Scanned form', 'word/media/image1.png', 5000],
      ['Logo', 'word/media/image2.png', 200],
    ]);
    expect(imagesToOcr(model, { mode: 'auto', images_min_bytes: 1000 })).toEqual(['word/media/image1.png']);
    expect(imagesToOcr(model, { mode: 'auto', images_min_bytes: 0 })).toEqual(['word/media/image1.png', 'word/media/image2.png']);
    expect(imagesToOcr(model, { mode: 'auto' })).toEqual([]);
    expect(imagesToOcr(model, { mode: 'off', images_min_bytes: 0 })).toEqual([]);
  });

  it('a picture read gives its image block the text, source ocr and its character-weighted confidence; one without text leaves its block; one that failed is an ocr_failed warning', async () => {
    const model = await parsed();
    const merged = mergeOcr(
      model,
      ocrOf([
        { unit: 1, part: 'word/media/image1.png', blocks: [block('o1-1', 1, 'heading', 'Inspection form', { source: 'ocr', confidence: 0.97 }), block('o1-2', 1, 'paragraph', 'Screen clean: yes', { source: 'ocr', confidence: 0.91 })] },
        { unit: 2, part: 'word/media/image2.png', blocks: [block('o2-1', 1, 'image', '')] },
        { unit: 3, part: 'word/media/image9.wmf', error: { type: 'UnsupportedFormat', message: 'picture word/media/image9.wmf: WMF pictures cannot be decoded' } },
      ]),
    );
    expect(schemaProblems('DocumentModel', merged)).toEqual([]);
    expect(merged.blocks.filter((b) => b.type === 'image').map((b) => [b.text, b.alt_text, b.source, b.confidence])).toEqual([
      ['Inspection form\nScreen clean: yes', 'Scanned form', 'ocr', 0.9381],
      ['Logo', 'Logo', undefined, undefined],
    ]);
    expect(toMarkdown(merged)).toContain('<!-- image: Scanned form -->\nInspection form\nScreen clean: yes');
    expect(merged.warnings).toEqual([{ code: 'ocr_failed', message: 'UnsupportedFormat: picture word/media/image9.wmf: WMF pictures cannot be decoded' }]);
    expect(ocrFailedWarnings([], new TypedError('OcrFailed', 'no Python'), ['word/media/image1.png'])).toEqual([{ code: 'ocr_failed', message: 'OcrFailed: no Python (picture word/media/image1.png)' }]);
  });
});
