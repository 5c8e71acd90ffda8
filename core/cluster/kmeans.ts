import { kmeans as mlKmeans } from 'ml-kmeans';

/** Rows of equal length; Float32Array rows avoid copying vectors read from the embedding worker. */
export type Vectors = readonly (Float32Array | number[])[];

export interface KMeansOptions {
  k: number;
  seed: number;
  /** Independent k-means++ starts (seeds seed, seed+1, ...); the lowest inertia wins. */
  restarts?: number;
  maxIterations?: number;
}

export interface KMeansResult {
  assignments: number[];
  centroids: number[][];
  /** Sum of squared Euclidean distances of every vector to its centroid. */
  inertia: number;
}

export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

export function inertiaOf(vectors: Vectors, assignments: readonly number[], centroids: readonly number[][]): number {
  let total = 0;
  for (let i = 0; i < vectors.length; i++) total += squaredDistance(vectors[i]!, centroids[assignments[i]!]!);
  return total;
}

export function validateVectors(vectors: Vectors, k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (vectors.length < k) throw new RangeError(`cannot make ${k} clusters of ${vectors.length} vectors`);
  const dim = vectors[0]!.length;
  if (vectors.some((v) => v.length !== dim)) throw new RangeError('every vector must have the same dimension');
}

/** k-means++ with restarts (ml-kmeans), deterministic for a given seed. */
export function kmeans(vectors: Vectors, options: KMeansOptions): KMeansResult {
  const { k, seed, restarts = 5, maxIterations = 100 } = options;
  validateVectors(vectors, k);
  // ml-kmeans only indexes rows, so typed rows work without a copy.
  const data = vectors as unknown as number[][];
  let best: KMeansResult | undefined;
  for (let restart = 0; restart < restarts; restart++) {
    const run = mlKmeans(data, k, { seed: seed + restart, initialization: 'kmeans++', maxIterations });
    // ml-kmeans reports the assignments of its last step against the centres before the final update;
    // reassigning against the returned centroids makes assignments, centroids and inertia agree.
    const assignments = vectors.map((v) => nearestByDistance(v, run.centroids));
    const inertia = inertiaOf(vectors, assignments, run.centroids);
    if (!best || inertia < best.inertia) best = { assignments, centroids: run.centroids, inertia };
  }
  return best!;
}

function nearestByDistance(vector: ArrayLike<number>, centroids: readonly ArrayLike<number>[]): number {
  let best = 0;
  let bestDistance = Infinity;
  for (let c = 0; c < centroids.length; c++) {
    const d = squaredDistance(vector, centroids[c]!);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

/** Cosine similarity; a zero vector counts as norm 1, so it is 0 rather than NaN. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return dot(a, b) / ((Math.sqrt(dot(a, a)) || 1) * (Math.sqrt(dot(b, b)) || 1));
}

/**
 * Index of the centroid most similar by cosine: how a request is assigned to a cluster at request time.
 * Cosine rather than Euclidean because stored centroids are unit-normalised and embeddings are too.
 */
export function nearestCentroid(vector: ArrayLike<number>, centroids: readonly ArrayLike<number>[]): number {
  if (centroids.length === 0) throw new RangeError('no centroids to choose from');
  let best = 0;
  let bestSimilarity = -Infinity;
  for (let c = 0; c < centroids.length; c++) {
    const centroid = centroids[c]!;
    if (centroid.length !== vector.length) throw new RangeError(`vector has dimension ${vector.length}, centroid ${c} has ${centroid.length}`);
    const similarity = cosineSimilarity(vector, centroid);
    if (similarity > bestSimilarity) {
      bestSimilarity = similarity;
      best = c;
    }
  }
  return best;
}

export function normalise(vector: ArrayLike<number>): number[] {
  const norm = Math.sqrt(dot(vector, vector));
  return Array.from(vector, (x) => (norm > 0 ? x / norm : 0));
}
