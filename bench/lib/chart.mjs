// The bench's chart: throughput and p50/p99 latency against concurrency, one line per mode, as a self-contained SVG
// (no library: two small panels of polylines on log-scaled axes, readable on GitHub and in any browser).

const COLORS = { 'direct-db': '#4e79a7', saga: '#e15759', batched: '#59a14f', dev: '#f28e2b', 'dtm-saga': '#b07aa1' };
const W = 900;
const H = 360;
const PAD = { left: 64, right: 16, top: 36, bottom: 48 };

const esc = (s) => String(s).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);

/** log-scale ticks covering [min, max]: 1, 2, 5 × 10^k. */
function ticks(min, max) {
  const out = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) for (const m of [1, 2, 5]) out.push(m * 10 ** e);
  return out.filter((t) => t >= min / 1.0001 && t <= max * 1.0001);
}

function panel({ x0, width, title, yLabel, series, levels }) {
  const values = series.flatMap((s) => s.points.map((p) => p.y)).filter((v) => v > 0);
  if (!values.length) return '';
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const plotW = width - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const xs = (level) => x0 + PAD.left + (levels.length === 1 ? plotW / 2 : (levels.indexOf(level) / (levels.length - 1)) * plotW);
  const ys = (v) => PAD.top + plotH - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH;
  const parts = [`<text x="${x0 + width / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  for (const t of ticks(lo, hi)) {
    parts.push(`<line x1="${x0 + PAD.left}" x2="${x0 + width - PAD.right}" y1="${ys(t)}" y2="${ys(t)}" stroke="#ddd"/>`);
    parts.push(`<text x="${x0 + PAD.left - 6}" y="${ys(t) + 4}" text-anchor="end" font-size="11">${t >= 1000 ? `${t / 1000}k` : t}</text>`);
  }
  for (const l of levels) parts.push(`<text x="${xs(l)}" y="${H - PAD.bottom + 18}" text-anchor="middle" font-size="11">${l}</text>`);
  parts.push(`<text x="${x0 + PAD.left + plotW / 2}" y="${H - 10}" text-anchor="middle" font-size="12">requests in flight</text>`);
  parts.push(`<text transform="translate(${x0 + 16},${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`);
  for (const s of series) {
    const pts = s.points.filter((p) => p.y > 0);
    if (!pts.length) continue;
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" ${s.dash ? 'stroke-dasharray="5 4"' : ''} points="${pts.map((p) => `${xs(p.x)},${ys(p.y)}`).join(' ')}"/>`);
    for (const p of pts) parts.push(`<circle cx="${xs(p.x)}" cy="${ys(p.y)}" r="3" fill="${s.color}"><title>${esc(`${s.label} @${p.x}: ${p.y}`)}</title></circle>`);
  }
  return parts.join('\n');
}

/** The SVG for a bench result, or undefined when it has no scenario at several concurrencies. */
export function chart(result) {
  const levelled = result.scenarios.filter((s) => s.name.includes('@'));
  if (!levelled.length) return undefined;
  const modes = [...new Set(levelled.map((s) => s.name.split('@')[0]))];
  const levels = [...new Set(levelled.map((s) => s.level))].sort((a, b) => a - b);
  const of = (m) => levelled.filter((s) => s.name.startsWith(`${m}@`)).sort((a, b) => a.level - b.level);
  const color = (m) => COLORS[m] ?? '#888';
  const tps = modes.map((m) => ({ label: m, color: color(m), points: of(m).map((s) => ({ x: s.level, y: s.tps })) }));
  const lat = modes.flatMap((m) => [
    { label: `${m} p50`, color: color(m), points: of(m).map((s) => ({ x: s.level, y: s.p50_ms })) },
    { label: `${m} p99`, color: color(m), dash: true, points: of(m).map((s) => ({ x: s.level, y: s.p99_ms })) },
  ]);
  const half = W / 2;
  const legend = modes
    .map((m, i) => `<g transform="translate(${PAD.left + i * 150},${H + 8})"><rect width="14" height="4" y="5" fill="${color(m)}"/><text x="20" y="11" font-size="12">${esc(m)}</text></g>`)
    .join('\n');
  const m = result.machine;
  const caption = `${m.cores} cores, ${m.cpu_model}, Node ${m.node}; ${result.settings.durationMs / 1000} s windows; ${result.startedAt}${m.concurrent_load.length ? '; other load running' : ''} — p99 dashed`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 44}" viewBox="0 0 ${W} ${H + 44}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${panel({ x0: 0, width: half, title: 'Throughput (transfers/s)', yLabel: 'completed per second', series: tps, levels })}
${panel({ x0: half, width: half, title: 'Latency (POST → COMPLETED)', yLabel: 'ms (p50 solid, p99 dashed)', series: lat, levels })}
${legend}
<text x="${W - PAD.right}" y="${H + 36}" text-anchor="end" font-size="10" fill="#555">${esc(caption)}</text>
</svg>
`;
}
