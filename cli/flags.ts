import { UsageError } from './command';

/** A numeric command-line flag: undefined when absent, a UsageError (typed InvalidRequest) when not a number of the kind asked for. */
export function numberFlag(flag: string, value: string | undefined, kind: { integer?: boolean; min?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || (kind.integer && !Number.isInteger(n)) || (kind.min !== undefined && n < kind.min)) {
    const wanted = `${kind.integer ? 'an integer' : 'a number'}${kind.min !== undefined ? ` >= ${kind.min}` : ''}`;
    throw new UsageError(`${flag} expects ${wanted}, got ${JSON.stringify(value)}`);
  }
  return n;
}
