/**
 * report.html for a lifecycle run: dataset stats, training curves, the cluster × model heatmap,
 * the routing table, the cost–quality curve of the router against single models, and any
 * requests sent through the gateway.
 */
import type { DatasetManifest, EfficacyReport, LifecycleResult, PerfIndex, RoutingTable, RunManifest } from '../../schemas/generated/types';
import { renderEfficacyVerdict } from '../efficacy/verdict';
import { championGateVerdicts } from '../routing/champion-gate';
import { buildRoutingTable, evaluateTable } from '../routing/table';
import { escapeHtml, heatmap, table, xyChart, type Series } from './svg';

export interface RoutedRequest {
  prompt: string;
  model: string;
  cluster: string;
  latency_ms: number;
  reply: string;
}

export interface LifecycleReportInput {
  runId: string;
  uiUrl?: string;
  result: LifecycleResult;
  dataset?: DatasetManifest;
  trainingRuns: RunManifest[];
  perfIndex?: PerfIndex;
  routingTable?: RoutingTable;
  routedRequests: RoutedRequest[];
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

function datasetSection(dataset: DatasetManifest | undefined): string {
  if (!dataset) return '<p><em>no dataset</em></p>';
  const { counts } = dataset;
  const rejected = Object.entries(counts.rejected_by_reason).sort((a, b) => b[1] - a[1]);
  const failed = Object.entries(counts.failed_by_error);
  const kv = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => [k, v] as [string, number]);
  return [
    `<p>version <code>${escapeHtml(dataset.version)}</code>: ${counts.generated} generated = ${counts.accepted} accepted + ${rejected.reduce((s, [, n]) => s + n, 0)} rejected + ${failed.reduce((s, [, n]) => s + n, 0)} failed, from ${dataset.documents.length} documents.</p>`,
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
    return { v: cell.quality, note: `quality ${cell.quality.toFixed(3)}, n=${cell.n}, p95 ${cell.latency_ms_p95.toFixed(0)} ms, cost ${cell.cost_per_request.toPrecision(3)}` };
  });
  const curve = costQualityCurve(perfIndex);
  const chart = xyChart(
    [
      { name: 'router (tolerance sweep)', line: true, points: curve.router.map((p) => ({ x: p.cost, y: p.quality, label: `tolerance ${p.tolerance}: quality ${p.quality.toFixed(3)}, cost ${p.cost.toPrecision(3)}` })) },
      ...curve.single.map((s) => ({ name: s.model, points: [{ x: s.cost, y: s.quality }] })),
    ],
    { xLabel: 'cost per request', yLabel: 'expected quality' },
  );
  return `<p>index <code>${escapeHtml(perfIndex.version)}</code>, embeddings ${escapeHtml(perfIndex.embedding_model)}; cell colour = quality (0 red → 1 green), hover for n, latency and cost.</p>\n${map}\n<h3>Cost–quality</h3>\n${chart}`;
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

export function renderLifecycleReport(input: LifecycleReportInput): string {
  const { result } = input;
  const requests = input.routedRequests.length
    ? table(['prompt', 'cluster', 'model', 'latency ms', 'reply'], input.routedRequests.map((r) => [r.prompt, r.cluster, r.model, Math.round(r.latency_ms), r.reply.slice(0, 160)]))
    : '<p><em>none</em></p>';
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>llmloop report — ${escapeHtml(input.runId)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:.5em 1em .5em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}.row{display:flex;flex-wrap:wrap;align-items:flex-start}code{background:#f3f3f3;padding:0 3px}.gate-fail{color:#b00020;font-weight:bold}.gate-pass{color:#1b5e20}</style>
</head><body>
<h1>llmloop lifecycle report</h1>
<p>run <code>${escapeHtml(input.runId)}</code>: <strong>${escapeHtml(result.status)}</strong>${result.publication ? ` (${escapeHtml(result.publication)})` : ''} in ${input.wallSeconds.toFixed(0)} s.
Documents: ${result.ingest.ok} parsed, ${result.ingest.failed} failed.${input.uiUrl ? ` Temporal UI: <a href="${escapeHtml(input.uiUrl)}">${escapeHtml(input.uiUrl)}</a>` : ''}</p>
${input.efficacy ? renderEfficacyVerdict(input.efficacy) : ''}
<h2>Dataset</h2>
${datasetSection(input.dataset)}
<h2>Training</h2>
${trainingSection(input.trainingRuns)}
<h2>Evaluation: cluster × model</h2>
${evaluationSection(input.perfIndex)}
<h2>Champion gate: adapters against their base on the validation split</h2>
${championGateSection(input.perfIndex)}
<h2>Routing table</h2>
${routingSection(input.routingTable)}
<h2>Requests through the gateway</h2>
${requests}
</body></html>
`;
}
