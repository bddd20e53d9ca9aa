// Records page: the searchable, filterable table of trace-level records.
import { ApiError, del, get, post, qs } from './api.js';
import {
  append, badge, button, clear, debounce, download, emptyState, fmtCost, fmtInt, fmtMs, fmtTime,
  h, highlight, link, modal, searchTerms, toast,
} from './dom.js';

const COLUMNS_STORAGE = 'tracehound.columns';
const USER_STORAGE = 'tracehound.userId';
const PAGE_SIZE = 100;
const LIVE_INTERVAL_MS = 3000;

// Filters the page keeps in the hash and passes to GET /api/v1/records as they are.
const API_FILTERS = ['q', 'status', 'source', 'trace_id', 'run_id', 'testcase_id', 'service', 'model',
  'user_id', 'session_id', 'flag', 'metric', 'min_cost', 'min_duration_ms', 'sort'];

// Time-range presets: hash value, label, the API's relative "from".
const RANGES = [
  ['15m', 'Last 15 minutes', '-15m'],
  ['1h', 'Last hour', '-1h'],
  ['24h', 'Last 24 hours', '-24h'],
  ['7d', 'Last 7 days', '-168h'],
  ['30d', 'Last 30 days', '-720h'],
  ['', 'All time', ''],
  ['custom', 'Custom…', ''],
];

// rangeParams turns the hash's time range into API from/to: a preset becomes a relative
// "from", a custom range (datetime-local values) RFC 3339 times; without a range, from/to
// pass through as given (saved views carry them that way).
function rangeParams(params) {
  const range = params.get('range') || '';
  const out = {};
  if (range === 'custom') {
    for (const k of ['from', 'to']) {
      const v = params.get(k);
      if (v) { const d = new Date(v); if (!Number.isNaN(d.getTime())) out[k] = d.toISOString(); }
    }
    return out;
  }
  const preset = RANGES.find((r) => r[0] === range);
  if (range && preset && preset[2]) return { from: preset[2] };
  for (const k of ['from', 'to']) if (params.get(k)) out[k] = params.get(k);
  return out;
}

// viewToHash turns a view's API query into the page's hash parameters, so a relative
// "from" of a preset shows as that preset in the time picker.
function viewToHash(query) {
  const p = new URLSearchParams(query || '');
  const from = p.get('from');
  const preset = from && !p.get('to') && RANGES.find((r) => r[2] && r[2] === from);
  if (preset) { p.delete('from'); p.set('range', preset[0]); }
  return p;
}

// highlightCell renders a field of a list row: the server's search snippet with its match
// ranges when it has one for the field, else the text with the search words marked.
function highlightCell(r, field, terms) {
  const hl = (r.highlights || []).find((x) => x.field === field);
  if (hl && typeof hl.snippet === 'string') {
    const frag = document.createDocumentFragment();
    let i = 0;
    for (const [a, b] of (hl.ranges || []).slice().sort((x, y) => x[0] - y[0])) {
      if (a < i || b <= a) continue;
      if (a > i) frag.appendChild(document.createTextNode(hl.snippet.slice(i, a)));
      frag.appendChild(h('mark', { text: hl.snippet.slice(a, b) }));
      i = b;
    }
    if (i < hl.snippet.length) frag.appendChild(document.createTextNode(hl.snippet.slice(i)));
    return h('div', { class: 'clamp', attrs: { title: String(r[field] || '').slice(0, 2000) } }, frag);
  }
  return textCell(r[field], terms);
}

function textCell(text, terms) {
  const s = text == null ? '' : String(text);
  if (!s) return h('span', { class: 'muted', text: '—' });
  return h('div', { class: 'clamp', attrs: { title: s.length > 80 ? s.slice(0, 2000) : null } }, highlight(s, terms));
}

function shortID(id) {
  return id ? id.slice(0, 6) + '…' + id.slice(-4) : '';
}

function scoreText(sc) {
  if (!sc) return '';
  if (typeof sc.value === 'number') return String(Math.round(sc.value * 100) / 100);
  if (sc.value != null) return String(sc.value);
  if (sc.passed != null) return sc.passed ? 'pass' : 'fail';
  return '';
}

export function scoreChip(name, sc, withName) {
  const cls = sc.passed === true ? 'chip chip-pass' : sc.passed === false ? 'chip chip-fail' : 'chip';
  return h('span', { class: cls, attrs: { title: (name + ': ' + scoreText(sc) + (sc.reason ? ' — ' + sc.reason : '')).slice(0, 500) } },
    withName ? name + ' ' : null, scoreText(sc));
}

// Columns the table can show. render(record, terms) returns a node or text.
const BASE_COLUMNS = [
  { id: 'status', label: 'Status', cls: 'col-status', render: (r) => badge(r.status) },
  { id: 'start', label: 'Time', cls: 'col-time', render: (r) => h('span', { attrs: { title: r.start }, text: fmtTime(r.start) }) },
  { id: 'name', label: 'Name', cls: 'col-name', render: (r) => r.name || '—' },
  { id: 'input', label: 'Input', cls: 'col-text', render: (r, t) => highlightCell(r, 'input', t) },
  { id: 'output', label: 'Output', cls: 'col-text', render: (r, t) => highlightCell(r, 'output', t) },
  { id: 'expected', label: 'Expected', cls: 'col-text', render: (r, t) => highlightCell(r, 'expected', t) },
  { id: 'source', label: 'Source', cls: 'col-source', render: (r) => h('span', { class: 'tag', text: r.source || '—' }) },
  { id: 'trace_id', label: 'Trace ID', cls: 'col-id mono', render: (r) => h('span', { attrs: { title: r.trace_id }, text: shortID(r.trace_id) }) },
  { id: 'run_id', label: 'Run', cls: 'col-id', render: (r) => (r.run_id ? link('#/runs/' + encodeURIComponent(r.run_id), r.run_id, 'cell-link') : '—') },
  { id: 'testcase_id', label: 'Testcase', cls: 'col-id', render: (r) => r.testcase_id || '—' },
  { id: 'service', label: 'Service', cls: 'col-id', render: (r) => r.service || '—' },
  { id: 'model', label: 'Model', cls: 'col-model', render: (r) => (r.models && r.models.length ? r.models.join(', ') : '—') },
  { id: 'user_id', label: 'User', cls: 'col-id', render: (r) => r.user_id || '—' },
  { id: 'session_id', label: 'Session', cls: 'col-id', render: (r) => r.session_id || '—' },
  {
    id: 'tokens', label: 'Tokens', cls: 'num', render: (r) => h('span', {
      attrs: { title: r.usage ? 'input ' + r.usage.input + ' · output ' + r.usage.output : null },
      text: r.usage ? fmtInt(r.usage.total) : '—',
    }),
  },
  { id: 'cost', label: 'Cost', cls: 'num', render: (r) => (r.cost_unknown ? fmtCost(r.cost_usd) + '+' : fmtCost(r.cost_usd)) },
  { id: 'duration', label: 'Duration', cls: 'num', render: (r) => fmtMs(r.duration_ms) },
  { id: 'spans', label: 'Spans', cls: 'num', render: (r) => fmtInt(r.span_count) },
  { id: 'llm_calls', label: 'LLM calls', cls: 'num', render: (r) => fmtInt(r.llm_call_count) },
  {
    id: 'flags', label: 'Flags', cls: 'col-flags', render: (r) => (r.flags && r.flags.length
      // A flag chip links to every record with that flag.
      ? h('span', { class: 'chips' }, r.flags.slice(0, 3).map((f) => h('a', {
        class: 'chip chip-link chip-' + (f.severity || 'info'),
        attrs: { href: '#/records?flag=' + encodeURIComponent(f.code), title: (f.message ? f.message + ' — ' : '') + 'show all records flagged ' + f.code },
        text: f.code,
      })),
        r.flags.length > 3 ? h('span', { class: 'muted', text: '+' + (r.flags.length - 3) }) : null)
      : h('span', { class: 'muted', text: '—' })),
  },
  {
    id: 'scores', label: 'Scores', cls: 'col-flags', render: (r) => {
      const names = Object.keys(r.scores || {});
      if (!names.length) return h('span', { class: 'muted', text: '—' });
      return h('span', { class: 'chips' }, names.sort().map((n) => scoreChip(n, r.scores[n], true)));
    },
  },
  {
    id: 'metadata', label: 'Metadata', cls: 'col-text', render: (r) => {
      const e = Object.entries(r.metadata || {});
      return e.length ? h('div', { class: 'clamp' }, e.map(([k, v]) => k + '=' + v).join(' · ')) : h('span', { class: 'muted', text: '—' });
    },
  },
];

// SORTABLE maps columns to the API's sort fields; a header click toggles the direction.
const SORTABLE = { start: 'time', tokens: 'tokens', cost: 'cost', duration: 'duration' };

const DEFAULT_COLUMNS = ['status', 'start', 'input', 'output', 'source', 'trace_id', 'model', 'tokens', 'cost', 'duration', 'flags', 'scores'];

function scoreColumn(name) {
  return {
    id: 'score:' + name, label: name, cls: 'num', metric: true,
    render: (r) => (r.scores && r.scores[name] ? scoreChip(name, r.scores[name], false) : h('span', { class: 'muted', text: '—' })),
  };
}

function loadColumns() {
  try {
    const v = JSON.parse(localStorage.getItem(COLUMNS_STORAGE) || 'null');
    if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string')) return v;
  } catch { /* fall through */ }
  return DEFAULT_COLUMNS.slice();
}

function saveColumns(ids) {
  try { localStorage.setItem(COLUMNS_STORAGE, JSON.stringify(ids)); } catch { /* ignore */ }
}

function columnByID(id) {
  if (id.startsWith('score:')) return scoreColumn(id.slice(6));
  return BASE_COLUMNS.find((c) => c.id === id);
}

// filterLabel names a filter for chips and notices.
const FILTER_LABELS = {
  q: 'search', status: 'status', source: 'source', trace_id: 'trace.id', run_id: 'run.id', testcase_id: 'testcase.id',
  service: 'service', model: 'model', user_id: 'user.id', session_id: 'session.id', flag: 'flag', metric: 'metric',
  min_cost: 'min cost', min_duration_ms: 'min duration (ms)', sort: 'sort',
};

// apiParams builds the GET /api/v1/records query from the hash params.
function apiParams(params) {
  const out = {};
  for (const k of API_FILTERS) { const v = params.get(k); if (v) out[k] = v; }
  for (const [k, v] of params) if (k.startsWith('meta.') && v) out[k] = v;
  Object.assign(out, rangeParams(params));
  return out;
}

function myUserID() {
  try { return localStorage.getItem(USER_STORAGE) || ''; } catch { return ''; }
}

// fallbackQuickFilters stand in for the server's built-in views when it has no views API.
function fallbackQuickFilters() {
  return [
    { name: 'My recent records', query: 'from=-24h', builtin: true },
    { name: 'Errors last 24h', query: 'status=error&from=-24h', builtin: true },
    { name: 'Flagged', query: 'status=flagged', builtin: true },
  ];
}

// quickHash is the hash query a quick filter applies. "My recent records" narrows to the
// user ID set on the Setup page, when there is one.
function quickHash(v) {
  const p = viewToHash(v.query);
  if (v.builtin && v.name === 'My recent records' && myUserID()) p.set('user_id', myUserID());
  return p;
}

export function recordsPage(root, params) {
  try { sessionStorage.setItem('tracehound.recordsHash', location.hash || '#/records'); } catch { /* ignore */ }
  const state = {
    params: new URLSearchParams(params),
    records: [],
    byID: new Map(),
    cursor: null,
    loading: false,
    selected: new Set(),
    focus: -1,
    columns: loadColumns(),
    metrics: new Set(),
    abort: null,
    live: params.get('live') === '1',
    liveTimer: 0,
    views: null,
    seq: 0,
  };
  const terms = () => searchTerms(state.params.get('q'));

  // --- layout
  const search = h('input', {
    class: 'input search', value: state.params.get('q') || '',
    attrs: { type: 'search', id: 'records-search', placeholder: 'Search input, output, expected…  ( / )', 'aria-label': 'Search records', autocomplete: 'off' },
  });
  const quick = h('div', { class: 'quick', attrs: { role: 'toolbar', 'aria-label': 'Quick filters' } });
  const filterBar = h('div', { class: 'filters filter-bar', attrs: { id: 'filter-bar' } });
  const filterToggle = button('Filters', () => {
    filterBar.classList.toggle('open');
    filterToggle.setAttribute('aria-expanded', String(filterBar.classList.contains('open')));
  }, 'btn-ghost filter-toggle', 'Show or hide the filters', 'filter-toggle');
  filterToggle.setAttribute('aria-controls', 'filter-bar');
  filterToggle.setAttribute('aria-expanded', 'false');
  const chips = h('div', { class: 'active-filters' });
  const notice = h('div', { class: 'notices' });
  const table = h('table', { class: 'grid records-table', attrs: { id: 'records-table' } });
  const tableWrap = h('div', { class: 'table-wrap' }, table);
  const body = h('div', { class: 'records-body' }, tableWrap);
  const status = h('div', { class: 'list-status muted', attrs: { 'aria-live': 'polite' } });
  const more = button('Load more', () => loadMore(), 'btn-ghost hidden');
  const sentinel = h('div', { class: 'sentinel' });
  const selBar = h('div', { class: 'selection-bar hidden', attrs: { id: 'selection-bar' } });
  const liveToggle = h('input', { attrs: { type: 'checkbox', id: 'live-tail' }, checked: state.live });
  const editBtn = button('Edit table', () => editColumns(), 'btn-ghost', 'Choose and order columns', 'edit-columns');
  const exportBtn = button('Export JSONL', () => exportAll(), 'btn-ghost', 'Download all records matching the filters as JSONL', 'export-all');

  root.appendChild(h('section', { class: 'page records-page' },
    h('div', { class: 'page-head' },
      h('h1', { text: 'Records' }),
      h('div', { class: 'head-actions' },
        h('label', { class: 'toggle', attrs: { title: 'Poll for new records every 3 seconds' } }, liveToggle, ' Live'),
        exportBtn, editBtn)),
    h('div', { class: 'searchrow' }, search, filterToggle),
    quick, filterBar, chips, notice, selBar, body, status, h('div', { class: 'more' }, more), sentinel));

  // --- hash state
  function setParam(k, v) {
    if (v) state.params.set(k, v); else state.params.delete(k);
  }
  // commit stores the params in the URL and reloads. rebuild also redraws the filter bar:
  // needed when a change did not come from the bar itself; otherwise the bar keeps its
  // fields (and the user's focus) as they are.
  function commit(rebuild) {
    const s = state.params.toString();
    history.replaceState(null, '', '#/records' + (s ? '?' + s : ''));
    try { sessionStorage.setItem('tracehound.recordsHash', location.hash); } catch { /* ignore */ }
    if (rebuild) renderFilters(); else renderChips();
    renderQuick();
    reload();
  }

  // --- quick filters and saved views
  function renderQuick() {
    clear(quick);
    const current = normalized(state.params);
    const all = [{ name: 'All records', query: '', builtin: true }].concat(state.views || fallbackQuickFilters());
    for (const v of all) {
      const target = quickHash(v);
      const active = normalized(target) === current;
      const chip = button(v.name, () => applyQuery(target.toString()), 'btn-chip' + (active ? ' active' : ''), v.description || (v.builtin ? null : 'Saved view: ' + v.query));
      if (v.builtin) { quick.appendChild(chip); continue; }
      quick.appendChild(h('span', { class: 'view-chip' }, chip, button('×', () => deleteView(v), 'btn-icon btn-ghost', 'Delete the view "' + v.name + '"')));
    }
    if (state.views) quick.appendChild(button('+ Save view', () => saveView(), 'btn-chip btn-ghost', 'Save the current search and filters as a view', 'save-view'));
  }
  function normalized(p) {
    const e = [...p].filter(([k, v]) => v && k !== 'live').sort((a, b) => (a[0] + a[1]).localeCompare(b[0] + b[1]));
    return new URLSearchParams(e).toString();
  }
  function applyQuery(query) {
    state.params = new URLSearchParams(query);
    if (state.live) state.params.set('live', '1');
    search.value = state.params.get('q') || '';
    commit(true);
  }

  async function loadViews() {
    try {
      const res = await get('/views');
      state.views = res.views || [];
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      state.views = null;
    }
    renderQuick();
  }
  async function deleteView(v) {
    if (!window.confirm('Delete the view "' + v.name + '"?')) return;
    try {
      await del('/views/' + encodeURIComponent(v.name));
      toast('Deleted view "' + v.name + '"');
      loadViews();
    } catch (e) { toast('Could not delete the view: ' + e.message, 'error'); }
  }
  function saveView() {
    const name = h('input', { class: 'input input-wide', attrs: { id: 'view-name', placeholder: 'Production errors', autocomplete: 'off' } });
    const desc = h('input', { class: 'input input-wide', attrs: { id: 'view-description', placeholder: 'optional', autocomplete: 'off' } });
    const query = new URLSearchParams(apiParams(state.params)).toString();
    const submit = async () => {
      if (!name.value.trim()) { name.focus(); return; }
      try {
        await post('/views', { name: name.value.trim(), query, description: desc.value.trim() });
        close();
        toast('Saved view "' + name.value.trim() + '"');
        loadViews();
      } catch (e) { toast('Could not save the view: ' + e.message, 'error'); }
    };
    for (const el of [name, desc]) el.addEventListener('keydown', (e) => { if (e.key === 'Enter') submit(); });
    const close = modal('Save view', h('div', {},
      h('label', { attrs: { for: 'view-name' }, text: 'Name' }), name,
      h('label', { attrs: { for: 'view-description' }, text: 'Description' }), desc,
      h('p', { class: 'muted' }, 'Saves the search, filters and time range shown now: ', h('code', { text: query || '(everything)' }), '. Saved views appear with the quick filters for everyone using this project.')),
    [button('Cancel', () => close(), 'btn-ghost'), button('Save view', submit, 'btn-primary', null, 'save-view-submit')]);
  }

  // --- filter bar
  function field(label, key, placeholder, width) {
    const id = 'f-' + key.replace(/\W/g, '-');
    const input = h('input', { class: 'input ' + (width || ''), value: state.params.get(key) || '', attrs: { id, placeholder, autocomplete: 'off', 'data-filter': key } });
    const apply = () => { setParam(key, input.value.trim()); commit(); };
    input.addEventListener('change', apply);
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') apply(); });
    return h('div', { class: 'field' }, h('label', { attrs: { for: id }, text: label }), input);
  }
  function select(label, key, options) {
    const id = 'f-' + key;
    const sel = h('select', { class: 'input', attrs: { id, 'data-filter': key } },
      options.map(([v, t]) => h('option', { value: v, text: t, selected: (state.params.get(key) || '') === v })));
    sel.addEventListener('change', () => {
      setParam(key, sel.value);
      if (key === 'range' && sel.value !== 'custom') { state.params.delete('from'); state.params.delete('to'); }
      commit(key === 'range');
    });
    return h('div', { class: 'field' }, h('label', { attrs: { for: id }, text: label }), sel);
  }
  function metaField() {
    let key = '', val = '';
    for (const [k, v] of state.params) if (k.startsWith('meta.')) { key = k.slice(5); val = v; }
    const k = h('input', { class: 'input w-s', value: key, attrs: { id: 'f-meta-key', placeholder: 'key', autocomplete: 'off', 'aria-label': 'Metadata key' } });
    const v = h('input', { class: 'input w-s', value: val, attrs: { id: 'f-meta-value', placeholder: 'value', autocomplete: 'off', 'aria-label': 'Metadata value' } });
    const apply = () => {
      for (const pk of [...state.params.keys()]) if (pk.startsWith('meta.')) state.params.delete(pk);
      if (k.value.trim() && v.value.trim()) state.params.set('meta.' + k.value.trim(), v.value.trim());
      commit();
    };
    for (const el of [k, v]) {
      el.addEventListener('change', apply);
      el.addEventListener('keydown', (e) => { if (e.key === 'Enter') apply(); });
    }
    return h('div', { class: 'field' }, h('label', { attrs: { for: 'f-meta-key' }, text: 'Metadata' }), h('div', { class: 'pair' }, k, h('span', { text: '=' }), v));
  }
  function customRange() {
    const mk = (key, label) => {
      const id = 'f-' + key;
      const input = h('input', { class: 'input', value: state.params.get(key) || '', attrs: { id, type: 'datetime-local', step: '1' } });
      input.addEventListener('change', () => { setParam(key, input.value); commit(); });
      return h('div', { class: 'field' }, h('label', { attrs: { for: id }, text: label }), input);
    };
    return [mk('from', 'From'), mk('to', 'To')];
  }
  function renderFilters() {
    clear(filterBar);
    append(filterBar,
      select('Status', 'status', [['', 'Any'], ['ok', 'ok'], ['error', 'error'], ['flagged', 'flagged']]),
      select('Source', 'source', [['', 'Any'], ['otlp', 'otlp'], ['proxy', 'proxy'], ['api', 'api']]),
      select('Time', 'range', RANGES.map(([v, t]) => [v, t])),
      select('Sort', 'sort', [['', 'Newest first'], ['time', 'Oldest first'], ['-cost', 'Most expensive'], ['-duration', 'Slowest'], ['-tokens', 'Most tokens']]),
      ...(state.params.get('range') === 'custom' ? customRange() : []),
      field('trace.id', 'trace_id', '4bf92f35…', 'w-m mono'),
      field('run.id', 'run_id', 'batch-job-123', 'w-m'),
      field('testcase.id', 'testcase_id', 'tc-1', 'w-s'),
      field('Metric', 'metric', 'helpfulness>0.5', 'w-m'),
      metaField(),
    );
    renderChips();
  }
  function renderChips() {
    clear(chips);
    const active = [...state.params].filter(([k, v]) => v && k !== 'live' && k !== 'range' && k !== 'from' && k !== 'to');
    const rng = state.params.get('range');
    if (rng) {
      const r = RANGES.find((x) => x[0] === rng);
      active.push(['range', r ? (rng === 'custom' ? 'custom range' : r[1]) : rng]);
    }
    for (const [k, v] of active) {
      const label = k.startsWith('meta.') ? 'meta.' + k.slice(5) : (k === 'range' ? 'time' : FILTER_LABELS[k] || k);
      chips.appendChild(h('span', { class: 'filter-chip' }, h('span', { class: 'muted', text: label + ': ' }), v,
        button('×', () => {
          state.params.delete(k);
          if (k === 'range') { state.params.delete('from'); state.params.delete('to'); }
          if (k === 'q') search.value = '';
          commit(true);
        }, 'btn-icon btn-ghost', 'Remove filter ' + label)));
    }
    if (active.length > 1) chips.appendChild(button('Clear all', () => applyQuery(''), 'btn-small btn-ghost'));
  }

  // --- table
  function columns() {
    return state.columns.map(columnByID).filter(Boolean);
  }
  function renderHead() {
    const cb = h('input', { attrs: { type: 'checkbox', 'aria-label': 'Select all loaded records', id: 'select-all' } });
    cb.addEventListener('change', () => {
      if (cb.checked) state.records.forEach((r) => state.selected.add(r.id)); else state.selected.clear();
      for (const tr of table.tBodies[0].rows) { tr.classList.toggle('selected', cb.checked); tr.querySelector('.sel').checked = cb.checked; }
      renderSelection();
    });
    const sort = state.params.get('sort') || '-time';
    table.appendChild(h('thead', {}, h('tr', {}, h('th', { class: 'col-select' }, cb),
      columns().map((c) => {
        const field = SORTABLE[c.id];
        if (!field) return h('th', { class: c.cls, attrs: { scope: 'col', 'data-col': c.id } }, c.label);
        const dir = sort === field ? 'asc' : sort === '-' + field ? 'desc' : '';
        return h('th', { class: c.cls + ' sortable', attrs: { scope: 'col', 'data-col': c.id, 'aria-sort': dir ? (dir === 'asc' ? 'ascending' : 'descending') : 'none' } },
          h('button', {
            class: 'th-sort', attrs: { type: 'button', title: 'Sort by ' + c.label.toLowerCase() },
            on: { click: () => { setParam('sort', dir === 'desc' ? field : '-' + field === '-time' ? '' : '-' + field); commit(true); } },
          }, c.label, dir ? h('span', { class: 'sort-mark', text: dir === 'asc' ? ' ▲' : ' ▼' }) : null));
      }))));
  }
  // row builds one table row; cols and t are passed in so a page of rows resolves the
  // columns and search terms once.
  function row(r, cols, t) {
    cols = cols || columns();
    t = t || terms();
    const sel = state.selected.has(r.id);
    const cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.className = 'sel';
    cb.tabIndex = -1;
    cb.checked = sel;
    cb.setAttribute('aria-label', 'Select record ' + r.id);
    const tr = document.createElement('tr');
    tr.className = 'row status-' + r.status + (sel ? ' selected' : '');
    tr.tabIndex = -1;
    tr.dataset.id = r.id;
    const first = document.createElement('td');
    first.className = 'col-select';
    first.appendChild(cb);
    tr.appendChild(first);
    for (const c of cols) {
      const td = document.createElement('td');
      td.className = c.cls;
      td.dataset.col = c.id;
      td.dataset.label = c.label;
      append(td, c.render(r, t));
      tr.appendChild(td);
    }
    return tr;
  }
  function renderTable() {
    clear(table);
    renderHead();
    const tb = h('tbody');
    const frag = document.createDocumentFragment();
    const cols = columns(), t = terms();
    for (const r of state.records) frag.appendChild(row(r, cols, t));
    tb.appendChild(frag);
    table.appendChild(tb);
    state.focus = Math.min(state.focus, state.records.length - 1);
    if (state.focus >= 0) tb.rows[state.focus].classList.add('focused');
  }
  function appendRows(recs) {
    const tb = table.tBodies[0];
    const frag = document.createDocumentFragment();
    const cols = columns(), t = terms();
    for (const r of recs) frag.appendChild(row(r, cols, t));
    tb.appendChild(frag);
  }
  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr.row');
    if (!tr) return;
    const idx = [...tr.parentNode.rows].indexOf(tr);
    if (e.target.classList.contains('sel')) { toggleSelect(idx, e.target.checked); return; }
    if (e.target.closest('a')) return;
    if (window.getSelection && String(window.getSelection()).length > 0) return;
    setFocus(idx);
    open(idx, e.ctrlKey || e.metaKey);
  });

  function open(idx, newTab) {
    const r = state.records[idx];
    if (!r) return;
    const href = '#/records/' + encodeURIComponent(r.id);
    if (newTab) window.open(href, '_blank', 'noopener'); else location.hash = href;
  }
  function setFocus(idx) {
    const rows = table.tBodies[0] ? table.tBodies[0].rows : [];
    if (!rows.length) return;
    idx = Math.max(0, Math.min(rows.length - 1, idx));
    if (state.focus >= 0 && rows[state.focus]) rows[state.focus].classList.remove('focused');
    state.focus = idx;
    rows[idx].classList.add('focused');
    rows[idx].focus({ preventScroll: true });
    rows[idx].scrollIntoView({ block: 'nearest' });
    if (idx >= rows.length - 5 && state.cursor) loadMore();
  }
  function toggleSelect(idx, on) {
    const r = state.records[idx];
    if (!r) return;
    const tr = table.tBodies[0].rows[idx];
    if (on === undefined) on = !state.selected.has(r.id);
    if (on) state.selected.add(r.id); else state.selected.delete(r.id);
    tr.classList.toggle('selected', on);
    tr.querySelector('.sel').checked = on;
    renderSelection();
  }

  // --- selection actions
  function renderSelection() {
    clear(selBar);
    const n = state.selected.size;
    selBar.classList.toggle('hidden', n === 0);
    if (!n) return;
    append(selBar, h('strong', { text: n + ' selected' }),
      button('Add to test-case dataset…', () => addToDataset(), 'btn-primary btn-small', null, 'add-to-dataset'),
      button('Export selection (JSONL)', () => exportSelection(), 'btn-small', null, 'export-selection'),
      button('Clear selection', () => {
        state.selected.clear();
        for (const tr of table.tBodies[0].rows) { tr.classList.remove('selected'); tr.querySelector('.sel').checked = false; }
        const all = document.getElementById('select-all');
        if (all) all.checked = false;
        renderSelection();
      }, 'btn-small btn-ghost', null, 'clear-selection'));
  }
  // exportSelection asks the export endpoint for each selected record, so a selection
  // exports in exactly the format of "Export JSONL" (message lists, source record).
  async function exportSelection() {
    const ids = state.records.filter((r) => state.selected.has(r.id)).map((r) => r.id);
    const lines = new Map();
    const queue = [...ids];
    const worker = async () => {
      while (queue.length) {
        const id = queue.shift();
        const res = await get('/records/export' + qs({ format: 'jsonl', trace_id: id }), { raw: true, accept: 'application/x-ndjson, application/json' });
        lines.set(id, (await res.text()).trim());
      }
    };
    try {
      await Promise.all([worker(), worker(), worker(), worker()]);
      const text = ids.map((id) => lines.get(id)).filter(Boolean).join('\n') + '\n';
      download('tracehound-selection.jsonl', text, 'application/x-ndjson');
      toast('Exported ' + ids.length + ' records');
    } catch (e) {
      if (e instanceof ApiError && e.missing) toast('This server has no export endpoint.', 'error');
      else if (e.status !== 401) toast('Export failed: ' + e.message, 'error');
    }
  }
  async function exportAll() {
    const p = apiParams(state.params);
    try {
      const res = await get('/records/export' + qs({ format: 'jsonl', ...p }), { raw: true, accept: 'application/x-ndjson, application/json' });
      const text = await res.text();
      download('tracehound-records.jsonl', text, 'application/x-ndjson');
      toast('Exported ' + text.split('\n').filter(Boolean).length + ' records');
    } catch (e) {
      if (e instanceof ApiError && e.missing) toast('This server has no export endpoint yet. Select rows and use "Export selection" instead.', 'error');
      else if (e.status !== 401) toast('Export failed: ' + e.message, 'error');
    }
  }
  function addToDataset() {
    const ids = state.records.filter((r) => state.selected.has(r.id)).map((r) => r.id);
    const name = h('input', { class: 'input input-wide', attrs: { id: 'dataset-name', placeholder: 'regression-set', autocomplete: 'off' } });
    const submit = async () => {
      const n = name.value.trim();
      if (!n) { name.focus(); return; }
      try {
        await post('/testcases', { name: n, record_ids: ids });
        close();
        toast('Added ' + ids.length + ' records to "' + n + '"');
      } catch (e) {
        if (e instanceof ApiError && e.missing) toast('This server cannot store test-case datasets yet; use "Export selection (JSONL)".', 'error');
        else toast('Could not add to the dataset: ' + e.message, 'error');
      }
    };
    name.addEventListener('keydown', (e) => { if (e.key === 'Enter') submit(); });
    const close = modal('Add to test-case dataset', h('div', {},
      h('p', { text: 'Saves the ' + ids.length + ' selected records as test cases (input, expected output, metadata) in a named dataset.' }),
      h('label', { attrs: { for: 'dataset-name' }, text: 'Dataset name' }), name),
    [button('Cancel', () => close(), 'btn-ghost'), button('Add ' + ids.length + ' records', submit, 'btn-primary', null, 'dataset-submit')]);
  }

  // --- edit table
  function editColumns() {
    const metricCols = [...state.metrics].sort().map((m) => 'score:' + m);
    let order = state.columns.slice();
    for (const c of BASE_COLUMNS.map((x) => x.id).concat(metricCols)) if (!order.includes(c)) order.push(c);
    const shown = new Set(state.columns);
    const list = h('ol', { class: 'col-list', attrs: { id: 'column-list' } });
    const draw = () => {
      clear(list);
      order.forEach((id, i) => {
        const c = columnByID(id);
        if (!c) return;
        const cb = h('input', { attrs: { type: 'checkbox', id: 'col-' + id.replace(/\W/g, '-'), 'data-col': id }, checked: shown.has(id) });
        cb.addEventListener('change', () => { if (cb.checked) shown.add(id); else shown.delete(id); });
        const move = (d) => () => {
          const j = i + d;
          if (j < 0 || j >= order.length) return;
          [order[i], order[j]] = [order[j], order[i]];
          draw();
          const again = list.querySelector('[data-col="' + CSS.escape(id) + '"]');
          if (again) again.closest('li').querySelector(d < 0 ? '.up' : '.down').focus();
        };
        list.appendChild(h('li', { class: 'col-item', data: { col: id } },
          h('label', { attrs: { for: cb.id } }, cb, ' ', c.metric ? h('span', { class: 'muted', text: 'metric: ' }) : null, c.label),
          h('span', { class: 'col-move' },
            button('↑', move(-1), 'btn-icon btn-ghost up', 'Move ' + c.label + ' left'),
            button('↓', move(1), 'btn-icon btn-ghost down', 'Move ' + c.label + ' right'))));
      });
    };
    draw();
    const close = modal('Edit table', h('div', {},
      h('p', { class: 'muted', text: 'Tick the columns to show; the arrows set their order (top is leftmost). Metric columns appear once records carry scores.' }), list),
    [
      button('Reset', () => { order = DEFAULT_COLUMNS.concat(BASE_COLUMNS.map((x) => x.id).filter((x) => !DEFAULT_COLUMNS.includes(x)), metricCols); shown.clear(); DEFAULT_COLUMNS.forEach((x) => shown.add(x)); draw(); }, 'btn-ghost'),
      button('Apply', () => {
        const next = order.filter((id) => shown.has(id));
        if (!next.length) { toast('Pick at least one column', 'error'); return; }
        state.columns = next;
        saveColumns(next);
        close();
        renderTable();
      }, 'btn-primary', 'Apply and remember these columns', 'apply-columns'),
    ]);
  }

  // --- loading
  function noteMetrics(recs) {
    for (const r of recs) for (const m of Object.keys(r.scores || {})) state.metrics.add(m);
  }
  function hasFilters() {
    return [...state.params].some(([k, v]) => v && k !== 'live');
  }
  function showError(e) {
    clear(notice);
    if (e.unsupportedParam) {
      const p = e.unsupportedParam;
      notice.appendChild(h('div', { class: 'notice notice-warn' },
        'This server cannot filter by ', h('strong', { text: FILTER_LABELS[p] || p }), ' yet (', e.message, '). ',
        button('Remove that filter', () => {
          if (p === 'from' || p === 'to') { state.params.delete('range'); state.params.delete('from'); state.params.delete('to'); }
          for (const k of [...state.params.keys()]) if (k === p || (p.startsWith('meta.') && k.startsWith('meta.'))) state.params.delete(k);
          if (p === 'q') search.value = '';
          commit(true);
        }, 'btn-small')));
      return;
    }
    if (e.status === 401) {
      notice.appendChild(h('div', { class: 'notice notice-warn' }, 'This server needs an API key. ', button('Enter API key', () => import('./api.js').then((m) => m.promptKey('')), 'btn-small btn-primary')));
      return;
    }
    notice.appendChild(h('div', { class: 'notice notice-error', text: 'Could not load records: ' + e.message }));
  }
  async function fetchPage(cursor) {
    const p = apiParams(state.params);
    p.limit = PAGE_SIZE;
    if (cursor) p.cursor = cursor;
    if (state.abort) state.abort.abort();
    state.abort = new AbortController();
    return get('/records' + qs(p), { signal: state.abort.signal });
  }
  async function reload() {
    const seq = ++state.seq;
    performance.mark('records:load:start');
    state.loading = true;
    status.textContent = 'Loading…';
    clear(notice);
    let res;
    try {
      res = await fetchPage(null);
    } catch (e) {
      if (e.name === 'AbortError' || seq !== state.seq) return;
      state.loading = false;
      state.records = []; state.byID.clear(); state.cursor = null;
      renderTable();
      clear(body).appendChild(tableWrap);
      status.textContent = '';
      more.classList.add('hidden');
      showError(e);
      return;
    }
    if (seq !== state.seq) return;
    state.loading = false;
    state.records = res.records || [];
    state.byID = new Map(state.records.map((r) => [r.id, r]));
    state.cursor = res.next_cursor || null;
    state.focus = -1;
    // A selection only holds records the list shows.
    for (const id of state.selected) if (!state.byID.has(id)) state.selected.delete(id);
    renderSelection();
    noteMetrics(state.records);
    clear(body);
    if (!state.records.length) {
      body.appendChild(hasFilters()
        ? emptyState('No records match', 'Nothing matches this search and these filters. Widen the time range or remove a filter.', button('Clear filters', () => applyQuery(''), 'btn-primary'))
        : emptyState('No records yet', h('p', {}, 'Records appear here as soon as an application sends traces. Point an OpenTelemetry SDK, OpenLLMetry, the Claude Agent SDK or the LLM proxy at this server; ',
          link('#/setup', 'the setup page'), ' has the exact settings for this server.'), link('#/setup', 'Set up instrumentation', 'btn btn-primary')));
    } else {
      body.appendChild(tableWrap);
    }
    performance.mark('records:render:start');
    renderTable();
    renderStatus();
    // Measured so the UI tests can hold the page to its speed budget.
    performance.measure('records:render', 'records:render:start');
    performance.measure('records:load', 'records:load:start');
  }
  async function loadMore() {
    if (!state.cursor || state.loading) return;
    state.loading = true;
    const seq = state.seq;
    status.textContent = 'Loading more…';
    try {
      const res = await fetchPage(state.cursor);
      if (seq !== state.seq) return;
      const fresh = (res.records || []).filter((r) => !state.byID.has(r.id));
      for (const r of fresh) { state.records.push(r); state.byID.set(r.id, r); }
      noteMetrics(fresh);
      state.cursor = res.next_cursor || null;
      appendRows(fresh);
    } catch (e) {
      if (e.name !== 'AbortError') showError(e);
    } finally {
      if (seq === state.seq) { state.loading = false; renderStatus(); }
    }
  }
  function renderStatus() {
    const n = state.records.length;
    status.textContent = n ? n + (state.cursor ? '+' : '') + ' records' + (state.cursor ? ' · scroll for more' : '') + (state.live ? ' · live' : '') : '';
    more.classList.toggle('hidden', !state.cursor);
  }

  // --- live tail: poll the first page and merge new and updated records in place.
  async function poll() {
    if (!state.live || state.loading || document.hidden) return;
    try {
      const p = apiParams(state.params);
      p.limit = PAGE_SIZE;
      const res = await get('/records' + qs(p));
      const tb = table.tBodies[0];
      if (!tb) return;
      const fresh = [];
      for (const r of res.records || []) {
        const old = state.byID.get(r.id);
        if (!old) { fresh.push(r); continue; }
        if (JSON.stringify(old) === JSON.stringify(r)) continue;
        const idx = state.records.indexOf(old);
        state.records[idx] = r;
        state.byID.set(r.id, r);
        const tr = row(r);
        if (idx === state.focus) tr.classList.add('focused');
        tb.replaceChild(tr, tb.rows[idx]);
      }
      if (fresh.length) {
        // New records go on top only when the list is newest first; any other order
        // reloads the first page so they land where the sort puts them.
        const sort = state.params.get('sort') || '';
        if (!state.records.length || (sort && sort !== '-time')) { reload(); return; }
        state.records.unshift(...fresh);
        for (const r of fresh) state.byID.set(r.id, r);
        noteMetrics(fresh);
        const frag = document.createDocumentFragment();
        for (const r of fresh) { const tr = row(r); tr.classList.add('fresh'); frag.appendChild(tr); }
        tb.insertBefore(frag, tb.firstChild);
        if (state.focus >= 0) state.focus += fresh.length;
        renderStatus();
      }
    } catch { /* the next poll retries; errors show on explicit loads */ }
  }
  function setLive(on) {
    state.live = on;
    setParam('live', on ? '1' : '');
    history.replaceState(null, '', '#/records' + (state.params.toString() ? '?' + state.params : ''));
    clearInterval(state.liveTimer);
    if (on) state.liveTimer = setInterval(poll, LIVE_INTERVAL_MS);
    renderStatus();
  }
  liveToggle.addEventListener('change', () => setLive(liveToggle.checked));

  // --- search
  const runSearch = debounce(() => {
    if ((state.params.get('q') || '') === search.value.trim()) return;
    setParam('q', search.value.trim());
    commit();
  }, 250);
  search.addEventListener('input', runSearch);
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { setParam('q', search.value.trim()); commit(); }
    if (e.key === 'ArrowDown') { e.preventDefault(); search.blur(); setFocus(0); }
    if (e.key === 'Escape') search.blur();
  });

  // --- keyboard: j/k or arrows move, Enter opens, x selects, / searches
  function onKey(e) {
    if (document.querySelector('.overlay')) return;
    const t = e.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA') && !t.classList.contains('sel')) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    switch (e.key) {
      case 'j': case 'ArrowDown': e.preventDefault(); setFocus(state.focus + 1); break;
      case 'k': case 'ArrowUp': e.preventDefault(); setFocus(state.focus - 1); break;
      case 'Enter': if (state.focus >= 0) { e.preventDefault(); open(state.focus, false); } break;
      case 'x': if (state.focus >= 0) { e.preventDefault(); toggleSelect(state.focus); } break;
      case '/': e.preventDefault(); search.focus(); search.select(); break;
      default:
    }
  }
  document.addEventListener('keydown', onKey);

  const io = new IntersectionObserver((entries) => { if (entries.some((x) => x.isIntersecting)) loadMore(); }, { rootMargin: '400px' });
  io.observe(sentinel);

  renderQuick();
  renderFilters();
  reload();
  loadViews();
  // Defined metrics are column choices before any record carries their score.
  get('/metrics').then((res) => { for (const m of res.metrics || []) state.metrics.add(m.name); }, () => { /* no metrics API */ });
  if (state.live) setLive(true);

  return () => {
    document.removeEventListener('keydown', onKey);
    clearInterval(state.liveTimer);
    io.disconnect();
    if (state.abort) state.abort.abort();
  };
}

// miniRecords renders a compact, read-only list of records (for the run page).
export function miniRecords(recs) {
  const cols = ['status', 'start', 'input', 'output', 'tokens', 'cost', 'duration', 'scores'].map(columnByID);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { class: c.cls, text: c.label })))),
    h('tbody', {}, recs.map((r) => {
      const tr = h('tr', { class: 'row', attrs: { tabindex: '0' }, on: { click: () => { location.hash = '#/records/' + encodeURIComponent(r.id); }, keydown: (e) => { if (e.key === 'Enter') location.hash = '#/records/' + encodeURIComponent(r.id); } } });
      for (const c of cols) tr.appendChild(h('td', { class: c.cls }, c.render(r, [])));
      return tr;
    }))));
}
