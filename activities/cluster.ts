import { Context } from '@temporalio/activity';
import { artifactStoreFromEnv, canonicalJson, sha256Hex, type ArtifactStore } from '../core/artifacts';
import { getCatalogModel, loadCatalog } from '../core/catalog';
import {
  assemblePerfIndex as assembleIndex,
  clusterTaskVectors,
  type ChosenClustering,
  PerfIndexRegistry,
  perfIndexVersion,
  SPECTRAL_MAX_POINTS,
  tasksFromDataset,
  vectorRows,
} from '../core/cluster';
import { loadConfig } from '../core/config';
import { TypedError } from '../core/errors';
import { validate } from '../core/schemas';
import { collectionForModel, vectorStoreFromEnv } from '../core/vectors';
import type {
  ArtifactRef,
  AssemblePerfIndexRequest,
  ClusterTasksRequest,
  ClusterTasksResult,
  ClusterVectorsResult,
  DatasetManifest,
  EvalTask,
  EvaluateFleetResult,
  LoadEvalTasksResult,
  PerfCluster,
  StoreTaskVectorsRequest,
  StoreTaskVectorsResult,
} from '../schemas/generated/types';
import { typedActivity } from './failures';

const JSONL = 'application/x-ndjson';
const UPSERT_BATCH = 512;

async function readTasks(store: ArtifactStore, ref: ArtifactRef): Promise<EvalTask[]> {
  return (await store.get(ref))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as EvalTask);
}

const toJsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Every usable SFT/preference row of a dataset as an evaluation task (JSONL artifact). */
export async function loadEvalTasks(dataset: ArtifactRef): Promise<LoadEvalTasksResult> {
  return typedActivity(async () => {
    const store = artifactStoreFromEnv();
    const manifest = validate('DatasetManifest', await store.getJson<DatasetManifest>(dataset));
    const { tasks, skipped } = await tasksFromDataset(manifest, async (exported) => (await store.get(exported.artifact)).toString('utf8'));
    const ref = await store.put(toJsonl(tasks), JSONL);
    return validate('LoadEvalTasksResult', { tasks: ref, count: tasks.length, test_count: tasks.filter((t) => t.split === 'test').length, skipped });
  });
}

/** Clusters the embedded tasks; stores the clusters (with centroids) and the tasks with their cluster ids. */
export async function clusterTasks(request: ClusterTasksRequest): Promise<ClusterTasksResult> {
  return typedActivity(async () => {
    const { tasks: tasksRef, embeddings, options } = validate('ClusterTasksRequest', request);
    const store = artifactStoreFromEnv();
    const tasks = await readTasks(store, tasksRef);
    const vectors = vectorRows(await store.get(embeddings.vectors), embeddings.n, embeddings.dim);
    if (options.algorithm === 'spectral' && tasks.length > SPECTRAL_MAX_POINTS) {
      throw new TypedError('LimitExceeded', `spectral clustering is limited to ${SPECTRAL_MAX_POINTS} tasks, got ${tasks.length}: use kmeans`);
    }
    const precomputed = request.precomputed ? await precomputedClustering(store, request.precomputed, tasks.length) : undefined;
    const clustered = clusterTaskVectors(tasks, vectors, options, precomputed);
    return validate('ClusterTasksResult', {
      clusters: await store.putJson(clustered.clusters),
      assigned_tasks: await store.put(toJsonl(clustered.tasks), JSONL),
      summary: clustered.summary,
      test_samples_per_cluster: clustered.testSamplesPerCluster,
    });
  });
}

/** The Python worker's `cluster_vectors` result in chooseK's shape, checked against the task count. */
async function precomputedClustering(store: ArtifactStore, result: ClusterVectorsResult, taskCount: number): Promise<ChosenClustering> {
  const assignments = await store.getJson<number[]>(result.assignments);
  if (assignments.length !== taskCount || assignments.some((a) => !Number.isInteger(a) || a < 0 || a >= result.k) || result.centroids.length !== result.k) {
    throw new TypedError('InvalidRequest', `precomputed clustering does not fit: ${assignments.length} assignments, ${result.centroids.length} centroids, k ${result.k}, ${taskCount} tasks`);
  }
  return { algorithm: 'kmeans', k: result.k, assignments, centroids: result.centroids, inertia: result.inertia, silhouette: result.silhouette, kScores: result.k_scores };
}

/** Upserts every task vector with its payload into the configured vector store (idempotent by task id). */
export async function storeTaskVectors(request: StoreTaskVectorsRequest): Promise<StoreTaskVectorsResult> {
  return typedActivity(async () => {
    const { assigned_tasks, embeddings, collection: requested } = validate('StoreTaskVectorsRequest', request);
    const store = artifactStoreFromEnv();
    const tasks = await readTasks(store, assigned_tasks);
    const vectors = vectorRows(await store.get(embeddings.vectors), embeddings.n, embeddings.dim);
    const collection = requested ?? collectionForModel(embeddings.model_id);
    const vectorStore = vectorStoreFromEnv();
    try {
      await vectorStore.ensureCollection(collection, embeddings.dim);
      for (let start = 0; start < tasks.length; start += UPSERT_BATCH) {
        Context.current().heartbeat({ stored: start, of: tasks.length });
        await vectorStore.upsert(
          collection,
          tasks.slice(start, start + UPSERT_BATCH).map((task, offset) => ({
            id: task.id,
            vector: vectors[start + offset]!,
            payload: { task_id: task.id, cluster_id: task.cluster_id!, split: task.split, source: task.source_sha256 ?? 'unknown', task_type: task.task_type },
          })),
        );
      }
      return validate('StoreTaskVectorsResult', { backend: vectorStore.backend, collection, count: await vectorStore.count(collection) });
    } finally {
      await vectorStore.close();
    }
  });
}

/** Builds, validates and stores the PerfIndex, and records it in the registry `index show` reads. */
export async function assemblePerfIndex(request: AssemblePerfIndexRequest): Promise<EvaluateFleetResult> {
  return typedActivity(async () => {
    const input = validate('AssemblePerfIndexRequest', request);
    const store = artifactStoreFromEnv();
    const catalog = loadCatalog();
    const catalogCost = (modelId: string) => {
      try {
        return getCatalogModel(catalog, modelId).cost_per_1k_tokens;
      } catch {
        return 0; // the failure being recorded may be exactly that the model is unknown
      }
    };
    const createdAt = new Date();
    const parts = {
      createdAt: createdAt.toISOString(),
      evalRun: input.eval_run,
      dataset: input.dataset,
      embeddingModel: input.embedding_model,
      clusters: await store.getJson<PerfCluster[]>(input.clusters),
      clustering: input.clustering,
      evaluations: input.evaluations,
      failures: input.failures.map((f) => ({ ...f, costPer1kTokens: catalogCost(f.candidate.model_id) })),
    };
    // The version names the content (minus its own version and timestamp), so equal results share a suffix.
    const contentHash = sha256Hex(canonicalJson(assembleIndex({ ...parts, version: '', createdAt: '' })));
    const index = validate('PerfIndex', assembleIndex({ ...parts, version: perfIndexVersion(createdAt, contentHash) }));
    const ref = await store.putJson(index);
    await PerfIndexRegistry.inDataDir(loadConfig().dataDir).record({ version: index.version, created_at: index.created_at, perf_index: ref });
    return validate('EvaluateFleetResult', {
      perf_index: ref,
      version: index.version,
      clusters: index.clusters.length,
      cells: index.cells.length,
      missing_cells: index.cells.filter((c) => c.missing).length,
    });
  });
}
