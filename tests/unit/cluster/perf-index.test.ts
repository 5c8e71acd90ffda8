import { assemblePerfIndex, clusterTaskVectors, perfIndexTable, perfIndexVersion, tasksFromDataset } from '../../../core/cluster';
import { schemaProblems } from '../../../core/schemas';
import type { DatasetExport, DatasetManifest, EvalTask, EvaluateModelResult, PerfCell } from '../../../schemas/generated/types';
import { gaussianMixture } from './synthetic';

const ref = (n: number) => ({ sha256: n.toString(16).padStart(64, '0'), bytes: 1, media_type: 'application/json' });

function manifestWith(files: Record<string, { format: DatasetExport['format']; rows: unknown[] | string }>): { manifest: DatasetManifest; read: (e: DatasetExport) => Promise<string> } {
  const exports = Object.entries(files).map(([file, { format }], i) => ({ file, format, rows: 0, artifact: ref(i + 1) }));
  const manifest = { version: 'ds-test', exports } as unknown as DatasetManifest;
  const read = async (e: DatasetExport) => {
    const rows = files[e.file]!.rows;
    return typeof rows === 'string' ? rows : rows.map((r) => JSON.stringify(r)).join('\n');
  };
  return { manifest, read };
}

const sft = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  task_type: 'summary',
  language: 'en',
  split: 'test',
  messages: [
    { role: 'user', content: `Summarize ${id}` },
    { role: 'assistant', content: `Summary of ${id}` },
  ],
  source_sha256: 'a'.repeat(64),
  ...extra,
});

describe('tasks from a dataset', () => {
  it('reads SFT and preference rows, keeping the reference answer out of the prompt', async () => {
    const { manifest, read } = manifestWith({
      'trl/sft/test.jsonl': { format: 'trl-sft', rows: [sft('b'), sft('a', { task_type: 'classification', labels: ['x', 'y'] })] },
      'trl/preference/test.jsonl': { format: 'trl-preference', rows: [{ id: 'c', task_type: 'ranking', language: 'zh', split: 'train', prompt: '哪个更好', chosen: '甲', rejected: '乙' }] },
      'trl/grpo/test.jsonl': { format: 'trl-grpo', rows: [{ id: 'ignored' }] },
    });
    const { tasks, skipped } = await tasksFromDataset(manifest, read);
    expect(skipped).toEqual([]);
    expect(tasks.map((t) => t.id)).toEqual(['a', 'b', 'c']);
    expect(tasks[1]).toMatchObject({ text: 'Summarize b', reference: 'Summary of b', messages: [{ role: 'user', content: 'Summarize b' }] });
    expect(tasks[0]!.labels).toEqual(['x', 'y']);
    expect(tasks[2]).toMatchObject({ task_type: 'ranking', reference: '甲', language: 'zh' });
    for (const task of tasks) expect(schemaProblems('EvalTask', task)).toEqual([]);
  });

  it('skips unusable rows with the reason and never fails the batch for them', async () => {
    const { manifest, read } = manifestWith({
      'trl/sft/test.jsonl': { format: 'trl-sft', rows: [JSON.stringify(sft('ok')), '{not json', JSON.stringify(sft('nolabels', { task_type: 'classification' })), JSON.stringify(sft('ok'))].join('\n') },
    });
    const { tasks, skipped } = await tasksFromDataset(manifest, read);
    expect(tasks.map((t) => t.id)).toEqual(['ok']);
    expect(skipped).toHaveLength(3);
    expect(skipped[0]).toMatch(/^trl\/sft\/test.jsonl:2: /);
    expect(skipped[1]).toMatch(/classification row without its label list/);
    expect(skipped[2]).toMatch(/duplicate task id ok/);
  });

  it('is an EmptyDataset failure when no row is usable', async () => {
    const { manifest, read } = manifestWith({ 'trl/sft/test.jsonl': { format: 'trl-sft', rows: [] } });
    await expect(tasksFromDataset(manifest, read)).rejects.toMatchObject({ type: 'EmptyDataset', nonRetryable: true });
  });
});

describe('clustering task vectors', () => {
  /** Summary tasks, every second one in the test split. */
  const testTasks = (count: number): EvalTask[] =>
    Array.from({ length: count }, (_, i) => ({
      id: `t${i}`,
      text: `task ${i}`,
      messages: [{ role: 'user', content: `task ${i}` }],
      reference: 'answer',
      task_type: 'summary',
      language: 'en',
      split: i % 2 ? 'test' : 'train',
    }));

  it('assigns every task, normalises centroids and counts test samples per cluster', () => {
    const { vectors } = gaussianMixture({ clusters: 3, perCluster: 10, dim: 8, spread: 0.05, seed: 3 });
    const tasks = testTasks(vectors.length);
    const clustered = clusterTaskVectors(tasks, vectors, { k_min: 2, k_max: 5, seed: 1 });
    expect(clustered.summary.k).toBe(3);
    expect(clustered.clusters.map((c) => c.size).reduce((a, b) => a + b)).toBe(30);
    for (const c of clustered.clusters) expect(Math.hypot(...c.centroid)).toBeCloseTo(1, 6);
    expect(clustered.testSamplesPerCluster.reduce((a, b) => a + b)).toBe(15);
    expect(clustered.tasks.every((t) => t.cluster_id !== undefined)).toBe(true);
  });

  it('takes a clustering made elsewhere (the Python worker) as it is, with the same output contract', () => {
    const tasks = testTasks(4);
    const precomputed = {
      algorithm: 'kmeans' as const,
      k: 2,
      assignments: [1, 0, 1, 0],
      centroids: [
        [3, 4],
        [0, 2],
      ],
      inertia: 0.5,
      silhouette: 0.7,
      kScores: [{ k: 2, silhouette: 0.7 }],
    };
    const vectors = [[0, 1], [1, 0], [0, 1], [1, 0]].map((v) => Float32Array.from(v));
    const clustered = clusterTaskVectors(tasks, vectors, { seed: 9 }, precomputed);
    expect(clustered.tasks.map((t) => t.cluster_id)).toEqual([1, 0, 1, 0]);
    expect(clustered.clusters.map((c) => c.centroid)).toEqual([
      [0.6, 0.8],
      [0, 1],
    ]);
    expect(clustered.summary).toEqual({ algorithm: 'kmeans', k: 2, seed: 9, silhouette: 0.7, k_scores: [{ k: 2, silhouette: 0.7 }] });
    expect(clustered.testSamplesPerCluster).toEqual([2, 0]);
  });
});

describe('assembling the performance index', () => {
  const cell = (cluster_id: number, model_id: string): PerfCell => ({
    cluster_id,
    model_id,
    n: 2,
    quality: 0.5,
    quality_ci: { mean: 0.5, ci_low: 0.2, ci_high: 0.8 },
    metrics: { rouge_l: { mean: 0.5, ci_low: 0.2, ci_high: 0.8, n: 2 } },
    latency_ms_mean: 120,
    latency_ms_p95: 150,
    cost_per_request: 0.001,
  });
  const evaluation: EvaluateModelResult = { model: { model_id: 'small', base_model: 'small', cost_per_1k_tokens: 0.01 }, cells: [cell(0, 'small')], samples: ref(9) };
  const parts: Parameters<typeof assemblePerfIndex>[0] = {
    version: 'pi-test',
    createdAt: '2026-11-30T00:00:00.000Z',
    evalRun: 'run-1',
    dataset: ref(1),
    embeddingModel: 'mini',
    clusters: [
      { id: 0, label: 'invoices', size: 5, centroid: [1, 0] },
      { id: 1, label: '合同', size: 3, centroid: [0, 1] },
    ],
    clustering: { algorithm: 'kmeans', k: 2, seed: 1, silhouette: 0.4 },
    evaluations: [evaluation],
    failures: [{ candidate: { model_id: 'big', name: 'big-lora', adapter: ref(7) }, reason: 'InsufficientGpuMemory: needs 80 GB', costPer1kTokens: 0.5 }],
  };
  const index = assemblePerfIndex(parts);

  it('has one cell per cluster and model, missing ones with their reason', () => {
    expect(schemaProblems('PerfIndex', index)).toEqual([]);
    expect(index.models.map((m) => [m.model_id, m.base_model, m.cost_per_1k_tokens])).toEqual([
      ['small', 'small', 0.01],
      ['big-lora', 'big', 0.5],
    ]);
    expect(index.cells).toHaveLength(4);
    const byKey = new Map(index.cells.map((c) => [`${c.cluster_id}/${c.model_id}`, c]));
    expect(byKey.get('0/small')!.missing).toBeUndefined();
    expect(byKey.get('1/small')!.missing!.reason).toMatch(/no cell/);
    expect(byKey.get('0/big-lora')!.missing!.reason).toBe('InsufficientGpuMemory: needs 80 GB');
  });

  it('prints as a table with a row per cluster and a column per model', () => {
    const table = perfIndexTable(index).split('\n');
    expect(table[0]).toContain('pi-test');
    expect(table[1]).toMatch(/^cluster\s+size\s+small\s+big-lora$/);
    expect(table[3]).toMatch(/^0 invoices\s+5\s+q=0\.500 \[0\.20,0\.80\] n=2 120ms/);
    expect(table[4]).toContain('missing: InsufficientGpuMemory');
    expect(table[4]).toContain('missing: the evaluation returned no cell for this cluster');
  });

  it('shortens long failure reasons in the table but keeps them whole in the index', () => {
    const long = assemblePerfIndex({ ...parts, failures: [{ ...parts.failures[0]!, reason: `UnknownModel: ${'x'.repeat(200)}` }] });
    expect(perfIndexTable(long)).toContain(`missing: UnknownModel: ${'x'.repeat(45)}…`);
    expect(long.cells.find((c) => c.model_id === 'big-lora')!.missing!.reason).toHaveLength(214);
  });

  it('versions sort by creation time and name the content', () => {
    expect(perfIndexVersion(new Date('2026-11-30T18:15:02.123Z'), 'abcdef0123')).toBe('pi-20261130T181502Z-abcdef01');
  });
});
