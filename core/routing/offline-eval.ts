/**
 * Offline router evaluation (`llmloop route-eval`): every router family predicts each test prompt's
 * score on every model (trainers/router_predictors.py), the selection rule (`rankCandidates`) turns
 * the predictions into a choice per prompt while the tolerance is swept, and the resulting
 * quality-cost curves are compared with every single model, random mixing and the oracle.
 * The router is chosen on a validation split carved from train, never on test.
 * Quality = mean score over the prompts; cost = total over the prompts.
 */
import { TypedError } from '../errors';
import type { RouteEvalReport, RouterCurvePoint, RouterEvaluation } from '../../schemas/generated/types';
import { aiq, type CostQuality } from './aiq';
import type { ScoreMatrix, ScoredPrompt } from './score-matrix';
import { seededRandom } from './score-matrix';
import { rankCandidates, type RoutingCandidate } from './select';

/** Families from the simplest to the most complex: on a validation tie the simpler one serves. */
export const ROUTER_FAMILIES = ['clusters', 'knn', 'mf', 'mlp', 'blend'] as const;

/** Prompt indices (into `matrix.prompts`) of the three splits. */
export interface RouteEvalSplits {
  fit: number[];
  validation: number[];
  test: number[];
}

/** One family's predicted scores, row-major prompts x `matrix.models`. */
export interface FamilyPredictions {
  family: string;
  config: Record<string, unknown>;
  validation_brier: number;
  /** Fitted on `fit`, predicting `validation`. */
  validation: Float32Array;
  /** Refitted on fit + validation, predicting `test`. */
  test: Float32Array;
}

export interface RouteEvalOptions {
  seed: number;
  /** Most tolerance values swept (every distinct per-prompt gap when there are fewer). */
  maxKnobs?: number;
  /** Bootstrap resamples of the validation split for the standard error of AIQ differences. */
  bootstrap?: number;
}

const RANDOM_MIX_STEPS = 10;
const VALIDATION_FRACTION = 0.2;

/**
 * Seeded 80/20 split of the train prompts into the part predictors are fitted on and the part
 * that chooses configurations and the router. Each side keeps at least one prompt when train has two.
 */
export function carveValidation(train: readonly number[], seed: number): { fit: number[]; validation: number[] } {
  const random = seededRandom(seed ^ 0x5eed);
  const fit: number[] = [];
  const validation: number[] = [];
  for (const i of train) (random() < VALIDATION_FRACTION ? validation : fit).push(i);
  if (validation.length === 0 && fit.length > 1) validation.push(fit.pop()!);
  if (fit.length === 0 && validation.length > 1) fit.push(validation.pop()!);
  return { fit, validation };
}

export function splitsOf(matrix: ScoreMatrix, seed: number): RouteEvalSplits {
  const train = matrix.prompts.flatMap((p, i) => (p.split === 'train' ? [i] : []));
  const test = matrix.prompts.flatMap((p, i) => (p.split === 'test' ? [i] : []));
  const splits = { ...carveValidation(train, seed), test };
  if (splits.fit.length === 0 || splits.validation.length === 0 || test.length === 0) {
    throw new TypedError('InvalidRequest', `route-eval needs at least two train prompts and one test prompt (train ${train.length}, test ${test.length})`);
  }
  return splits;
}

/**
 * Per prompt and tolerance knob, the model the selection rule picks from the predicted scores:
 * `choices[k][j]` = model index for knob k and prompt j. Each prompt's choice only changes at its
 * own gaps (best prediction minus each model's), so `rankCandidates` runs once per distinct gap.
 */
function choicesPerKnob(predicted: Float32Array, nPrompts: number, models: readonly string[], modelCosts: readonly number[], knobs: readonly number[]): Uint16Array[] {
  const m = models.length;
  const choices = knobs.map(() => new Uint16Array(nPrompts));
  const modelIndex = new Map(models.map((id, i) => [id, i]));
  for (let j = 0; j < nPrompts; j++) {
    const candidates: RoutingCandidate[] = models.map((model_id, i) => ({
      model_id,
      quality: predicted[j * m + i]!,
      cost_per_request: modelCosts[i]!,
      latency_ms_p95: 0,
    }));
    const best = Math.max(...candidates.map((c) => c.quality));
    const gaps = [...new Set(candidates.map((c) => best - c.quality))].sort((a, b) => a - b);
    const picks = gaps.map((tolerance) => modelIndex.get(rankCandidates(candidates, { tolerance })!.model_id)!);
    let g = 0;
    knobs.forEach((knob, k) => {
      while (g + 1 < gaps.length && gaps[g + 1]! <= knob) g++;
      choices[k]![j] = picks[g]!;
    });
  }
  return choices;
}

/** Tolerances where some prompt's choice can change, thinned to at most `max` quantiles; 0 always. */
function toleranceKnobs(predicted: Float32Array, m: number, max: number): number[] {
  const gaps = new Set<number>([0]);
  for (let j = 0; j * m < predicted.length; j++) {
    const row = predicted.subarray(j * m, (j + 1) * m);
    const best = Math.max(...row);
    for (const q of row) gaps.add(best - q);
  }
  const sorted = [...gaps].sort((a, b) => a - b);
  if (sorted.length <= max) return sorted;
  return Array.from({ length: max }, (_, i) => sorted[Math.round((i * (sorted.length - 1)) / (max - 1))]!);
}

interface SplitCurve {
  knobs: number[];
  choices: Uint16Array[];
}

/** A split's scores and costs as row-major prompts x models arrays, indexed by the choices. */
interface SplitData {
  n: number;
  m: number;
  scores: Float64Array;
  costs: Float64Array;
}

function splitData(prompts: readonly ScoredPrompt[], models: readonly string[]): SplitData {
  const m = models.length;
  const scores = new Float64Array(prompts.length * m);
  const costs = new Float64Array(prompts.length * m);
  prompts.forEach((p, j) =>
    models.forEach((model, i) => {
      scores[j * m + i] = p.scores[model]!;
      costs[j * m + i] = p.costs[model]!;
    }),
  );
  return { n: prompts.length, m, scores, costs };
}

/** Quality (mean) and cost (total) of each knob's choices over `sample` (prompt positions; all when absent). */
function curveOf(curve: SplitCurve, data: SplitData, sample?: Int32Array): RouterCurvePoint[] {
  const count = sample ? sample.length : data.n;
  return curve.knobs.map((knob, k) => {
    const choice = curve.choices[k]!;
    let quality = 0;
    let cost = 0;
    for (let s = 0; s < count; s++) {
      const j = sample ? sample[s]! : s;
      const cell = j * data.m + choice[j]!;
      quality += data.scores[cell]!;
      cost += data.costs[cell]!;
    }
    return { knob, quality: quality / count, cost };
  });
}

function singleModelRange(data: SplitData, sample?: Int32Array): [number, number] {
  const count = sample ? sample.length : data.n;
  const costs = Array.from({ length: data.m }, (_, i) => {
    let total = 0;
    for (let s = 0; s < count; s++) total += data.costs[(sample ? sample[s]! : s) * data.m + i]!;
    return total;
  });
  return [Math.min(...costs), Math.max(...costs)];
}

export function evaluateRouters(matrix: ScoreMatrix, splits: RouteEvalSplits, families: readonly FamilyPredictions[], options: RouteEvalOptions): Omit<RouteEvalReport, 'embedding_model'> {
  const { models } = matrix;
  const maxKnobs = options.maxKnobs ?? 101;
  const pick = (indices: readonly number[]) => indices.map((i) => matrix.prompts[i]!);
  const [validationPrompts, testPrompts] = [pick(splits.validation), pick(splits.test)];
  const meanCosts = (indices: readonly number[]) => models.map((model) => mean(indices.map((i) => matrix.prompts[i]!.costs[model]!)));
  // What the router may know of prices: train means (the fit part alone when choosing).
  const fitCosts = meanCosts(splits.fit);
  const trainCosts = meanCosts([...splits.fit, ...splits.validation]);
  const curve = (predicted: Float32Array, n: number, costs: number[]): SplitCurve => {
    const knobs = toleranceKnobs(predicted, models.length, maxKnobs);
    return {
      knobs,
      choices: choicesPerKnob(predicted, n, models, costs, knobs),
    };
  };

  const [validationData, testData] = [splitData(validationPrompts, models), splitData(testPrompts, models)];
  const [validationMin, validationMax] = singleModelRange(validationData);
  const [testMin, testMax] = singleModelRange(testData);
  const singleModels = models.map((model) => ({
    model,
    ...totals(testPrompts, () => model),
  }));
  const bestSingle = Math.max(...singleModels.map((m) => m.quality));
  const ordered = [...families].sort((a, b) => familyRank(a.family) - familyRank(b.family));

  const evaluated = ordered.map((f) => {
    const validationCurve = curve(f.validation, validationPrompts.length, fitCosts);
    const testCurve = curveOf(curve(f.test, testPrompts.length, trainCosts), testData);
    return {
      family: f,
      validationCurve,
      validationAiq: aiq(curveOf(validationCurve, validationData), validationMin, validationMax),
      testCurve,
    };
  });
  const best = evaluated.reduce((a, b) => (b.validationAiq > a.validationAiq ? b : a));
  const standardErrors = pairedStandardErrors(evaluated, best, validationData, options);
  const chosen = evaluated.find((e, i) => best.validationAiq - e.validationAiq <= standardErrors[i]!)!;
  const reason =
    chosen === best
      ? `it has the highest validation AIQ (${fmt(best.validationAiq)}, ${splits.validation.length} validation prompts)`
      : `its validation AIQ ${fmt(chosen.validationAiq)} is within one paired-bootstrap standard error (${fmt(standardErrors[evaluated.indexOf(chosen)]!)}) of the best, ${best.family.family} (${fmt(best.validationAiq)}), and it is the simpler router (${splits.validation.length} validation prompts)`;

  const routers: RouterEvaluation[] = evaluated.map((e, i) => ({
    name: e.family.family,
    config: e.family.config,
    validation_brier: e.family.validation_brier,
    validation_aiq: e.validationAiq,
    ...(e === best ? {} : { validation_aiq_se: standardErrors[i]! }),
    aiq: aiq(e.testCurve, testMin, testMax),
    curve: e.testCurve,
    cost_at_95pct_best_quality: costAtShare(e.testCurve, 0.95 * bestSingle),
  }));
  const chosenReport = routers[evaluated.indexOf(chosen)]!;
  const clusters = ordered.find((f) => f.family === 'clusters')?.config.k;
  return {
    n_train: splits.fit.length + splits.validation.length,
    n_validation: splits.validation.length,
    n_test: splits.test.length,
    ...(typeof clusters === 'number' ? { n_clusters: clusters } : {}),
    seed: options.seed,
    rejected_rows: matrix.rejected.length,
    single_models: singleModels,
    oracle: totals(testPrompts, oracleChoice),
    random: randomMixes(testPrompts, singleModels, options.seed),
    routers,
    chosen_router: { name: chosenReport.name, reason },
    router_curve: chosenReport.curve,
    aiq: {
      router: chosenReport.aiq,
      zero_router: aiq(singleModels, testMin, testMax),
    },
    cost_at_95pct_best_quality: chosenReport.cost_at_95pct_best_quality,
  };
}

function familyRank(family: string): number {
  const rank = (ROUTER_FAMILIES as readonly string[]).indexOf(family);
  return rank < 0 ? ROUTER_FAMILIES.length : rank;
}

/**
 * Standard error of (best validation AIQ - each router's) over bootstrap resamples of the
 * validation prompts, the same resample for both routers (paired), so a difference the validation
 * split cannot tell from noise lets the simpler router serve. With few prompts that is the
 * per-cluster router: the small-data fallback follows from the data, not from a threshold.
 */
function pairedStandardErrors(evaluated: readonly { validationCurve: SplitCurve }[], best: { validationCurve: SplitCurve }, data: SplitData, options: RouteEvalOptions): number[] {
  const resamples = options.bootstrap ?? 200;
  const random = seededRandom(options.seed ^ 0xb007);
  const differences = evaluated.map(() => [] as number[]);
  for (let b = 0; b < resamples; b++) {
    const sample = Int32Array.from({ length: data.n }, () => Math.floor(random() * data.n));
    const [low, high] = singleModelRange(data, sample);
    const bestAiq = aiq(curveOf(best.validationCurve, data, sample), low, high);
    evaluated.forEach((e, i) => differences[i]!.push(e === best ? 0 : bestAiq - aiq(curveOf(e.validationCurve, data, sample), low, high)));
  }
  return differences.map(standardDeviation);
}

function costAtShare(curve: readonly CostQuality[], quality: number): number | null {
  const affordable = curve.filter((p) => p.quality >= quality).map((p) => p.cost);
  return affordable.length ? Math.min(...affordable) : null;
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

function standardDeviation(values: readonly number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, v) => sum + (v - m) ** 2, 0) / Math.max(values.length - 1, 1));
}

function fmt(value: number): string {
  return value.toFixed(4);
}
