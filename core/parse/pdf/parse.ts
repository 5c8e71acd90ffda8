import path from 'node:path';
import { REPO_ROOT } from '../../config';
import { TypedError } from '../../errors';
import { corrupt, limitExceeded, type ResolvedLimits } from '../limits';
import { ContentBuilder, type ParsedContent } from '../model';
import { BoundedThreadPool } from '../threads';
import { isBoldFontName, layoutPages } from './layout';
import { collectRules } from './rules';
import type { PageText } from './types';

const PDFJS_DIST = path.join(REPO_ROOT, 'node_modules', 'pdfjs-dist');
/** Wall clock allowed per document: a base plus a share per page, up to max_seconds. */
const BASE_TIMEOUT_MS = 30_000;
const PER_PAGE_TIMEOUT_MS = 500;
/** More ruling segments than this on a page make it a drawing (a map, a chart), not a table. */
const MAX_RULES_PER_PAGE = 4000;

/**
 * Runs in a worker thread: pdf.js (unpdf's serverless build, loaded with require(esm)) reads the
 * text runs of every page of each job it is sent and posts them one page at a time, with the
 * page's ruling lines and the names of its fonts (both from the operator list: the text content
 * names fonts only by pdf.js's internal ids, and its font objects arrive with the operators). A thread
 * rather than the caller's event loop because it can be given a heap ceiling and be terminated
 * when a page never ends, and because jest's CommonJS sandbox cannot load the ES module build.
 */
const EXTRACTOR_SOURCE = `
const { parentPort, workerData: w } = require('node:worker_threads');
const pdfjs = require(w.pdfjsPath);
${collectRules.toString()}
parentPort.on('message', async (job) => {
  const task = pdfjs.getDocument({
    data: job.bytes, password: job.password, cMapUrl: w.cMapUrl, cMapPacked: true,
    standardFontDataUrl: w.standardFontDataUrl, useWorkerFetch: false, isEvalSupported: false,
    useSystemFonts: false, stopAtErrors: false, verbosity: 0,
    // Images are never rendered here: a limit of one pixel skips decoding them in the operator list.
    maxImageSize: 1,
  });
  try {
    const doc = await task.promise;
    const meta = await doc.getMetadata().catch(() => ({}));
    const title = meta && meta.info && typeof meta.info.Title === 'string' ? meta.info.Title : undefined;
    parentPort.postMessage({ kind: 'document', pages: doc.numPages, title });
    if (doc.numPages > job.maxPages) return;
    for (let index = 1; index <= doc.numPages; index++) {
      const page = await doc.getPage(index);
      const vp = page.getViewport({ scale: 1 });
      const [a, b, c, d, e, f] = vp.transform;
      const content = await page.getTextContent();
      const styles = content.styles || {};
      const runs = [];
      for (const item of content.items) {
        if (!item.str) continue;
        const t = item.transform;
        const size = Math.hypot(t[2], t[3]) || Math.hypot(t[0], t[1]);
        const x = a * t[4] + c * t[5] + e;
        const y = b * t[4] + d * t[5] + f;
        const run = { text: item.str, x0: x, x1: x + item.width, y, size, font: item.fontName };
        if (Math.abs(t[1]) > 1e-3 || Math.abs(t[2]) > 1e-3) {
          run.rotated = true;
          // The middle of its glyphs: half the advance along the text, a third of the size up from the baseline.
          const along = Math.hypot(t[0], t[1]) || 1;
          const px = t[4] + (t[0] / along) * item.width / 2 + t[2] / 3;
          const py = t[5] + (t[1] / along) * item.width / 2 + t[3] / 3;
          run.center = { x: a * px + c * py + e, y: b * px + d * py + f };
        }
        if (item.dir === 'rtl') run.rtl = true;
        if (styles[item.fontName] && styles[item.fontName].fontFamily === 'monospace') run.mono = true;
        runs.push(run);
      }
      // Rules and font names only refine the layout: a page whose drawing fails to parse keeps its text.
      const ops = await page.getOperatorList({ annotationMode: pdfjs.AnnotationMode.DISABLE }).catch(() => undefined);
      const rules = ops ? collectRules(ops.fnArray, ops.argsArray, pdfjs.OPS, vp.transform, w.maxRules) : [];
      const fonts = {};
      for (const run of runs) {
        if (!(run.font in fonts) && page.commonObjs.has(run.font)) fonts[run.font] = String(page.commonObjs.get(run.font).name || '');
      }
      page.cleanup();
      parentPort.postMessage({ kind: 'page', page: { index, width: vp.width, height: vp.height, runs, rules, fonts } });
    }
  } catch (err) {
    parentPort.postMessage({ kind: 'error', name: err && err.name, message: err && err.message });
  } finally {
    await task.destroy();
    parentPort.postMessage({ kind: 'done' });
  }
});
`;

type ExtractorMessage =
  | { kind: 'document'; pages: number; title?: string }
  | { kind: 'page'; page: PageText & { fonts: Record<string, string> } }
  | { kind: 'error'; name?: string; message?: string }
  | { kind: 'done' };

export interface ExtractedPdf {
  title?: string;
  pages: PageText[];
}

let pool: BoundedThreadPool | undefined;

function extractorPool(): BoundedThreadPool {
  pool ??= new BoundedThreadPool({
    label: 'PDF',
    source: EXTRACTOR_SOURCE,
    workerData: {
      pdfjsPath: path.join(path.dirname(require.resolve('unpdf')), 'pdfjs.mjs'),
      cMapUrl: `${path.join(PDFJS_DIST, 'cmaps')}/`,
      standardFontDataUrl: `${path.join(PDFJS_DIST, 'standard_fonts')}/`,
      maxRules: MAX_RULES_PER_PAGE,
    },
    // A thread serves this many documents before it is replaced, so pdf.js caches cannot pile up.
    jobsPerThread: 50,
    maxIdle: 2,
    // After an error the extractor still sends 'done' for that job, and pdf.js may be left half-torn-down.
    reuseAfterReject: false,
  });
  return pool;
}

/** Text runs of every page, in points with a top-left origin, extracted in a bounded worker thread. */
export function extractPdfText(
  bytes: Uint8Array,
  options: { password?: string; limits: ResolvedLimits; signal?: AbortSignal; onPage?: (done: number, total: number) => void },
): Promise<ExtractedPdf> {
  const { limits } = options;
  const result: ExtractedPdf = { pages: [] };
  let total = 0;
  // A copy moves to the thread: pdf.js detaches what it is given, and the caller keeps its bytes.
  const copy = new Uint8Array(bytes);
  return extractorPool().run<ExtractedPdf, ExtractorMessage>(
    { bytes: copy, password: options.password, maxPages: limits.max_pages },
    { heapMb: limits.max_heap_mb, timeoutMs: Math.min(BASE_TIMEOUT_MS, limits.max_seconds * 1000), ...(options.signal ? { signal: options.signal } : {}) },
    (message, job) => {
      switch (message.kind) {
        case 'document':
          total = message.pages;
          if (message.title?.trim()) result.title = message.title.trim();
          if (total > limits.max_pages) return job.reject(limitExceeded('max_pages', limits.max_pages, `PDF has ${total} pages`));
          return job.setDeadline(Math.min(BASE_TIMEOUT_MS + total * PER_PAGE_TIMEOUT_MS, limits.max_seconds * 1000));
        case 'page': {
          const { fonts, ...page } = message.page;
          for (const run of page.runs) if (isBoldFontName(fonts[run.font])) run.bold = true;
          result.pages.push(page);
          return options.onPage?.(result.pages.length, total);
        }
        case 'error':
          return job.reject(pdfFailure(message.name, message.message, options.password));
        case 'done':
          return job.resolve(result);
      }
    },
    [copy.buffer],
  );
}

function pdfFailure(name: string | undefined, message: string | undefined, password: string | undefined): Error {
  if (name === 'PasswordException') {
    return new TypedError('EncryptedDocument', password === undefined ? 'PDF is encrypted and needs a password' : 'the supplied PDF password is incorrect', { password_supplied: password !== undefined });
  }
  if (name === 'InvalidPDFException' || name === 'FormatError' || name === 'UnknownErrorException' || name === 'ResponseException') return corrupt(`PDF cannot be read: ${message ?? name}`);
  return new Error(`pdf.js failed: ${name ?? 'Error'}: ${message ?? ''}`);
}

/**
 * PDF: text runs rebuilt into lines, columns (XY-cut with gutters), paragraphs and typed blocks.
 * Pages without a text layer are kept as units and reported as `needs_ocr`.
 */
export async function parsePdf(
  bytes: Uint8Array,
  options: { password?: string; limits: ResolvedLimits; signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
): Promise<ParsedContent> {
  const extracted = await extractPdfText(bytes, {
    limits: options.limits,
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onPage: options.onProgress } : {}),
  });
  const out = new ContentBuilder();
  if (extracted.title) out.title = extracted.title;
  for (const page of extracted.pages) {
    out.units.push({ kind: 'page', index: page.index, width: Math.round(page.width * 100) / 100, height: Math.round(page.height * 100) / 100 });
    if (!page.runs.some((r) => r.text.trim() !== '')) out.warn('needs_ocr', `page ${page.index} has no text layer; its content needs OCR`, page.index);
  }
  for (const block of layoutPages(extracted.pages)) out.add(block);
  return out;
}
