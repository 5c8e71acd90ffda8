/** efficacy.html: the verdict first, then every candidate's numbers and where they came from. Self-contained (inline SVG, no scripts). */
import type { EfficacyReport } from '../../schemas/generated/types';
import { escapeHtml, table } from '../report/svg';
import { renderEfficacyVerdict } from './verdict';

const interval = (e: { mean: number; ci_low: number; ci_high: number }) => `${e.mean.toFixed(3)} [${e.ci_low.toFixed(3)}, ${e.ci_high.toFixed(3)}]`;

function candidatesTable(report: EfficacyReport): string {
  const types = [...new Set(report.candidates.flatMap((c) => Object.keys(c.by_task_type)))].sort();
  const rows = report.candidates.map((c) => [
    c.name,
    c.base_model,
    c.adapter ? `adapter (gate ${c.champion_gate ?? '?'})` : 'base',
    interval(c.quality),
    c.quality.n,
    ...types.map((t) => (c.by_task_type[t] ? `${c.by_task_type[t]!.mean.toFixed(3)} (n=${c.by_task_type[t]!.n})` : '')),
    c.cost_per_1k_tokens,
    c.cost ?? '',
  ]);
  return table(['candidate', 'base model', 'kind', 'quality [95% CI]', 'n', ...types, 'price / 1k tokens', 'total test cost'], rows);
}

function runSection(report: EfficacyReport): string {
  const run = report.run;
  const stages = run ? run.stages.map((s) => `${s.stage}: ${s.status}`).join(', ') : '';
  const facts = run
    ? `<p>lifecycle <code>${escapeHtml(run.workflow_id)}</code> (${escapeHtml(stages)}); perf index <code>${escapeHtml(run.perf_index_version)}</code>; routing table <code>${escapeHtml(run.routing_table_version)}</code> (${escapeHtml(run.publication)}).</p>`
    : '';
  return `${facts}\n<p>Wall time ${report.wall_seconds.toFixed(0)} s. Test documents:</p>\n<ul>${report.test_documents.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>`;
}

export function renderEfficacyHtml(report: EfficacyReport): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>llmloop efficacy</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:.5em 1em .5em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}code{background:#f3f3f3;padding:0 3px}</style>
</head><body>
<h1>llmloop efficacy</h1>
${renderEfficacyVerdict(report)}
<h2>Candidates on the test split</h2>
<p>Quality is the evaluation stage's per-sample quality averaged over the same ${report.n_test} test samples for every candidate; cost is the total over those requests (tokens × price).</p>
${candidatesTable(report)}
<h2>Run</h2>
${runSection(report)}
</body></html>
`;
}
