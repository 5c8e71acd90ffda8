import { costQualityCurve, renderLifecycleReport } from '../../core/report/lifecycle-report';
import type { PerfIndex } from '../../schemas/generated/types';

function cell(cluster_id: number, model_id: string, quality: number, cost: number) {
  return { cluster_id, model_id, n: 4, quality, metrics: {}, latency_ms_mean: 10, latency_ms_p95: 20, cost_per_request: cost };
}

/** Two clusters: the cheap model is as good as the big one on cluster 0 and much worse on cluster 1. */
const INDEX = {
  version: 'pi-test',
  created_at: '2026-01-01T00:00:00Z',
  embedding_model: 'test-embed',
  clusters: [
    { id: 0, label: 'summaries', size: 10, centroid: [1, 0] },
    { id: 1, label: 'reasoning', size: 10, centroid: [0, 1] },
  ],
  models: [
    { model_id: 'small', base_model: 'small', cost_per_1k_tokens: 0.001 },
    { model_id: 'big', base_model: 'big', cost_per_1k_tokens: 0.01 },
  ],
  cells: [cell(0, 'small', 0.8, 1), cell(0, 'big', 0.82, 10), cell(1, 'small', 0.2, 1), cell(1, 'big', 0.9, 10)],
} as unknown as PerfIndex;

describe('lifecycle report', () => {
  it('puts the router between the single models: cheaper than the big one at almost its quality', () => {
    const { router, single } = costQualityCurve(INDEX);
    expect(single).toEqual([
      { model: 'small', quality: 0.5, cost: 1 },
      { model: 'big', quality: expect.closeTo(0.86, 6), cost: 10 },
    ]);
    const strict = router.find((p) => p.tolerance === 0)!;
    expect(strict).toEqual({ tolerance: 0, quality: expect.closeTo(0.86, 6), cost: 10 });
    const tolerant = router.find((p) => p.tolerance === 0.05)!;
    expect(tolerant.quality).toBeCloseTo(0.85, 6);
    expect(tolerant.cost).toBeCloseTo(5.5, 6);
  });

  it('renders every section and escapes what it shows', () => {
    const html = renderLifecycleReport({
      runId: 'run<1>',
      result: { status: 'published', ingest: { ok: 2, failed: 0 }, artifacts: {} },
      trainingRuns: [],
      perfIndex: INDEX,
      routedRequests: [{ prompt: 'Summarise <this>', model: 'small', cluster: '0', latency_ms: 12, reply: 'ok' }],
      wallSeconds: 3,
    });
    for (const heading of ['Dataset', 'Training', 'Evaluation: cluster × model', 'Cost–quality', 'Routing table', 'Requests through the gateway']) expect(html).toContain(heading);
    expect(html).toContain('run&#60;1&#62;');
    expect(html).toContain('Summarise &#60;this&#62;');
    expect(html).not.toContain('<this>');
  });

  it('shows each document\'s share of its split, and why a parsed document gave no samples', () => {
    const dataset = {
      version: 'ds-1',
      counts: { generated: 10, accepted: 8, rejected_by_reason: { document_cap: 2 }, failed_by_error: {} },
      by_task_type: { summary: 8 },
      by_language: { en: 8 },
      by_split: { train: 6, test: 2 },
      documents: [
        { sha256: 'a', path: 'docs/big.pdf', split: 'train', samples: 4 },
        { sha256: 'b', path: 'docs/small.docx', split: 'train', samples: 2 },
        { sha256: 'c', path: 'docs/held.pptx', split: 'test', samples: 2 },
      ],
      skipped_documents: [{ input: 'parsed/scan.pdf.json', reason: 'no text to build samples from in scan.pdf' }],
    };
    const html = renderLifecycleReport({ runId: 'r', result: { status: 'published', ingest: { ok: 4, failed: 0 }, artifacts: {} }, trainingRuns: [], routedRequests: [], dataset: dataset as never, wallSeconds: 1 });
    expect(html).toContain('share of split');
    expect(html).toMatch(/big\.pdf.*train.*4.*66\.7%/s);
    expect(html).toMatch(/held\.pptx.*test.*2.*100\.0%/s);
    expect(html).toContain('no text to build samples from in scan.pdf');
  });

  it('shows an adapter that did not beat its base on the validation split in red, as never routed', () => {
    const estimate = (mean: number) => ({ mean, ci_low: mean, ci_high: mean, n: 16 });
    const adapter = { sha256: 'a'.repeat(64), bytes: 1, media_type: 'application/vnd.llmloop.tree+json' };
    const index = {
      ...INDEX,
      models: [
        { model_id: 'small', base_model: 'small', cost_per_1k_tokens: 0.001, validation_quality: estimate(0.4) },
        { model_id: 'small+lora', base_model: 'small', adapter, cost_per_1k_tokens: 0.001, validation_quality: estimate(0.35) },
      ],
      cells: [cell(0, 'small', 0.5, 1), cell(0, 'small+lora', 0.9, 1), cell(1, 'small', 0.5, 1), cell(1, 'small+lora', 0.9, 1)],
    } as unknown as PerfIndex;
    const html = renderLifecycleReport({ runId: 'r', result: { status: 'published', ingest: { ok: 1, failed: 0 }, artifacts: {} }, trainingRuns: [], perfIndex: index, routedRequests: [], wallSeconds: 1 });
    expect(html).toMatch(/<tr class="gate-fail"><td>small\+lora<\/td><td>small<\/td><td>0\.350 vs 0\.400<\/td><td>FAILED: never routed to<\/td>/);
    expect(html).toContain('.gate-fail{color:#b00020');
    // Better on the test cells, yet the router's curve never uses it.
    expect(costQualityCurve(index).router.every((p) => p.quality === 0.5)).toBe(true);
  });
});
