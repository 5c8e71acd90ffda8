import { ActivityCancellationType, ApplicationFailure, defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type * as nodeActivities from '../activities';
import type { TrainingActivities } from '../activities/train-python';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors';
import type { ArtifactRef, TrainingStage, TrainJob, TrainJobResult, TrainModelInput, TrainModelResult } from '../schemas/generated/types';
import { checked } from './validation';

const { planTraining } = proxyActivities<typeof nodeActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
});

/** The stage running now (`planning` before placement, `done` at the end): for `temporal workflow query`. */
export const trainingStageQuery = defineQuery<TrainingStage | 'planning' | 'done'>('trainingStage');

/**
 * Fine-tunes one base model with one recipe: SFT, then optionally a reward model from the preference
 * pairs and GRPO from the SFT adapter scored by it. Stages run one after another on the GPU-class
 * queue the catalog placement chose, because each needs the whole device.
 */
export async function trainModel(input: TrainModelInput): Promise<TrainModelResult> {
  const request = checked('TrainModelInput', input);
  const stages = new Set<TrainingStage>(request.stages ?? ['sft']);
  let current: TrainingStage | 'planning' | 'done' = 'planning';
  setHandler(trainingStageQuery, () => current);
  if (stages.has('reward') && !request.data.preference) throw invalid('the reward stage needs data.preference (ranking pairs)');
  if (stages.has('grpo') && !request.data.grpo) throw invalid('the grpo stage needs data.grpo (prompt-only rows)');

  const placement = await planTraining({ model_id: request.model_id, recipe: request.recipe, ...(request.gpu_class ? { gpu_class: request.gpu_class } : {}) });
  const python = proxyActivities<TrainingActivities>({
    taskQueue: placement.task_queue,
    // A job is hours long; what matters is noticing a dead worker quickly, and every retry resumes from the last checkpoint.
    startToCloseTimeout: '48 hours',
    heartbeatTimeout: `${request.heartbeat_timeout_seconds ?? 120} seconds`,
    retry: { initialInterval: '5 seconds', backoffCoefficient: 3, maximumInterval: '10 minutes', maximumAttempts: 8, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
    // Wait for the trainer to stop before the workflow reports cancelled, so the GPU is free when it does.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  const job = (stage: TrainingStage, dataset: ArtifactRef, extra: Partial<TrainJob> = {}): TrainJob => {
    const hyperparameters = request.hyperparameters?.[stage];
    return {
      model_id: request.model_id,
      recipe: placement.recipe,
      dataset,
      ...(request.dataset_manifest ? { dataset_manifest: request.dataset_manifest } : {}),
      ...(hyperparameters ? { hyperparameters } : {}),
      ...extra,
    };
  };
  const runs: TrainJobResult[] = [];
  const run = async (stage: TrainingStage, call: () => Promise<TrainJobResult>): Promise<TrainJobResult> => {
    current = stage;
    const result = checked('TrainJobResult', await call());
    runs.push(result);
    return result;
  };

  const sft = await run('sft', () => python.train_sft(job('sft', request.data.sft, request.data.sft_validation ? { eval_dataset: request.data.sft_validation } : {})));
  const reward = stages.has('reward') ? await run('reward', () => python.train_reward(job('reward', request.data.preference!))) : undefined;
  const policy = stages.has('grpo')
    ? await run('grpo', () => python.train_grpo(job('grpo', request.data.grpo!, { init_adapter: sft.adapter, ...(reward ? { reward_model: reward.adapter } : {}) })))
    : sft;
  current = 'done';
  return checked('TrainModelResult', {
    model_id: request.model_id,
    recipe: placement.recipe,
    placement,
    adapter: policy.adapter,
    manifest: policy.manifest,
    ...(reward ? { reward_model: reward.adapter } : {}),
    runs,
  });
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'InvalidRequest', message, nonRetryable: true });
}
