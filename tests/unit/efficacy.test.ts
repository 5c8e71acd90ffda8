import { renderEfficacyHtml } from '../../core/efficacy/html';
import { extremeModel } from '../../core/efficacy/measure';
import { gatewaySelection, oracleChoice, replayRouting, type OutcomeMatrix } from '../../core/efficacy/replay';
import { schemaProblems } from '../../core/schemas';
import type { EfficacyReport, PerfModel, RoutingTable } from '../../schemas/generated/types';

/** Two clusters on the axes: "small" is good enough on cluster 0, only "large" on cluster 1. */
const TABLE: RoutingTable = {
  version: 'rt-test',
  created_at: '2026-12-06T00:00:00Z',
  perf_index_version: 'pi-test',
  embedding_model: 'm',
  defaults: { tolerance: 0.05 },
  clusters: [
    {
      id: 0,
      label: 'easy',
      size: 2,
      centroid: [1, 0],
      candidates: [
        { model_id: 'small', quality: 0.8, cost_per_request: 1, latency_ms_p95: 1 },
        { model_id: 'large', quality: 0.82, cost_per_request: 3, latency_ms_p95: 1 },
      ],
      ranked: ['small', 'large'],
    },
    {
      id: 1,
      label: 'hard',
      size: 2,
      centroid: [0, 1],
      candidates: [
        { model_id: 'small', quality: 0.2, cost_per_request: 1, latency_ms_p95: 1 },
        { model_id: 'large', quality: 0.9, cost_per_request: 3, latency_ms_p95: 1 },
      ],
      ranked: ['large', 'small'],
    },
  ],
};

const OUTCOMES: OutcomeMatrix = new Map([
  ['small', [{ quality: 1, cost: 1 }, { quality: 0, cost: 1 }, { quality: 0.5, cost: 1 }]],
  ['large', [{ quality: 1, cost: 3 }, { quality: 1, cost: 3 }, { quality: 0.25, cost: 3 }]],
]);

describe('efficacy replay', () => {
  it('selects as the gateway does: nearest centroid, cheapest within tolerance under the table defaults', () => {
    expect(gatewaySelection(TABLE, [0.9, 0.1])!.model_id).toBe('small');
    expect(gatewaySelection(TABLE, [0.1, 0.9])!.model_id).toBe('large');
    expect(gatewaySelection({ ...TABLE, defaults: { tolerance: 0 } }, [0.9, 0.1])!.model_id).toBe('large');
  });

  it('scores each request with the chosen model on that very sample; costs are totals, qualities means', () => {
    const { routing, choices } = replayRouting({ table: TABLE, vectors: [[1, 0], [0, 1], [1, 0]], outcomes: OUTCOMES, routable: ['small', 'large'], smallest: 'small', largest: 'large' });
    expect(choices).toEqual(['small', 'large', 'small']);
    expect(routing.routed).toEqual({ quality: (1 + 1 + 0.5) / 3, cost: 5 });
    expect(routing.always_smallest).toEqual({ name: 'small', quality: 0.5, cost: 3 });
    expect(routing.always_largest).toEqual({ name: 'large', quality: 0.75, cost: 9 });
    expect(routing.oracle).toEqual({ quality: (1 + 1 + 0.5) / 3, cost: 1 + 3 + 1 });
    expect(routing.choices).toEqual({ small: 2, large: 1 });
  });

  it('the oracle takes the cheapest of the best on each sample', () => {
    expect(oracleChoice(OUTCOMES, ['large', 'small'], 0)).toBe('small');
    expect(oracleChoice(OUTCOMES, ['large', 'small'], 1)).toBe('large');
  });
});

describe('always-smallest and always-largest', () => {
  const adapter = { sha256: 'a'.repeat(64), bytes: 1, media_type: 'application/x-llmloop-tree' };
  const models: PerfModel[] = [
    { model_id: 'smollm2-135m', base_model: 'smollm2-135m', cost_per_1k_tokens: 1 },
    { model_id: 'smollm2-135m+lora', base_model: 'smollm2-135m', cost_per_1k_tokens: 1, adapter },
    { model_id: 'gemma3-270m', base_model: 'gemma3-270m', cost_per_1k_tokens: 3 },
    { model_id: 'gemma3-270m+lora', base_model: 'gemma3-270m', cost_per_1k_tokens: 3, adapter },
  ];

  it('picks by catalog size, preferring the admitted adapter of that size, else its base', () => {
    const everyone = new Set(models.map((m) => m.model_id));
    expect(extremeModel(models, everyone, Math.max).model_id).toBe('gemma3-270m+lora');
    expect(extremeModel(models, everyone, Math.min).model_id).toBe('smollm2-135m+lora');
    const gemmaAdapterFailed = new Set(['smollm2-135m', 'smollm2-135m+lora', 'gemma3-270m']);
    expect(extremeModel(models, gemmaAdapterFailed, Math.max).model_id).toBe('gemma3-270m');
  });
});

describe('efficacy.html', () => {
  const report: EfficacyReport = {
    n_test: 3,
    test_documents: ['<b>doc</b>.pdf'],
    wall_seconds: 12,
    candidates: [
      { name: 'base', base_model: 'smollm2-135m', adapter: false, cost_per_1k_tokens: 0.1, quality: { mean: 0.5, ci_low: 0.4, ci_high: 0.6, n: 3 }, by_task_type: { summary: { mean: 0.5, n: 3 } }, cost: 3 },
      { name: 'tuned', base_model: 'smollm2-135m', adapter: true, cost_per_1k_tokens: 0.1, quality: { mean: 0.4, ci_low: 0.3, ci_high: 0.5, n: 3 }, by_task_type: { summary: { mean: 0.4, n: 3 } }, cost: 3, champion_gate: 'failed' },
    ],
    gains: [{ base_model: 'smollm2-135m', tuned: 'tuned', delta: { mean: -0.1, ci_low: -0.2, ci_high: 0, n: 3 } }],
    routing: {
      always_largest: { name: 'base', quality: 0.5, cost: 3 },
      always_smallest: { name: 'base', quality: 0.5, cost: 3 },
      routed: { quality: 0.5, cost: 3 },
      oracle: { quality: 0.6, cost: 3 },
    },
  };

  it('leads with the verdict, shows a worse tuned model in red, and escapes text', () => {
    expect(schemaProblems('EfficacyReport', report)).toEqual([]);
    const html = renderEfficacyHtml(report);
    expect(html.indexOf('Verdict')).toBeLessThan(html.indexOf('Candidates on the test split'));
    expect(html).toMatch(/<li style="color:#b00020">.*-10\.0.*tuning made it worse/);
    expect(html).toContain('&#60;b&#62;doc&#60;/b&#62;.pdf');
    expect(html).not.toContain('<b>doc</b>');
    expect(html).toContain('<svg');
  });
});
