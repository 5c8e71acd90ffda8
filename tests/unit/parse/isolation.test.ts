/**
 * Issue 15, items 1-2: OOXML parses in bounded worker threads (heap, clock, part size, cancellation)
 * like PDF, and a workbook over its cell budget fails typed, with its count, leaving no output.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { CancelledFailure } from '@temporalio/common';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDocumentActivity } from '../../../activities/parse';
import { parseCommand } from '../../../cli/commands/parse';
import { TypedError } from '../../../core/errors';
import { parseDocument, toMarkdown, type DocumentModel } from '../../../core/parse';
import { corpusDir } from '../../../scripts/score-corpus';
import { docx, paragraph, xlsx, zip } from './fixtures';

/** A DOCX whose document.xml is about `mib` MiB of distinct paragraphs, stored (so no ratio limit applies). */
function bigDocx(mib: number): Uint8Array {
  const paragraphs: string[] = [];
  for (let i = 0, size = 0; size < mib * 2 ** 20; i++) {
    const p = paragraph(`Paragraph ${i} of a long report, with a sentence of ordinary length in it.`);
    paragraphs.push(p);
    size += p.length;
  }
  const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
  return zip(
    {
      '[Content_Types].xml': '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
      'word/document.xml': `<?xml version="1.0" encoding="UTF-8"?><w:document ${W}><w:body>${paragraphs.join('')}</w:body></w:document>`,
    },
    0,
  );
}

/** A one-sheet workbook of `rows` x `cols` numbers. */
function gridXlsx(rows: number, cols: number, extra = ''): Uint8Array {
  const xml: string[] = [];
  for (let r = 1; r <= rows; r++) {
    let row = `<row r="${r}">`;
    for (let c = 0; c < cols; c++) row += `<c r="${String.fromCharCode(65 + c)}${r}"><v>${r * cols + c}</v></c>`;
    xml.push(`${row}</row>`);
  }
  return xlsx(`<sheetData>${xml.join('')}</sheetData>${extra}`);
}

async function failure(run: Promise<unknown>): Promise<TypedError> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TypedError);
  return err as TypedError;
}

const small = docx(paragraph('Still here.') + paragraph('The worker parses on.'));

/** The worker process survived: a normal document still parses, to the same model as before. */
async function stillParses(expected: DocumentModel): Promise<void> {
  expect(await parseDocument(small)).toEqual(expected);
}

describe('OOXML parses in a bounded worker thread', () => {
  let expected: DocumentModel;
  beforeAll(async () => {
    expected = await parseDocument(small);
    expect(expected.blocks.map((b) => [b.type, b.text])).toEqual([
      ['paragraph', 'Still here.'],
      ['paragraph', 'The worker parses on.'],
    ]);
  });

  it('the caller event loop keeps running while a large document.xml parses', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const started = performance.now();
    const model = await parseDocument(bigDocx(4));
    const ms = performance.now() - started;
    clearInterval(timer);
    expect(model.blocks.length).toBeGreaterThan(30_000);
    // Parsed on this thread, the interval could not fire until the parse ended: at most one tick.
    expect(ticks).toBeGreaterThan(Math.min(5, ms / 200));
  }, 60_000);

  it('past its clock -> LimitExceeded (time), non-retryable; the worker survives', async () => {
    const err = await failure(parseDocument(bigDocx(4), { limits: { max_ooxml_seconds: 0.05 } }));
    expect(err.type).toBe('LimitExceeded');
    expect(err.details.limit).toBe('time');
    expect(err.nonRetryable).toBe(true);
    await stillParses(expected);
  }, 60_000);

  it('past its heap ceiling -> LimitExceeded (memory), non-retryable; the worker survives', async () => {
    const err = await failure(parseDocument(bigDocx(16), { limits: { max_heap_mb: 64 } }));
    expect(err.type).toBe('LimitExceeded');
    expect(err.details.limit).toBe('memory');
    expect(err.nonRetryable).toBe(true);
    await stillParses(expected);
  }, 120_000);

  it('a part larger than max_part_bytes -> LimitExceeded before it is parsed', async () => {
    const err = await failure(parseDocument(bigDocx(2), { limits: { max_part_bytes: 2 ** 20 } }));
    expect(err.type).toBe('LimitExceeded');
    expect(err.details.limit).toBe('max_part_bytes');
  }, 30_000);

  it('aborting terminates the thread: the parse rejects with the reason, OOXML and PDF alike', async () => {
    const controller = new AbortController();
    const parse = parseDocument(bigDocx(8), { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled by test')), 100);
    await expect(parse).rejects.toThrow('cancelled by test');
    await stillParses(expected);

    const pdf = fs.readFileSync(path.join(corpusDir(), 'inputs/pdf/unstructured-pdf2image-memory-error-test-400p.pdf'));
    const pdfController = new AbortController();
    const pages: number[] = [];
    const pdfParse = parseDocument(pdf, {
      signal: pdfController.signal,
      onProgress: (done) => {
        pages.push(done);
        if (done === 1) pdfController.abort(new Error('PDF cancelled by test'));
      },
    });
    await expect(pdfParse).rejects.toThrow('PDF cancelled by test');
    expect(pages.length).toBeLessThan(400);
  }, 60_000);

  it('cancelling the parse activity terminates its thread', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-parse-cancel-'));
    const previous = process.env.LLMLOOP_DATA_DIR;
    process.env.LLMLOOP_DATA_DIR = dataDir;
    try {
      const file = path.join(dataDir, 'long.docx');
      fs.writeFileSync(file, bigDocx(8));
      const env = new MockActivityEnvironment();
      // The first heartbeat says the parse has started: cancel then, as a workflow would.
      env.once('heartbeat', () => env.cancel());
      const started = performance.now();
      await expect(env.run(parseDocumentActivity, { source: { path: file } })).rejects.toBeInstanceOf(CancelledFailure);
      expect(performance.now() - started).toBeLessThan(30_000);
      await stillParses(expected);
    } finally {
      process.env.LLMLOOP_DATA_DIR = previous;
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the XLSX cell budget', () => {
  it('past max_cells -> LimitExceeded with the workbook count and where the budget ran out', async () => {
    const err = await failure(parseDocument(gridXlsx(400, 5), { limits: { max_cells: 500 } }));
    expect(err.type).toBe('LimitExceeded');
    expect(err.details).toMatchObject({ limit: 'max_cells', value: 500, cells: 2000 });
    expect(err.message).toContain('A101');
    expect((await parseDocument(gridXlsx(400, 5), { limits: { max_cells: 2000 } })).blocks[0]!.cells).toHaveLength(2000);
  });

  it('a merged range as large as the sheet counts against the budget instead of being expanded', async () => {
    const err = await failure(parseDocument(gridXlsx(1, 1, '<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>')));
    expect(err.details.limit).toBe('max_cells');
    expect(err.details.cells).toBe(16384 * 1048576);
  });

  it('llmloop parse --max-cells: the typed failure on stderr, and nothing written to --out', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-parse-budget-'));
    const stderr: string[] = [];
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    jest.spyOn(console, 'error').mockImplementation((line: string) => void stderr.push(line));
    try {
      const file = path.join(dir, 'export.xlsx');
      fs.writeFileSync(file, gridXlsx(400, 5));
      const out = path.join(dir, 'out');
      expect(await parseCommand.run([file, '--out', out, '--max-cells', '500'])).toBe(1);
      const { error } = JSON.parse(stderr[0]!) as { error: { type: string; message: string } };
      expect(error.type).toBe('LimitExceeded');
      expect(error.message).toMatch(/2000 non-empty cells.*max_cells=500/);
      expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
      expect(await parseCommand.run([file, '--out', out, '--max-cells', '2000'])).toBe(0);
      expect(fs.readdirSync(out).sort()).toEqual(['export.xlsx.json', 'export.xlsx.md']);
    } finally {
      jest.restoreAllMocks();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('Markdown of a table with 200,000 cells renders (no argument spread into Math.max)', () => {
    const cells = Array.from({ length: 200_000 }, (_, i) => ({ row: Math.floor(i / 4), col: i % 4, row_span: 1, col_span: 1, text: String(i) }));
    const model: DocumentModel = {
      schema_version: '1',
      source: { path: 'big.xlsx', sha256: '0'.repeat(64), bytes: 1, format: 'xlsx' },
      units: [{ kind: 'sheet', index: 1, name: 'Data' }],
      blocks: [{ id: 'b1', type: 'table', layer: 'body', unit: 1, text: '', rows: 50_000, cols: 4, cells }],
      warnings: [],
    };
    const markdown = toMarkdown(model);
    expect(markdown.split('\n').filter((l) => l.startsWith('|'))).toHaveLength(50_001);
  });
});
