import { dot, type Vectors } from './kmeans';

/**
 * Mean silhouette with cosine distance (1 - cos) over unit vectors, as scikit-learn's
 * silhouette_score(metric='cosine'). O(n^2 d): callers pass a sample of large sets.
 * Points alone in their cluster score 0, as in scikit-learn.
 */
export function cosineSilhouette(vectors: Vectors, assignments: readonly number[]): number {
  const n = vectors.length;
  const k = Math.max(...assignments) + 1;
  if (k < 2) throw new RangeError('silhouette needs at least two clusters');
  const norms = vectors.map((v) => Math.sqrt(dot(v, v)) || 1);
  const sizes = new Array<number>(k).fill(0);
  for (const a of assignments) sizes[a]!++;
  let total = 0;
  const distanceSums = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    distanceSums.fill(0);
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      distanceSums[assignments[j]!]! += 1 - dot(vectors[i]!, vectors[j]!) / (norms[i]! * norms[j]!);
    }
    const own = assignments[i]!;
    if (sizes[own]! < 2) continue;
    const a = distanceSums[own]! / (sizes[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && sizes[c]! > 0) b = Math.min(b, distanceSums[c]! / sizes[c]!);
    total += (b - a) / Math.max(a, b);
  }
  return total / n;
}
