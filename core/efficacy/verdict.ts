/**
 * The verdict a reader sees first, in efficacy.html and in the demo's report.html (one function for
 * both): did tuning help each base model (paired gain with n and interval, red when it made it
 * worse), and what the routing table buys against always-smallest, always-largest and the oracle.
 */
import type { EfficacyEstimate, EfficacyReport } from '../../schemas/generated/types';
import { escapeHtml, table, xyChart, type Series } from '../report/svg';

const RED = '#b00020';
const GREEN = '#1b5e20';
const GREY = '#555';

const points = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
const percent = (x: number) => `${(x * 100).toFixed(0)}%`;

/** Red when tuning made the model worse, green when the whole interval is above zero, grey when unsure. */
function gainColour(delta: EfficacyEstimate): string {
  if (delta.mean < 0) return RED;
  return delta.ci_low > 0 ? GREEN : GREY;
}

function gainLine(gain: EfficacyReport['gains'][number]): string {
  const { delta } = gain;
  const words = delta.mean < 0 ? 'tuning made it worse' : delta.ci_low > 0 ? 'tuning helped' : 'no clear gain (interval includes 0)';
  return `<li style="color:${gainColour(delta)}"><strong>${escapeHtml(gain.base_model)}</strong>: tuned${gain.tuned ? ` (<code>${escapeHtml(gain.tuned)}</code>)` : ''} minus base = <strong>${points(delta.mean)}</strong> quality points, 95% CI [${points(delta.ci_low)}, ${points(delta.ci_high)}], n = ${delta.n} paired test samples — ${words}</li>`;
}

function routingLine(report: EfficacyReport): string {
  const { routed, always_largest: largest } = report.routing;
  const quality = largest.quality > 0 ? percent(routed.quality / largest.quality) : 'n/a';
  const cost = largest.cost > 0 ? percent(routed.cost / largest.cost) : 'n/a';
  return `<p>The routing table reaches <strong>${quality}</strong> of always-largest's quality (<code>${escapeHtml(largest.name)}</code>) at <strong>${cost}</strong> of its cost, over ${report.n_test} replayed test requests.</p>`;
}

/** Every candidate and every policy on the cost–quality plane (cost = total over the replayed test requests). */
function costQualityPlot(report: EfficacyReport): string {
  const { routing } = report;
  const point = (x: number, y: number, label: string) => ({ x, y, label: `${label}: quality ${y.toFixed(3)}, cost ${x.toPrecision(3)}` });
  // Always-smallest and always-largest are candidates' own points (the table above names which), so they are not drawn over them.
  const series: Series[] = [
    ...report.candidates.flatMap((c) => (c.cost === undefined ? [] : [{ name: `${c.name}${c.adapter ? '' : ' (base)'}`, points: [point(c.cost, c.quality.mean, c.name)] }])),
    { name: 'routed', points: [point(routing.routed.cost, routing.routed.quality, 'routed')] },
    { name: 'oracle', points: [point(routing.oracle.cost, routing.oracle.quality, 'oracle')] },
  ];
  return xyChart(series, { xLabel: 'total cost of the test requests', yLabel: 'mean quality', width: 760, height: 380 });
}

export function renderEfficacyVerdict(report: EfficacyReport): string {
  const { routing } = report;
  const gains = report.gains.length ? `<ul>${report.gains.map(gainLine).join('\n')}</ul>` : `<p style="color:${RED}">No tuned adapter was evaluated against its base model.</p>`;
  const rows = [
    ['routed (the table)', routing.routed.quality, routing.routed.cost],
    [`always-smallest: ${routing.always_smallest.name}`, routing.always_smallest.quality, routing.always_smallest.cost],
    [`always-largest: ${routing.always_largest.name}`, routing.always_largest.quality, routing.always_largest.cost],
    ['oracle (best per request, cheapest of ties)', routing.oracle.quality, routing.oracle.cost],
  ] as [string, number, number][];
  return [
    '<section class="verdict">',
    '<h2>Verdict</h2>',
    `<p>On ${report.n_test} test samples from ${report.test_documents.length} documents no training row came from:</p>`,
    gains,
    routingLine(report),
    table(['policy', 'mean quality', 'total cost'], rows),
    costQualityPlot(report),
    '</section>',
  ].join('\n');
}
