/**
 * Failure types shared by every stage. Activities throw these as ApplicationFailure `type`s;
 * the Python worker raises ApplicationError with the same names (trainers/errors.py).
 */
export const NON_RETRYABLE_ERROR_TYPES = [
  'InvalidRequest',
  'SchemaValidationError',
  'UnsupportedFormat',
  'CorruptDocument',
  'EncryptedDocument',
  'LimitExceeded',
  'EmptyDocument',
  'UnknownModel',
  'UnsupportedRecipe',
  'InsufficientGpuMemory',
  'EmptyDataset',
  'ArtifactNotFound',
] as const;

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
