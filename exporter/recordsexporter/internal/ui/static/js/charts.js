// Small SVG charts drawn by hand: a time-series line chart and a horizontal bar chart.
// Labels are text nodes; colours come from CSS classes (c0…c7).
import { h } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

// scale picks a round axis maximum ≥ v split into 4 or 5 round steps (whole steps for
// counts).
function scale(v, integer) {
  if (!(v > 0)) return { max: integer ? 4 : 1, n: 4 };
  const p = Math.pow(10, Math.floor(Math.log10(v / 4)));
  let best = null;
  for (const m of [1, 2, 2.5, 5, 10, 20]) {
    for (const n of [4, 5]) {
      const stepSize = m * p;
      if (integer && (stepSize < 1 || !Number.isInteger(stepSize))) continue;
      const max = stepSize * n;
      if (max >= v && (!best || max < best.max)) best = { max, n };
    }
  }
  return best;
}

function timeLabel(d, spanMs) {
  if (spanMs <= 2 * 86400e3) return d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  return d.toLocaleDateString('en-CA', { month: '2-digit', day: '2-digit' });
}

// lineChart: times (Date[]), series [{label, values, cls}], fmt for the y axis and tooltips.
// A null value is a gap (no data in that bucket), not a zero.
export function lineChart({ title, times, series, fmt, id, bars, integer }) {
  const W = 640, H = 210, L = 58, R = 12, T = 10, B = 26;
  const iw = W - L - R, ih = H - T - B;
  const sc = scale(Math.max(0, ...series.flatMap((x) => x.values.filter((v) => Number.isFinite(v)))), integer);
  const max = sc.max;
  const n = times.length;
  const x = (i) => L + (n <= 1 ? iw / 2 : (i / (n - 1)) * iw);
  const y = (v) => T + ih - (v / max) * ih;
  const svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title });
  for (let g = 0; g <= sc.n; g++) {
    const v = (max * g) / sc.n;
    svg.appendChild(s('line', { class: g ? 'grid-line' : 'axis', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    svg.appendChild(s('text', { x: L - 6, y: y(v) + 3.5, 'text-anchor': 'end' }, fmt(v)));
  }
  const span = n > 1 ? times[n - 1] - times[0] : 0;
  const ticks = Math.min(6, n);
  for (let t = 0; t < ticks; t++) {
    const i = ticks === 1 ? 0 : Math.round((t * (n - 1)) / (ticks - 1));
    svg.appendChild(s('text', { x: x(i), y: H - 8, 'text-anchor': t === 0 && ticks > 1 ? 'start' : t === ticks - 1 && ticks > 1 ? 'end' : 'middle' }, timeLabel(times[i], span)));
  }
  if (bars) {
    const bw = Math.max(2, Math.min(24, (iw / Math.max(n, 1)) * 0.7 / series.length));
    series.forEach((ser, si) => {
      ser.values.forEach((v, i) => {
        if (!v) return;
        const bx = x(i) - (bw * series.length) / 2 + si * bw;
        svg.appendChild(s('rect', { class: ser.cls, x: bx, y: y(v), width: bw, height: T + ih - y(v), rx: 1.5 },
          s('title', {}, timeLabel(times[i], 0) + ' ' + ser.label + ': ' + fmt(v))));
      });
    });
  } else {
    series.forEach((ser, si) => {
      const pts = ser.values.map((v, i) => (Number.isFinite(v) ? [x(i), y(v)] : null));
      // Runs of consecutive points; a gap starts a new run.
      const runs = [];
      let cur = null;
      for (const p of pts) {
        if (!p) { cur = null; continue; }
        if (!cur) { cur = []; runs.push(cur); }
        cur.push(p);
      }
      for (const run of runs) {
        const d = run.map((p, i) => (i ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join(' ');
        if (series.length === 1 && run.length > 1) svg.appendChild(s('path', { class: 'area ' + ser.cls, d: d + ' L' + run[run.length - 1][0].toFixed(1) + ' ' + (T + ih) + ' L' + run[0][0].toFixed(1) + ' ' + (T + ih) + ' Z' }));
        svg.appendChild(s('path', { class: 'line ' + ser.cls, d }));
      }
      if (n <= 60) {
        ser.values.forEach((v, i) => {
          if (!Number.isFinite(v) || (!v && !ser.gaps)) return;
          svg.appendChild(s('circle', { class: ser.cls, cx: pts[i][0], cy: pts[i][1], r: 2.5 }, s('title', {}, timeLabel(times[i], 0) + ' ' + ser.label + ': ' + fmt(v))));
        });
      }
    });
  }
  return h('div', { class: 'chart', attrs: { id } }, h('h3', { text: title }), svg,
    series.length > 1 ? h('div', { class: 'legend' }, series.map((ser) => h('span', {}, h('span', { class: 'sw ' + ser.cls }), ser.label))) : null);
}

// barChart: rows [{label, value}] drawn as horizontal bars, largest first.
export function barChart({ title, rows, fmt, id, cls }) {
  const top = rows.slice(0, 10);
  const W = 640, rowH = 24, L = 170, R = 80;
  const H = Math.max(1, top.length) * rowH + 6;
  const max = Math.max(...top.map((r) => r.value), 0) || 1;
  const svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title });
  top.forEach((r, i) => {
    const y = 3 + i * rowH;
    const label = r.label.length > 26 ? r.label.slice(0, 25) + '…' : r.label;
    svg.appendChild(s('text', { x: L - 8, y: y + 15, 'text-anchor': 'end' }, s('title', {}, r.label), label));
    const w = Math.max(1, ((W - L - R) * r.value) / max);
    svg.appendChild(s('rect', { class: 'hbar ' + (cls || 'c0'), x: L, y: y + 4, width: r.value ? w : 0, height: rowH - 8, rx: 3 }, s('title', {}, r.label + ': ' + fmt(r.value))));
    svg.appendChild(s('text', { x: L + (r.value ? w : 0) + 6, y: y + 15 }, fmt(r.value)));
  });
  return h('div', { class: 'chart', attrs: { id } }, h('h3', { text: title }),
    top.length ? svg : h('p', { class: 'muted', text: 'No data' }),
    rows.length > top.length ? h('p', { class: 'muted', text: 'Top 10 of ' + rows.length }) : null);
}
