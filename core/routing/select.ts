/**
 * Model selection: among the models whose quality on a cluster is within `tolerance` of the
 * cluster's best and which meet the latency and cost limits, the cheapest. When no model meets
 * them: the best quality under the cost cap, and when nothing fits the cost cap, the cheapest.
 *
 * All knobs are in user units: tolerance in quality points on the [0,1] quality scale, latency
 * in milliseconds (against the cell's p95), cost in the catalog's currency per request.
 */
import { TypedError } from '../errors';
import { excludedModels } from './champion-gate';
import type { PerfIndex, RoutingCandidate, RoutingConstraints, SelectionReason } from '../../schemas/generated/types';

export type { RoutingCandidate, RoutingConstraints, SelectionReason };

export interface Selection {
  model_id: string;
  reason: SelectionReason;
  /** Every candidate in the order to try it: the selection first, then the fallbacks. */
  ranked: string[];
}

/** Float slack so a model exactly `tolerance` behind the best is not excluded by rounding. */
const EPSILON = 1e-9;

/**
 * The measured cells of one cluster; missing cells (and cells with no samples) never route, nor do
 * adapters that failed the champion gate (core/routing/champion-gate.ts).
 */
export function clusterCandidates(perfIndex: PerfIndex, clusterId: number): RoutingCandidate[] {
  const excluded = new Set(excludedModels(perfIndex).map((e) => e.model_id));
  return perfIndex.cells
    .filter((cell) => cell.cluster_id === clusterId && !cell.missing && cell.n > 0 && !excluded.has(cell.model_id))
    .map(({ model_id, quality, cost_per_request, latency_ms_p95 }) => ({ model_id, quality, cost_per_request, latency_ms_p95 }));
}

type Order = (a: RoutingCandidate, b: RoutingCandidate) => number;
const byCost: Order = (a, b) => a.cost_per_request - b.cost_per_request;
const byQuality: Order = (a, b) => b.quality - a.quality;
const byLatency: Order = (a, b) => a.latency_ms_p95 - b.latency_ms_p95;
const byId: Order = (a, b) => (a.model_id < b.model_id ? -1 : a.model_id > b.model_id ? 1 : 0);
const thenBy =
  (...orders: Order[]): Order =>
  (a, b) => {
    for (const order of orders) {
      const d = order(a, b);
      if (d !== 0) return d;
    }
    return 0;
  };

/** Cheapest first; equal cost goes to the better, then the faster model, then by id so ties are stable. */
const cheapestFirst = thenBy(byCost, byQuality, byLatency, byId);
const bestFirst = thenBy(byQuality, byCost, byLatency, byId);

/**
 * Orders candidates in three tiers: those meeting every constraint (cheapest first), then the rest
 * under the cost cap (best first), then everything else (cheapest first). The first entry is the
 * selection; the tier it came from is the reason. Returns null for an empty candidate list.
 */
export function rankCandidates(candidates: readonly RoutingCandidate[], constraints: RoutingConstraints = {}): Selection | null {
  if (candidates.length === 0) return null;
  const tolerance = constraints.tolerance ?? 0;
  const best = Math.max(...candidates.map((c) => c.quality));
  const underCostCap = (c: RoutingCandidate) => constraints.cost_limit === undefined || c.cost_per_request <= constraints.cost_limit + EPSILON;
  const fastEnough = (c: RoutingCandidate) => constraints.latency_ms === undefined || c.latency_ms_p95 <= constraints.latency_ms;
  const goodEnough = (c: RoutingCandidate) => c.quality >= best - tolerance - EPSILON;

  const eligible = candidates.filter((c) => goodEnough(c) && fastEnough(c) && underCostCap(c)).sort(cheapestFirst);
  const affordable = candidates.filter((c) => underCostCap(c) && !eligible.includes(c)).sort(bestFirst);
  const rest = candidates.filter((c) => !underCostCap(c)).sort(cheapestFirst);
  const reason: SelectionReason = eligible.length ? 'cheapest_within_tolerance' : affordable.length ? 'fallback_best_under_cost_cap' : 'fallback_cheapest';
  const ranked = [...eligible, ...affordable, ...rest].map((c) => c.model_id);
  return { model_id: ranked[0]!, reason, ranked };
}

/** The router's selection rule on one cluster of a perf index (see the module comment). */
export function minCostBestPerfModel(clusterId: number, perfIndex: PerfIndex, constraints: RoutingConstraints = {}): Selection {
  if (!perfIndex.clusters.some((c) => c.id === clusterId)) {
    throw new TypedError('InvalidRequest', `cluster ${clusterId} is not in perf index ${perfIndex.version}`, { cluster_id: clusterId });
  }
  const selection = rankCandidates(clusterCandidates(perfIndex, clusterId), constraints);
  if (!selection) {
    throw new TypedError('NoMeasuredModel', `no model has a measured cell on cluster ${clusterId} of perf index ${perfIndex.version}`, { cluster_id: clusterId }, true);
  }
  return selection;
}
