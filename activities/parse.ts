import { cancellationSignal, Context, heartbeat } from '@temporalio/activity';
import fs from 'node:fs/promises';
import path from 'node:path';
import { artifactStoreFromEnv, sha256Hex, type ArtifactStore } from '../core/artifacts';
import { loadConfig } from '../core/config';
import { TypedError } from '../core/errors';
import { parseDocument, toMarkdown } from '../core/parse';
import { imagesToOcr, mergeOcr, ocrFailedWarnings, pagesToOcr } from '../core/parse/ocr-merge';
import { limitExceeded, resolveLimits } from '../core/parse/limits';
import { validate } from '../core/schemas';
import type { DocumentModel, IngestSource, MergeOcrRequest, OcrOptions, OcrResult, ParseDocumentRequest, ParsedDocumentSummary } from '../schemas/generated/types';
import { typedActivity } from './failures';
import { documentsParsed, pagesParsed } from '../workers/metrics';
import { writeFileAtomically } from '../core/atomic-file';

export const DOCUMENT_MEDIA_TYPE = 'application/vnd.llmloop.document+json';
/** Bump when parser output changes, so content parsed by an older parser is parsed again. */
export const PARSER_VERSION = 'parse/5';

/**
 * Parses one source into a stored DocumentModel and returns only refs and counts, never the model.
 * Idempotent: content (sha256) already parsed by this parser version returns its stored model, and
 * content already parsed and OCR'd with the same `ocr` settings the merged one.
 * With `ocr` auto or force, PDF pages to OCR come back as `ocr_pages`, the PDF itself as `ocr_source`
 * (the Python worker reads it from the artifact store), for the caller to run ocr_pages and mergeOcrActivity.
 */
export async function parseDocumentActivity(request: ParseDocumentRequest): Promise<ParsedDocumentSummary> {
  return typedActivity(async () => {
    const { source, password, limits, ocr = {} } = validate('ParseDocumentRequest', request);
    const mode = ocr.mode ?? 'off';
    const store = artifactStoreFromEnv();
    const bytes = await readSource(source, store, resolveLimits(limits).max_bytes);
    const sourceSha = sha256Hex(bytes);
    const index = new ParseIndex(path.join(loadConfig().dataDir, 'parse-index'));
    const merged = mode === 'off' ? undefined : await index.get(ocrKey(sourceSha, ocr), store);
    if (merged) {
      documentsParsed.inc({ format: merged.format, reused: 'true' });
      return { ...merged, reused: true };
    }
    const known = await index.get(sourceSha, store);
    if (known) {
      documentsParsed.inc({ format: known.format, reused: 'true' });
      return withOcrPages({ ...known, reused: true }, (await store.getJson(known.document)) as DocumentModel, ocr, bytes, store);
    }

    const activity = Context.current();
    activity.heartbeat({ phase: 'parsing' });
    const model = await parseDocument(bytes, {
      path: source.path ?? source.name ?? `artifact:${source.artifact!.sha256}`,
      ...(password !== undefined ? { password } : {}),
      ...(limits ? { limits } : {}),
      // Bound to this activity's context now: progress arrives in the parser thread's message callbacks,
      // outside the activity's async context, where heartbeat() alone throws 'Activity context not initialized'.
      onProgress: (done, total) => activity.heartbeat({ phase: 'parsing', done, total }),
      // Cancelling the activity terminates the parser thread (delivered with the next heartbeat).
      signal: cancellationSignal(),
    });
    const summary = validate('ParsedDocumentSummary', {
      source_sha256: sourceSha,
      format: model.source.format,
      document: await store.putJson(validate('DocumentModel', model), DOCUMENT_MEDIA_TYPE),
      markdown: await store.put(toMarkdown(model), 'text/markdown'),
      units: model.units.length,
      blocks: model.blocks.length,
      warnings: model.warnings.map((w) => w.code),
      reused: false,
    });
    await index.put(sourceSha, summary);
    documentsParsed.inc({ format: summary.format, reused: 'false' });
    pagesParsed.inc({ format: summary.format }, summary.units);
    return withOcrPages(summary, model, ocr, bytes, store);
  });
}

/** The summary, with the pages (or embedded pictures) `ocr` sends to OCR and the stored source bytes for them when there are any. */
async function withOcrPages(summary: ParsedDocumentSummary, model: DocumentModel, ocr: OcrOptions, bytes: Uint8Array, store: ArtifactStore): Promise<ParsedDocumentSummary> {
  const mode = ocr.mode ?? 'off';
  const pages = pagesToOcr(model, mode);
  const images = imagesToOcr(model, { ...ocr, mode });
  if (pages.length === 0 && images.length === 0) return summary;
  const source = await store.put(bytes, summary.format === 'pdf' ? 'application/pdf' : 'application/octet-stream');
  return { ...summary, ocr_pages: pages, ...(images.length ? { ocr_images: images } : {}), ocr_source: source };
}

/**
 * Merges what the ocr_pages activity read (or the typed failure of its run) into the parsed model,
 * stores the result and records it for reuse under the OCR mode. Idempotent: the same inputs store
 * the same content-addressed artifacts.
 */
export async function mergeOcrActivity(request: MergeOcrRequest): Promise<ParsedDocumentSummary> {
  return typedActivity(async () => {
    const { summary, options, pages, ocr, error } = validate('MergeOcrRequest', request);
    const store = artifactStoreFromEnv();
    const model = (await store.getJson(summary.document)) as DocumentModel;
    heartbeat({ phase: 'merging OCR' });
    const merged = ocr
      ? mergeOcr(model, validate('OcrResult', (await store.getJson(ocr)) as OcrResult))
      : { ...model, warnings: [...model.warnings, ...ocrFailedWarnings(pages, new TypedError(error?.type ?? 'OcrFailed', error?.message ?? 'OCR did not run'), summary.ocr_images)] };
    const { ocr_pages: _pages, ocr_images: _images, ocr_source: _source, ...rest } = summary;
    const result = validate('ParsedDocumentSummary', {
      ...rest,
      document: await store.putJson(validate('DocumentModel', merged), DOCUMENT_MEDIA_TYPE),
      markdown: await store.put(toMarkdown(merged), 'text/markdown'),
      blocks: merged.blocks.length,
      warnings: merged.warnings.map((w) => w.code),
      reused: false,
    });
    // A failed OCR is not remembered, so the next ingest tries again.
    if (ocr) await new ParseIndex(path.join(loadConfig().dataDir, 'parse-index')).put(ocrKey(summary.source_sha256, options), result);
    return result;
  });
}

/** Index key of a parse merged with OCR read with `options` (the queue aside): the plain parse stays under the bare sha256. */
function ocrKey(sourceSha: string, options: OcrOptions): string {
  const { mode = 'auto', dpi, low_confidence, max_page_pixels, images_min_bytes } = options;
  // Settings without pictures hash as before, so earlier merges are still found.
  const settings = images_min_bytes === undefined ? [dpi, low_confidence, max_page_pixels] : [dpi, low_confidence, max_page_pixels, images_min_bytes];
  return `${sourceSha}.ocr-${mode}-${sha256Hex(JSON.stringify(settings)).slice(0, 12)}`;
}

async function readSource(source: IngestSource, store: ArtifactStore, maxBytes: number): Promise<Uint8Array> {
  if ((source.path === undefined) === (source.artifact === undefined)) {
    throw new TypedError('InvalidRequest', 'a source names exactly one of path or artifact');
  }
  if (source.artifact) {
    if (source.artifact.bytes > maxBytes) throw limitExceeded('max_bytes', maxBytes, `artifact has ${source.artifact.bytes} bytes`);
    return store.get(source.artifact);
  }
  const stat = await fs.stat(source.path!).catch((err: NodeJS.ErrnoException) => {
    // A missing file will not appear by retrying; other I/O errors may be transient and retry.
    throw err.code === 'ENOENT' ? new TypedError('InvalidRequest', `no such file: ${source.path}`) : err;
  });
  if (!stat.isFile()) throw new TypedError('InvalidRequest', `not a regular file: ${source.path}`);
  if (stat.size > maxBytes) throw limitExceeded('max_bytes', maxBytes, `file has ${stat.size} bytes`);
  return fs.readFile(source.path!);
}

/**
 * sha256 of the source bytes -> summary of its parse, one small JSON file per content. Written
 * after the artifacts, by rename, so a reader never sees an entry whose artifacts are missing.
 */
class ParseIndex {
  constructor(private readonly dir: string) {}

  private file(key: string): string {
    return path.join(this.dir, PARSER_VERSION.replace('/', '-'), `${key}.json`);
  }

  async get(sourceSha: string, store: ArtifactStore): Promise<ParsedDocumentSummary | undefined> {
    // No entry: not parsed yet. Any other read failure is I/O and retries, rather than parsing again.
    const text = await fs.readFile(this.file(sourceSha), 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (!text) return undefined;
    const summary = JSON.parse(text) as ParsedDocumentSummary;
    return (await store.has(summary.document)) && (await store.has(summary.markdown)) ? summary : undefined;
  }

  async put(sourceSha: string, summary: ParsedDocumentSummary): Promise<void> {
    await writeFileAtomically(this.file(sourceSha), JSON.stringify(summary));
  }
}

