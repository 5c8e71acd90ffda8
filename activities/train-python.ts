/**
 * Types of the training activities the Python worker (trainers/training/activities.py) serves on
 * llmloop-gpu-<class> queues. Each heartbeats TrainProgress and resumes from its last checkpoint on retry.
 */
import type { TrainJob, TrainJobResult } from '../schemas/generated/types';

export interface TrainingActivities {
  train_sft(job: TrainJob): Promise<TrainJobResult>;
  train_reward(job: TrainJob): Promise<TrainJobResult>;
  train_grpo(job: TrainJob): Promise<TrainJobResult>;
}
