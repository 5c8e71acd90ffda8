import { TypedError } from '../errors';
import type { ClusteringOptions, ClusteringSummary, EvalTask, PerfCluster } from '../../schemas/generated/types';
import { chooseK, type ChosenClustering } from './choose-k';
import { normalise } from './kmeans';
import { clusterLabels } from './labels';

export interface ClusteredTasks {
  clusters: PerfCluster[];
  /** The input tasks with cluster_id set. */
  tasks: EvalTask[];
  summary: ClusteringSummary;
  testSamplesPerCluster: number[];
}

const DEFAULT_CLUSTERING: Required<ClusteringOptions> = { algorithm: 'kmeans', k_min: 2, k_max: 8, seed: 42, restarts: 5 };

/** Rows of a raw little-endian float32 n x dim buffer, as views (no copy). */
export function vectorRows(buffer: Uint8Array, n: number, dim: number): Float32Array[] {
  // Typed (non-retryable), as trainers/cluster.py's read_vectors: a retry reads the same bytes.
  if (buffer.byteLength !== n * dim * 4) throw new TypedError('InvalidRequest', `expected ${n} x ${dim} float32 (${n * dim * 4} bytes), got ${buffer.byteLength} bytes`);
  const aligned = buffer.byteOffset % 4 === 0 ? buffer : new Uint8Array(buffer);
  const floats = new Float32Array(aligned.buffer, aligned.byteOffset, n * dim);
  return Array.from({ length: n }, (_, i) => floats.subarray(i * dim, (i + 1) * dim));
}

/**
 * Clusters tasks by their embeddings (k by silhouette), labels each cluster and counts its test samples.
 * `precomputed` is a clustering of these vectors made elsewhere (the Python worker, for large sets).
 */
export function clusterTaskVectors(
  tasks: readonly EvalTask[],
  vectors: readonly Float32Array[],
  options: ClusteringOptions = {},
  precomputed?: ChosenClustering,
): ClusteredTasks {
  if (tasks.length !== vectors.length) throw new TypedError('InvalidRequest', `${tasks.length} tasks but ${vectors.length} vectors`);
  const { algorithm, k_min, k_max, seed, restarts } = { ...DEFAULT_CLUSTERING, ...options };
  const chosen = precomputed ?? chooseK(vectors, { algorithm, kMin: k_min, kMax: k_max, seed, restarts });
  const labels = clusterLabels(
    tasks.map((t) => t.text),
    chosen.assignments,
    chosen.k,
  );
  const assigned = tasks.map((task, i) => ({ ...task, cluster_id: chosen.assignments[i]! }));
  const clusters: PerfCluster[] = chosen.centroids.map((centroid, id) => {
    const members = assigned.filter((t) => t.cluster_id === id);
    const task_types: Record<string, number> = {};
    for (const t of members) task_types[t.task_type] = (task_types[t.task_type] ?? 0) + 1;
    return { id, label: labels[id]!, size: members.length, centroid: normalise(centroid), task_types };
  });
  return {
    clusters,
    tasks: assigned,
    summary: { algorithm, k: chosen.k, seed, silhouette: chosen.silhouette, k_scores: chosen.kScores },
    testSamplesPerCluster: clusters.map((c) => assigned.filter((t) => t.cluster_id === c.id && t.split === 'test').length),
  };
}
