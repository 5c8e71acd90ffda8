/**
 * report.html for a lifecycle run: dataset stats (and why a parsed document gave no samples),
 * training curves, the cluster × model heatmap with each cell's n and interval, the routing table,
 * the cost–quality curve of the router against single models, the requests sent through the
 * gateway with their scores and what they fed back, and how to inspect the run after its server stopped.
 */
import type { CollectFeedbackResult, DatasetManifest, DatasetRejection, EfficacyReport, LifecycleResult, PerfIndex, RoutingTable, RunManifest } from '../../schemas/generated/types';
import { renderEfficacyVerdict } from '../efficacy/verdict';
import { championGateVerdicts, excludedModels } from '../routing/champion-gate';
import { buildRoutingTable, evaluateTable } from '../routing/table';
import type { ReplyScore } from './demo-requests';
import { escapeHtml, heatmap, table, xyChart, type Series } from './svg';

export interface RoutedRequest {
  prompt: string;
  model: string;
  cluster: string;
  latency_ms: number;
  reply: string;
  /** The reply scored against the prompt's reference answer: what was posted as the user's feedback. */
  score?: ReplyScore;
  /** Why collectFeedback made this request a retraining task (FeedbackTask.reason), when it did. */
  fed?: string;
}

/** What the posted scores fed: collectFeedback's result over the run's request log. */
export interface FeedbackSummary {
  workflowId: string;
  minScore: number;
  result: CollectFeedbackResult;
  /** Where the feedback tasks artifact is, when there is one. */
  tasksPath?: string;
}

/** A parsed document of the run: its DocumentModel artifact and its source. */
export interface ParsedDocument {
  artifact: string;
  sha256: string;
  path: string;
}

/**
 * How to look at the run once the demo has stopped its server: its workflow ids, the dev server's
 * history file to start a server on, the codec keys its payloads are sealed with, and its files.
 */
export interface RunInspection {
  workflows: { name: string; id: string }[];
  historyDb?: string;
  codecKeysFile?: string;
  files: { name: string; path: string }[];
}

export interface LifecycleReportInput {
  runId: string;
  result: LifecycleResult;
  dataset?: DatasetManifest;
  /** Every parsed document and the dataset's rejections: why a parsed document gave no samples. */
  parsedDocuments?: ParsedDocument[];
  rejections?: DatasetRejection[];
  trainingRuns: RunManifest[];
  perfIndex?: PerfIndex;
  routingTable?: RoutingTable;
  routedRequests: RoutedRequest[];
  feedback?: FeedbackSummary;
  inspection?: RunInspection;
  wallSeconds: number;
  /** The run judged on its test split (core/efficacy): shown first, as the verdict. */
  efficacy?: EfficacyReport;
}

const TOLERANCES = [0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1];

/** The router's (cost, quality) as its tolerance grows, and each model alone, evaluated on the index. */
export function costQualityCurve(perfIndex: PerfIndex): { router: { tolerance: number; quality: number; cost: number }[]; single: { model: string; quality: number; cost: number }[] } {
  const router = TOLERANCES.flatMap((tolerance) => {
    const evaluation = evaluateTable(buildRoutingTable(perfIndex, { tolerance }, { createdAt: '' }), perfIndex);
    return evaluation ? [{ tolerance, quality: evaluation.quality, cost: evaluation.cost_per_request }] : [];
  });
  const single = perfIndex.models.flatMap((model) => {
    let weight = 0;
    let quality = 0;
    let cost = 0;
    for (const cluster of perfIndex.clusters) {
      const cell = perfIndex.cells.find((c) => c.cluster_id === cluster.id && c.model_id === model.model_id);
      if (!cell || cell.missing) continue;
      const w = Math.max(cluster.size, 1);
      weight += w;
      quality += w * cell.quality;
      cost += w * cell.cost_per_request;
    }
    return weight ? [{ model: model.model_id, quality: quality / weight, cost: cost / weight }] : [];
  });
  return { router, single };
}

/** Chunk ids are `<first 12 hex of the source sha256>-<n>` (core/dataset/chunk.ts). */
function chunkSource(chunkId: string): string {
  return chunkId.slice(0, chunkId.indexOf('-'));
}

/**
 * The parsed documents the dataset has no sample from, and why: left out before planning
 * (skipped_documents), every draft from it refused (the rejections, by reason), or no draft made.
 */
export function documentsWithoutSamples(parsed: readonly ParsedDocument[], dataset: DatasetManifest, rejections: readonly DatasetRejection[]): { path: string; why: string }[] {
  const withSamples = new Set(dataset.documents.map((d) => d.sha256));
  return parsed
    .filter((d) => !withSamples.has(d.sha256))
    .map((d) => {
      const skipped = dataset.skipped_documents.find((s) => s.input === d.artifact || s.input === d.path);
      if (skipped) return { path: d.path, why: skipped.reason };
      const own = rejections.filter((r) => chunkSource(r.chunk_id) === d.sha256.slice(0, 12));
      if (own.length === 0) return { path: d.path, why: 'no draft was made from its text' };
      const byReason = new Map<string, number>();
      for (const r of own) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
      const reasons = [...byReason].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} ${n}`);
      return { path: d.path, why: `all ${own.length} drafts from it were refused (${reasons.join(', ')})` };
    });
}

function datasetSection(dataset: DatasetManifest | undefined, parsed: readonly ParsedDocument[] | undefined, rejections: readonly DatasetRejection[]): string {
  if (!dataset) return '<p><em>no dataset</em></p>';
  const silent = parsed ? documentsWithoutSamples(parsed, dataset, rejections) : [];
  const name = (p: string) => p.split('/').pop() ?? p;
  const provenance = silent.length
    ? `<p class="gate-fail">${parsed!.length} documents parsed, samples from ${dataset.documents.length}: ${silent.map((d) => `${escapeHtml(name(d.path))} gave none: ${escapeHtml(d.why)}`).join('; ')}.</p>`
    : '';
  const { counts } = dataset;
  const rejected = Object.entries(counts.rejected_by_reason).sort((a, b) => b[1] - a[1]);
  const failed = Object.entries(counts.failed_by_error);
  const kv = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => [k, v] as [string, number]);
  return [
    `<p>version <code>${escapeHtml(dataset.version)}</code>: ${counts.generated} generated = ${counts.accepted} accepted + ${rejected.reduce((s, [, n]) => s + n, 0)} rejected + ${failed.reduce((s, [, n]) => s + n, 0)} failed, from ${dataset.documents.length} documents.</p>`,
    provenance,
    '<div class="row">',
    table(['task type', 'samples'], kv(dataset.by_task_type)),
    table(['language', 'samples'], kv(dataset.by_language)),
    table(['split', 'samples'], kv(dataset.by_split)),
    table(['rejection reason', 'count'], rejected.length ? rejected : [['(none)', 0]]),
    '</div>',
    // The share of its split says whether one document dominates what the models learn (capped at max_document_share).
    table(
      ['document', 'split', 'samples', 'share of split'],
      dataset.documents.map((d) => [d.path.split('/').pop() ?? d.path, d.split, d.samples, `${((100 * d.samples) / (dataset.by_split[d.split] ?? d.samples)).toFixed(1)}%`]),
    ),
    ...(dataset.skipped_documents.length ? [table(['left out', 'why'], dataset.skipped_documents.map((d) => [d.input.split('/').pop() ?? d.input, d.reason]))] : []),
  ].join('\n');
}

function trainingSection(runs: RunManifest[]): string {
  if (runs.length === 0) return '<p><em>no training runs</em></p>';
  const series: Series[] = runs.flatMap((run) => {
    const curve = (key: string) => run.metrics.flatMap((m) => (typeof m[key] === 'number' ? [{ x: m.step, y: m[key] as number }] : []));
    const validation = curve('eval_loss');
    return [{ name: `${run.model_id} ${run.stage}`, line: true, points: curve('loss') }, ...(validation.length ? [{ name: `${run.model_id} ${run.stage} validation`, line: true, points: validation }] : [])];
  });
  const validation = (r: RunManifest) => (r.validation ? `${r.validation.base_eval_loss?.toFixed(3) ?? '?'} → ${r.validation.best_eval_loss?.toFixed(3) ?? '?'} (best step ${r.validation.best_step ?? '-'}${r.validation.stopped_early ? ', stopped early' : ''})` : 'none');
  const rows = runs.map((r) => [r.model_id, r.stage, r.recipe, r.steps, validation(r), r.wall_seconds, r.peak_memory_gb, r.device, r.resumed_from_step]);
  return [xyChart(series, { xLabel: 'optimizer step', yLabel: 'loss (training, validation)' }), table(['model', 'stage', 'recipe', 'steps', 'validation loss: base → stored adapter', 'wall s', 'peak GB', 'device', 'resumed from'], rows)].join('\n');
}

function evaluationSection(perfIndex: PerfIndex | undefined): string {
  if (!perfIndex) return '<p><em>no performance index</em></p>';
  const models = perfIndex.models.map((m) => m.model_id);
  const rows = perfIndex.clusters.map((c) => `#${c.id} ${c.label} (${c.size})`);
  const map = heatmap(rows, models, (i, j) => {
    const cell = perfIndex.cells.find((c) => c.cluster_id === perfIndex.clusters[i]!.id && c.model_id === models[j]);
    if (!cell || cell.missing) return { v: null, note: cell?.missing?.reason ?? 'not evaluated' };
    const ci = cell.quality_ci ? `[${cell.quality_ci.ci_low.toFixed(2)}, ${cell.quality_ci.ci_high.toFixed(2)}] ` : '';
    return { v: cell.quality, detail: `${ci}n=${cell.n}`, note: `quality ${cell.quality.toFixed(3)} ${ci}(95% bootstrap interval), n=${cell.n}, p95 ${cell.latency_ms_p95.toFixed(0)} ms, cost ${cell.cost_per_request.toPrecision(3)}` };
  });
  const curve = costQualityCurve(perfIndex);
  const chart = xyChart(
    [
      { name: 'router (tolerance sweep)', line: true, points: curve.router.map((p) => ({ x: p.cost, y: p.quality, label: `tolerance ${p.tolerance}: quality ${p.quality.toFixed(3)}, cost ${p.cost.toPrecision(3)}` })) },
      ...curve.single.map((s) => ({ name: s.model, points: [{ x: s.cost, y: s.quality }] })),
    ],
    { xLabel: 'cost per request', yLabel: 'expected quality' },
  );
  const single = singlePointNote(perfIndex, curve);
  return `<p>index <code>${escapeHtml(perfIndex.version)}</code>, embeddings ${escapeHtml(perfIndex.embedding_model)}; cell colour = quality (0 red → 1 green); under it the 95% bootstrap interval and n, the test samples it was measured on (hover for latency and cost).</p>\n${map}\n<h3>Cost–quality</h3>\n${chart}${single ? `\n<p><strong>Why one point:</strong> ${escapeHtml(single)}</p>` : ''}`;
}

/**
 * When the router's tolerance sweep collapses to one point, why: a chart with one point otherwise
 * reads as a broken chart, and it says something about the fleet.
 */
export function singlePointNote(perfIndex: PerfIndex, curve: ReturnType<typeof costQualityCurve>): string | null {
  const points = new Set(curve.router.map((p) => `${p.cost.toPrecision(6)}|${p.quality.toPrecision(6)}`));
  if (points.size !== 1) return null;
  const [point] = curve.router;
  const excluded = excludedModels(perfIndex);
  const routable = perfIndex.models.filter((m) => !excluded.some((e) => e.model_id === m.model_id) && perfIndex.cells.some((c) => c.model_id === m.model_id && !c.missing));
  const prices = new Set(routable.map((m) => m.cost_per_1k_tokens));
  const why =
    routable.length <= 1
      ? `only ${routable[0]?.model_id ?? 'no model'} is routable${excluded.length ? ` (${excluded.map((e) => `${e.model_id}: ${e.reason}`).join('; ')})` : ''}, so there is nothing to choose between`
      : prices.size === 1
        ? `all ${routable.length} routable models (${routable.map((m) => m.model_id).join(', ')}) are priced alike (${[...prices][0]} per 1k tokens), so none is a cheaper choice to trade quality for`
        : 'in every cluster the best model is also the cheapest one within every tolerance';
  return `every tolerance from 0 to 1 routes each cluster to the same model (quality ${point!.quality.toFixed(3)}, cost ${point!.cost.toPrecision(3)} per request) because ${why}. The dots of the single models show what each alone would give.`;
}

/**
 * Every adapter's champion-gate verdict, a failed one in red: an adapter that did not beat its base
 * on the validation split is never routed to, and a reader must see that training did not help.
 */
function championGateSection(perfIndex: PerfIndex | undefined): string {
  if (!perfIndex) return '';
  const verdicts = [...championGateVerdicts(perfIndex.models)];
  if (verdicts.length === 0) return '<p><em>no adapter evaluated</em></p>';
  const rows = verdicts.map(([modelId, verdict]) => {
    const numbers = verdict.validation_quality === undefined ? '' : `${verdict.validation_quality.toFixed(3)} vs ${verdict.base_validation_quality!.toFixed(3)}`;
    const status = verdict.passed ? 'passed: routable' : 'FAILED: never routed to';
    const cells = [modelId, verdict.base_model_id ?? '', numbers, status, verdict.reason].map((v) => `<td>${escapeHtml(v)}</td>`).join('');
    return `<tr class="${verdict.passed ? 'gate-pass' : 'gate-fail'}">${cells}</tr>`;
  });
  return `<table><tr><th>adapter</th><th>base</th><th>validation quality (adapter vs base)</th><th>verdict</th><th>why</th></tr>${rows.join('')}</table>`;
}

function routingSection(routing: RoutingTable | undefined): string {
  if (!routing) return '<p><em>no routing table</em></p>';
  const rows = routing.clusters.map((c) => [`#${c.id} ${c.label}`, c.ranked.join(' → '), c.reason ?? '', c.candidates.map((k) => `${k.model_id} q=${k.quality.toFixed(2)}`).join(', ')]);
  const excluded = (routing.excluded_models ?? []).map((e) => `<p class="gate-fail">excluded: <code>${escapeHtml(e.model_id)}</code>: ${escapeHtml(e.reason)}</p>`).join('\n');
  return `<p>version <code>${escapeHtml(routing.version)}</code> from index ${escapeHtml(routing.perf_index_version)}; defaults ${escapeHtml(JSON.stringify(routing.defaults))}</p>\n${table(['cluster', 'ranked choices', 'why', 'candidates'], rows)}${excluded ? `\n${excluded}` : ''}`;
}

function requestsSection(requests: readonly RoutedRequest[], feedback: FeedbackSummary | undefined): string {
  if (requests.length === 0) return '<p><em>none</em></p>';
  const score = (s: ReplyScore | undefined) => (s ? `${s.quality.toFixed(2)} (${Object.entries(s.metrics).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})` : '');
  const rows = requests.map((r) => [r.prompt, r.cluster, r.model, Math.round(r.latency_ms), r.reply.slice(0, 160), score(r.score), r.fed ? `yes: ${r.fed}` : feedback ? 'no' : '']);
  const posted = requests.filter((r) => r.score).length;
  const fed = feedback
    ? `<p>Posted ${posted} scores (each reply against its reference answer, by the evaluation's metric for its task type) to <code>POST /v1/feedback</code>; collectFeedback (<code>${escapeHtml(feedback.workflowId)}</code>) read ${feedback.result.requests_read} requests and found ${feedback.result.low_score} scored below ${feedback.minScore} and ${feedback.result.new_cluster} far from every cluster: <strong>${feedback.result.tasks} became retraining tasks</strong>${feedback.result.prompts_missing ? ` (${feedback.result.prompts_missing} could not: prompt not stored)` : ''}${feedback.tasksPath ? `, stored at <code>${escapeHtml(feedback.tasksPath)}</code>` : ''}. The next retraining (<code>llmloop schedule</code>, or a run with <code>extra_samples</code> set to that artifact) learns from them.</p>`
    : '';
  return `${table(['prompt', 'cluster', 'model', 'latency ms', 'reply', 'score posted', 'retraining task'], rows)}\n${fed}`;
}

/** Workflow ids, the commands that show them once the demo's server is gone, and the run's files. */
function inspectionSection(inspection: RunInspection | undefined): string {
  if (!inspection) return '<p><em>no inspection details recorded</em></p>';
  const address = '127.0.0.1:7233';
  const [main] = inspection.workflows;
  const commands = [
    ...(inspection.historyDb
      ? [`# the demo stopped its Temporal server; start one on the history it kept`, `.venv/bin/temporal server start-dev --headless --port 7233 --db-filename ${inspection.historyDb}`]
      : [`# the history lives only as long as the server that ran it (${address} or TEMPORAL_ADDRESS)`]),
    `# every event of a workflow${inspection.codecKeysFile ? ' (payloads are sealed with the codec keys)' : ''}`,
    ...inspection.workflows.map((w) => `.venv/bin/temporal workflow show --address ${address} --workflow-id ${w.id}`),
    ...(main
      ? [
          `# the lifecycle's progress and result, decoded (a Node worker answers the query)`,
          `export TEMPORAL_ADDRESS=${address}${inspection.codecKeysFile ? ` LLMLOOP_CODEC_KEYS="$(cat ${inspection.codecKeysFile})"` : ''}`,
          'node dist/workers/node-worker.js &',
          `bin/llmloop status ${main.id}`,
        ]
      : []),
  ];
  return [
    table(['workflow', 'id'], inspection.workflows.map((w) => [w.name, w.id])),
    `<pre>${escapeHtml(commands.join('\n'))}</pre>`,
    table(['file', 'path'], inspection.files.map((f) => [f.name, f.path])),
  ].join('\n');
}

export function renderLifecycleReport(input: LifecycleReportInput): string {
  const { result } = input;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>llmloop report — ${escapeHtml(input.runId)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:.5em 1em .5em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}.row{display:flex;flex-wrap:wrap;align-items:flex-start}code{background:#f3f3f3;padding:0 3px}pre{background:#f3f3f3;padding:8px;overflow-x:auto}.gate-fail{color:#b00020;font-weight:bold}.gate-pass{color:#1b5e20}</style>
</head><body>
<h1>llmloop lifecycle report</h1>
<p>run <code>${escapeHtml(input.runId)}</code>: <strong>${escapeHtml(result.status)}</strong>${result.publication ? ` (${escapeHtml(result.publication)})` : ''} in ${input.wallSeconds.toFixed(0)} s.
Documents: ${result.ingest.ok} parsed, ${result.ingest.failed} failed. How to look at this run later: <a href="#inspect">below</a>.</p>
${input.efficacy ? renderEfficacyVerdict(input.efficacy) : ''}
<h2>Dataset</h2>
${datasetSection(input.dataset, input.parsedDocuments, input.rejections ?? [])}
<h2>Training</h2>
${trainingSection(input.trainingRuns)}
<h2>Evaluation: cluster × model</h2>
${evaluationSection(input.perfIndex)}
<h2>Champion gate: adapters against their base on the validation split</h2>
${championGateSection(input.perfIndex)}
<h2>Routing table</h2>
${routingSection(input.routingTable)}
<h2>Requests through the gateway, their scores and what they fed</h2>
${requestsSection(input.routedRequests, input.feedback)}
<h2 id="inspect">Inspect this run later</h2>
${inspectionSection(input.inspection)}
</body></html>
`;
}
