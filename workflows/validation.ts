import { ApplicationFailure } from '@temporalio/workflow';
import { schemaProblems, type SchemaName } from '../core/schemas';
import type { SchemaTypes } from '../schemas/generated/types';

/**
 * Schema validation inside workflow code. A plain Error would fail the workflow task and be retried
 * forever; a schema mismatch cannot heal, so it fails the workflow as a non-retryable typed failure.
 */
export function checked<K extends SchemaName>(name: K, value: unknown): SchemaTypes[K] {
  const problems = schemaProblems(name, value);
  if (problems.length) {
    throw ApplicationFailure.create({ type: 'SchemaValidationError', nonRetryable: true, message: `${name}: ${problems.slice(0, 5).join('; ')}`, details: [{ problems }] });
  }
  return value as SchemaTypes[K];
}
