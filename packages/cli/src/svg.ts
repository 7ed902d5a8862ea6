// A small SVG scatter-line plot with a logarithmic x axis: `hnet frontier`'s
// accuracy against file bytes. No dependencies; the text is deterministic for
// the same points, so a plot in the docs changes only when its data does.

export interface Series {
  name: string;
  color: string;
  /** Joined by a line in x order (a family of runs), or marks only. */
  line: boolean;
  /** A dashed line and square marks instead of a solid line and circles: a second kind of run in the same colour. */
  dashed?: boolean;
  points: { x: number; y: number }[];
}

export interface PlotSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Horizontal reference lines (the dense model's accuracy, and a point below it). */
  references: { y: number; label: string }[];
  /** Vertical reference lines (a size target). */
  verticals?: { x: number; label: string }[];
  formatX: (x: number) => string;
  /** Bottom of the y axis; points and lines below it are cut off (else the lowest point sets it). */
  yMin?: number;
}

const WIDTH = 800;
const HEIGHT = 460;
const MARGIN = { left: 64, right: 250, top: 40, bottom: 52 };

/** A circle, or for a dashed series a square of about the circle's area (so that neither looks heavier). */
function mark(s: Series, x: number, y: number): string {
  if (!s.dashed) return `<circle cx="${num(x)}" cy="${num(y)}" r="3.5" fill="${s.color}"/>`;
  return `<rect x="${num(x - 3)}" y="${num(y - 3)}" width="6" height="6" fill="${s.color}"/>`;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v: number): string => (Math.round(v * 10) / 10).toString();

/** Ticks 1, 2, 5 × 10^k inside [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo && t <= hi) ticks.push(t);
    }
  }
  return ticks;
}

function linearTicks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 6;
  const step = [0.5, 1, 2, 5, 10, 20].find((s) => s >= raw) ?? 20;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push(Math.round(t * 100) / 100);
  return ticks;
}

export function plotSvg(spec: PlotSpec): string {
  const all = spec.series.flatMap((s) => s.points);
  const xs = [...all.map((p) => p.x), ...(spec.verticals ?? []).map((v) => v.x)];
  const ys = [...all.map((p) => p.y).filter((y) => spec.yMin === undefined || y >= spec.yMin), ...spec.references.map((r) => r.y)];
  const xLo = Math.min(...xs) / 1.3;
  const xHi = Math.max(...xs) * 1.3;
  const yLo = spec.yMin ?? Math.floor(Math.min(...ys) - 0.5);
  const yHi = Math.ceil(Math.max(...ys) + 0.5);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number): number => MARGIN.left + (plotW * Math.log(x / xLo)) / Math.log(xHi / xLo);
  const py = (y: number): number => MARGIN.top + (plotH * (yHi - y)) / (yHi - yLo);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="14" font-weight="bold">${esc(spec.title)}</text>`,
  ];
  // Grid and axes.
  for (const t of logTicks(xLo, xHi)) {
    out.push(`<line x1="${num(px(t))}" y1="${MARGIN.top}" x2="${num(px(t))}" y2="${MARGIN.top + plotH}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${num(px(t))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${esc(spec.formatX(t))}</text>`);
  }
  for (const t of linearTicks(yLo, yHi)) {
    out.push(`<line x1="${MARGIN.left}" y1="${num(py(t))}" x2="${MARGIN.left + plotW}" y2="${num(py(t))}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${num(py(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`);
  // Labels alternate above and below their line, so that two close lines stay readable.
  spec.references.forEach((r, i) => {
    out.push(`<line x1="${MARGIN.left}" y1="${num(py(r.y))}" x2="${MARGIN.left + plotW}" y2="${num(py(r.y))}" stroke="#555" stroke-dasharray="5 4"/>`);
    out.push(`<text x="${MARGIN.left + 4}" y="${num(py(r.y) + (i % 2 ? 13 : -4))}" fill="#555">${esc(r.label)}</text>`);
  });
  (spec.verticals ?? []).forEach((v, i) => {
    out.push(`<line x1="${num(px(v.x))}" y1="${MARGIN.top}" x2="${num(px(v.x))}" y2="${MARGIN.top + plotH}" stroke="#555" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${num(px(v.x) + 4)}" y="${MARGIN.top + plotH - 8 - 14 * i}" fill="#555">${esc(v.label)}</text>`);
  });
  // Series (cut to the plot area), then the legend.
  out.push(`<clipPath id="plot"><rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}"/></clipPath>`);
  spec.series.forEach((s, i) => {
    const points = [...s.points].sort((a, b) => a.x - b.x);
    const dash = s.dashed ? ' stroke-dasharray="6 3"' : '';
    if (s.line && points.length > 1) {
      out.push(`<polyline clip-path="url(#plot)" fill="none" stroke="${s.color}" stroke-width="1.5"${dash} points="${points.map((p) => `${num(px(p.x))},${num(py(p.y))}`).join(' ')}"/>`);
    }
    for (const p of points) if (p.y >= yLo) out.push(mark(s, px(p.x), py(p.y)));
    const ly = MARGIN.top + 10 + i * 18;
    const lx = MARGIN.left + plotW + 14;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${s.color}" stroke-width="${s.line ? 1.5 : 0}"${dash}/>${mark(s, lx + 11, ly)}`);
    out.push(`<text x="${lx + 28}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
