/** Hand-made perf indices for routing tests: every number chosen so the expected pick is obvious. */
import type { PerfCell, PerfIndex } from '../../../schemas/generated/types';

export interface CellSpec {
  quality: number;
  cost: number;
  p95?: number;
  missing?: string;
  n?: number;
}

/** `cells[clusterId][modelId]`; clusters get one-hot centroids in `dim` dimensions. */
export function perfIndex(cells: Record<number, Record<string, CellSpec>>, options: { version?: string; embeddingModel?: string; dim?: number; sizes?: Record<number, number> } = {}): PerfIndex {
  const clusterIds = Object.keys(cells).map(Number);
  const dim = options.dim ?? Math.max(2, clusterIds.length);
  const modelIds = [...new Set(Object.values(cells).flatMap((row) => Object.keys(row)))].sort();
  const perfCells: PerfCell[] = clusterIds.flatMap((clusterId) =>
    Object.entries(cells[clusterId]!).map(([model_id, spec]) => ({
      cluster_id: clusterId,
      model_id,
      n: spec.n ?? (spec.missing ? 0 : 20),
      quality: spec.quality,
      metrics: {},
      latency_ms_mean: (spec.p95 ?? 100) / 2,
      latency_ms_p95: spec.p95 ?? 100,
      cost_per_request: spec.cost,
      ...(spec.missing ? { missing: { reason: spec.missing } } : {}),
    })),
  );
  return {
    version: options.version ?? 'pi-test',
    created_at: '2026-11-30T00:00:00Z',
    embedding_model: options.embeddingModel ?? 'test-embedding',
    clusters: clusterIds.map((id) => ({ id, label: `cluster ${id}`, size: options.sizes?.[id] ?? 10, centroid: Array.from({ length: dim }, (_, d) => (d === id % dim ? 1 : 0)) })),
    models: modelIds.map((model_id) => ({ model_id, base_model: model_id, cost_per_1k_tokens: 0.001 })),
    cells: perfCells,
    eval_run: 'test',
  };
}
