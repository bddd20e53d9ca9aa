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

// GROUPED_SERIES_MAX is the most records the page reads to split the time series by group.
const GROUPED_SERIES_MAX = 5000;
const TOP_GROUPS = 5;
const NONE = '(none)';

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

  // totalCharts draws the server's time buckets (all groups together).
  function totalCharts(st, times, first, step) {
    const byStart = new Map(st.buckets.map((b) => [new Date(b.start).getTime(), b]));
    const rows = times.map((t) => byStart.get(t.getTime()) || null);
    const val = (f) => rows.map((b) => (b ? f(b) : 0));
    // Latency has no value in an empty bucket: draw a gap, not a zero.
    const lat = (f) => rows.map((b) => (b ? f(b) : null));
    return [
      lineChart({ id: 'chart-cost', title: 'Cost over time', times, fmt: fmtCost, series: [{ label: 'cost', cls: 'c0', values: val((b) => b.cost_usd) }] }),
      lineChart({ id: 'chart-tokens', title: 'Tokens over time', times, fmt: compact, series: [
        { label: 'input', cls: 'c4', values: val((b) => b.usage.input) },
        { label: 'output', cls: 'c7', values: val((b) => b.usage.output) }] }),
      lineChart({ id: 'chart-latency', title: 'Latency over time', times, fmt: fmtMs, series: [
        { label: 'p50', cls: 'c1', gaps: true, values: lat((b) => b.latency_ms.p50) },
        { label: 'p95', cls: 'c2', gaps: true, values: lat((b) => b.latency_ms.p95) },
        { label: 'p99', cls: 'c3', gaps: true, values: lat((b) => b.latency_ms.p99) }] }),
      lineChart({ id: 'chart-errors', title: 'Records and errors over time', times, fmt: compact, bars: true, integer: true, series: [
        { label: 'records', cls: 'c0', values: val((b) => b.record_count) },
        { label: 'errors', cls: 'c3', values: val((b) => b.error_count) },
        { label: 'flagged', cls: 'c2', values: val((b) => (b.status_counts ? b.status_counts.flagged : 0)) }] }),
    ];
  }

  // groupedSeries reads the range's records and draws one line per group (the top groups by
  // cost, the rest as "other") for cost, tokens, p95 latency and errors.
  async function groupedSeries(st, times, first, step, from, to) {
    const recs = [];
    let cursor = '';
    do {
      const res = await get('/records' + qs({ from: from.toISOString(), to: to.toISOString(), limit: 1000, cursor }));
      recs.push(...(res.records || []));
      cursor = res.next_cursor || '';
    } while (cursor && alive);
    if (!alive) return null;
    const top = (st.groups || []).slice(0, TOP_GROUPS).map((g) => (g.key == null ? NONE : g.key));
    const names = top.concat((st.groups || []).length > TOP_GROUPS ? ['other'] : []);
    const field = { service: (r) => [r.service || NONE], user: (r) => [r.user_id || NONE], run: (r) => [r.run_id || NONE], session: (r) => [r.session_id || NONE],
      model: (r) => (r.models && r.models.length ? r.models : [NONE]) }[group];
    const n = times.length;
    const acc = new Map(names.map((k) => [k, { cost: new Array(n).fill(0), tokens: new Array(n).fill(0), errors: new Array(n).fill(0), lat: Array.from({ length: n }, () => []) }]));
    for (const r of recs) {
      const i = Math.floor((new Date(r.start).getTime() - first) / step);
      if (i < 0 || i >= n) continue;
      for (const k0 of field(r)) {
        const a = acc.get(top.includes(k0) ? k0 : 'other');
        if (!a) continue;
        a.cost[i] += r.cost_usd || 0;
        a.tokens[i] += (r.usage && r.usage.total) || 0;
        if (r.status === 'error') a.errors[i] += 1;
        a.lat[i].push(r.duration_ms || 0);
      }
    }
    const p95 = (xs) => {
      if (!xs.length) return null;
      const s = xs.slice().sort((x, y) => x - y);
      return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)];
    };
    const series = (f, gaps) => names.map((k, i) => ({ label: k, cls: k === 'other' ? 'c-other' : 'c' + i, gaps, values: f(acc.get(k)) }));
    const gname = GROUPS.find((g) => g[0] === group)[1].toLowerCase();
    return [
      lineChart({ id: 'chart-cost', title: 'Cost over time by ' + gname, times, fmt: fmtCost, series: series((a) => a.cost) }),
      lineChart({ id: 'chart-tokens', title: 'Tokens over time by ' + gname, times, fmt: compact, series: series((a) => a.tokens) }),
      lineChart({ id: 'chart-latency', title: 'Latency p95 over time by ' + gname, times, fmt: fmtMs, series: series((a) => a.lat.map(p95), true) }),
      lineChart({ id: 'chart-errors', title: 'Errors over time by ' + gname, times, fmt: compact, bars: true, integer: true, series: series((a) => a.errors) }),
    ];
  }

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
    const gname = GROUPS.find((g) => g[0] === group)[1].toLowerCase();
    if (st.buckets && st.buckets.length && step) {
      const first = Math.floor(from.getTime() / step) * step;
      const times = [];
      for (let t = first; t <= to.getTime(); t += step) times.push(new Date(t));
      const chartsBox = h('div', { class: 'charts' }, totalCharts(st, times, first, step));
      body.appendChild(chartsBox);
      // Per-group lines come from the records themselves, which is exact and cheap while
      // the range holds a few thousand records.
      if (total.record_count <= GROUPED_SERIES_MAX) {
        groupedSeries(st, times, first, step, from, to).then((charts) => {
          if (!alive || my !== seq || !charts) return;
          clear(chartsBox);
          append(chartsBox, charts);
        }, () => { /* keep the totals */ });
      } else {
        body.appendChild(h('p', { class: 'muted', text: 'Lines per ' + gname + ' are drawn for ranges of up to ' + fmtInt(GROUPED_SERIES_MAX) + ' records; this range has ' + fmtInt(total.record_count) + ', so the charts show totals. Pick a shorter range to split them.' }));
      }
    } else if (noBuckets) {
      body.appendChild(h('p', { class: 'notice notice-info', text: 'This server does not bucket stats by time, so only the breakdown by ' + group + ' is shown.' }));
    }

    const groups = st.groups || [];
    const label = (g) => (g.key == null ? '(none)' : g.key);
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
