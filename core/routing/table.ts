/**
 * Routing tables: built from a perf index, evaluated offline against a perf index, and mapped
 * from a request embedding to a cluster at request time.
 */
import { canonicalJson, sha256Hex } from '../artifacts';
import { TypedError } from '../errors';
import { TASK_TYPES } from '../dataset/config';
import type { ArtifactRef, PerfIndex, RoutingCandidate, RoutingCluster, RoutingConstraints, RoutingTable, TableEvaluation, TableRouter, TaskType } from '../../schemas/generated/types';
import { excludedModels } from './champion-gate';
import { clusterCandidates, rankCandidates } from './select';
import { nearestCentroid } from '../cluster';

export type { RoutingTable, RoutingCluster, TableEvaluation };

/**
 * Ranks every measured cluster of the index under `defaults`. A per-prompt `router` travels with the
 * table (its artifact is part of the content, so another router is another version). Clusters without any measured cell
 * are left out, so their requests go to the nearest cluster that has measurements. Adapters that
 * failed the champion gate are no candidates anywhere; the table lists them with the reason.
 */
export function buildRoutingTable(perfIndex: PerfIndex, defaults: RoutingConstraints, options: { createdAt: string; perfIndexRef?: ArtifactRef; router?: TableRouter }): RoutingTable {
  const clusters: RoutingCluster[] = [];
  for (const cluster of perfIndex.clusters) {
    const candidates = clusterCandidates(perfIndex, cluster.id);
    const selection = rankCandidates(candidates, defaults);
    if (!selection) continue;
    const taskType = dominantTaskType(cluster.task_types);
    clusters.push({ id: cluster.id, label: cluster.label, size: cluster.size, ...(taskType ? { task_type: taskType } : {}), centroid: cluster.centroid, candidates, ranked: selection.ranked, reason: selection.reason });
  }
  if (clusters.length === 0) {
    throw new TypedError('InvalidRequest', `perf index ${perfIndex.version} has no measured cell: nothing to route to`);
  }
  const excluded = excludedModels(perfIndex);
  const content = {
    perf_index_version: perfIndex.version,
    ...(options.perfIndexRef ? { perf_index: options.perfIndexRef } : {}),
    embedding_model: perfIndex.embedding_model,
    defaults,
    clusters: clusters as RoutingTable['clusters'],
    ...(options.router ? { router: options.router } : {}),
    ...(excluded.length ? { excluded_models: excluded } : {}),
  };
  return { version: `rt-${sha256Hex(canonicalJson(content)).slice(0, 12)}`, created_at: options.createdAt, ...content };
}

/** The task type most of a cluster's tasks have (ties to the first in TaskType order), if the index counted them. */
function dominantTaskType(counts: Partial<Record<TaskType, number>> | undefined): TaskType | undefined {
  const entries = Object.entries(counts ?? {}).filter(([, n]) => (n ?? 0) > 0) as [TaskType, number][];
  return entries.sort((a, b) => b[1] - a[1] || TASK_TYPES.indexOf(a[0]) - TASK_TYPES.indexOf(b[0]))[0]?.[0];
}

/**
 * A cluster's candidates with the per-prompt router's predicted quality in place of the cluster
 * mean, for the models the router knows (cost and latency stay the cluster's measurements; a model
 * the router does not predict keeps its cluster quality).
 */
export function withPredictedQuality(candidates: readonly RoutingCandidate[], predicted: ReadonlyMap<string, number>): RoutingCandidate[] {
  return candidates.map((c) => (predicted.has(c.model_id) ? { ...c, quality: predicted.get(c.model_id)! } : c));
}

/** The table cluster a request embedding belongs to. */
export function assignCluster(table: RoutingTable, vector: ArrayLike<number>): RoutingCluster {
  return table.clusters[
    nearestCentroid(
      vector,
      table.clusters.map((c) => c.centroid),
    )
  ]!;
}

/**
 * Expected quality and cost per request of the table's first choices, measured on `perfIndex`:
 * each measured index cluster (weighted by its size) is mapped to the table cluster nearest its
 * centroid and scored with the index's cell for that cluster's first choice; a choice the index
 * did not measure scores 0 and counts as unrouted. Returns null when the table's centroids live
 * in another embedding space, where no mapping means anything.
 */
export function evaluateTable(table: RoutingTable, perfIndex: PerfIndex): TableEvaluation | null {
  const dim = table.clusters[0]!.centroid.length;
  if (table.embedding_model !== perfIndex.embedding_model || perfIndex.clusters.some((c) => c.centroid.length !== dim)) return null;

  let weightSum = 0;
  let quality = 0;
  let cost = 0;
  let measured = 0;
  let unrouted = 0;
  for (const cluster of perfIndex.clusters) {
    const candidates = clusterCandidates(perfIndex, cluster.id);
    if (candidates.length === 0) continue;
    measured += 1;
    const choice = assignCluster(table, cluster.centroid).ranked[0];
    const cell = candidates.find((c) => c.model_id === choice);
    if (!cell) unrouted += 1;
    const weight = Math.max(cluster.size, 1);
    weightSum += weight;
    quality += weight * (cell?.quality ?? 0);
    cost += weight * (cell?.cost_per_request ?? 0);
  }
  return {
    table_version: table.version,
    perf_index_version: perfIndex.version,
    quality: weightSum ? quality / weightSum : 0,
    cost_per_request: weightSum ? cost / weightSum : 0,
    n_clusters: measured,
    unrouted_clusters: unrouted,
  };
}
