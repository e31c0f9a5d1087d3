// Two small dependency-free SVG charts for BENCHMARKS.md: grouped bars and
// lines on a log-scale x axis. Output is deterministic (same data, same
// bytes), so regenerated charts only change when the numbers do.

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

const escapeXml = (text: string) => text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
const round = (n: number) => Math.round(n * 10) / 10;

/** A "nice" axis maximum and tick step for values up to `max`. */
function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

/** Short tick labels: 12000 → 12k, 1500000 → 1.5M. */
export function shortNumber(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${round(n / 1e6)}M`;
  if (abs >= 1e3) return `${round(n / 1e3)}k`;
  return String(Math.round(n * 100) / 100);
}

function legend(names: string[], x: number, y: number): string {
  return names
    .map((name, i) => `<rect x="${x}" y="${y + i * 18}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 18}" y="${y + i * 18 + 10}" font-size="12" ${FONT}>${escapeXml(name)}</text>`)
    .join('');
}

export interface BarChart {
  title: string;
  yLabel: string;
  /** Categories along x (e.g. operations). */
  groups: string[];
  /** One bar per series in every group; NaN leaves a gap. */
  series: { name: string; values: number[] }[];
}

/** Grouped vertical bars with a legend on the right. */
export function barChart(chart: BarChart): string {
  const legendWidth = 12 + 7 * Math.max(...chart.series.map((s) => s.name.length));
  const plot = { x: 70, y: 40, w: Math.max(300, chart.groups.length * (chart.series.length * 22 + 30)), h: 240 };
  const width = plot.x + plot.w + 30 + legendWidth;
  const height = plot.y + plot.h + 50;
  const max = Math.max(0, ...chart.series.flatMap((s) => s.values.filter(Number.isFinite)));
  const { top, step } = niceScale(max);
  const y = (v: number) => plot.y + plot.h - (v / top) * plot.h;
  const parts = [`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600" ${FONT}>${escapeXml(chart.title)}</text>`];
  for (let v = 0; v <= top + step / 2; v += step) {
    parts.push(`<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${round(y(v))}" y2="${round(y(v))}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${plot.x - 6}" y="${round(y(v)) + 4}" text-anchor="end" font-size="11" ${FONT}>${shortNumber(v)}</text>`);
  }
  parts.push(`<text x="16" y="${plot.y + plot.h / 2}" transform="rotate(-90 16 ${plot.y + plot.h / 2})" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(chart.yLabel)}</text>`);
  const groupWidth = plot.w / chart.groups.length;
  const barWidth = Math.min(22, (groupWidth - 20) / chart.series.length);
  chart.groups.forEach((group, g) => {
    const start = plot.x + g * groupWidth + (groupWidth - barWidth * chart.series.length) / 2;
    chart.series.forEach((series, s) => {
      const value = series.values[g];
      if (value === undefined || !Number.isFinite(value)) return;
      const x = round(start + s * barWidth);
      parts.push(`<rect x="${x}" y="${round(y(value))}" width="${round(barWidth - 2)}" height="${round(plot.y + plot.h - y(value))}" fill="${PALETTE[s % PALETTE.length]}"><title>${escapeXml(`${series.name} ${group}: ${shortNumber(value)}`)}</title></rect>`);
    });
    parts.push(`<text x="${round(plot.x + g * groupWidth + groupWidth / 2)}" y="${plot.y + plot.h + 18}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(group)}</text>`);
  });
  parts.push(`<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${plot.y + plot.h}" y2="${plot.y + plot.h}" stroke="#111"/>`);
  parts.push(legend(chart.series.map((s) => s.name), plot.x + plot.w + 20, plot.y));
  return svg(width, height, parts);
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Points per series; x must be > 0 (the x axis is logarithmic). */
  series: { name: string; points: [x: number, y: number][]; dashed?: boolean }[];
}

/** Lines over a log10 x axis (e.g. table size) and a linear y axis from 0. */
export function lineChart(chart: LineChart): string {
  const legendWidth = 12 + 7 * Math.max(...chart.series.map((s) => s.name.length));
  const plot = { x: 70, y: 40, w: 460, h: 240 };
  const width = plot.x + plot.w + 30 + legendWidth;
  const height = plot.y + plot.h + 56;
  const xs = chart.series.flatMap((s) => s.points.map(([x]) => x));
  const lo = Math.floor(Math.log10(Math.min(...xs)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...xs))));
  const { top, step } = niceScale(Math.max(0, ...chart.series.flatMap((s) => s.points.map(([, v]) => v))));
  const x = (v: number) => plot.x + ((Math.log10(v) - lo) / (hi - lo)) * plot.w;
  const y = (v: number) => plot.y + plot.h - (v / top) * plot.h;
  const parts = [`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600" ${FONT}>${escapeXml(chart.title)}</text>`];
  for (let v = 0; v <= top + step / 2; v += step) {
    parts.push(`<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${round(y(v))}" y2="${round(y(v))}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${plot.x - 6}" y="${round(y(v)) + 4}" text-anchor="end" font-size="11" ${FONT}>${shortNumber(v)}</text>`);
  }
  for (let e = lo; e <= hi; e++) {
    parts.push(`<line x1="${round(x(10 ** e))}" x2="${round(x(10 ** e))}" y1="${plot.y}" y2="${plot.y + plot.h}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${round(x(10 ** e))}" y="${plot.y + plot.h + 16}" text-anchor="middle" font-size="11" ${FONT}>10^${e}</text>`);
  }
  parts.push(`<text x="${plot.x + plot.w / 2}" y="${plot.y + plot.h + 36}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(chart.xLabel)}</text>`);
  parts.push(`<text x="16" y="${plot.y + plot.h / 2}" transform="rotate(-90 16 ${plot.y + plot.h / 2})" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(chart.yLabel)}</text>`);
  chart.series.forEach((series, s) => {
    const color = PALETTE[s % PALETTE.length];
    const points = [...series.points].sort((a, b) => a[0] - b[0]);
    const path = points.map(([px, py]) => `${round(x(px))},${round(y(py))}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const [px, py] of points) parts.push(`<circle cx="${round(x(px))}" cy="${round(y(py))}" r="3.5" fill="${color}"><title>${escapeXml(`${series.name} at ${shortNumber(px)}: ${shortNumber(py)}`)}</title></circle>`);
  });
  parts.push(`<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${plot.y + plot.h}" y2="${plot.y + plot.h}" stroke="#111"/>`);
  parts.push(legend(chart.series.map((s) => s.name), plot.x + plot.w + 20, plot.y));
  return svg(width, height, parts);
}

function svg(width: number, height: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}"><rect width="100%" height="100%" fill="#fff"/>${parts.join('')}</svg>\n`;
}
