/**
 * Failure messages and stack traces moved into an encoded attributes payload, so the payload codec
 * encrypts them like any other payload: an error can quote what it failed on (a file name, a row).
 * Loaded by path (`failureConverterPath`) because the workflow bundle must carry it too.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
