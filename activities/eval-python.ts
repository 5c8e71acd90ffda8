/**
 * Types of the evaluation-stage activities the Python worker (trainers/embedding.py,
 * trainers/evaluate.py) serves on llmloop-gpu-<class> queues.
 */
import type { EmbedTasksRequest, EmbedTasksResult, EvaluateModelRequest, EvaluateModelResult } from '../schemas/generated/types';

export interface EvaluationActivities {
  embed_tasks(request: EmbedTasksRequest): Promise<EmbedTasksResult>;
  evaluate_model(request: EvaluateModelRequest): Promise<EvaluateModelResult>;
}
