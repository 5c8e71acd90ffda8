import { adjustedRandIndex, chooseK, cosineSilhouette, inertiaOf, kmeans, nearestCentroid, spectralClustering } from '../../../core/cluster';
import { gaussianMixture } from './synthetic';

/** Floor for clustering quality on the synthetic mixture: recovering the true blobs nearly exactly. */
const ARI_FLOOR = 0.9;

describe('k-means (ml-kmeans, k-means++ with restarts)', () => {
  const { vectors, labels } = gaussianMixture({ clusters: 5, perCluster: 60, dim: 32, spread: 0.08, seed: 7 });

  it(`recovers a known Gaussian mixture with adjusted Rand index >= ${ARI_FLOOR}`, () => {
    const result = kmeans(vectors, { k: 5, seed: 1, restarts: 5 });
    expect(adjustedRandIndex(labels, result.assignments)).toBeGreaterThanOrEqual(ARI_FLOOR);
    expect(result.centroids).toHaveLength(5);
    expect(result.inertia).toBeCloseTo(inertiaOf(vectors, result.assignments, result.centroids), 6);
  });

  it('is deterministic for a seed', () => {
    expect(kmeans(vectors, { k: 5, seed: 3 })).toEqual(kmeans(vectors, { k: 5, seed: 3 }));
  });

  it('never does worse with more restarts (the lowest inertia wins)', () => {
    const one = kmeans(vectors, { k: 5, seed: 11, restarts: 1 });
    const many = kmeans(vectors, { k: 5, seed: 11, restarts: 6 });
    expect(many.inertia).toBeLessThanOrEqual(one.inertia + 1e-9);
  });

  it('assigns each vector to its nearest centroid', () => {
    const result = kmeans(vectors, { k: 5, seed: 1 });
    vectors.forEach((v, i) => expect(nearestCentroid(v, result.centroids)).toBe(result.assignments[i]));
  });

  it('rejects impossible requests with a clear error', () => {
    expect(() => kmeans(vectors.slice(0, 2), { k: 3, seed: 1 })).toThrow(/cannot make 3 clusters of 2 vectors/);
    expect(() => kmeans([[1, 2], [1]], { k: 1, seed: 1 })).toThrow(/same dimension/);
  });
});

describe('spectral clustering (cosine kNN affinity)', () => {
  it(`recovers a known mixture with adjusted Rand index >= ${ARI_FLOOR}`, () => {
    const { vectors, labels } = gaussianMixture({ clusters: 4, perCluster: 40, dim: 16, spread: 0.08, seed: 21 });
    const result = spectralClustering(vectors, { k: 4, seed: 2 });
    expect(adjustedRandIndex(labels, result.assignments)).toBeGreaterThanOrEqual(ARI_FLOOR);
    expect(result.centroids[0]).toHaveLength(16);
  });
});

describe('choosing k by silhouette', () => {
  it('finds the true number of blobs within the range', () => {
    const { vectors, labels } = gaussianMixture({ clusters: 4, perCluster: 50, dim: 24, spread: 0.08, seed: 5 });
    const chosen = chooseK(vectors, { kMin: 2, kMax: 8, seed: 1, restarts: 3 });
    expect(chosen.k).toBe(4);
    expect(chosen.kScores.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(adjustedRandIndex(labels, chosen.assignments)).toBeGreaterThanOrEqual(ARI_FLOOR);
  });

  it('keeps one cluster when no k separates the tasks (identical prompts)', () => {
    const chosen = chooseK(Array.from({ length: 8 }, () => [0.6, 0.8]), { kMin: 2, kMax: 4, seed: 1 });
    expect(chosen.k).toBe(1);
    expect(chosen.centroids).toHaveLength(1);
    expect(chosen.centroids[0]![1]).toBeCloseTo(0.8, 12);
    expect(chosen.kScores).toHaveLength(3);
  });

  it('falls back to one cluster when there are too few tasks to compare', () => {
    const chosen = chooseK([[1, 0], [0, 1]], { kMin: 2, kMax: 5, seed: 1 });
    expect(chosen.k).toBe(1);
    expect(chosen.silhouette).toBeNull();
    expect(chosen.assignments).toEqual([0, 0]);
  });
});

describe('metric helpers agree with scikit-learn', () => {
  it('adjusted Rand index', () => {
    // sklearn.metrics.adjusted_rand_score([0,0,0,1,1,1,2,2], [0,0,1,1,2,2,2,2])
    expect(adjustedRandIndex([0, 0, 0, 1, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2, 2, 2])).toBeCloseTo(0.181818181818, 9);
  });

  it('cosine silhouette', () => {
    // sklearn.metrics.silhouette_score(X, [0,0,1,1,1], metric='cosine')
    const X = [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [0.7, 0.7]];
    expect(cosineSilhouette(X, [0, 0, 1, 1, 1])).toBeCloseTo(0.7377527409211433, 9);
  });
});

describe('nearestCentroid', () => {
  it('picks by cosine, independent of centroid norms', () => {
    expect(nearestCentroid([1, 0.1], [[0, 5], [0.5, 0]])).toBe(1);
  });
  it('rejects a vector of the wrong dimension', () => {
    expect(() => nearestCentroid([1, 0, 0], [[1, 0]])).toThrow(/dimension/);
  });
});
