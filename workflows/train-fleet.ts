import { executeChild, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as nodeActivities from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors';
import type { FleetRun, TrainFleetInput, TrainFleetResult } from '../schemas/generated/types';
import { trainModel } from './train-model';
import { rootFailure } from './failures';
import { checked } from './validation';

const { resolveTrainingData } = proxyActivities<typeof nodeActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
});

/**
 * Trains every requested (model, recipe) on one dataset, each as its own trainModel child so each
 * has its own history, placement and retries; one member failing (say, no GPU class fits it) is
 * reported in its run and does not stop the others.
 */
export async function trainFleet(input: TrainFleetInput): Promise<TrainFleetResult> {
  const request = checked('TrainFleetInput', input);
  const data = await resolveTrainingData(request.dataset);
  const parent = workflowInfo().workflowId;
  const runs = await Promise.all(
    request.models.map(async ({ model_id, recipe }): Promise<FleetRun> => {
      const workflowId = `${parent}/${model_id}/${recipe}`;
      try {
        const result = await executeChild(trainModel, {
          workflowId,
          args: [
            {
              model_id,
              recipe,
              data,
              dataset_manifest: request.dataset,
              ...(request.stages ? { stages: request.stages } : {}),
              ...(request.hyperparameters ? { hyperparameters: request.hyperparameters } : {}),
              ...(request.heartbeat_timeout_seconds ? { heartbeat_timeout_seconds: request.heartbeat_timeout_seconds } : {}),
            },
          ],
        });
        return { model_id, recipe, workflow_id: workflowId, status: 'ok', result };
      } catch (err) {
        if (isCancellation(err)) throw err;
        return { model_id, recipe, workflow_id: workflowId, status: 'failed', error: rootFailure(err) };
      }
    }),
  );
  return checked('TrainFleetResult', { dataset: request.dataset, data, runs });
}
