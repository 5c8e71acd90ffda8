import { ActivityFailure, ApplicationFailure, executeChild, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { OcrActivities } from '../activities/ocr-python';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors';
import { gpuTaskQueue } from '../schemas/generated/constants';
import type { IngestEntry, IngestInput, IngestManifest, IngestSource, OcrMode, OcrPagesResult, ParsedDocumentSummary } from '../schemas/generated/types';
import { checked } from './validation';

// A 400-page PDF parses in seconds; the per-page heartbeat tells a slow parse from a dead worker.
const { parseDocumentActivity, mergeOcrActivity } = proxyActivities<typeof activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
});

/** OCR runs on the Python workers; a queue no worker serves fails after OCR_START_TIMEOUT instead of waiting for ever. */
const DEFAULT_OCR_QUEUE = gpuTaskQueue('cpu');
const OCR_START_TIMEOUT = '10 minutes';
// Workflows that started before OCR existed replay without it.
const OCR_PATCH = 'ingest-ocr-pages';
// Workflows that started before embedded pictures were OCR'd send pages only.
const OCR_IMAGES_PATCH = 'ingest-ocr-images';

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_BATCH_SIZE = 100;

/**
 * Parses documents into stored DocumentModels: one manifest entry per source, in input order,
 * each either ok with the model's ArtifactRef or the typed error that stopped it. One bad file
 * never fails the batch. More sources than `batch_size` are split into child workflows, run one
 * after another, so every history stays small and at most `concurrency` parses run at once.
 */
export async function ingestDocuments(input: IngestInput): Promise<IngestManifest> {
  const request = checked('IngestInput', input);
  const batchSize = request.batch_size ?? DEFAULT_BATCH_SIZE;
  const entries: IngestEntry[] = [];
  if (request.sources.length > batchSize) {
    for (let start = 0; start < request.sources.length; start += batchSize) {
      const child = await executeChild(ingestDocuments, {
        workflowId: `${workflowInfo().workflowId}/batch-${start / batchSize + 1}`,
        args: [{ ...request, sources: request.sources.slice(start, start + batchSize) }],
      });
      entries.push(...child.entries);
    }
  } else {
    entries.push(...(await parseAll(request)));
  }
  const ok = entries.filter((e) => e.ok).length;
  return checked('IngestManifest', { entries, ok, failed: entries.length - ok });
}

/** Parses with at most `concurrency` activities in flight; entries keep the input order. */
async function parseAll(request: IngestInput): Promise<IngestEntry[]> {
  const entries: IngestEntry[] = new Array(request.sources.length);
  let next = 0;
  const lane = async () => {
    while (next < request.sources.length) {
      const at = next++;
      entries[at] = await parseOne(request, request.sources[at]!);
    }
  };
  const lanes = Math.min(request.concurrency ?? DEFAULT_CONCURRENCY, request.sources.length);
  await Promise.all(Array.from({ length: lanes }, lane));
  return entries;
}

async function parseOne(request: IngestInput, source: IngestSource): Promise<IngestEntry> {
  try {
    const ocrMode = patched(OCR_PATCH) ? (request.ocr?.mode ?? 'auto') : 'off';
    const parsed = await parseDocumentActivity({
      source,
      ...(request.password !== undefined ? { password: request.password } : {}),
      ...(request.limits ? { limits: request.limits } : {}),
      ...(ocrMode !== 'off' ? { ocr: { ...request.ocr, mode: ocrMode } } : {}),
    });
    const summary = parsed.ocr_pages && parsed.ocr_source ? await withOcr(request, parsed, ocrMode) : parsed;
    return { source, ok: true, ...summary };
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return { source, ok: false, error: { type: cause.type ?? 'ApplicationFailure', message: cause.message } };
    // Timeouts and exhausted retries of transient errors still belong to this one source.
    return { source, ok: false, error: { type: cause?.name ?? 'ActivityFailure', message: cause?.message ?? err.message } };
  }
}

/**
 * Sends the parse's ocr_pages to the Python workers and merges what they read into the model. A failed
 * OCR (typed, a timeout, no worker on the queue) leaves the parse as it was, with ocr_failed warnings.
 */
async function withOcr(request: IngestInput, parsed: ParsedDocumentSummary, mode: OcrMode): Promise<ParsedDocumentSummary> {
  const options = { ...request.ocr, mode };
  const { ocr_pages } = proxyActivities<OcrActivities>({
    taskQueue: options.task_queue ?? DEFAULT_OCR_QUEUE,
    scheduleToStartTimeout: OCR_START_TIMEOUT,
    // Per page: about 1.5 s on a CPU, minutes only for hundreds of pages; the heartbeat tells slow from dead.
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
  });
  const pages = parsed.ocr_pages!;
  let read: OcrPagesResult | undefined;
  let error: { type: string; message: string } | undefined;
  try {
    read = await ocr_pages({
      source: parsed.ocr_source!,
      pages,
      ...(parsed.ocr_images && patched(OCR_IMAGES_PATCH) ? { images: parsed.ocr_images } : {}),
      ...(request.password !== undefined ? { password: request.password } : {}),
      ...(options.dpi !== undefined ? { dpi: options.dpi } : {}),
      ...(options.low_confidence !== undefined ? { low_confidence: options.low_confidence } : {}),
      ...(options.max_page_pixels !== undefined ? { max_page_pixels: options.max_page_pixels } : {}),
    });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause;
    error = cause instanceof ApplicationFailure ? { type: cause.type ?? 'OcrFailed', message: cause.message } : { type: 'OcrFailed', message: cause?.message ?? err.message };
  }
  return mergeOcrActivity({ summary: parsed, options, pages, ...(read ? { ocr: read.ocr } : { error: error! }) });
}
