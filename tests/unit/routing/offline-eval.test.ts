import { evaluateRouter } from '../../../core/routing/offline-eval';
import type { ScoredPrompt, ScoreMatrix } from '../../../core/routing/score-matrix';
import { schemaProblems } from '../../../core/schemas';

/**
 * Two well separated topics: on "math" only the expensive model is right, on "chat" both are.
 * A content-aware router should send chat to the cheap model and keep math on the big one.
 */
function twoTopicMatrix(): { matrix: ScoreMatrix; vectors: Float32Array[] } {
  const prompts: ScoredPrompt[] = [];
  const vectors: Float32Array[] = [];
  for (let i = 0; i < 200; i++) {
    const math = i % 2 === 0;
    prompts.push({
      id: String(i),
      prompt: `${math ? 'math' : 'chat'} ${i}`,
      group: math ? 'math' : 'chat',
      split: i % 10 < 7 ? 'train' : 'test',
      scores: { big: 1, small: math ? 0 : 1 },
      costs: { big: 10, small: 1 },
    });
    const jitter = (i % 7) / 100;
    vectors.push(Float32Array.from(math ? [1, jitter, 0] : [jitter, 1, 0]));
  }
  return { matrix: { models: ['big', 'small'], prompts, rejected: [] }, vectors };
}

describe('offline router evaluation', () => {
  const { matrix, vectors } = twoTopicMatrix();
  const report = evaluateRouter(matrix, vectors, { clusters: 2, seed: 1 });

  it('writes a schema-valid report over the given splits', () => {
    expect(schemaProblems('RouteEvalReport', { ...report, embedding_model: 'test' })).toEqual([]);
    expect(report).toMatchObject({ n_train: 140, n_test: 60, n_clusters: 2 });
  });

  it('reports single models, the oracle and the random mixes on the test split', () => {
    expect(report.single_models).toEqual([
      { model: 'big', quality: 1, cost: 600 },
      { model: 'small', quality: 40 / 60, cost: 60 },
    ]);
    // The test split holds 20 math and 40 chat prompts.
    expect(report.oracle).toEqual({ quality: 1, cost: 20 * 10 + 40 * 1 });
    expect(report.random[0]).toEqual({ quality: 40 / 60, cost: 60 });
    expect(report.random[report.random.length - 1]).toEqual({ quality: 1, cost: 600 });
  });

  it('finds the oracle on separable topics: best quality at a fraction of the cost, and a higher AIQ', () => {
    expect(report.router_curve[0]).toEqual({ knob: 0, quality: 1, cost: 240 });
    expect(report.router_curve.map((p) => p.knob)).toEqual([0, 1]);
    expect(report.cost_at_95pct_best_quality).toBe(240);
    expect(report.aiq.router).toBeGreaterThan(report.aiq.zero_router);
  });
});
