import type { OoxmlPackage } from './ooxml';
import { findAll, firstChild, ownText, textOf, type XmlElement } from './xml';

export interface ChartSummary {
  title: string;
  chart_type: string;
  series: string[];
}

const PLOT_TYPES = /^c:(area|bar|bubble|doughnut|line|ofPie|pie|radar|scatter|stock|surface)(3D)?Chart$/;

/** Title, plot type and series names of a DrawingML chart part (c:chartSpace). */
export function readChart(pkg: OoxmlPackage, part: string): ChartSummary | undefined {
  const root = pkg.xml(part);
  const chart = root && firstChild(root, 'c:chart');
  if (!chart) return undefined;
  const titleEl = firstChild(chart, 'c:title');
  const plotArea = firstChild(chart, 'c:plotArea');
  const plots = plotArea ? plotArea.children.filter((c): c is XmlElement => typeof c !== 'string' && PLOT_TYPES.test(c.name)) : [];
  const series = plots.flatMap((plot) => findAll(plot, 'c:ser')).map(seriesName).filter((name) => name !== '');
  return {
    title: titleEl ? textOf(titleEl, 'a:t').trim() : '',
    chart_type: plots.map((p) => p.name.slice(2)).join(',') || 'unknown',
    series,
  };
}

function seriesName(ser: XmlElement): string {
  const tx = firstChild(ser, 'c:tx');
  if (!tx) return '';
  const cached = findAll(tx, 'c:v').map(ownText);
  return (cached.join(' ') || textOf(tx, 'a:t')).trim();
}

export function chartText(chart: ChartSummary): string {
  return [chart.title, chart.series.length ? `series: ${chart.series.join(', ')}` : ''].filter(Boolean).join('\n');
}
