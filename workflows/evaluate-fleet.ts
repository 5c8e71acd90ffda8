import { defineQuery, isCancellation, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type * as nodeActivities from '../activities';
import type { EvaluationActivities } from '../activities/eval-python';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors';
import { gpuTaskQueue } from '../schemas/generated/constants';
import type { EvalCandidate, EvaluateFleetInput, EvaluateFleetProgress, EvaluateFleetResult, EvaluateModelRequest, EvaluateModelResult } from '../schemas/generated/types';
import { rootFailure } from './failures';
import { checked } from './validation';

/**
 * Above this many tasks k-means runs in the Python worker (scikit-learn): ml-kmeans takes 4-5x its
 * time from 10k vectors on (docs/evaluation.md, Benchmark), while below it both take seconds.
 */
export const PYTHON_KMEANS_ABOVE_TASKS = 20_000;

export const evaluateFleetProgressQuery = defineQuery<EvaluateFleetProgress>('evaluateFleetProgress');

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] };

const { loadEvalTasks, clusterTasks, storeTaskVectors, assemblePerfIndex } = proxyActivities<typeof nodeActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '2 minutes',
  retry,
});

function pythonOn(gpuClass: string) {
  return proxyActivities<EvaluationActivities>({
    taskQueue: gpuTaskQueue(gpuClass),
    startToCloseTimeout: '4 hours',
    // Loading (and, the first time, dequantising) a model precedes the first heartbeat.
    heartbeatTimeout: '10 minutes',
    retry: { ...retry, maximumAttempts: 2 },
  });
}

/**
 * Decides which model is good at what: the dataset's tasks are embedded, clustered and stored as
 * vectors; every candidate answers every cluster's test samples on its GPU class's queue; the
 * results become one PerfIndex. A candidate whose evaluation fails gets missing cells with the
 * reason, and the index is still published.
 */
export async function evaluateFleet(input: EvaluateFleetInput): Promise<EvaluateFleetResult> {
  const request = checked('EvaluateFleetInput', input);
  const gpuClass = request.gpu_class ?? 'cpu';
  const candidates = request.candidates.map(withIndexName);
  const progress: EvaluateFleetProgress = { phase: 'loading', models_total: candidates.length, models_done: 0, failed: [] };
  setHandler(evaluateFleetProgressQuery, () => progress);

  const tasks = await loadEvalTasks(request.dataset);
  progress.tasks = tasks.count;

  progress.phase = 'embedding';
  const embeddings = await pythonOn(gpuClass).embed_tasks({ tasks: tasks.tasks, ...(request.embedding_model ? { model: request.embedding_model } : {}) });

  progress.phase = 'clustering';
  const options = request.clustering ?? {};
  const clusteredByWorker = (options.algorithm ?? 'kmeans') === 'kmeans' && tasks.count > PYTHON_KMEANS_ABOVE_TASKS;
  const precomputed = clusteredByWorker ? await pythonOn(gpuClass).cluster_vectors({ embeddings, options }) : undefined;
  const clustering = await clusterTasks({ tasks: tasks.tasks, embeddings, options, ...(precomputed ? { precomputed } : {}) });
  progress.clusters = clustering.summary.k;

  progress.phase = 'storing';
  await storeTaskVectors({ assigned_tasks: clustering.assigned_tasks, embeddings, ...(request.vector_collection ? { collection: request.vector_collection } : {}) });

  progress.phase = 'evaluating';
  const clusterIds = Array.from({ length: clustering.summary.k }, (_, id) => id);
  const evaluations: EvaluateModelResult[] = [];
  const failures: { candidate: EvalCandidate; reason: string }[] = [];
  await Promise.all(
    candidates.map(async (candidate) => {
      try {
        const result = await pythonOn(candidate.gpu_class ?? gpuClass).evaluate_model({
          candidate,
          tasks: clustering.assigned_tasks,
          cluster_ids: clusterIds,
          max_samples_per_cluster: request.max_samples_per_cluster ?? 50,
          max_new_tokens: request.max_new_tokens ?? 256,
          bootstrap_resamples: request.bootstrap_resamples ?? 1000,
          seed: request.clustering?.seed ?? 42,
          ...(request.reward_model ? { reward_model: request.reward_model } : {}),
          ...generationSettings(request),
        });
        evaluations.push(result);
      } catch (err) {
        if (isCancellation(err)) throw err;
        const { type, message } = rootFailure(err);
        const reason = `${type}: ${message}`;
        failures.push({ candidate, reason });
        progress.failed.push({ model_id: candidate.name!, reason });
      }
      progress.models_done++;
    }),
  );

  progress.phase = 'assembling';
  // Completion order varies between runs; the index lists models in the order they were requested.
  const order = (modelId: string) => candidates.findIndex((c) => c.name === modelId);
  evaluations.sort((a, b) => order(a.model.model_id) - order(b.model.model_id));
  failures.sort((a, b) => order(a.candidate.name!) - order(b.candidate.name!));
  const result = await assemblePerfIndex({
    eval_run: workflowInfo().workflowId,
    dataset: request.dataset,
    embedding_model: embeddings.model_id,
    clusters: clustering.clusters,
    clustering: clustering.summary,
    evaluations,
    failures,
  });
  progress.phase = 'done';
  return checked('EvaluateFleetResult', result);
}

/** The optional generation fields of the request, passed on only when set (the evaluator has the defaults). */
function generationSettings(request: EvaluateFleetInput): Partial<EvaluateModelRequest> {
  const { generation_batch_size, new_tokens_per_reference_token, new_tokens_margin, max_validation_samples } = request;
  return Object.fromEntries(Object.entries({ generation_batch_size, new_tokens_per_reference_token, new_tokens_margin, max_validation_samples }).filter(([, v]) => v !== undefined));
}

/** Names a candidate in the index: its own name, else the base id, with the adapter's hash prefix when adapted. */
export function withIndexName(candidate: EvalCandidate): EvalCandidate {
  const name = candidate.name ?? (candidate.adapter ? `${candidate.model_id}@${candidate.adapter.sha256.slice(0, 12)}` : candidate.model_id);
  return { ...candidate, name };
}
