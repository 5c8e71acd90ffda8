/** Small self-contained SVG charts for HTML reports (no scripts, no external assets). */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface Series {
  name: string;
  points: { x: number; y: number; label?: string }[];
  /** Draw a line through the points (otherwise dots only). */
  line?: boolean;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

export function xyChart(series: Series[], options: { xLabel: string; yLabel: string; width?: number; height?: number }): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const m = { left: 64, right: 170, top: 20, bottom: 46 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '<p><em>no data</em></p>';
  const [xMin, xMax] = paddedRange(all.map((p) => p.x));
  const [yMin, yMax] = paddedRange(all.map((p) => p.y));
  const x = (v: number) => m.left + ((v - xMin) / (xMax - xMin)) * (width - m.left - m.right);
  const y = (v: number) => height - m.bottom - ((v - yMin) / (yMax - yMin)) * (height - m.top - m.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<line x1="${m.left}" y1="${height - m.bottom}" x2="${width - m.right}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${height - m.bottom}" stroke="#333"/>`,
    ...ticks.map((t) => `<text x="${x(xMin + t * (xMax - xMin)).toFixed(1)}" y="${height - m.bottom + 14}" text-anchor="middle">${fmt(xMin + t * (xMax - xMin))}</text>`),
    ...ticks.map((t) => `<text x="${m.left - 5}" y="${(y(yMin + t * (yMax - yMin)) + 4).toFixed(1)}" text-anchor="end">${fmt(yMin + t * (yMax - yMin))}</text>`),
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`,
    `<text transform="translate(14 ${(height - m.bottom + m.top) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>`,
  ];
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    if (s.line && s.points.length > 1) {
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${s.points.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const p of s.points) {
      parts.push(`<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="${s.line ? 2 : 4}" fill="${color}"><title>${escapeHtml(p.label ?? `${s.name}: ${fmt(p.x)}, ${fmt(p.y)}`)}</title></circle>`);
    }
    parts.push(`<rect x="${width - m.right + 12}" y="${m.top + i * 18}" width="10" height="10" fill="${color}"/><text x="${width - m.right + 27}" y="${m.top + i * 18 + 9}">${escapeHtml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * Rows × columns of values in [0, 1], colour-coded; null cells are drawn grey with their note. A
 * cell's `detail` (e.g. its interval and n) is printed under the value, not only in the hover note.
 */
export function heatmap(rows: string[], columns: string[], value: (row: number, col: number) => { v: number | null; note?: string; detail?: string }): string {
  const cells = rows.map((_, i) => columns.map((__, j) => value(i, j)));
  const withDetail = cells.some((row) => row.some((c) => c.detail));
  const cellW = Math.max(90, ...columns.map((c) => c.length * 7), ...(withDetail ? cells.flat().map((c) => (c.detail?.length ?? 0) * 5.6 + 10) : []));
  const cellH = withDetail ? 38 : 26;
  const labelW = Math.min(320, Math.max(120, ...rows.map((r) => r.length * 6.5)));
  const width = labelW + columns.length * cellW + 10;
  const height = 40 + rows.length * cellH;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`];
  columns.forEach((c, j) => parts.push(`<text x="${labelW + j * cellW + cellW / 2}" y="24" text-anchor="middle">${escapeHtml(c)}</text>`));
  rows.forEach((r, i) => {
    const top = 32 + i * cellH;
    parts.push(`<text x="${labelW - 6}" y="${top + cellH / 2 + 4}" text-anchor="end">${escapeHtml(r.length > 48 ? `${r.slice(0, 47)}…` : r)}</text>`);
    columns.forEach((_, j) => {
      const { v, note, detail } = cells[i]![j]!;
      const fill = v === null ? '#dddddd' : `hsl(${Math.round(120 * Math.max(0, Math.min(1, v)))}, 65%, 55%)`;
      const x = labelW + j * cellW + cellW / 2;
      parts.push(
        `<rect x="${labelW + j * cellW}" y="${top}" width="${cellW - 2}" height="${cellH - 2}" fill="${fill}"><title>${escapeHtml(note ?? (v === null ? 'missing' : v.toFixed(3)))}</title></rect>`,
        `<text x="${x}" y="${top + (withDetail ? 15 : 17)}" text-anchor="middle">${v === null ? '—' : v.toFixed(3)}</text>`,
        ...(detail ? [`<text x="${x}" y="${top + 29}" text-anchor="middle" font-size="9">${escapeHtml(detail)}</text>`] : []),
      );
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => `<td>${escapeHtml(typeof v === 'number' ? fmt(v) : v)}</td>`;
  return `<table><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</table>`;
}

function paddedRange(values: number[]): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  if (hi === lo) return [lo - (Math.abs(lo) || 1) * 0.1, hi + (Math.abs(hi) || 1) * 0.1];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 0.001 || a >= 1e5) ? v.toExponential(2) : v.toPrecision(3);
}
