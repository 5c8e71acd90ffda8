import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { REPO_ROOT } from '../config';
import { TypedError } from '../errors';
import { corrupt, limitExceeded, type ResolvedLimits } from './limits';
import { ContentBuilder, type ParsedContent } from './model';
import { isBoldFontName, layoutPages, type PageText } from './pdf-layout';
import { collectRules } from './pdf-rules';

const PDFJS_DIST = path.join(REPO_ROOT, 'node_modules', 'pdfjs-dist');
/** Heap of the thread that runs pdf.js; a hostile PDF that needs more fails alone. */
const EXTRACTOR_HEAP_MB = 768;
/** Wall clock allowed per document: a base plus a share per page. */
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

/** A thread serves this many documents before it is replaced, so pdf.js caches cannot pile up. */
const JOBS_PER_THREAD = 50;
/** Idle extractor threads kept warm: loading pdf.js costs 100-200 ms per new thread. */
const MAX_IDLE_THREADS = 2;

interface ExtractorThread {
  worker: Worker;
  jobs: number;
}

const idleThreads: ExtractorThread[] = [];

function startThread(): ExtractorThread {
  const worker = new Worker(EXTRACTOR_SOURCE, {
    eval: true,
    resourceLimits: { maxOldGenerationSizeMb: EXTRACTOR_HEAP_MB },
    workerData: {
      pdfjsPath: path.join(path.dirname(require.resolve('unpdf')), 'pdfjs.mjs'),
      cMapUrl: `${path.join(PDFJS_DIST, 'cmaps')}/`,
      standardFontDataUrl: `${path.join(PDFJS_DIST, 'standard_fonts')}/`,
      maxRules: MAX_RULES_PER_PAGE,
    },
  });
  // An idle thread must not keep a CLI or test process alive.
  worker.unref();
  return { worker, jobs: 0 };
}

/** Text runs of every page, in points with a top-left origin, extracted in a bounded worker thread. */
export function extractPdfText(bytes: Uint8Array, options: { password?: string; maxPages: number; onPage?: (done: number, total: number) => void }): Promise<ExtractedPdf> {
  const thread = idleThreads.pop() ?? startThread();
  const { worker } = thread;
  thread.jobs++;
  worker.ref();
  return new Promise<ExtractedPdf>((resolve, reject) => {
    const result: ExtractedPdf = { pages: [] };
    let total = 0;
    let settled = false;
    const finish = (failure?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      // A failed thread may be stuck or half-dead: it is never reused.
      if (failure || thread.jobs >= JOBS_PER_THREAD || idleThreads.length >= MAX_IDLE_THREADS) void worker.terminate();
      else (worker.unref(), idleThreads.push(thread));
      if (failure) reject(failure);
      else resolve(result);
    };
    let timer = setTimeout(() => finish(new TypedError('LimitExceeded', `PDF did not open within ${BASE_TIMEOUT_MS / 1000} s`, { limit: 'time' })), BASE_TIMEOUT_MS);
    const onMessage = (message: ExtractorMessage) => {
      switch (message.kind) {
        case 'document':
          total = message.pages;
          if (message.title?.trim()) result.title = message.title.trim();
          if (total > options.maxPages) return finish(limitExceeded('max_pages', options.maxPages, `PDF has ${total} pages`));
          clearTimeout(timer);
          timer = setTimeout(() => finish(new TypedError('LimitExceeded', `PDF parse did not finish within the time allowed for ${total} pages`, { limit: 'time' })), BASE_TIMEOUT_MS + total * PER_PAGE_TIMEOUT_MS);
          return;
        case 'page': {
          const { fonts, ...page } = message.page;
          for (const run of page.runs) if (isBoldFontName(fonts[run.font])) run.bold = true;
          result.pages.push(page);
          return options.onPage?.(result.pages.length, total);
        }
        case 'error':
          return finish(pdfFailure(message.name, message.message, options.password));
        case 'done':
          return finish();
      }
    };
    const onError = (err: Error & { code?: string }) => {
      finish(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new TypedError('LimitExceeded', `PDF needs more than ${EXTRACTOR_HEAP_MB} MB to parse`, { limit: 'memory' }) : err);
    };
    const onExit = () => finish(new Error('the PDF extractor thread exited unexpectedly'));
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage({ bytes: new Uint8Array(bytes), password: options.password, maxPages: options.maxPages });
  });
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
export async function parsePdf(bytes: Uint8Array, options: { password?: string; limits: ResolvedLimits; onProgress?: (done: number, total: number) => void }): Promise<ParsedContent> {
  const extracted = await extractPdfText(bytes, {
    maxPages: options.limits.max_pages,
    ...(options.password !== undefined ? { password: options.password } : {}),
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
