/**
 * Parse stage entry point: bytes in, one DocumentModel out (schemas/document.schema.json).
 * Every failure is a TypedError: UnsupportedFormat, CorruptDocument, EncryptedDocument,
 * LimitExceeded (limit named in details) or EmptyDocument.
 */
import type { DocumentBlock, DocumentModel, ParseLimits } from '../../schemas/generated/types';
import { sha256Hex } from '../artifacts';
import { TypedError } from '../errors';
import { detectFormat } from './detect';
import { parseDocx } from './docx';
import { corrupt, limitExceeded, resolveLimits } from './limits';
import type { ParsedContent } from './model';
import { OoxmlPackage } from './ooxml';
import { parsePdf } from './pdf';
import { parsePptx } from './pptx';
import { parseXlsx } from './xlsx';

export { toMarkdown } from './markdown';
export type { DocumentModel };

export interface ParseOptions {
  /** Recorded as source.path; never opened by parseDocument. */
  path?: string;
  /** PDF user password. */
  password?: string;
  limits?: ParseLimits;
  /** Called after each PDF page, so a long parse can heartbeat. */
  onProgress?: (done: number, total: number) => void;
}

export async function parseDocument(bytes: Uint8Array, options: ParseOptions = {}): Promise<DocumentModel> {
  const limits = resolveLimits(options.limits);
  if (bytes.byteLength > limits.max_bytes) throw limitExceeded('max_bytes', limits.max_bytes, `file has ${bytes.byteLength} bytes`);
  const detected = detectFormat(bytes, limits);
  let content: ParsedContent;
  try {
    if (detected.format === 'pdf') {
      content = await parsePdf(bytes, { limits, ...(options.password !== undefined ? { password: options.password } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    } else {
      const pkg = new OoxmlPackage(detected.zip, limits);
      content = detected.format === 'docx' ? parseDocx(pkg) : detected.format === 'pptx' ? parsePptx(pkg, limits.max_pages) : parseXlsx(pkg, limits);
      if (detected.zip.suspiciousNames.length) {
        content.warnings.push({ code: 'unsafe_zip_entry', message: `ignored ${detected.zip.suspiciousNames.length} zip entries whose names leave the package root` });
      }
    }
  } catch (err) {
    if (err instanceof TypedError) throw err;
    // Only a call stack blown by pathological nesting lands here from pure parsing code.
    if (err instanceof RangeError) throw corrupt(`document structure is too deep or malformed: ${err.message}`);
    throw err;
  }
  if (content.units.length === 0) throw new TypedError('EmptyDocument', `the ${detected.format.toUpperCase()} has no pages, slides or sheets`);
  linkSections(content.blocks, detected.format === 'pptx' || detected.format === 'xlsx');
  return {
    schema_version: '1',
    source: { path: options.path ?? '', sha256: sha256Hex(bytes), bytes: bytes.byteLength, format: detected.format },
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
