import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { dot, kmeans, type KMeansResult, type Vectors } from './kmeans';

export interface SpectralOptions {
  k: number;
  seed: number;
  restarts?: number;
  /** Neighbours per point in the cosine kNN affinity graph. */
  neighbours?: number;
}

/** Dense eigendecomposition is O(n^3): beyond this, cluster with k-means (or a sample) instead. */
export const SPECTRAL_MAX_POINTS = 2000;

/**
 * Spectral clustering (Ng, Jordan & Weiss): symmetric cosine kNN affinity, the k leading
 * eigenvectors of D^-1/2 W D^-1/2, rows normalised, then k-means on that embedding.
 * Returns assignments with centroids and inertia computed in the original space, so they are
 * comparable with k-means and usable for request-time assignment.
 */
export function spectralClustering(vectors: Vectors, options: SpectralOptions): KMeansResult {
  const n = vectors.length;
  if (n > SPECTRAL_MAX_POINTS) throw new RangeError(`spectral clustering is limited to ${SPECTRAL_MAX_POINTS} points, got ${n}`);
  const { k, seed, restarts = 5 } = options;
  const neighbours = Math.min(options.neighbours ?? 10, n - 1);

  const affinity = cosineKnnAffinity(vectors, neighbours);
  const degree = affinity.map((row) => row.reduce((s, x) => s + x, 0));
  const normalised = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const d = Math.sqrt(degree[i]! * degree[j]!);
      normalised.set(i, j, d > 0 ? affinity[i]![j]! / d : 0);
    }
  }
  const eig = new EigenvalueDecomposition(normalised, { assumeSymmetric: true });
  // Eigenvalues come in ascending order: the k largest are the last k columns.
  const vectorsMatrix = eig.eigenvectorMatrix;
  const embedding: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = [];
    for (let c = n - k; c < n; c++) row.push(vectorsMatrix.get(i, c));
    const norm = Math.sqrt(dot(row, row)) || 1;
    embedding.push(row.map((x) => x / norm));
  }
  const { assignments } = kmeans(embedding, { k, seed, restarts });
  const centroids = centroidsOf(vectors, assignments, k);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const centroid = centroids[assignments[i]!]!;
    const v = vectors[i]!;
    for (let d = 0; d < v.length; d++) inertia += (v[d]! - centroid[d]!) ** 2;
  }
  return { assignments, centroids, inertia };
}

function cosineKnnAffinity(vectors: Vectors, neighbours: number): number[][] {
  const n = vectors.length;
  const norms = vectors.map((v) => Math.sqrt(dot(v, v)) || 1);
  const similarity = vectors.map((a, i) => vectors.map((b, j) => (i === j ? -Infinity : dot(a, b) / (norms[i]! * norms[j]!))));
  const affinity = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const nearest = similarity[i]!
      .map((s, j) => [s, j] as const)
      .sort((x, y) => y[0] - x[0] || x[1] - y[1])
      .slice(0, neighbours);
    // Symmetrise by union; weights are cosine similarities shifted into [0, 1].
    for (const [s, j] of nearest) {
      const w = (s + 1) / 2;
      affinity[i]![j] = Math.max(affinity[i]![j]!, w);
      affinity[j]![i] = Math.max(affinity[j]![i]!, w);
    }
  }
  return affinity;
}

export function centroidsOf(vectors: Vectors, assignments: readonly number[], k: number): number[][] {
  const dim = vectors[0]!.length;
  const sums = Array.from({ length: k }, () => new Array<number>(dim).fill(0));
  const counts = new Array<number>(k).fill(0);
  vectors.forEach((v, i) => {
    const c = assignments[i]!;
    counts[c]!++;
    for (let d = 0; d < dim; d++) sums[c]![d]! += v[d]!;
  });
  return sums.map((sum, c) => sum.map((x) => x / Math.max(counts[c]!, 1)));
}
