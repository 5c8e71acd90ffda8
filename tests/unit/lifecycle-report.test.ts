import { costQualityCurve, documentsWithoutSamples, renderLifecycleReport, singlePointNote } from '../../core/report/lifecycle-report';
import type { DatasetManifest, PerfIndex } from '../../schemas/generated/types';

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

describe('lifecycle report: what a reader needs once the demo has stopped', () => {
  const result = { status: 'published' as const, ingest: { ok: 3, failed: 0 }, artifacts: {} };
  const render = (extra: Partial<Parameters<typeof renderLifecycleReport>[0]>) => renderLifecycleReport({ runId: 'demo-lifecycle-1', result, trainingRuns: [], routedRequests: [], wallSeconds: 1, ...extra });

  it('prints each heatmap cell\'s interval and n in the cell, not only in its hover note', () => {
    const withCi = { ...INDEX, cells: INDEX.cells.map((c) => ({ ...c, quality_ci: { mean: c.quality, ci_low: c.quality - 0.1, ci_high: c.quality + 0.05, n: 4 } })) } as PerfIndex;
    const html = render({ perfIndex: withCi });
    // Drawn as SVG text under the value (a <title> is only the hover note).
    expect(html).toMatch(/<text [^>]*>\[0\.70, 0\.85\] n=4<\/text>/);
    expect(html).toMatch(/<text [^>]*>\[0\.10, 0\.25\] n=4<\/text>/);
    // Without intervals the cell still says how many samples it rests on.
    expect(render({ perfIndex: INDEX })).toMatch(/<text [^>]*>n=4<\/text>/);
  });

  it('replaces the Temporal UI link with the workflow ids, the commands to inspect them later and the artifact paths', () => {
    const html = render({
      inspection: {
        workflows: [
          { name: 'lifecycle', id: 'demo-lifecycle-1' },
          { name: 'collectFeedback', id: 'demo-lifecycle-1-feedback' },
        ],
        historyDb: '/data/demo-runs/demo-lifecycle-1/temporal.db',
        codecKeysFile: '/data/demo-runs/demo-lifecycle-1/codec-keys',
        files: [{ name: 'routing table', path: '/data/artifacts/ab/abcdef' }],
      },
    });
    expect(html).not.toMatch(/Temporal UI|:8233|<a href="http/);
    expect(html).toContain('<h2 id="inspect">Inspect this run later</h2>');
    expect(html).toContain('<td>collectFeedback</td><td>demo-lifecycle-1-feedback</td>');
    expect(html).toContain('temporal server start-dev --headless --port 7233 --db-filename /data/demo-runs/demo-lifecycle-1/temporal.db');
    expect(html).toContain('temporal workflow show --address 127.0.0.1:7233 --workflow-id demo-lifecycle-1-feedback');
    expect(html).toContain('LLMLOOP_CODEC_KEYS=&#34;$(cat /data/demo-runs/demo-lifecycle-1/codec-keys)&#34;');
    expect(html).toContain('bin/llmloop status demo-lifecycle-1');
    expect(html).toContain('<td>routing table</td><td>/data/artifacts/ab/abcdef</td>');
  });

  it('explains a cost–quality chart whose router sweep is a single point, and only then', () => {
    // A base model and its adapter: one price, and the adapter wins every cluster.
    const priced = {
      ...INDEX,
      models: [
        { model_id: 'small', base_model: 'small', cost_per_1k_tokens: 0.001 },
        { model_id: 'small+lora', base_model: 'small', cost_per_1k_tokens: 0.001 },
      ],
      cells: [cell(0, 'small', 0.5, 1), cell(0, 'small+lora', 0.7, 1), cell(1, 'small', 0.5, 1), cell(1, 'small+lora', 0.7, 1)],
    } as unknown as PerfIndex;
    expect(new Set(costQualityCurve(priced).router.map((p) => p.quality)).size).toBe(1);
    const html = render({ perfIndex: priced });
    expect(html).toContain('<strong>Why one point:</strong> every tolerance from 0 to 1 routes each cluster to the same model (quality 0.700, cost 1.00 per request)');
    expect(html).toContain('all 2 routable models (small, small+lora) are priced alike (0.001 per 1k tokens)');
    expect(singlePointNote(INDEX, costQualityCurve(INDEX))).toBeNull();
    expect(render({ perfIndex: INDEX })).not.toContain('Why one point');
  });

  it('says why a parsed document gave no samples: left out before planning, or every draft refused', () => {
    const twinSha = `${'d'.repeat(12)}${'0'.repeat(52)}`;
    const dataset = {
      version: 'ds-1',
      counts: { generated: 6, accepted: 3, rejected_by_reason: { near_duplicate: 2, document_cap: 1 }, failed_by_error: {} },
      by_task_type: { summary: 3 },
      by_language: { en: 3 },
      by_split: { train: 3 },
      documents: [{ sha256: 'a'.repeat(64), path: 'corpus/report.docx', split: 'train', samples: 3 }],
      skipped_documents: [{ input: 'f'.repeat(64), reason: 'no text to build samples from in corpus/scan.pdf' }],
    } as unknown as DatasetManifest;
    const rejection = (chunk_id: string, reason: string) => ({ outcome: 'rejected' as const, reason, task_type: 'summary' as const, chunk_id, generator: 'template', round: 0 });
    const parsed = [
      { artifact: '1'.repeat(64), sha256: 'a'.repeat(64), path: 'corpus/report.docx' },
      { artifact: '2'.repeat(64), sha256: twinSha, path: 'corpus/report.pdf' },
      { artifact: 'f'.repeat(64), sha256: 'e'.repeat(64), path: 'corpus/scan.pdf' },
    ];
    const rejections = [rejection(`${'d'.repeat(12)}-0`, 'near_duplicate'), rejection(`${'d'.repeat(12)}-1`, 'near_duplicate'), rejection(`${'d'.repeat(12)}-1`, 'document_cap'), rejection(`${'a'.repeat(12)}-0`, 'document_cap')];
    expect(documentsWithoutSamples(parsed, dataset, rejections)).toEqual([
      { path: 'corpus/report.pdf', why: 'all 3 drafts from it were refused (near_duplicate 2, document_cap 1)' },
      { path: 'corpus/scan.pdf', why: 'no text to build samples from in corpus/scan.pdf' },
    ]);
    const html = render({ dataset, parsedDocuments: parsed, rejections });
    expect(html).toContain('3 documents parsed, samples from 1: report.pdf gave none: all 3 drafts from it were refused (near_duplicate 2, document_cap 1); scan.pdf gave none: no text to build samples from in corpus/scan.pdf.');
  });

  it('shows the score posted for each reply and how many requests became retraining tasks', () => {
    const html = render({
      routedRequests: [
        { prompt: 'Summarise pump B.', model: 'small', cluster: '0', latency_ms: 12, reply: 'Pumps.', score: { quality: 0.12, metrics: { rouge_l: 0.12, bleu: 0.01 } }, fed: 'low_score' },
        { prompt: 'Classify it.', model: 'small', cluster: '1', latency_ms: 9, reply: 'missed maintenance', score: { quality: 1, metrics: { label_exact_match: 1 } } },
      ],
      feedback: { workflowId: 'demo-lifecycle-1-feedback', minScore: 0.5, result: { requests_read: 2, low_score: 1, new_cluster: 0, tasks: 1, prompts_missing: 0, cursor: { request_log: '/log', offset: 10 } }, tasksPath: '/data/artifacts/cd/cdef' },
    });
    expect(html).toContain('<th>score posted</th><th>retraining task</th>');
    expect(html).toContain('<td>0.12 (rouge_l 0.12, bleu 0.01)</td><td>yes: low_score</td>');
    expect(html).toContain('<td>1.00 (label_exact_match 1.00)</td><td>no</td>');
    expect(html).toContain('Posted 2 scores');
    expect(html).toContain('found 1 scored below 0.5 and 0 far from every cluster: <strong>1 became retraining tasks</strong>, stored at <code>/data/artifacts/cd/cdef</code>');
  });
});
