/**
 * RouterBench's Average Improvement in Quality (AIQ): the area under the non-decreasing convex
 * hull of a router's (cost, quality) points, divided by the cost range it is integrated over.
 */
export interface CostQuality {
  cost: number;
  quality: number;
}

/**
 * Upper-left frontier: points sorted by cost where each one improves on every cheaper point, then
 * only the vertices of the upper convex hull (a mix of two configurations reaches any point on
 * the segment between them, so points under a segment are never worth choosing).
 */
export function nonDecreasingConvexHull(points: readonly CostQuality[]): CostQuality[] {
  const sorted = [...points].sort((a, b) => a.cost - b.cost || b.quality - a.quality);
  const frontier: CostQuality[] = [];
  for (const p of sorted) {
    if (frontier.length && p.quality <= frontier[frontier.length - 1]!.quality) continue;
    frontier.push(p);
  }
  const hull: CostQuality[] = [];
  for (const p of frontier) {
    while (hull.length >= 2) {
      const a = hull[hull.length - 2]!;
      const b = hull[hull.length - 1]!;
      // b lies on or under the segment a -> p: drop it.
      if ((b.cost - a.cost) * (p.quality - a.quality) - (b.quality - a.quality) * (p.cost - a.cost) >= 0) hull.pop();
      else break;
    }
    hull.push(p);
  }
  return hull;
}

/** Hull quality reachable at `cost`: flat before its first and after its last vertex. */
export function hullQualityAt(hull: readonly CostQuality[], cost: number): number {
  if (cost <= hull[0]!.cost) return hull[0]!.quality;
  for (let i = 1; i < hull.length; i++) {
    const a = hull[i - 1]!;
    const b = hull[i]!;
    if (cost <= b.cost) return a.quality + ((b.quality - a.quality) * (cost - a.cost)) / (b.cost - a.cost);
  }
  return hull[hull.length - 1]!.quality;
}

/**
 * AIQ over [costMin, costMax]: the mean hull quality on that range. Routers compared with each
 * other must be integrated over the same range; with a zero-width range it is the hull quality there.
 */
export function aiq(points: readonly CostQuality[], costMin: number, costMax: number): number {
  const hull = nonDecreasingConvexHull(points);
  if (costMax <= costMin) return hullQualityAt(hull, costMin);
  // Piecewise linear: integrate exactly between the range ends and every hull vertex inside it.
  const knots = [costMin, ...hull.map((p) => p.cost).filter((c) => c > costMin && c < costMax), costMax];
  let area = 0;
  for (let i = 1; i < knots.length; i++) {
    area += ((hullQualityAt(hull, knots[i - 1]!) + hullQualityAt(hull, knots[i]!)) / 2) * (knots[i]! - knots[i - 1]!);
  }
  return area / (costMax - costMin);
}
