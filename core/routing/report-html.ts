/** The quality-cost plot of a route-eval report as one self-contained HTML page (inline SVG). */
import type { RouteEvalReport } from '../../schemas/generated/types';
import { nonDecreasingConvexHull, type CostQuality } from './aiq';

const WIDTH = 720;
const HEIGHT = 460;
const MARGIN = { left: 70, right: 180, top: 30, bottom: 50 };
const ROUTER_COLORS = ['#1f77b4', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderRouteEvalHtml(report: RouteEvalReport, title = 'Router evaluation'): string {
  const routers = report.routers ?? [{ name: 'router', curve: report.router_curve }];
  const chosen = report.chosen_router?.name ?? 'router';
  const all: CostQuality[] = [...routers.flatMap((r) => r.curve), ...report.single_models, ...report.random, report.oracle];
  const costMax = Math.max(...all.map((p) => p.cost)) || 1;
  const qualities = all.map((p) => p.quality);
  const qMin = Math.max(0, Math.min(...qualities) - 0.05);
  const qMax = Math.min(1, Math.max(...qualities) + 0.05);
  const x = (cost: number) => MARGIN.left + (cost / costMax) * (WIDTH - MARGIN.left - MARGIN.right);
  const y = (quality: number) => HEIGHT - MARGIN.bottom - ((quality - qMin) / (qMax - qMin || 1)) * (HEIGHT - MARGIN.top - MARGIN.bottom);
  const dot = (p: CostQuality, color: string, r = 3) => `<circle cx="${x(p.cost).toFixed(1)}" cy="${y(p.quality).toFixed(1)}" r="${r}" fill="${color}"/>`;
  const line = (points: CostQuality[], color: string, dash = '') =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''} points="${points.map((p) => `${x(p.cost).toFixed(1)},${y(p.quality).toFixed(1)}`).join(' ')}"/>`;
  const ticks = Array.from({ length: 6 }, (_, i) => i / 5);
  const colorOf = (i: number) => ROUTER_COLORS[i % ROUTER_COLORS.length]!;
  const legend = [
    ...routers.map((r, i) => [colorOf(i), `${r.name}${r.name === chosen ? ' (chosen)' : ''}`]),
    ['#2ca02c', 'single models (hull dashed)'],
    ['#999999', 'random mixes'],
    ['#d62728', 'oracle'],
  ];
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<line x1="${MARGIN.left}" y1="${HEIGHT - MARGIN.bottom}" x2="${WIDTH - MARGIN.right}" y2="${HEIGHT - MARGIN.bottom}" stroke="#000"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${HEIGHT - MARGIN.bottom}" stroke="#000"/>`,
    ...ticks.map((t) => `<text x="${x(t * costMax).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${(t * costMax).toPrecision(3)}</text>`),
    ...ticks.map((t) => `<text x="${MARGIN.left - 6}" y="${y(qMin + t * (qMax - qMin)).toFixed(1)}" text-anchor="end">${(qMin + t * (qMax - qMin)).toFixed(3)}</text>`),
    `<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 10}" text-anchor="middle">total cost over the test split</text>`,
    `<text transform="translate(16 ${HEIGHT / 2}) rotate(-90)" text-anchor="middle">mean quality</text>`,
    line(nonDecreasingConvexHull(report.single_models), '#2ca02c', '6 4'),
    ...routers.map((r, i) => line(nonDecreasingConvexHull(r.curve), colorOf(i), r.name === chosen ? '' : '3 3')),
    ...report.random.map((p) => dot(p, '#999999')),
    ...(routers.find((r) => r.name === chosen)?.curve ?? []).map((p) => dot(p, colorOf(routers.findIndex((r) => r.name === chosen)), 2)),
    ...report.single_models.map((m) => `${dot(m, '#2ca02c', 5)}<text x="${x(m.cost) + 7}" y="${y(m.quality) + 4}">${escapeHtml(m.model)}</text>`),
    dot(report.oracle, '#d62728', 5),
    ...legend.map(
      ([color, label], i) =>
        `<rect x="${WIDTH - MARGIN.right + 15}" y="${MARGIN.top + i * 20}" width="10" height="10" fill="${color}"/><text x="${WIDTH - MARGIN.right + 30}" y="${MARGIN.top + i * 20 + 9}">${label}</text>`,
    ),
    '</svg>',
  ].join('\n');
  const routerRows = (report.routers ?? [])
    .map(
      (r) =>
        `<tr${r.name === chosen ? ' style="font-weight:bold"' : ''}><td>${escapeHtml(r.name)}${r.name === chosen ? ' (chosen)' : ''}</td><td>${escapeHtml(JSON.stringify(r.config))}</td><td>${r.validation_brier.toFixed(4)}</td><td>${r.validation_aiq.toFixed(4)}${r.validation_aiq_se === undefined ? '' : ` ± ${r.validation_aiq_se.toFixed(4)}`}</td><td>${r.aiq.toFixed(4)}</td><td>${r.cost_at_95pct_best_quality === null ? 'not reached' : r.cost_at_95pct_best_quality.toPrecision(4)}</td></tr>`,
    )
    .join('');
  const rows = report.single_models.map((m) => `<tr><td>${escapeHtml(m.model)}</td><td>${m.quality.toFixed(4)}</td><td>${m.cost.toPrecision(4)}</td></tr>`).join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${report.n_train} train${report.n_validation === undefined ? '' : ` (${report.n_validation} of them held out for validation)`} / ${report.n_test} test prompts, ${report.n_clusters ?? '?'} clusters, embeddings: ${escapeHtml(report.embedding_model ?? 'unknown')}.
${report.chosen_router ? `Chosen router: <b>${escapeHtml(report.chosen_router.name)}</b>, because ${escapeHtml(report.chosen_router.reason)}. Test figures below are reported, never used to choose.<br>` : ''}
AIQ router ${report.aiq.router.toFixed(4)} vs zero router ${report.aiq.zero_router.toFixed(4)};
cost at 95% of the best single model's quality: ${report.cost_at_95pct_best_quality === null ? 'not reached' : report.cost_at_95pct_best_quality.toPrecision(4)};
oracle ${report.oracle.quality.toFixed(4)} at ${report.oracle.cost.toPrecision(4)}.</p>
${svg}
${routerRows ? `<h2>Routers (same test split)</h2><table border="1" cellpadding="4"><tr><th>router</th><th>config (chosen on validation)</th><th>validation Brier</th><th>validation AIQ ± paired SE vs best</th><th>test AIQ</th><th>test cost at 95% of best single</th></tr>${routerRows}</table>` : ''}
<h2>Single models (test split)</h2>
<table border="1" cellpadding="4"><tr><th>model</th><th>quality</th><th>cost</th></tr>${rows}</table>
</body></html>
`;
}
