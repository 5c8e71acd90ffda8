import { ApplicationFailure } from '@temporalio/common';
import { TypedError } from '../core/errors';
import { SchemaValidationError } from '../core/schemas';

/**
 * Turns domain errors into ApplicationFailures whose `type` the workflow can branch on.
 * Anything untyped (I/O, network) is rethrown as is and retried by the activity's policy.
 */
export function toApplicationFailure(err: unknown): unknown {
  if (err instanceof TypedError) {
    return ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: err.nonRetryable, details: [err.details] });
  }
  if (err instanceof SchemaValidationError) {
    return ApplicationFailure.create({ type: 'SchemaValidationError', message: err.message, nonRetryable: true, details: [{ problems: err.problems }] });
  }
  return err;
}

/** Wraps an activity body so typed domain errors surface with their type. */
export async function typedActivity<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw toApplicationFailure(err);
  }
}
