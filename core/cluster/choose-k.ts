import { kmeans, type KMeansResult, type Vectors } from './kmeans';
import { cosineSilhouette } from './silhouette';
import { spectralClustering } from './spectral';

export type ClusteringAlgorithm = 'kmeans' | 'spectral';

export interface ChooseKOptions {
  algorithm?: ClusteringAlgorithm;
  kMin: number;
  kMax: number;
  seed: number;
  restarts?: number;
  /** Silhouette is O(n^2): it is computed on an evenly spaced sample of at most this many points. */
  silhouetteSample?: number;
}

export interface ChosenClustering extends KMeansResult {
  k: number;
  algorithm: ClusteringAlgorithm;
  /** Silhouette of the chosen k; null when only k = 1 was possible. */
  silhouette: number | null;
  kScores: { k: number; silhouette: number }[];
}

export function cluster(vectors: Vectors, algorithm: ClusteringAlgorithm, k: number, seed: number, restarts?: number): KMeansResult {
  return algorithm === 'spectral' ? spectralClustering(vectors, { k, seed, restarts }) : kmeans(vectors, { k, seed, restarts });
}

/**
 * Clusters with every k in [kMin, kMax] (capped at n - 1) and keeps the k with the highest cosine
 * silhouette; ties go to the smaller k; one cluster when no k scores above 0. Deterministic for a given seed.
 */
export function chooseK(vectors: Vectors, options: ChooseKOptions): ChosenClustering {
  const { algorithm = 'kmeans', seed, restarts, silhouetteSample = 2000 } = options;
  const n = vectors.length;
  if (n === 0) throw new RangeError('no vectors to cluster');
  if (options.kMin < 1 || options.kMax < options.kMin) throw new RangeError(`invalid k range [${options.kMin}, ${options.kMax}]`);
  const kMax = Math.min(options.kMax, n - 1);
  if (kMax < 2) {
    return { ...cluster(vectors, algorithm, 1, seed, restarts), k: 1, algorithm, silhouette: null, kScores: [] };
  }
  const sample = evenlySpacedIndices(n, silhouetteSample);
  const sampledVectors = sample.map((i) => vectors[i]!);
  let best: ChosenClustering | undefined;
  const kScores: { k: number; silhouette: number }[] = [];
  for (let k = Math.max(options.kMin, 2); k <= kMax; k++) {
    const result = cluster(vectors, algorithm, k, seed, restarts);
    const sampledAssignments = sample.map((i) => result.assignments[i]!);
    const silhouette = new Set(sampledAssignments).size < 2 ? -1 : cosineSilhouette(sampledVectors, compact(sampledAssignments));
    kScores.push({ k, silhouette });
    if (!best || silhouette > best.silhouette!) best = { ...result, k, algorithm, silhouette, kScores };
  }
  // No k separates the tasks better than chance (e.g. every prompt is the same): one cluster.
  if (best!.silhouette! <= 0) return { ...cluster(vectors, algorithm, 1, seed, restarts), k: 1, algorithm, silhouette: null, kScores };
  return best!;
}

function evenlySpacedIndices(n: number, atMost: number): number[] {
  if (n <= atMost) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: atMost }, (_, i) => Math.floor((i * n) / atMost));
}

/** Renumbers cluster ids 0..m-1 in order of first appearance (a sample may miss some clusters). */
function compact(assignments: readonly number[]): number[] {
  const ids = new Map<number, number>();
  return assignments.map((a) => {
    if (!ids.has(a)) ids.set(a, ids.size);
    return ids.get(a)!;
  });
}
