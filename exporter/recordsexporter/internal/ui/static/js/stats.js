// Stats: cost, tokens, latency and errors over time, and attributed to services, users,
// models, runs or sessions.
import { ApiError, get, qs } from './api.js';
import { append, clear, emptyState, fmtCost, fmtInt, fmtMs, h, link } from './dom.js';
import { barChart, lineChart } from './charts.js';

const GROUPS = [['service', 'Service'], ['user', 'User'], ['model', 'Model'], ['run', 'Run'], ['session', 'Session']];
const RANGES = [
  ['1h', 'Last hour', 3600e3, '1m'],
  ['24h', 'Last 24 hours', 86400e3, '1h'],
  ['7d', 'Last 7 days', 7 * 86400e3, '6h'],
  ['30d', 'Last 30 days', 30 * 86400e3, '24h'],
];

function durMs(d) {
  const m = /^(\d+)([smh])$/.exec(d);
  return m ? Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3 }[m[2]] : 0;
}

function compact(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(v >= 1e7 ? 0 : 1) + 'M';
  if (v >= 1e3) return (v / 1e3).toFixed(v >= 1e4 ? 0 : 1) + 'k';
  return String(Math.round(v * 100) / 100);
}

export function statsPage(root, params) {
  let group = GROUPS.some((g) => g[0] === params.get('group_by')) ? params.get('group_by') : 'service';
  let range = RANGES.some((r) => r[0] === params.get('range')) ? params.get('range') : '24h';
  const page = h('section', { class: 'page stats-page' });
  const body = h('div', {});
  root.appendChild(page);
  let alive = true;
  let seq = 0;

  const groupSel = h('select', { class: 'input', attrs: { id: 'stats-group' } }, GROUPS.map(([v, t]) => h('option', { value: v, text: t, selected: v === group })));
  const rangeSel = h('select', { class: 'input', attrs: { id: 'stats-range' } }, RANGES.map(([v, t]) => h('option', { value: v, text: t, selected: v === range })));
  const onChange = () => {
    group = groupSel.value;
    range = rangeSel.value;
    history.replaceState(null, '', '#/stats?' + new URLSearchParams({ group_by: group, range }));
    load();
  };
  groupSel.addEventListener('change', onChange);
  rangeSel.addEventListener('change', onChange);
  append(page, h('div', { class: 'page-head' }, h('h1', { text: 'Stats' }),
    h('div', { class: 'head-actions' },
      h('div', { class: 'field' }, h('label', { attrs: { for: 'stats-group' }, text: 'Group by' }), groupSel),
      h('div', { class: 'field' }, h('label', { attrs: { for: 'stats-range' }, text: 'Time' }), rangeSel))), body);

  async function load() {
    const my = ++seq;
    clear(body).appendChild(h('p', { class: 'loading', text: 'Loading stats…' }));
    const r = RANGES.find((x) => x[0] === range);
    const to = new Date();
    const from = new Date(to.getTime() - r[2]);
    let st;
    let noBuckets = false;
    try {
      try {
        st = await get('/stats' + qs({ group_by: group, from: from.toISOString(), to: to.toISOString(), bucket: r[3] }));
      } catch (e) {
        if (!(e instanceof ApiError) || e.unsupportedParam !== 'bucket') throw e;
        noBuckets = true;
        st = await get('/stats' + qs({ group_by: group, from: from.toISOString(), to: to.toISOString() }));
      }
    } catch (e) {
      if (!alive || my !== seq) return;
      clear(body);
      if (e instanceof ApiError && e.missing) body.appendChild(emptyState('Stats are not available on this server', 'This tracehound does not serve /api/v1/stats yet. The Records page can still sort by cost and duration.', link('#/records?sort=-cost', 'Most expensive records', 'btn btn-primary')));
      else if (e.status === 401) body.appendChild(emptyState('API key needed', 'Enter the API key to see stats.'));
      else body.appendChild(emptyState('Could not load stats', e.message));
      return;
    }
    if (!alive || my !== seq) return;
    clear(body);
    const total = st.total || {};
    if (!total.record_count) {
      body.appendChild(emptyState('No records in this time range', 'Stats count the records that started in the selected range. Pick a longer range, or send traces (see Setup).', link('#/setup', 'Set up instrumentation', 'btn btn-primary')));
      return;
    }
    const card = (label, value, sub) => h('div', { class: 'card' }, h('div', { class: 'label', text: label }), h('div', { class: 'value', text: value }), sub ? h('div', { class: 'sub', text: sub }) : null);
    const tu = total.usage || {};
    const tl = total.latency_ms || {};
    body.appendChild(h('div', { class: 'cards', attrs: { id: 'stats-cards' } },
      card('Records', fmtInt(total.record_count)),
      card('Cost', fmtCost(total.cost_usd), fmtCost(total.cost_usd / total.record_count) + ' per record'),
      card('Tokens', compact(tu.total || 0), fmtInt(tu.input) + ' in · ' + fmtInt(tu.output) + ' out'),
      card('Latency p50 / p95', fmtMs(tl.p50), 'p95 ' + fmtMs(tl.p95) + ' · p99 ' + fmtMs(tl.p99)),
      card('Errors', fmtInt(total.error_count || 0), ((100 * (total.error_count || 0)) / total.record_count).toFixed(1) + '% of records · ' + fmtInt(total.flag_count || 0) + ' flags')));

    // Time series: fill empty buckets so the x axis is real time.
    const step = durMs(r[3]);
    if (st.buckets && st.buckets.length && step) {
      const byStart = new Map(st.buckets.map((b) => [new Date(b.start).getTime(), b]));
      const first = Math.floor(from.getTime() / step) * step;
      const times = [], rows = [];
      for (let t = first; t <= to.getTime(); t += step) {
        times.push(new Date(t));
        rows.push(byStart.get(t) || null);
      }
      const val = (f) => rows.map((b) => (b ? f(b) : 0));
      // Latency has no value in an empty bucket: draw a gap, not a zero.
      const lat = (f) => rows.map((b) => (b ? f(b) : null));
      body.appendChild(h('div', { class: 'charts' },
        lineChart({ id: 'chart-cost', title: 'Cost over time', times, fmt: fmtCost, series: [{ label: 'cost', cls: 'c0', values: val((b) => b.cost_usd) }] }),
        lineChart({ id: 'chart-tokens', title: 'Tokens over time', times, fmt: compact, series: [
          { label: 'input', cls: 'c4', values: val((b) => b.usage.input) },
          { label: 'output', cls: 'c7', values: val((b) => b.usage.output) }] }),
        lineChart({ id: 'chart-latency', title: 'Latency over time', times, fmt: fmtMs, series: [
          { label: 'p50', cls: 'c1', gaps: true, values: lat((b) => b.latency_ms.p50) },
          { label: 'p95', cls: 'c2', gaps: true, values: lat((b) => b.latency_ms.p95) },
          { label: 'p99', cls: 'c3', gaps: true, values: lat((b) => b.latency_ms.p99) }] }),
        lineChart({ id: 'chart-errors', title: 'Records and errors over time', times, fmt: compact, bars: true, series: [
          { label: 'records', cls: 'c0', values: val((b) => b.record_count) },
          { label: 'errors', cls: 'c3', values: val((b) => b.error_count) },
          { label: 'flagged', cls: 'c2', values: val((b) => (b.status_counts ? b.status_counts.flagged : 0)) }] })));
    } else if (noBuckets) {
      body.appendChild(h('p', { class: 'notice notice-info', text: 'This server does not bucket stats by time yet, so only the breakdown by ' + group + ' is shown.' }));
    }

    const groups = st.groups || [];
    const label = (g) => (g.key == null ? '(none)' : g.key);
    const gname = GROUPS.find((g) => g[0] === group)[1].toLowerCase();
    body.appendChild(h('h2', { text: 'By ' + gname }));
    body.appendChild(h('div', { class: 'charts' },
      barChart({ id: 'bars-cost', title: 'Cost by ' + gname, cls: 'c0', fmt: fmtCost, rows: groups.map((g) => ({ label: label(g), value: g.cost_usd })).sort((a, b) => b.value - a.value) }),
      barChart({ id: 'bars-tokens', title: 'Tokens by ' + gname, cls: 'c7', fmt: compact, rows: groups.map((g) => ({ label: label(g), value: g.usage.total })).sort((a, b) => b.value - a.value) }),
      barChart({ id: 'bars-latency', title: 'Latency p95 by ' + gname, cls: 'c2', fmt: fmtMs, rows: groups.map((g) => ({ label: label(g), value: g.latency_ms.p95 })).sort((a, b) => b.value - a.value) }),
      barChart({ id: 'bars-errors', title: 'Errors by ' + gname, cls: 'c3', fmt: compact, rows: groups.map((g) => ({ label: label(g), value: g.error_count })).sort((a, b) => b.value - a.value) })));
    const filterKey = { service: 'service', user: 'user_id', model: 'model', run: 'run_id', session: 'session_id' }[group];
    body.appendChild(h('div', { class: 'table-wrap' }, h('table', { class: 'grid', attrs: { id: 'stats-table' } },
      h('thead', {}, h('tr', {}, [[GROUPS.find((g) => g[0] === group)[1], ''], ['Records', 'num'], ['Errors', 'num'], ['Flagged', 'num'], ['Tokens', 'num'], ['Cost', 'num'], ['p50', 'num'], ['p95', 'num'], ['p99', 'num']]
        .map(([t, c]) => h('th', { class: c, text: t })))),
      h('tbody', {}, groups.map((g) => h('tr', {},
        h('td', {}, g.key == null ? h('span', { class: 'muted', text: '(none)' }) : link('#/records?' + new URLSearchParams({ [filterKey]: g.key, range }), g.key)),
        h('td', { class: 'num', text: fmtInt(g.record_count) }),
        h('td', { class: 'num', text: fmtInt(g.error_count) }),
        h('td', { class: 'num', text: fmtInt(g.status_counts ? g.status_counts.flagged : 0) }),
        h('td', { class: 'num', text: fmtInt(g.usage.total) }),
        h('td', { class: 'num', text: fmtCost(g.cost_usd) }),
        h('td', { class: 'num', text: fmtMs(g.latency_ms.p50) }),
        h('td', { class: 'num', text: fmtMs(g.latency_ms.p95) }),
        h('td', { class: 'num', text: fmtMs(g.latency_ms.p99) })))))));
  }
  load();
  return () => { alive = false; };
}
