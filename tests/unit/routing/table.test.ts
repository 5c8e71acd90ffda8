import { rankCandidates } from '../../../core/routing/select';
import { assignCluster, buildRoutingTable, evaluateTable, withPredictedQuality } from '../../../core/routing/table';
import { schemaProblems } from '../../../core/schemas';
import { perfIndex } from './fixtures';

const createdAt = '2026-11-30T12:00:00Z';

describe('routing tables', () => {
  const index = perfIndex(
    {
      0: { big: { quality: 0.9, cost: 0.01 }, small: { quality: 0.5, cost: 0.001 } },
      1: { big: { quality: 0.8, cost: 0.01 }, small: { quality: 0.79, cost: 0.001 } },
      2: { big: { quality: 0, cost: 0, missing: 'no test samples' } },
    },
    { sizes: { 0: 30, 1: 10, 2: 5 } },
  );

  it('ranks every measured cluster and leaves out clusters without measurements', () => {
    const table = buildRoutingTable(index, { tolerance: 0.05 }, { createdAt });
    expect(schemaProblems('RoutingTable', table)).toEqual([]);
    expect(table.clusters.map((c) => [c.id, c.ranked])).toEqual([
      [0, ['big', 'small']],
      [1, ['small', 'big']],
    ]);
    expect(table.perf_index_version).toBe('pi-test');
  });

  it('derives the version from content: same index and knobs, same version; other knobs, another', () => {
    const a = buildRoutingTable(index, { tolerance: 0.05 }, { createdAt });
    expect(buildRoutingTable(index, { tolerance: 0.05 }, { createdAt: '2027-01-01T00:00:00Z' }).version).toBe(a.version);
    expect(buildRoutingTable(index, { tolerance: 0.5 }, { createdAt }).version).not.toBe(a.version);
  });

  it('carries a per-prompt router as part of its content: another router, another version', () => {
    const router = { artifact: { sha256: 'a'.repeat(64), bytes: 10, media_type: 'application/vnd.llmloop.router+npz' }, name: 'knn', embedding_model: 'm' };
    const plain = buildRoutingTable(index, { tolerance: 0.05 }, { createdAt });
    const routed = buildRoutingTable(index, { tolerance: 0.05 }, { createdAt, router });
    expect(schemaProblems('RoutingTable', routed)).toEqual([]);
    expect(routed.router).toEqual(router);
    expect(routed.version).not.toBe(plain.version);
    expect(buildRoutingTable(index, { tolerance: 0.05 }, { createdAt, router: { ...router, artifact: { ...router.artifact, sha256: 'b'.repeat(64) } } }).version).not.toBe(routed.version);
  });

  it('ranks a cluster on the predicted quality of this prompt, keeping measured cost and the cluster quality of unpredicted models', () => {
    const cluster = buildRoutingTable(index, { tolerance: 0.05 }, { createdAt }).clusters[0]!;
    expect(cluster.ranked[0]).toBe('big');
    const easyPrompt = withPredictedQuality(
      cluster.candidates,
      new Map([
        ['small', 0.88],
        ['unknown', 1],
      ]),
    );
    expect(easyPrompt.find((c) => c.model_id === 'small')).toEqual({ ...cluster.candidates.find((c) => c.model_id === 'small'), quality: 0.88 });
    expect(easyPrompt.find((c) => c.model_id === 'big')).toEqual(cluster.candidates.find((c) => c.model_id === 'big'));
    expect(rankCandidates(easyPrompt, { tolerance: 0.05 })!.model_id).toBe('small');
  });

  it('names each cluster by the task type most of its tasks have, for feedback tasks routed there', () => {
    const typed = { ...index, clusters: index.clusters.map((c) => ({ ...c, task_types: (c.id === 0 ? { summary: 3, rewrite: 5 } : { reasoning: 2, summary: 2 }) as Record<string, number> })) };
    const table = buildRoutingTable(typed, { tolerance: 0.05 }, { createdAt });
    expect(schemaProblems('RoutingTable', table)).toEqual([]);
    // A tie goes to the type listed first (summary before reasoning).
    expect(table.clusters.map((c) => [c.id, c.task_type])).toEqual([
      [0, 'rewrite'],
      [1, 'summary'],
    ]);
  });

  it('assigns a vector to the cluster of the most similar centroid', () => {
    const table = buildRoutingTable(index, {}, { createdAt });
    expect(assignCluster(table, [0.1, 0.9, 0.3]).id).toBe(1);
    expect(assignCluster(table, [2, 0.5, 0]).id).toBe(0);
  });

  it('evaluates expected quality and cost per request weighted by cluster size', () => {
    const evaluation = evaluateTable(buildRoutingTable(index, { tolerance: 0.05 }, { createdAt }), index)!;
    expect(evaluation.quality).toBeCloseTo((30 * 0.9 + 10 * 0.79) / 40, 10);
    expect(evaluation.cost_per_request).toBeCloseTo((30 * 0.01 + 10 * 0.001) / 40, 10);
    expect(evaluation).toMatchObject({ n_clusters: 2, unrouted_clusters: 0 });
  });

  it('scores a champion whose choice the new index did not measure as unrouted, at quality 0', () => {
    const champion = buildRoutingTable(perfIndex({ 0: { retired: { quality: 1, cost: 0 } }, 1: { big: { quality: 1, cost: 0 } } }, { dim: 3 }), {}, { createdAt });
    const evaluation = evaluateTable(champion, index)!;
    expect(evaluation.unrouted_clusters).toBe(1);
    expect(evaluation.quality).toBeCloseTo((10 * 0.8) / 40, 10);
  });

  it('refuses to compare tables from another embedding space', () => {
    const other = buildRoutingTable(perfIndex({ 0: { big: { quality: 1, cost: 0 } } }, { embeddingModel: 'other' }), {}, { createdAt });
    expect(evaluateTable(other, index)).toBeNull();
    const otherDim = buildRoutingTable(perfIndex({ 0: { big: { quality: 1, cost: 0 } } }, { dim: 7 }), {}, { createdAt });
    expect(evaluateTable(otherDim, index)).toBeNull();
  });
});
