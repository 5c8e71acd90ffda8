/**
 * Offline router evaluation (`llmloop route-eval`): fit clusters and a per-cluster index on the
 * train split of a score matrix, route the test split while sweeping the selection tolerance,
 * and compare with every single model, random mixing and the oracle.
 * Quality = mean score over test prompts; cost = total over test prompts.
 */
import { kmeans, nearestCentroid } from '../cluster';
import { TypedError } from '../errors';
import type { RouteEvalReport, RouterCurvePoint } from '../../schemas/generated/types';
import { aiq, type CostQuality } from './aiq';
import type { ScoreMatrix, ScoredPrompt } from './score-matrix';
import { seededRandom } from './score-matrix';
import { rankCandidates, type RoutingCandidate } from './select';

export interface RouterFitOptions {
  clusters: number;
  seed: number;
  /** Most tolerance values swept (every distinct decision threshold when there are fewer). */
  maxKnobs?: number;
}

const RANDOM_MIX_STEPS = 10;

/** `vectors[i]` embeds `matrix.prompts[i].prompt`. */
export function evaluateRouter(matrix: ScoreMatrix, vectors: readonly Float32Array[], options: RouterFitOptions): Omit<RouteEvalReport, 'embedding_model'> {
  const train = matrix.prompts.flatMap((p, i) => (p.split === 'train' ? [i] : []));
  const test = matrix.prompts.flatMap((p, i) => (p.split === 'test' ? [i] : []));
  if (train.length === 0 || test.length === 0) {
    throw new TypedError('InvalidRequest', `route-eval needs prompts in both splits (train ${train.length}, test ${test.length})`);
  }
  const k = Math.min(options.clusters, train.length);
  const { centroids, assignments } = kmeans(
    train.map((i) => vectors[i]!),
    { k, seed: options.seed },
  );
  const candidates = clusterCandidates(matrix, train, assignments, k);
  const testPrompts = test.map((i) => matrix.prompts[i]!);
  const testClusters = test.map((i) => nearestCentroid(vectors[i]!, centroids));

  const singleModels = matrix.models.map((model) => ({ model, ...totals(testPrompts, () => model) }));
  const routerCurve: RouterCurvePoint[] = toleranceKnobs(candidates, options.maxKnobs ?? 101).map((knob) => {
    const picks = candidates.map((c) => rankCandidates(c, { tolerance: knob })!.model_id);
    return { knob, ...totals(testPrompts, (_, j) => picks[testClusters[j]!]!) };
  });

  const costs = singleModels.map((m) => m.cost);
  const [costMin, costMax] = [Math.min(...costs), Math.max(...costs)];
  const bestSingle = Math.max(...singleModels.map((m) => m.quality));
  const affordable = routerCurve.filter((p) => p.quality >= 0.95 * bestSingle).map((p) => p.cost);
  return {
    n_train: train.length,
    n_test: test.length,
    n_clusters: k,
    seed: options.seed,
    rejected_rows: matrix.rejected.length,
    single_models: singleModels,
    oracle: totals(testPrompts, oracleChoice),
    random: randomMixes(testPrompts, singleModels, options.seed),
    router_curve: routerCurve,
    aiq: { router: aiq(routerCurve, costMin, costMax), zero_router: aiq(singleModels, costMin, costMax) },
    cost_at_95pct_best_quality: affordable.length ? Math.min(...affordable) : null,
  };
}

/** Mean train score and cost of every model per cluster; a cluster without train prompts uses all of them. */
function clusterCandidates(matrix: ScoreMatrix, train: readonly number[], assignments: readonly number[], k: number): RoutingCandidate[][] {
  const members: ScoredPrompt[][] = Array.from({ length: k }, () => []);
  train.forEach((promptIndex, j) => members[assignments[j]!]!.push(matrix.prompts[promptIndex]!));
  const allTrain = train.map((i) => matrix.prompts[i]!);
  return members.map((prompts) => {
    const sample = prompts.length ? prompts : allTrain;
    return matrix.models.map((model_id) => ({
      model_id,
      quality: mean(sample.map((p) => p.scores[model_id]!)),
      cost_per_request: mean(sample.map((p) => p.costs[model_id]!)),
      latency_ms_p95: 0,
    }));
  });
}

/**
 * Tolerances at which some cluster's choice changes (each model's gap to its cluster's best),
 * thinned to at most `max` evenly spaced ones; 0 (best model everywhere) is always included.
 */
function toleranceKnobs(candidates: readonly RoutingCandidate[][], max: number): number[] {
  const gaps = new Set<number>([0]);
  for (const cluster of candidates) {
    const best = Math.max(...cluster.map((c) => c.quality));
    for (const c of cluster) gaps.add(best - c.quality);
  }
  const sorted = [...gaps].sort((a, b) => a - b);
  if (sorted.length <= max) return sorted;
  return Array.from({ length: max }, (_, i) => sorted[Math.round((i * (sorted.length - 1)) / (max - 1))]!);
}

function totals(prompts: readonly ScoredPrompt[], choose: (prompt: ScoredPrompt, index: number) => string): CostQuality {
  let quality = 0;
  let cost = 0;
  prompts.forEach((prompt, index) => {
    const model = choose(prompt, index);
    quality += prompt.scores[model]!;
    cost += prompt.costs[model]!;
  });
  return { quality: quality / prompts.length, cost };
}

/** The cheapest of the models that score best on this prompt. */
function oracleChoice(prompt: ScoredPrompt): string {
  const models = Object.keys(prompt.scores);
  const best = Math.max(...models.map((m) => prompt.scores[m]!));
  return models.filter((m) => prompt.scores[m] === best).sort((a, b) => prompt.costs[a]! - prompt.costs[b]!)[0]!;
}

/** Each prompt goes to the best single model with probability p, else to the cheapest: p = 0, 0.1, ..., 1. */
function randomMixes(prompts: readonly ScoredPrompt[], singles: readonly { model: string; quality: number; cost: number }[], seed: number): CostQuality[] {
  const cheapest = [...singles].sort((a, b) => a.cost - b.cost)[0]!.model;
  const best = [...singles].sort((a, b) => b.quality - a.quality)[0]!.model;
  const random = seededRandom(seed);
  return Array.from({ length: RANDOM_MIX_STEPS + 1 }, (_, step) => totals(prompts, () => (random() < step / RANDOM_MIX_STEPS ? best : cheapest)));
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
