import { championGateVerdict } from '../../../core/routing/champion-gate';
import { minCostBestPerfModel } from '../../../core/routing/select';
import { buildRoutingTable, evaluateTable } from '../../../core/routing/table';
import { assemblePerfIndex, perfIndexTable } from '../../../core/cluster/perf-index';
import { schemaProblems } from '../../../core/schemas';
import type { PerfIndex, PerfModel } from '../../../schemas/generated/types';
import { perfIndex } from './fixtures';

const ADAPTER = { sha256: 'a'.repeat(64), bytes: 10, media_type: 'application/vnd.llmloop.tree+json' };
const estimate = (mean: number) => ({ mean, ci_low: mean - 0.05, ci_high: mean + 0.05, n: 32 });

/**
 * One cluster; the adapter is cheaper and better on the test cells than its base, so without the
 * gate it would be the router's pick. Validation qualities decide whether it may be picked at all.
 */
function indexWith(adapterValidation: number | null, baseValidation: number | null = 0.3): PerfIndex {
  const index = perfIndex({ 0: { base: { quality: 0.4, cost: 0.01 }, 'base+lora': { quality: 0.6, cost: 0.005 }, other: { quality: 0.2, cost: 0.02 } } });
  const models: Record<string, PerfModel> = {
    base: { model_id: 'base', base_model: 'smollm2-135m', cost_per_1k_tokens: 0.001, ...(baseValidation === null ? {} : { validation_quality: estimate(baseValidation) }) },
    'base+lora': { model_id: 'base+lora', base_model: 'smollm2-135m', adapter: ADAPTER, cost_per_1k_tokens: 0.001, ...(adapterValidation === null ? {} : { validation_quality: estimate(adapterValidation) }) },
    other: { model_id: 'other', base_model: 'other', cost_per_1k_tokens: 0.002 },
  };
  return { ...index, models: index.models.map((m) => models[m.model_id]!) };
}

describe('adapter champion gate', () => {
  it('routes to an adapter that beat its base on the validation split', () => {
    const index = indexWith(0.35);
    expect(championGateVerdict(index.models.find((m) => m.adapter)!, index.models)).toMatchObject({ passed: true, base_model_id: 'base', validation_quality: 0.35, base_validation_quality: 0.3 });
    expect(minCostBestPerfModel(0, index).model_id).toBe('base+lora');
    const table = buildRoutingTable(index, {}, { createdAt: '2026-12-06T00:00:00Z' });
    expect(table.excluded_models).toBeUndefined();
  });

  it('never routes to an adapter that is not better than its base, and the table says why', () => {
    for (const index of [indexWith(0.3), indexWith(0.25)]) {
      const selection = minCostBestPerfModel(0, index, { tolerance: 1 });
      expect(selection.model_id).toBe('base');
      expect(selection.ranked).not.toContain('base+lora');
      const table = buildRoutingTable(index, { tolerance: 1 }, { createdAt: '2026-12-06T00:00:00Z' });
      expect(schemaProblems('RoutingTable', table)).toEqual([]);
      expect(table.clusters[0]!.candidates.map((c) => c.model_id)).toEqual(['base', 'other']);
      expect(table.excluded_models).toEqual([{ model_id: 'base+lora', reason: expect.stringMatching(/validation quality 0\.\d+ .* is not above base base's 0\.300/) }]);
      expect(evaluateTable(table, index)!.quality).toBeCloseTo(0.4, 10);
    }
  });

  it('fails an adapter that cannot show it is better: no validation numbers, or no evaluated base', () => {
    expect(championGateVerdict(indexWith(null).models[1]!, indexWith(null).models)).toMatchObject({ passed: false, reason: expect.stringContaining('no validation-split quality') });
    expect(championGateVerdict(indexWith(0.9, null).models[1]!, indexWith(0.9, null).models)).toMatchObject({ passed: false, reason: expect.stringContaining('base model base has no validation-split quality') });
    const orphan = indexWith(0.9).models.filter((m) => m.model_id !== 'base');
    expect(championGateVerdict(orphan.find((m) => m.adapter)!, orphan)).toMatchObject({ passed: false, reason: expect.stringContaining('base model smollm2-135m was not evaluated') });
  });

  it('is recorded on the adapter in the assembled perf index and shown by index show', () => {
    const source = indexWith(0.2);
    const index = assemblePerfIndex({
      version: 'pi-gate',
      createdAt: '2026-12-06T00:00:00Z',
      evalRun: 'test',
      dataset: ADAPTER,
      embeddingModel: source.embedding_model,
      clusters: source.clusters,
      clustering: { algorithm: 'kmeans', k: 1, seed: 1, silhouette: null },
      evaluations: source.models.map((model) => ({ model, cells: source.cells.filter((c) => c.model_id === model.model_id), samples: ADAPTER })),
      failures: [],
    });
    expect(schemaProblems('PerfIndex', index)).toEqual([]);
    expect(index.models.find((m) => m.model_id === 'base')!.champion_gate).toBeUndefined();
    expect(index.models.find((m) => m.model_id === 'base+lora')!.champion_gate).toMatchObject({ passed: false, validation_quality: 0.2, base_validation_quality: 0.3 });
    expect(perfIndexTable(index)).toContain('champion gate FAILED (never routed): base+lora: validation quality 0.200');
  });
});
