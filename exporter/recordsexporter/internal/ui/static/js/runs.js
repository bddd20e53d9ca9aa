// Runs: records grouped by run ID (a batch job, an eval run), with their aggregates, and the
// test-case datasets saved from records.
import { ApiError, del, get, qs } from './api.js';
import { append, button, clear, download as saveFile, emptyState, fmtAgo, fmtCost, fmtInt, fmtMs, fmtTime, h, link, toast } from './dom.js';
import { miniRecords } from './records.js';

function statusBar(c, total) {
  const bar = h('span', { class: 'status-bar', attrs: { title: c.ok + ' ok · ' + c.error + ' error · ' + c.flagged + ' flagged' } });
  for (const k of ['ok', 'flagged', 'error']) {
    if (!c[k]) continue;
    const s = h('span', { class: 'sb-' + k });
    s.style.width = (c[k] / Math.max(total, 1)) * 100 + '%';
    bar.appendChild(s);
  }
  return bar;
}

function scoreSummary(name, s) {
  const parts = [];
  if (s.mean != null) parts.push('mean ' + (Math.round(s.mean * 100) / 100));
  if (s.pass_rate != null) parts.push(Math.round(s.pass_rate * 100) + '% pass');
  const cls = s.pass_rate == null ? 'chip' : s.pass_rate >= 0.8 ? 'chip chip-pass' : s.pass_rate >= 0.5 ? 'chip chip-warning' : 'chip chip-fail';
  return h('span', { class: cls, attrs: { title: name + ': ' + s.count + ' scored' } }, name + ' ' + parts.join(' · '));
}

function missingRuns(page) {
  page.appendChild(emptyState('Runs are not available on this server', 'This tracehound does not serve /api/v1/runs yet. Records still carry their run ID: filter the Records page by run.id.', link('#/records', 'Go to records', 'btn btn-primary')));
}

export function runsPage(root) {
  const page = h('section', { class: 'page runs-page' }, h('div', { class: 'page-head' }, h('h1', { text: 'Runs' })));
  const body = h('div', {}, h('p', { class: 'loading', text: 'Loading runs…' }));
  const moreBox = h('div', { class: 'more' });
  const datasets = h('div', { class: 'datasets', attrs: { id: 'datasets' } });
  append(page, body, moreBox, datasets);
  root.appendChild(page);
  let alive = true;
  let tbody = null;
  const load = async (cursor) => {
    let res;
    try {
      res = await get('/runs' + qs({ limit: 100, cursor }));
    } catch (e) {
      if (!alive) return;
      clear(body);
      if (e instanceof ApiError && e.missing) missingRuns(body);
      else if (e.status === 401) body.appendChild(emptyState('API key needed', 'Enter the API key to see runs.'));
      else body.appendChild(emptyState('Could not load runs', e.message));
      return;
    }
    if (!alive) return;
    const runs = res.runs || [];
    if (!cursor) {
      clear(body);
      if (!runs.length) {
        body.appendChild(emptyState('No runs yet', h('p', {}, 'A run groups the records of one batch job or evaluation. Set the span attribute ',
          h('code', { text: 'tracehound.run.id' }), ' (or ', h('code', { text: 'scorecard.tracing_group_id' }), ') on your traces and each distinct value becomes a run here.'),
        link('#/setup', 'See the setup page', 'btn btn-primary')));
        return;
      }
      tbody = h('tbody');
      body.appendChild(h('div', { class: 'table-wrap' }, h('table', { class: 'grid', attrs: { id: 'runs-table' } },
        h('thead', {}, h('tr', {}, [['Run', ''], ['Records', 'num'], ['Status', ''], ['Tokens', 'num'], ['Cost', 'num'], ['p50', 'num'], ['p95', 'num'], ['p99', 'num'], ['Scores', ''], ['Last seen', '']]
          .map(([t, c]) => h('th', { class: c, text: t })))), tbody)));
    }
    for (const r of runs) {
      const go = () => { location.hash = '#/runs/' + encodeURIComponent(r.id); };
      const c = r.status_counts || { ok: 0, error: 0, flagged: 0 };
      const lat = r.latency_ms || {};
      tbody.appendChild(h('tr', { class: 'row', attrs: { tabindex: '0' }, data: { id: r.id }, on: { click: go, keydown: (e) => { if (e.key === 'Enter') go(); } } },
        h('td', {}, h('strong', { text: r.id })),
        h('td', { class: 'num', text: fmtInt(r.record_count) }),
        h('td', {}, statusBar(c, r.record_count), h('span', { class: 'muted', text: ' ' + (c.error ? c.error + ' err ' : '') + (c.flagged ? c.flagged + ' flagged' : '') })),
        h('td', { class: 'num', text: fmtInt(r.usage && r.usage.total) }),
        h('td', { class: 'num', text: fmtCost(r.cost_usd) }),
        h('td', { class: 'num', text: fmtMs(lat.p50) }), h('td', { class: 'num', text: fmtMs(lat.p95) }), h('td', { class: 'num', text: fmtMs(lat.p99) }),
        h('td', {}, h('span', { class: 'chips' }, Object.entries(r.scores || {}).map(([n, s]) => scoreSummary(n, s)))),
        h('td', { attrs: { title: r.last_seen }, text: fmtAgo(r.last_seen) })));
    }
    clear(moreBox);
    if (res.next_cursor) moreBox.appendChild(button('Load more runs', () => load(res.next_cursor), 'btn-ghost'));
  };
  load('');
  loadDatasets(datasets, () => alive);
  return () => { alive = false; };
}

// loadDatasets lists the saved test-case datasets (Records → select rows → Add to test-case
// dataset) with their JSONL download. Servers without the endpoint show nothing.
async function loadDatasets(box, alive) {
  let res;
  try {
    res = await get('/testcases');
  } catch (e) {
    if (e instanceof ApiError) return;
    throw e;
  }
  if (!alive()) return;
  clear(box);
  const list = res.testcases || [];
  box.appendChild(h('h2', { text: 'Test-case datasets' }));
  if (!list.length) {
    box.appendChild(h('p', { class: 'muted', text: 'No datasets yet. On the Records page, select records and choose "Add to test-case dataset" to save them as test cases (input, expected output, metadata).' }));
    return;
  }
  const download = async (name) => {
    try {
      const r = await get('/testcases/' + encodeURIComponent(name) + '/export', { raw: true, accept: 'application/x-ndjson, application/json' });
      saveFile(name + '.jsonl', await r.text(), 'application/x-ndjson');
    } catch (e) { toast('Download failed: ' + e.message, 'error'); }
  };
  const remove = async (name) => {
    if (!window.confirm('Delete the dataset "' + name + '"? The records stay.')) return;
    try {
      await del('/testcases/' + encodeURIComponent(name));
      toast('Deleted "' + name + '"');
      loadDatasets(box, alive);
    } catch (e) { toast('Could not delete: ' + e.message, 'error'); }
  };
  box.appendChild(h('div', { class: 'table-wrap' }, h('table', { class: 'grid', attrs: { id: 'datasets-table' } },
    h('thead', {}, h('tr', {}, [['Dataset', ''], ['Test cases', 'num'], ['Selection', ''], ['Created', ''], ['', '']].map(([t, c]) => h('th', { class: c, text: t })))),
    h('tbody', {}, list.map((ds) => h('tr', { data: { name: ds.name } },
      h('td', {}, h('strong', { text: ds.name }), ds.description ? h('div', { class: 'muted', text: ds.description }) : null),
      h('td', { class: 'num', text: fmtInt(ds.count) }),
      h('td', { class: 'mono', text: ds.filter || 'picked records' }),
      h('td', { attrs: { title: ds.created_at }, text: fmtAgo(ds.created_at) }),
      h('td', { class: 'num' }, button('Download JSONL', () => download(ds.name), 'btn-small'), ' ', button('Delete', () => remove(ds.name), 'btn-small btn-ghost'))))))));
}

export function runPage(root, id) {
  const page = h('section', { class: 'page run-page' }, h('p', { class: 'loading', text: 'Loading run…' }));
  root.appendChild(page);
  let alive = true;
  (async () => {
    let run;
    try {
      run = await get('/runs/' + encodeURIComponent(id));
    } catch (e) {
      if (!alive) return;
      clear(page);
      if (e instanceof ApiError && e.missing) missingRuns(page);
      else if (e.status === 404) page.appendChild(emptyState('Run not found', h('p', {}, 'No records carry run ID ', h('code', { text: id }), '.'), link('#/runs', '← All runs', 'btn')));
      else page.appendChild(emptyState('Could not load the run', e.message));
      return;
    }
    if (!alive) return;
    clear(page);
    const c = run.status_counts || { ok: 0, error: 0, flagged: 0 };
    const lat = run.latency_ms || {};
    const u = run.usage || {};
    const card = (label, value, sub) => h('div', { class: 'card' }, h('div', { class: 'label', text: label }), h('div', { class: 'value', text: value }), sub ? h('div', { class: 'sub', text: sub }) : null);
    append(page,
      h('div', { class: 'crumbs' }, link('#/runs', '← Runs')),
      h('div', { class: 'page-head' }, h('h1', { text: 'Run ' + run.id }),
        h('div', { class: 'head-actions' }, link('#/records?run_id=' + encodeURIComponent(run.id), 'Open in Records', 'btn'))),
      h('div', { class: 'cards', attrs: { id: 'run-cards' } },
        card('Records', fmtInt(run.record_count), fmtTime(run.first_seen) + ' → ' + fmtTime(run.last_seen)),
        h('div', { class: 'card' }, h('div', { class: 'label', text: 'Status' }), h('div', { class: 'value', text: fmtInt(c.ok) + ' ok' }),
          statusBar(c, run.record_count), h('div', { class: 'sub', text: c.error + ' error · ' + c.flagged + ' flagged' })),
        card('Cost', fmtCost(run.cost_usd), run.record_count ? fmtCost(run.cost_usd / run.record_count) + ' per record' : ''),
        card('Tokens', fmtInt(u.total), fmtInt(u.input) + ' in · ' + fmtInt(u.output) + ' out'),
        card('Latency p50', fmtMs(lat.p50)), card('Latency p95', fmtMs(lat.p95)), card('Latency p99', fmtMs(lat.p99))),
    );
    const scores = Object.entries(run.scores || {});
    page.appendChild(h('h2', { text: 'Scores' }));
    if (!scores.length) page.appendChild(h('p', { class: 'muted', text: 'No record of this run has a score yet. Define a metric on the Metrics page, or post scores to /api/v1/records/{id}/scores.' }));
    else {
      page.appendChild(h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, [['Metric', ''], ['Scored', 'num'], ['Mean', 'num'], ['Pass rate', 'num'], ['Passed', 'num'], ['Failed', 'num']].map(([t, cl]) => h('th', { class: cl, text: t })))),
        h('tbody', {}, scores.map(([n, s]) => h('tr', {}, h('td', {}, link('#/records?run_id=' + encodeURIComponent(run.id) + '&metric=' + encodeURIComponent(n + '=fail'), n)),
          h('td', { class: 'num', text: fmtInt(s.count) }),
          h('td', { class: 'num', text: s.mean == null ? '—' : String(Math.round(s.mean * 1000) / 1000) }),
          h('td', { class: 'num', text: s.pass_rate == null ? '—' : Math.round(s.pass_rate * 100) + '%' }),
          h('td', { class: 'num', text: fmtInt(s.passed) }), h('td', { class: 'num', text: fmtInt(s.failed) })))))));
    }
    page.appendChild(h('h2', { text: 'Records' }));
    const recBox = h('div', {}, h('p', { class: 'loading', text: 'Loading records…' }));
    page.appendChild(recBox);
    try {
      const res = await get('/records' + qs({ run_id: run.id, limit: 50 }));
      if (!alive) return;
      clear(recBox);
      recBox.appendChild(miniRecords(res.records || []));
      if (res.next_cursor) recBox.appendChild(h('p', {}, link('#/records?run_id=' + encodeURIComponent(run.id), 'All records of this run →')));
    } catch (e) {
      clear(recBox);
      recBox.appendChild(h('p', { class: 'notice notice-warn' }, 'Could not list this run\'s records (' + e.message + '). ', link('#/records', 'Open Records')));
    }
  })();
  return () => { alive = false; };
}
