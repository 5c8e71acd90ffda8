import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TypedError } from '../../../core/errors';
import { parseDocument } from '../../../core/parse';
import { schemaProblems } from '../../../core/schemas';
import { corpusDir } from '../../../scripts/score-corpus';
import { docx, paragraph, xlsx, zip } from './fixtures';

async function failure(bytes: Uint8Array, options: Parameters<typeof parseDocument>[1] = {}): Promise<TypedError> {
  const err = await parseDocument(bytes, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TypedError);
  return err as TypedError;
}

/**
 * Time and heap growth (of this thread) of one call: hostile input must end in seconds and stay far
 * from 1 GB here. The parse itself runs in a thread under max_heap_mb (isolation.test.ts).
 */
async function bounded<T>(run: () => Promise<T>): Promise<{ result: T; ms: number; heapMb: number }> {
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const result = await run();
  return { result, ms: performance.now() - started, heapMb: (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20 };
}

// Every parse starts a worker thread (compiled by swc under jest): on a loaded 2-core host that alone
// has taken seconds, so jest's 5 s default is no bound on the parser. Each case asserts its own bound.
jest.setTimeout(60_000);
/** Half the 60 s a hostile file may take (issue 15): loose enough for a loaded host, tight enough to catch a hang. */
const HOSTILE_BOUND_MS = 30_000;

describe('hostile and broken input ends in a typed error, in bounded time and memory', () => {
  it('empty file -> EmptyDocument', async () => {
    expect((await failure(new Uint8Array())).type).toBe('EmptyDocument');
  });

  it('random bytes -> UnsupportedFormat', async () => {
    const random = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) % 251);
    expect((await failure(random)).type).toBe('UnsupportedFormat');
  });

  it('a zip that is not an Office package -> UnsupportedFormat', async () => {
    expect((await failure(zip({ 'notes.txt': 'hello' }))).type).toBe('UnsupportedFormat');
  });

  it('truncated DOCX and truncated PDF -> CorruptDocument', async () => {
    const real = docx(paragraph('hello'));
    expect((await failure(real.subarray(0, real.byteLength - 30))).type).toBe('CorruptDocument');
    const pdf = fs.readFileSync(path.join(corpusDir(), 'inputs/pdf/markitdown-test-pdf.pdf'));
    const outcome = await parseDocument(pdf.subarray(0, 2000)).then(
      (model) => ({ model }),
      (error: unknown) => ({ error }),
    );
    // pdf.js may recover what it can from a truncated file (a newer pdf.js may): then the result must
    // be a valid model of at most the whole file's pages; otherwise a typed error. Never an untyped crash.
    if ('model' in outcome) {
      expect(schemaProblems('DocumentModel', outcome.model)).toEqual([]);
      expect(outcome.model.units.length).toBeLessThanOrEqual((await parseDocument(pdf)).units.length);
    } else {
      expect(outcome.error).toBeInstanceOf(TypedError);
      expect((outcome.error as TypedError).type).toMatch(/^(CorruptDocument|EmptyDocument)$/);
    }
  });

  it('zip bomb: a highly compressed entry stops at the ratio limit while inflating', async () => {
    // 32 MiB of spaces deflate to about 32 KiB: a 1000x entry in a package well under 1 MiB.
    const sheetBomb = xlsx(`<sheetData>${' '.repeat(32 * 2 ** 20)}</sheetData>`);
    expect(sheetBomb.byteLength).toBeLessThan(2 ** 20);
    const { result, ms, heapMb } = await bounded(() => failure(sheetBomb));
    expect(result.type).toBe('LimitExceeded');
    expect(result.details.limit).toBe('max_compression_ratio');
    expect(ms).toBeLessThan(HOSTILE_BOUND_MS);
    expect(heapMb).toBeLessThan(200);
  });

  it('zip bomb: total inflated bytes are capped while inflating', async () => {
    const big = 'A'.repeat(4 * 2 ** 20);
    const bytes = docx(paragraph(big.slice(0, 10)), { 'word/styles.xml': `<w:styles xmlns:w="x"><!--${big}--></w:styles>` });
    const err = await failure(bytes, { limits: { max_uncompressed_bytes: 2 ** 20 } });
    expect(err.type).toBe('LimitExceeded');
    expect(err.details.limit).toBe('max_uncompressed_bytes');
  });

  it('billion laughs: a DTD with entities is refused, never expanded', async () => {
    const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>`;
    const bytes = zip({
      '[Content_Types].xml': '<Types/>',
      'word/document.xml': `${lol}<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>`,
    });
    const { result, ms } = await bounded(() => failure(bytes));
    expect(result.type).toBe('CorruptDocument');
    expect(result.message).toMatch(/DTD|entit/);
    expect(ms).toBeLessThan(HOSTILE_BOUND_MS);
  });

  it('external entities in a worksheet are refused too (the streaming sheet scanner)', async () => {
    const bytes = xlsx('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData>');
    expect((await failure(bytes)).type).toBe('CorruptDocument');
  });

  it('very deep nesting -> LimitExceeded, not a stack overflow', async () => {
    // Deep enough to overflow a recursive parser's stack budget, small enough to stay under the ratio guard.
    const depth = 5_000;
    const bytes = docx(`${'<w:sdt><w:sdtContent>'.repeat(depth)}${paragraph('deep')}${'</w:sdtContent></w:sdt>'.repeat(depth)}`);
    const { result, ms } = await bounded(() => failure(bytes));
    expect(result.type).toBe('LimitExceeded');
    expect(result.details.limit).toBe('max_xml_depth');
    expect(ms).toBeLessThan(HOSTILE_BOUND_MS);
  });

  it('path-traversal entry names are never addressable and nothing is written', async () => {
    const marker = `llmloop-traversal-${process.pid}.txt`;
    const bytes = docx(paragraph('safe text'), { [`../../../../tmp/${marker}`]: 'pwned', '/etc/evil': 'x', 'word\\..\\..\\evil': 'x' });
    const model = await parseDocument(bytes);
    expect(model.blocks.map((b) => b.text)).toEqual(['safe text']);
    expect(model.warnings.map((w) => w.code)).toContain('unsafe_zip_entry');
    expect(fs.existsSync(path.join(os.tmpdir(), marker))).toBe(false);
  });

  it('a file whose extension lies is parsed by its content', async () => {
    const pdf = fs.readFileSync(path.join(corpusDir(), 'inputs/pdf/markitdown-test-pdf.pdf'));
    const model = await parseDocument(pdf, { path: 'quarterly-report.docx' });
    expect(model.source.format).toBe('pdf');
    const lyingXlsx = await parseDocument(docx(paragraph('I am a Word file')), { path: 'sheet.xlsx' });
    expect(lyingXlsx.source.format).toBe('docx');
  });

  it('a sheet with more cells than allowed stops at max_cells while streaming', async () => {
    const rows: string[] = [];
    for (let r = 1; r <= 30_000; r++) rows.push(`<row r="${r}"><c r="A${r}"><v>${r}</v></c><c r="B${r}"><v>${r * 2}</v></c><c r="C${r}"><v>1</v></c><c r="D${r}"><v>2</v></c><c r="E${r}"><v>3</v></c></row>`);
    const bytes = xlsx(`<sheetData>${rows.join('')}</sheetData>`);
    const { result, ms, heapMb } = await bounded(() => failure(bytes, { limits: { max_cells: 50_000 } }));
    expect(result.type).toBe('LimitExceeded');
    expect(result.details.limit).toBe('max_cells');
    expect(ms).toBeLessThan(HOSTILE_BOUND_MS);
    expect(heapMb).toBeLessThan(400);
  });

  it('legacy and encrypted OLE2 Office files are told apart', async () => {
    const ole = new Uint8Array(1024);
    ole.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
    expect((await failure(ole)).type).toBe('UnsupportedFormat');
    const encrypted = fs.readFileSync(path.join(corpusDir(), 'inputs/xlsx/unstructured-password_protected.xlsx'));
    expect((await failure(encrypted)).type).toBe('EncryptedDocument');
  });

  it('too many PDF pages -> LimitExceeded naming max_pages', async () => {
    const pdf = fs.readFileSync(path.join(corpusDir(), 'inputs/pdf/docling-multi_page.pdf'));
    const err = await failure(pdf, { limits: { max_pages: 2 } });
    expect(err.type).toBe('LimitExceeded');
    expect(err.details.limit).toBe('max_pages');
  });
});
