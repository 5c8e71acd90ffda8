import type { ParseLimits } from '../../schemas/generated/types';
import { TypedError } from '../errors';

export type ResolvedLimits = Required<ParseLimits> & {
  /** Deepest XML element nesting accepted; OOXML bodies stay far below it. */
  max_xml_depth: number;
  /** Zip entries accepted in one OOXML package. */
  max_zip_entries: number;
  /**
   * Inflated bytes of one OOXML part read whole into a tree (document.xml, a slide, styles): its
   * heap grows about 17x the part. Worksheets are scanned as they inflate and are bounded by
   * max_cells and max_uncompressed_bytes instead.
   */
  max_part_bytes: number;
  /** Heap ceiling (MB) of each parser thread (pdf.js, the OOXML readers). */
  max_heap_mb: number;
  /** Wall clock of one DOCX/PPTX/XLSX parse, in its thread. */
  max_ooxml_seconds: number;
  /**
   * Wall clock of any one parse: a PDF's allowance (30 s + 0.5 s per page) stops here. It stays
   * below the parse activity's 15-minute start-to-close timeout, so a parse fails typed instead.
   */
  max_seconds: number;
};

/**
 * Defaults sized for enterprise documents on a worker with a few GB of memory: every hostile input
 * (bombs, huge sheets, deep nesting) hits one of these long before memory or time runs out.
 */
export const DEFAULT_LIMITS: ResolvedLimits = {
  max_bytes: 200 * 1024 * 1024,
  max_pages: 5000,
  max_uncompressed_bytes: 512 * 1024 * 1024,
  max_compression_ratio: 200,
  max_cells: 500_000,
  max_xml_depth: 256,
  max_zip_entries: 20_000,
  max_part_bytes: 32 * 1024 * 1024,
  max_heap_mb: 768,
  max_ooxml_seconds: 45,
  max_seconds: 600,
};

export function resolveLimits(limits: Partial<ResolvedLimits> = {}): ResolvedLimits {
  return { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) };
}

export function limitExceeded(limit: keyof ResolvedLimits, value: number, message: string, counts: Record<string, number> = {}): TypedError {
  return new TypedError('LimitExceeded', `${message} (limit ${limit}=${value})`, { limit, value, ...counts });
}

export function corrupt(message: string): TypedError {
  return new TypedError('CorruptDocument', message);
}

/** Only a call stack blown by pathological nesting lands outside a TypedError from pure parsing code. */
export function stackOverflowAsCorrupt(err: unknown): unknown {
  return err instanceof RangeError ? corrupt(`document structure is too deep or malformed: ${err.message}`) : err;
}
