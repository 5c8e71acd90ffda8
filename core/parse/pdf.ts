import path from 'node:path';
import { REPO_ROOT } from '../config';
import { TypedError } from '../errors';
import { corrupt, limitExceeded, type ResolvedLimits } from './limits';
import { ContentBuilder, type ParsedContent } from './model';
import { layoutPages, type PageText, type TextRun } from './pdf-layout';

/** CMaps shipped with pdfjs-dist: without them many Chinese/Japanese PDFs decode to garbage. */
const PDFJS_DIR = path.join(REPO_ROOT, 'node_modules', 'pdfjs-dist');

interface PdfTextItem {
  str: string;
  transform: number[];
  width: number;
  fontName: string;
}

interface PdfPage {
  getViewport(options: { scale: number }): { width: number; height: number; transform: number[] };
  getTextContent(): Promise<{ items: (PdfTextItem | { type: string })[] }>;
  cleanup(): void;
}

interface PdfDocument {
  numPages: number;
  getPage(n: number): Promise<PdfPage>;
  getMetadata(): Promise<{ info?: { Title?: unknown } }>;
  loadingTask: { destroy(): Promise<void> };
}

/** pdf.js through unpdf's serverless build: text only, no canvas, CMaps read from disk. */
export async function openPdf(bytes: Uint8Array, password?: string): Promise<PdfDocument> {
  const { getDocumentProxy } = await import('unpdf');
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given and refuses Node Buffers: hand it a copy.
    return (await getDocumentProxy(new Uint8Array(bytes), {
      password,
      cMapUrl: `${path.join(PDFJS_DIR, 'cmaps')}/`,
      cMapPacked: true,
      standardFontDataUrl: `${path.join(PDFJS_DIR, 'standard_fonts')}/`,
      useWorkerFetch: false,
      stopAtErrors: false,
      verbosity: 0,
    })) as unknown as PdfDocument;
  } catch (err) {
    throw pdfFailure(err, password);
  }
}

function pdfFailure(err: unknown, password: string | undefined): Error {
  const e = err as { name?: string; code?: number; message?: string };
  if (e?.name === 'PasswordException') {
    return new TypedError('EncryptedDocument', password === undefined ? 'PDF is encrypted and needs a password' : 'the supplied PDF password is incorrect', { password_supplied: password !== undefined });
  }
  if (e?.name === 'InvalidPDFException' || e?.name === 'FormatError' || e?.name === 'UnknownErrorException') return corrupt(`PDF cannot be read: ${e.message ?? e.name}`);
  return err instanceof Error ? err : new Error(String(err));
}

/** The text runs of one page in points, top-left origin, y = baseline. */
export async function pageText(doc: PdfDocument, index: number): Promise<PageText> {
  const page = await doc.getPage(index);
  const viewport = page.getViewport({ scale: 1 });
  const [a, b, c, d, e, f] = viewport.transform as [number, number, number, number, number, number];
  const content = await page.getTextContent();
  const runs: TextRun[] = [];
  for (const item of content.items) {
    if (!('str' in item) || item.str === '') continue;
    const t = item.transform;
    const size = Math.hypot(t[2]!, t[3]!) || Math.hypot(t[0]!, t[1]!);
    const x = a * t[4]! + c * t[5]! + e;
    const y = b * t[4]! + d * t[5]! + f;
    const rotated = Math.abs(t[1]!) > 1e-3 || Math.abs(t[2]!) > 1e-3;
    runs.push({ text: item.str, x0: x, x1: x + item.width, y, size, font: item.fontName, ...(rotated ? { rotated } : {}) });
  }
  page.cleanup();
  return { index, width: viewport.width, height: viewport.height, runs };
}

/**
 * PDF: text runs from pdf.js, rebuilt into lines, columns (XY-cut), paragraphs and typed blocks.
 * Pages without a text layer are kept as units and reported as `needs_ocr`.
 */
export async function parsePdf(bytes: Uint8Array, options: { password?: string; limits: ResolvedLimits; onProgress?: (done: number, total: number) => void }): Promise<ParsedContent> {
  const doc = await openPdf(bytes, options.password);
  try {
    if (doc.numPages > options.limits.max_pages) throw limitExceeded('max_pages', options.limits.max_pages, `PDF has ${doc.numPages} pages`);
    const out = new ContentBuilder();
    const pages: PageText[] = [];
    for (let index = 1; index <= doc.numPages; index++) {
      const page = await pageText(doc, index).catch((err: unknown) => {
        throw pdfFailure(err, options.password);
      });
      pages.push(page);
      out.units.push({ kind: 'page', index, width: Math.round(page.width * 100) / 100, height: Math.round(page.height * 100) / 100 });
      if (!page.runs.some((r) => r.text.trim() !== '')) out.warn('needs_ocr', `page ${index} has no text layer; its content needs OCR`, index);
      options.onProgress?.(index, doc.numPages);
    }
    for (const block of layoutPages(pages)) out.add(block);
    const title = (await doc.getMetadata().catch(() => ({ info: undefined }))).info?.Title;
    if (typeof title === 'string' && title.trim()) out.title = title.trim();
    return out;
  } finally {
    await doc.loadingTask.destroy();
  }
}
