/**
 * The feedback loop: production traffic the fleet handled badly (low user scores) or was never
 * evaluated on (far from every cluster) becomes tasks for the next retraining, which only
 * replaces the live routing table through the lifecycle's publish gate.
 */
import { executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { CollectFeedbackInput, CollectFeedbackResult, LifecycleInput, ScheduledRetrainingInput, ScheduledRetrainingResult } from '../schemas/generated/types';
import { lifecycle } from './lifecycle';
import { checked } from './validation';

const { collectFeedbackTasks, commitFeedbackCursor } = proxyActivities<typeof activities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5 },
});

export async function collectFeedback(input: CollectFeedbackInput): Promise<CollectFeedbackResult> {
  return checked('CollectFeedbackResult', await collectFeedbackTasks(checked('CollectFeedbackInput', input)));
}

/** What a Temporal Schedule starts: collect feedback, retrain on documents + feedback, then consume the log. */
export async function scheduledRetraining(input: ScheduledRetrainingInput): Promise<ScheduledRetrainingResult> {
  const { lifecycle: lifecycleInput, feedback: feedbackInput = {} } = checked('ScheduledRetrainingInput', input);
  const { workflowId } = workflowInfo();
  const feedback = await executeChild(collectFeedback, { workflowId: `${workflowId}/feedback`, args: [feedbackInput] });
  const retrainingInput: LifecycleInput = feedback.tasks_ref ? { ...lifecycleInput, extra_samples: feedback.tasks_ref } : lifecycleInput;
  const retraining = await executeChild(lifecycle, { workflowId: `${workflowId}/lifecycle`, args: [retrainingInput] });
  if (retraining.status !== 'cancelled') await commitFeedbackCursor(feedback.cursor);
  return checked('ScheduledRetrainingResult', { feedback, lifecycle: retraining });
}
