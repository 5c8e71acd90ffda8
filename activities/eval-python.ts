/**
 * Types of the evaluation-stage activities the Python worker (trainers/embedding.py,
 * trainers/cluster.py, trainers/evaluate.py) serves on llmloop-gpu-<class> queues.
 */
import type { ClusterVectorsRequest, ClusterVectorsResult, EmbedTasksRequest, EmbedTasksResult, EvaluateModelRequest, EvaluateModelResult } from '../schemas/generated/types';

export interface EvaluationActivities {
  embed_tasks(request: EmbedTasksRequest): Promise<EmbedTasksResult>;
  cluster_vectors(request: ClusterVectorsRequest): Promise<ClusterVectorsResult>;
  evaluate_model(request: EvaluateModelRequest): Promise<EvaluateModelResult>;
}
