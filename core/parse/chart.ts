import type { DocumentTableCell } from '../../schemas/generated/types';
import { tableText, type BlockInput } from './model';
import { formatNumber } from './numfmt';
import type { OoxmlPackage } from './ooxml';
import { findAll, firstChild, ownText, textOf, type XmlElement } from './xml';

export interface ChartSummary {
  title: string;
  chart_type: string;
  series: string[];
  /** The cached data: a header row of series names, then one row per category. */
  cells: DocumentTableCell[];
  rows: number;
  cols: number;
}

const PLOT_TYPES = /^c:(area|bar|bubble|doughnut|line|ofPie|pie|radar|scatter|stock|surface)(3D)?Chart$/;

/** Title, plot type, series names and cached data of a DrawingML chart part (c:chartSpace). */
export function readChart(pkg: OoxmlPackage, part: string): ChartSummary | undefined {
  const root = pkg.xml(part);
  const chart = root && firstChild(root, 'c:chart');
  if (!chart) return undefined;
  const titleEl = firstChild(chart, 'c:title');
  const plotArea = firstChild(chart, 'c:plotArea');
  const plots = plotArea ? plotArea.children.filter((c): c is XmlElement => typeof c !== 'string' && PLOT_TYPES.test(c.name)) : [];
  const series = plots.flatMap((plot) => findAll(plot, 'c:ser'));
  const names = series.map(seriesName);
  const grid = dataGrid(series, names);
  return {
    title: titleEl ? textOf(titleEl, 'a:t').trim() : '',
    chart_type: plots.map((p) => p.name.slice(2)).join(',') || 'unknown',
    series: names.filter((name) => name !== ''),
    ...grid,
  };
}

function seriesName(ser: XmlElement): string {
  const tx = firstChild(ser, 'c:tx');
  if (!tx) return '';
  const cached = findAll(tx, 'c:v').map(ownText);
  return (cached.join(' ') || textOf(tx, 'a:t')).trim();
}

/**
 * Cached points of a c:cat / c:val (or c:xVal / c:yVal) reference, by point index, as the chart
 * shows them: a number cache stores binary doubles (4.4000000000000004) with the series' format code
 * (point-level codes override it), so numbers go through the same renderer as sheet cells.
 */
function cachedPoints(el: XmlElement | undefined): Map<number, string> {
  const points = new Map<number, string>();
  const numCache = el && findAll(el, 'c:numCache')[0];
  const codeElement = numCache && firstChild(numCache, 'c:formatCode');
  const seriesCode = (codeElement && ownText(codeElement).trim()) || 'General';
  for (const pt of el ? findAll(el, 'c:pt') : []) {
    const raw = ownText(firstChild(pt, 'c:v') ?? pt).trim();
    const code = pt.attrs.formatCode ?? seriesCode;
    const value = Number(raw);
    points.set(Number(pt.attrs.idx ?? points.size), numCache && raw !== '' && Number.isFinite(value) ? formatNumber(value, code) : raw);
  }
  return points;
}

function dataGrid(series: XmlElement[], names: string[]): Pick<ChartSummary, 'cells' | 'rows' | 'cols'> {
  const values = series.map((ser) => cachedPoints(firstChild(ser, 'c:val') ?? firstChild(ser, 'c:yVal')));
  const first = series[0];
  const categories = first ? cachedPoints(firstChild(first, 'c:cat') ?? firstChild(first, 'c:xVal')) : new Map<number, string>();
  const count = Math.max(0, ...values.map((v) => (v.size ? Math.max(...v.keys()) + 1 : 0)));
  if (count === 0) return { cells: [], rows: 0, cols: 0 };
  const cells: DocumentTableCell[] = names.map((name, i) => ({ row: 0, col: i + 1, row_span: 1, col_span: 1, text: name, header: true }));
  for (let point = 0; point < count; point++) {
    cells.push({ row: point + 1, col: 0, row_span: 1, col_span: 1, text: categories.get(point) ?? String(point + 1) });
    values.forEach((v, i) => cells.push({ row: point + 1, col: i + 1, row_span: 1, col_span: 1, text: v.get(point) ?? '' }));
  }
  return { cells, rows: count + 1, cols: series.length + 1 };
}

/** The fields of a `chart` block; without a readable chart part only the alt text remains. */
export function chartFields(chart: ChartSummary | undefined, alt = ''): Pick<BlockInput, 'text' | 'chart_type' | 'series' | 'cells' | 'rows' | 'cols'> {
  if (!chart) return { text: alt };
  const text = [chart.title, chart.cells.length ? tableText(chart.cells) : chart.series.length ? `series: ${chart.series.join(', ')}` : ''].filter(Boolean).join('\n');
  return { text, chart_type: chart.chart_type, series: chart.series, ...(chart.cells.length ? { cells: chart.cells, rows: chart.rows, cols: chart.cols } : {}) };
}
