import { carveValidation, evaluateRouters, type FamilyPredictions, type RouteEvalSplits } from '../../../core/routing/offline-eval';
import type { ScoredPrompt, ScoreMatrix } from '../../../core/routing/score-matrix';
import { schemaProblems } from '../../../core/schemas';

/**
 * Two topics: on "math" only the expensive model is right, on "chat" both are. A router that knows
 * the topic of each prompt sends chat to the cheap model and keeps math on the big one.
 */
function twoTopicMatrix(n: number): ScoreMatrix {
  const prompts: ScoredPrompt[] = Array.from({ length: n }, (_, i) => ({
    id: String(i),
    prompt: `${i % 2 === 0 ? 'math' : 'chat'} ${i}`,
    group: i % 2 === 0 ? 'math' : 'chat',
    split: i % 10 < 7 ? 'train' : 'test',
    scores: { big: 1, small: i % 2 === 0 ? 0 : 1 },
    costs: { big: 10, small: 1 },
  }));
  return { models: ['big', 'small'], prompts, rejected: [] };
}

/** Predictions (big, small) per prompt of the given split. */
function predictions(matrix: ScoreMatrix, indices: readonly number[], predict: (prompt: ScoredPrompt) => [number, number]): Float32Array {
  return Float32Array.from(indices.flatMap((i) => predict(matrix.prompts[i]!)));
}

function family(name: string, matrix: ScoreMatrix, splits: RouteEvalSplits, onValidation: (p: ScoredPrompt) => [number, number], onTest = onValidation): FamilyPredictions {
  return {
    family: name,
    config: {},
    validation_brier: 0,
    validation: predictions(matrix, splits.validation, onValidation),
    test: predictions(matrix, splits.test, onTest),
  };
}

const knowsTopic = (p: ScoredPrompt): [number, number] => [1, p.group === 'math' ? 0 : 1];
const topicBlind = (): [number, number] => [1, 0.5];

describe('offline router evaluation', () => {
  const matrix = twoTopicMatrix(400);
  const train = matrix.prompts.flatMap((p, i) => (p.split === 'train' ? [i] : []));
  const splits: RouteEvalSplits = {
    ...carveValidation(train, 1),
    test: matrix.prompts.flatMap((p, i) => (p.split === 'test' ? [i] : [])),
  };

  it('carves a seeded fifth of train for validation, disjoint from what predictors are fitted on', () => {
    expect(carveValidation(train, 1)).toEqual(carveValidation(train, 1));
    expect(new Set([...splits.fit, ...splits.validation])).toEqual(new Set(train));
    expect(splits.fit.length + splits.validation.length).toBe(train.length);
    expect(splits.validation.length / train.length).toBeGreaterThan(0.1);
    expect(splits.validation.length / train.length).toBeLessThan(0.3);
    expect(carveValidation([7, 8], 0).fit).toHaveLength(1);
  });

  const report = evaluateRouters(matrix, splits, [family('knn', matrix, splits, knowsTopic), family('clusters', matrix, splits, topicBlind)], { seed: 1 });

  it('writes a schema-valid report with every router on the same test split, simplest first', () => {
    expect(schemaProblems('RouteEvalReport', { ...report, embedding_model: 'test' })).toEqual([]);
    expect(report).toMatchObject({
      n_train: 280,
      n_validation: splits.validation.length,
      n_test: 120,
    });
    expect(report.routers!.map((r) => r.name)).toEqual(['clusters', 'knn']);
  });

  it('reports single models, the oracle and the random mixes on the test split', () => {
    expect(report.single_models).toEqual([
      { model: 'big', quality: 1, cost: 1200 },
      { model: 'small', quality: 2 / 3, cost: 120 },
    ]);
    // The test split holds 40 math and 80 chat prompts.
    expect(report.oracle).toEqual({ quality: 1, cost: 40 * 10 + 80 * 1 });
    expect(report.random[0]).toEqual({ quality: 2 / 3, cost: 120 });
    expect(report.random[report.random.length - 1]).toEqual({
      quality: 1,
      cost: 1200,
    });
  });

  it('routes each prompt by its own predictions: the topic-aware router reaches the oracle, the blind one only the single models', () => {
    const knn = report.routers!.find((r) => r.name === 'knn')!;
    expect(knn.curve[0]).toEqual({ knob: 0, quality: 1, cost: 480 });
    expect(knn.cost_at_95pct_best_quality).toBe(480);
    // Tolerance 0 keeps everything on big; past the 0.5 gap everything goes to small.
    const clusters = report.routers!.find((r) => r.name === 'clusters')!;
    expect(clusters.curve.map((p) => [p.knob, p.cost])).toEqual([
      [0, 1200],
      [0.5, 120],
    ]);
    expect(knn.aiq).toBeGreaterThan(clusters.aiq);
    expect(report.chosen_router!.name).toBe('knn');
    expect(report.chosen_router!.reason).toMatch(/highest validation AIQ/);
    expect(report.router_curve).toEqual(knn.curve);
    expect(report.aiq.router).toBe(knn.aiq);
  });

  it('chooses on validation, never on test', () => {
    // "mlp" is blind on validation but perfect on test: test AIQ would pick it, validation must not.
    const lucky = family('mlp', matrix, splits, topicBlind, knowsTopic);
    const chosen = evaluateRouters(matrix, splits, [family('clusters', matrix, splits, topicBlind), lucky], { seed: 1 });
    const mlp = chosen.routers!.find((r) => r.name === 'mlp')!;
    expect(mlp.aiq).toBeGreaterThan(chosen.routers!.find((r) => r.name === 'clusters')!.aiq);
    expect(chosen.chosen_router!.name).toBe('clusters');
  });

  it('falls back to the simpler router when validation cannot tell them apart (small data)', () => {
    // A tiny validation split where knn routes two math prompts better than clusters and one worse: a
    // net gain of one prompt, which resampling six prompts cannot tell from noise.
    const small = twoTopicMatrix(40);
    const smallSplits: RouteEvalSplits = {
      fit: [0, 1, 2, 3, 4, 5, 6, 7],
      validation: [10, 11, 12, 13, 14, 15],
      test: [20, 21, 22, 23],
    };
    const almost = (p: ScoredPrompt): [number, number] => (p.id === '10' || p.id === '12' ? [1, 0] : p.id === '14' ? [0.4, 1] : topicBlind());
    const result = evaluateRouters(small, smallSplits, [family('knn', small, smallSplits, almost), family('clusters', small, smallSplits, topicBlind)], { seed: 0 });
    const [clusters, knn] = result.routers!;
    expect(knn!.validation_aiq).toBeGreaterThan(clusters!.validation_aiq);
    expect(result.chosen_router!.name).toBe('clusters');
    expect(result.chosen_router!.reason).toMatch(/within one paired-bootstrap standard error/);
  });
});
