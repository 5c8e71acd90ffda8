/**
 * Failure types shared by every stage. Activities throw these as ApplicationFailure `type`s;
 * the Python worker raises ApplicationError with the same names (trainers/errors.py). Which types
 * are non-retryable is written once, in schemas/constants.json.
 */
import { NON_RETRYABLE_ERROR_TYPES } from '../schemas/generated/constants';

export { NON_RETRYABLE_ERROR_TYPES };

export type NonRetryableErrorType = (typeof NON_RETRYABLE_ERROR_TYPES)[number];

/** A failure whose `type` travels to the workflow as ApplicationFailure.type. */
export class TypedError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly nonRetryable: boolean = (NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(type),
  ) {
    super(message);
    this.name = type;
  }
}
