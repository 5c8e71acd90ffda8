/**
 * Workflows for tests/integration/feedback-cursor.test.ts: the real feedback workflows beside a
 * stand-in `lifecycle` child whose outcome the test picks through the first source's path
 * (`.../ok`, `.../cancel`, `.../fail`, `.../wait`), so the scheduled retraining's cursor rule can
 * be checked for every outcome in seconds; the real lifecycle's handling of feedback tasks has its
 * own test (lifecycle-feedback.test.ts).
 */
import { ApplicationFailure, condition, defineSignal, setHandler } from '@temporalio/workflow';
import type { LifecycleInput, LifecycleResult } from '../../schemas/generated/types';

export { collectFeedback, scheduledRetraining } from '../../workflows/scheduled-retraining';

/** Lets a `wait` lifecycle finish, so the test can crash the worker while it runs. */
export const finishLifecycle = defineSignal('finishLifecycle');

export async function lifecycle(input: LifecycleInput): Promise<LifecycleResult> {
  const outcome = input.sources[0]!.path?.split('/').pop();
  if (outcome === 'fail') throw ApplicationFailure.nonRetryable('the stand-in lifecycle failed', 'StandInFailure');
  if (outcome === 'wait') {
    let finished = false;
    setHandler(finishLifecycle, () => void (finished = true));
    await condition(() => finished);
  }
  return { status: outcome === 'cancel' ? 'cancelled' : 'published', artifacts: {}, ingest: { ok: input.sources.length, failed: 0 } };
}
