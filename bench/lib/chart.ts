/**
 * The benchmark chart: one bar per workload, the ratio mtcp-ts / node:net
 * (above the 1x line: mtcp-ts is faster), each labelled with both figures.
 * Plain SVG, no dependency.
 */
export interface ChartCase {
  title: string;
  unit: string;
  mtcp: number;
  net: number;
}

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderChart(cases: ChartCase[], subtitle: string): string {
  const rowH = 46;
  const left = 300;
  const width = 900;
  const plotW = width - left - 60;
  const top = 70;
  const height = top + rowH * cases.length + 50;
  const ratios = cases.map((c) => c.mtcp / c.net);
  // A log scale: ratios from 0.1x to the largest, so 0.25x and 14x both read.
  const maxR = Math.max(2, ...ratios);
  const minR = Math.min(0.5, ...ratios);
  const lo = Math.log10(minR) - 0.1;
  const hi = Math.log10(maxR) + 0.1;
  const x = (r: number): number => left + ((Math.log10(r) - lo) / (hi - lo)) * plotW;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="20" y="28" font-size="17" font-weight="bold">mtcp-ts (shm) versus node:net, ratio of throughput (log scale)</text>`);
  out.push(`<text x="20" y="50" fill="#555">${esc(subtitle)}</text>`);
  for (const tick of [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50]) {
    if (Math.log10(tick) < lo || Math.log10(tick) > hi) continue;
    const tx = x(tick).toFixed(1);
    out.push(`<line x1="${tx}" y1="${top - 8}" x2="${tx}" y2="${height - 40}" stroke="${tick === 1 ? '#333' : '#ddd'}" stroke-width="${tick === 1 ? 1.5 : 1}"/>`);
    out.push(`<text x="${tx}" y="${height - 22}" text-anchor="middle" fill="#555">${tick}x</text>`);
  }
  cases.forEach((c, i) => {
    const y = top + i * rowH;
    const r = ratios[i];
    const x0 = x(1);
    const x1 = x(r);
    const bx = Math.min(x0, x1);
    out.push(`<text x="${left - 10}" y="${y + 16}" text-anchor="end">${esc(c.title)}</text>`);
    out.push(`<text x="${left - 10}" y="${y + 32}" text-anchor="end" fill="#555" font-size="11">${esc(`${fmt(c.mtcp)} vs ${fmt(c.net)} ${c.unit}`)}</text>`);
    out.push(`<rect x="${bx.toFixed(1)}" y="${y + 6}" width="${Math.max(1, Math.abs(x1 - x0)).toFixed(1)}" height="26" fill="${r >= 1 ? '#2b7bb9' : '#d9822b'}"/>`);
    out.push(`<text x="${(r >= 1 ? x1 + 6 : x1 - 6).toFixed(1)}" y="${y + 24}" text-anchor="${r >= 1 ? 'start' : 'end'}" font-weight="bold">${r.toFixed(2)}x</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
