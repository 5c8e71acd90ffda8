import type { ParseLimits } from '../../schemas/generated/types';
import { TypedError } from '../errors';

export type ResolvedLimits = Required<ParseLimits> & {
  /** Deepest XML element nesting accepted; OOXML bodies stay far below it. */
  max_xml_depth: number;
  /** Zip entries accepted in one OOXML package. */
  max_zip_entries: number;
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
  max_cells: 2_000_000,
  max_xml_depth: 256,
  max_zip_entries: 20_000,
};

export function resolveLimits(limits: ParseLimits = {}): ResolvedLimits {
  return { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) };
}

export function limitExceeded(limit: keyof ResolvedLimits, value: number, message: string): TypedError {
  return new TypedError('LimitExceeded', `${message} (limit ${limit}=${value})`, { limit, value });
}

export function corrupt(message: string): TypedError {
  return new TypedError('CorruptDocument', message);
}
