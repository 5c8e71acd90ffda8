/**
 * Parse stage entry point: bytes in, one DocumentModel out (schemas/document.schema.json).
 * Every failure is a TypedError: UnsupportedFormat, CorruptDocument, EncryptedDocument,
 * LimitExceeded (limit named in details) or EmptyDocument.
 */
import type { DocumentBlock, DocumentModel } from '../../schemas/generated/types';
import { sha256Hex } from '../artifacts';
import { TypedError } from '../errors';
import { detectFormat } from './detect';
import { limitExceeded, resolveLimits, stackOverflowAsCorrupt, type ResolvedLimits } from './limits';
import { parseOfficeInThread } from './office';
import { parsePdf } from './pdf/parse';

export { toMarkdown } from './markdown';
export type { DocumentModel };

export interface ParseOptions {
  /** Recorded as source.path; never opened by parseDocument. */
  path?: string;
  /** PDF user password. */
  password?: string;
  /** The per-call limits of the schema (ParseLimits) and the thread limits (heap, clocks, part size). */
  limits?: Partial<ResolvedLimits>;
  /** Called as the parse advances (PDF pages; OOXML parts read), so a long parse can heartbeat. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting terminates the parser thread; the parse rejects with the signal's reason. */
  signal?: AbortSignal;
}

export async function parseDocument(bytes: Uint8Array, options: ParseOptions = {}): Promise<DocumentModel> {
  const limits = resolveLimits(options.limits);
  if (bytes.byteLength > limits.max_bytes) throw limitExceeded('max_bytes', limits.max_bytes, `file has ${bytes.byteLength} bytes`);
  const { format } = detectFormat(bytes, limits);
  const threadOptions = { ...(options.onProgress ? { onProgress: options.onProgress } : {}), ...(options.signal ? { signal: options.signal } : {}) };
  const content =
    format === 'pdf'
      ? await parsePdf(bytes, { limits, ...(options.password !== undefined ? { password: options.password } : {}), ...threadOptions }).catch((err: unknown) => Promise.reject(stackOverflowAsCorrupt(err)))
      : await parseOfficeInThread(bytes, limits, threadOptions);
  if (content.units.length === 0) throw new TypedError('EmptyDocument', `the ${format.toUpperCase()} has no pages, slides or sheets`);
  linkSections(content.blocks, format === 'pptx' || format === 'xlsx');
  return {
    schema_version: '1',
    source: { path: options.path ?? '', sha256: sha256Hex(bytes), bytes: bytes.byteLength, format },
    ...(content.title ? { title: content.title } : {}),
    units: content.units,
    blocks: content.blocks,
    warnings: content.warnings,
  };
}

/**
 * The section tree over the flat list: every body block's `parent` is the heading it sits under
 * (for a heading, the nearest preceding heading of a higher level). Slides and sheets stand alone;
 * pages do not, since sections run across them.
 */
export function linkSections(blocks: DocumentBlock[], restartPerUnit: boolean): void {
  let open: DocumentBlock[] = [];
  let unit = 0;
  for (const block of blocks) {
    if (block.layer !== 'body') continue;
    if (restartPerUnit && block.unit !== unit) open = [];
    unit = block.unit;
    if (block.type === 'heading') {
      while (open.length && (open[open.length - 1]!.level ?? 1) >= (block.level ?? 1)) open.pop();
      if (open.length) block.parent = open[open.length - 1]!.id;
      open.push(block);
    } else if (open.length) {
      block.parent = open[open.length - 1]!.id;
    }
  }
}
