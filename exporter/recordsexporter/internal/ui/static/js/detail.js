// Record detail: summary, span tree, conversation, timeline, scores and flags, cost per LLM
// call, raw attributes per span.
import { ApiError, get, post } from './api.js';
import {
  append, badge, button, clear, copyButton, download, emptyState, fmtCost, fmtInt, fmtMs, fmtTime,
  h, highlight, link, toast,
} from './dom.js';
import { scoreChip } from './records.js';
import { vlist } from './vlist.js';

const ROW_H = 30;

const KIND_ICONS = {
  llm: 'LLM', embedding: 'EMB', tool: 'TOOL', agent: 'AGT', chain: 'CHN', workflow: 'WF', task: 'TASK',
  retriever: 'RET', reranker: 'RRK', guardrail: 'GRD', other: '·',
};

function kindIcon(kind) {
  const k = KIND_ICONS[kind] ? kind : 'other';
  return h('span', { class: 'kind kind-' + k, attrs: { title: 'span kind: ' + (kind || 'other') }, text: KIND_ICONS[k] });
}

const TABS = [
  ['spans', 'Span tree'],
  ['conversation', 'Conversation'],
  ['timeline', 'Timeline'],
  ['scores', 'Scores & flags'],
  ['cost', 'Tokens & cost'],
];

export function detailPage(root, id, params) {
  const page = h('section', { class: 'page detail-page' }, h('p', { class: 'loading', text: 'Loading record…' }));
  root.appendChild(page);
  const cleanups = [];
  let alive = true;
  get('/records/' + encodeURIComponent(id)).then((rec) => {
    if (alive) render(page, rec, params, cleanups);
  }, (e) => {
    if (!alive) return;
    clear(page);
    if (e instanceof ApiError && e.status === 404) {
      page.appendChild(emptyState('Record not found', h('p', {}, 'There is no record ', h('code', { text: id }), ' in this project. It may have aged out of retention, or the trace has not arrived yet.'), link('#/records', '← Back to records', 'btn btn-primary')));
    } else if (e.status === 401) {
      page.appendChild(emptyState('API key needed', 'Enter the API key to see this record.', button('Enter API key', () => import('./api.js').then((m) => m.promptKey('')), 'btn-primary')));
    } else {
      page.appendChild(emptyState('Could not load the record', e.message, link('#/records', '← Back to records', 'btn')));
    }
  });
  return () => { alive = false; cleanups.forEach((f) => f()); };
}

function flatten(spans) {
  const all = [];
  const walk = (n, depth, parent) => {
    n._depth = depth;
    n._parent = parent;
    all.push(n);
    for (const c of n.children || []) walk(c, depth + 1, n);
  };
  for (const s of spans || []) walk(s, 0, null);
  return all;
}

function metaItem(label, value, cls) {
  return h('div', { class: 'meta-item' + (cls ? ' ' + cls : '') }, h('dt', { text: label }), h('dd', {}, value == null || value === '' ? h('span', { class: 'muted', text: '—' }) : value));
}

function render(page, rec, params, cleanups) {
  clear(page);
  const all = flatten(rec.spans);
  const byID = new Map(all.map((s) => [s.span_id, s]));
  const total = Math.max(rec.duration_ms || 0, ...all.map((s) => s.offset_ms + s.duration_ms), 0.001);
  const evidence = (rec.flags || []).map((f) => f.evidence).filter((x) => x && x.length >= 3);
  let tab = TABS.some((t) => t[0] === params.get('tab')) ? params.get('tab') : 'spans';

  const setHash = () => {
    const p = new URLSearchParams();
    if (tab !== 'spans') p.set('tab', tab);
    if (selected) p.set('span', selected.span_id);
    history.replaceState(null, '', '#/records/' + encodeURIComponent(rec.id) + (p.toString() ? '?' + p : ''));
  };

  // --- header
  const u = rec.usage || {};
  page.appendChild(h('div', { class: 'detail-head' },
    h('div', { class: 'crumbs' }, h('a', { attrs: { href: recordsHash() }, text: '← Records' }),
      rec.run_id ? [' / ', link('#/runs/' + encodeURIComponent(rec.run_id), 'run ' + rec.run_id)] : null),
    h('div', { class: 'title-row' }, h('h1', { text: rec.name || rec.id }), badge(rec.status),
      h('span', { class: 'spacer' }),
      // Late spans keep updating a record; the router re-renders the current hash.
      button('Refresh', () => window.dispatchEvent(new HashChangeEvent('hashchange')), 'btn-small btn-ghost', 'Load the record again (late spans update it)', 'refresh-record')),
    h('dl', { class: 'meta-grid' },
      metaItem('Trace ID', h('span', { class: 'mono id-with-copy' }, h('span', { text: rec.trace_id }), copyButton(rec.trace_id)), 'wide'),
      metaItem('Run', rec.run_id ? link('#/runs/' + encodeURIComponent(rec.run_id), rec.run_id) : null),
      metaItem('Testcase', rec.testcase_id),
      metaItem('Source', rec.source),
      metaItem('Service', rec.service),
      metaItem('User', rec.user_id),
      metaItem('Session', rec.session_id),
      metaItem('Models', (rec.models || []).join(', ')),
      metaItem('Start', h('span', { attrs: { title: rec.start }, text: fmtTime(rec.start) })),
      metaItem('Duration', fmtMs(rec.duration_ms)),
      metaItem('Tokens', h('span', { attrs: { title: 'cache read ' + (u.cache_read || 0) + ' · cache write ' + (u.cache_write || 0) } }, fmtInt(u.total) + ' (' + fmtInt(u.input) + ' in / ' + fmtInt(u.output) + ' out)')),
      metaItem('Cost', fmtCost(rec.cost_usd) + (rec.cost_unknown ? ' + unpriced calls' : '')),
      metaItem('Spans', fmtInt(rec.span_count) + ' spans · ' + fmtInt(rec.llm_call_count) + ' LLM calls'),
      Object.keys(rec.metadata || {}).length ? metaItem('Metadata', h('span', { class: 'chips' }, Object.entries(rec.metadata).map(([k, v]) => h('span', { class: 'tag', text: k + '=' + v })))) : null,
    ),
    errorNotice(),
    rec.flags && rec.flags.length ? h('div', { class: 'chips flag-row' }, rec.flags.map((f) => h('span', { class: 'chip chip-' + (f.severity || 'info'), attrs: { title: f.message || '' }, text: f.code }))) : null,
    Object.keys(rec.scores || {}).length ? h('div', { class: 'chips' }, Object.entries(rec.scores).map(([n, s]) => scoreChip(n, s, true))) : null,
  ));

  // errorNotice names the first failed span and its message, with a link to it.
  function errorNotice() {
    const failed = all.filter((s) => s.status === 'error');
    if (!failed.length) return null;
    const s = failed[0];
    return h('div', { class: 'notice notice-error error-notice', attrs: { id: 'error-notice' } },
      h('strong', { text: failed.length === 1 ? 'Error' : failed.length + ' spans failed' }), ' in ',
      h('a', { attrs: { href: '#' }, text: s.name, on: { click: (e) => { e.preventDefault(); gotoSpan(s.span_id); } } }),
      s.status_message ? [': ', h('span', { text: s.status_message })] : null);
  }

  // --- input / output / expected
  const ioPanel = (label, text, cls) => h('div', { class: 'io ' + (cls || '') },
    h('div', { class: 'io-head' }, h('h3', { text: label }), text ? copyButton(text) : null),
    text ? h('pre', { class: 'text' }, highlight(text, evidence)) : h('p', { class: 'muted', text: 'none' }));
  page.appendChild(h('div', { class: 'io-row' },
    ioPanel('Input', rec.input, 'io-input'),
    ioPanel('Output', rec.output, 'io-output'),
    rec.expected ? ioPanel('Expected', rec.expected, 'io-expected') : null));

  // --- tabs
  const tabBar = h('div', { class: 'tabs', attrs: { role: 'tablist' } });
  const panel = h('div', { class: 'tab-panel', attrs: { role: 'tabpanel' } });
  append(page, tabBar, panel);
  let selected = byID.get(params.get('span')) || all[0] || null;
  const collapsed = new Set();
  let teardown = null;

  // Arrow keys move between tabs, as in any tablist.
  tabBar.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const i = TABS.findIndex((x) => x[0] === tab);
    const next = TABS[(i + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length][0];
    e.preventDefault();
    tab = next;
    setHash();
    drawTabs();
    drawPanel();
    const btn = tabBar.querySelector('[data-tab="' + next + '"]');
    if (btn) btn.focus();
  });

  // conversationCount matches what the Conversation tab shows: the messages, plus the system
  // instructions shown as a message, or each LLM call's text when there are no messages.
  function conversationCount() {
    const conv = rec.conversation || [];
    if (!conv.length) return all.filter((s) => s.llm_call).reduce((n, s) => n + (s.input ? 1 : 0) + (s.output ? 1 : 0), 0);
    const first = byID.get(conv[0].span_id);
    const sys = first && first.attributes && first.attributes['gen_ai.system_instructions'];
    return conv.length + (sys && !conv.some((m) => m.role === 'system') ? 1 : 0);
  }

  function drawTabs() {
    clear(tabBar);
    for (const [k, label] of TABS) {
      const count = k === 'conversation' ? conversationCount()
        : k === 'scores' ? Object.keys(rec.scores || {}).length + (rec.flags || []).length
          : k === 'spans' ? all.length : k === 'cost' ? all.filter((s) => s.llm_call).length : null;
      tabBar.appendChild(h('button', {
        class: 'tab' + (k === tab ? ' active' : ''),
        attrs: { type: 'button', role: 'tab', 'aria-selected': k === tab ? 'true' : 'false', 'data-tab': k },
        on: { click: () => { tab = k; setHash(); drawTabs(); drawPanel(); } },
      }, label, count != null ? h('span', { class: 'count', text: String(count) }) : null));
    }
  }
  function drawPanel() {
    if (teardown) { teardown(); teardown = null; }
    clear(panel);
    if (tab === 'spans') teardown = spansTab();
    else if (tab === 'conversation') conversationTab();
    else if (tab === 'timeline') teardown = timelineTab();
    else if (tab === 'scores') scoresTab();
    else if (tab === 'cost') costTab();
  }
  cleanups.push(() => { if (teardown) teardown(); });

  function gotoSpan(spanID) {
    const s = byID.get(spanID);
    if (!s) return;
    selected = s;
    for (let p = s._parent; p; p = p._parent) collapsed.delete(p.span_id);
    tab = 'spans';
    setHash();
    drawTabs();
    drawPanel();
  }

  // --- span tree
  function visibleSpans() {
    const out = [];
    const walk = (n) => {
      out.push(n);
      if (!collapsed.has(n.span_id)) for (const c of n.children || []) walk(c);
    };
    for (const s of rec.spans || []) walk(s);
    return out;
  }
  function spansTab() {
    if (!all.length) {
      panel.appendChild(emptyState('No spans stored', 'This record has no spans (they may have aged out).'));
      return null;
    }
    // Big traces start folded below the second level so the first view is readable.
    if (all.length > 500 && !collapsed.size) for (const s of all) if (s._depth >= 1 && s.children && s.children.length) collapsed.add(s.span_id);
    if (selected) for (let p = selected._parent; p; p = p._parent) collapsed.delete(p.span_id);
    const detail = h('div', { class: 'span-detail', attrs: { id: 'span-detail' } });
    let items = [];
    const list = vlist({
      rowHeight: ROW_H, className: 'span-tree', label: 'Span tree', role: 'tree',
      render: (it) => spanRow(it.span),
    });
    list.el.id = 'span-tree';
    function spanRow(s) {
      const hasKids = s.children && s.children.length > 0;
      const caret = hasKids
        ? h('button', { class: 'caret', attrs: { type: 'button', 'aria-label': (collapsed.has(s.span_id) ? 'Expand ' : 'Collapse ') + s.name, tabindex: '-1' }, text: collapsed.has(s.span_id) ? '▸' : '▾', on: { click: (e) => { e.stopPropagation(); toggle(s); } } })
        : h('span', { class: 'caret caret-none' });
      const indent = h('span', { class: 'indent' });
      indent.style.width = Math.min(s._depth, 40) * 14 + 'px';
      const bar = h('span', { class: 'bar' + (s.status === 'error' ? ' bar-error' : '') + (s.llm_call ? ' bar-llm' : '') });
      bar.style.left = (s.offset_ms / total) * 100 + '%';
      bar.style.width = Math.max((s.duration_ms / total) * 100, 0.3) + '%';
      const row = h('div', {
        class: 'span-row' + (s === selected ? ' selected' : '') + (s.status === 'error' ? ' is-error' : ''),
        attrs: { role: 'treeitem', 'aria-level': String(s._depth + 1), 'aria-expanded': hasKids ? String(!collapsed.has(s.span_id)) : null, 'aria-selected': s === selected ? 'true' : 'false' },
        data: { spanId: s.span_id },
        on: { click: () => { select(s); list.el.focus({ preventScroll: true }); } },
      },
      indent, caret, kindIcon(s.kind),
      h('span', { class: 'span-name', attrs: { title: s.name } }, s.name),
      s.status === 'error' ? h('span', { class: 'err-mark', attrs: { title: s.status_message || 'error' }, text: '!' }) : null,
      s.flags && s.flags.length ? h('span', { class: 'flag-mark', attrs: { title: s.flags.map((f) => f.code).join(', ') }, text: '⚑' }) : null,
      h('span', { class: 'bar-track' }, bar),
      h('span', { class: 'span-dur', text: fmtMs(s.duration_ms) }));
      return row;
    }
    function key(s) { return s.span_id + (s === selected ? ':s' : '') + (collapsed.has(s.span_id) ? ':c' : ''); }
    function refresh(redraw) {
      items = visibleSpans().map((s) => ({ span: s, key: key(s) }));
      list.set(items, redraw);
    }
    function toggle(s) {
      if (collapsed.has(s.span_id)) collapsed.delete(s.span_id); else collapsed.add(s.span_id);
      refresh(true);
    }
    function select(s) {
      selected = s;
      setHash();
      refresh(true);
      const i = items.findIndex((it) => it.span === s);
      if (i >= 0) list.scrollTo(i);
      drawSpanDetail(detail, s);
    }
    list.el.addEventListener('keydown', (e) => {
      const i = items.findIndex((it) => it.span === selected);
      const s = selected;
      switch (e.key) {
        case 'ArrowDown': case 'j': e.preventDefault(); if (i < items.length - 1) select(items[i + 1].span); break;
        case 'ArrowUp': case 'k': e.preventDefault(); if (i > 0) select(items[i - 1].span); break;
        case 'ArrowLeft': e.preventDefault();
          if (s && s.children.length && !collapsed.has(s.span_id)) toggle(s); else if (s && s._parent) select(s._parent);
          break;
        case 'ArrowRight': e.preventDefault(); if (s && collapsed.has(s.span_id)) toggle(s); break;
        default:
      }
    });
    const tools = h('div', { class: 'tree-tools' },
      button('Expand all', () => { collapsed.clear(); refresh(true); }, 'btn-small btn-ghost', null, 'expand-all'),
      button('Collapse all', () => { for (const s of all) if (s.children && s.children.length) collapsed.add(s.span_id); if (selected) { selected = all[0]; } refresh(true); drawSpanDetail(detail, selected); }, 'btn-small btn-ghost', null, 'collapse-all'),
      h('span', { class: 'muted', text: all.length + ' spans · ' + fmtMs(total) + ' · arrows/j/k move, ←/→ fold' }));
    panel.appendChild(h('div', { class: 'split' }, h('div', { class: 'split-left' }, tools, list.el), detail));
    refresh(true);
    if (selected) {
      const i = items.findIndex((it) => it.span === selected);
      if (i >= 0) list.scrollTo(i);
      drawSpanDetail(detail, selected);
    }
    return () => list.destroy();
  }

  function drawSpanDetail(box, s) {
    clear(box);
    if (!s) return;
    const attrs = Object.entries(s.attributes || {}).sort((a, b) => a[0].localeCompare(b[0]));
    const res = Object.entries(s.resource || {}).sort((a, b) => a[0].localeCompare(b[0]));
    const spanEvidence = (s.flags || []).map((f) => f.evidence).filter((x) => x && x.length >= 3);
    append(box,
      h('div', { class: 'span-title' }, kindIcon(s.kind), h('h2', { text: s.name }), badge(s.status)),
      s.status_message ? h('p', { class: 'notice notice-error', text: s.status_message }) : null,
      h('dl', { class: 'meta-grid compact' },
        metaItem('Span ID', h('span', { class: 'mono', text: s.span_id })),
        metaItem('Parent', s.parent_span_id ? h('a', { attrs: { href: '#' }, class: 'mono', text: s.parent_span_id, on: { click: (e) => { e.preventDefault(); gotoSpan(s.parent_span_id); } } }) : null),
        metaItem('Kind', s.kind),
        metaItem('Service', s.service),
        metaItem('Start', '+' + fmtMs(s.offset_ms)),
        metaItem('Duration', fmtMs(s.duration_ms)),
        s.model ? metaItem('Model', s.model) : null,
        s.usage ? metaItem('Tokens', fmtInt(s.usage.input) + ' in / ' + fmtInt(s.usage.output) + ' out' + (s.usage.cache_read ? ' / ' + fmtInt(s.usage.cache_read) + ' cached' : '')) : null,
        s.cost_usd ? metaItem('Cost', fmtCost(s.cost_usd)) : null),
      s.flags && s.flags.length ? h('div', { class: 'flags-list' }, s.flags.map(flagCard)) : null,
      s.input ? h('div', { class: 'io' }, h('h3', { text: 'Input' }), h('pre', { class: 'text' }, highlight(s.input, spanEvidence))) : null,
      s.output ? h('div', { class: 'io' }, h('h3', { text: 'Output' }), h('pre', { class: 'text' }, highlight(s.output, spanEvidence))) : null,
      h('h3', { text: 'Attributes (' + attrs.length + ')' }),
      attrTable(attrs),
      s.events && s.events.length ? [h('h3', { text: 'Events (' + s.events.length + ')' }), h('ul', { class: 'events' }, s.events.map((ev) => h('li', {},
        h('span', { class: 'mono muted', text: '+' + fmtMs(new Date(ev.time) - new Date(rec.start)) + ' ' }), h('strong', { text: ev.name }),
        ev.attributes ? attrTable(Object.entries(ev.attributes)) : null)))] : null,
      h('details', { class: 'resource' }, h('summary', { text: 'Resource attributes (' + res.length + ')' }), attrTable(res)),
    );
  }

  // --- conversation
  function conversationTab() {
    const conv = rec.conversation || [];
    if (!conv.length) {
      // No message lists: show each LLM call's input and output text, if they have any.
      const calls = all.filter((s) => s.llm_call && (s.input || s.output));
      if (calls.length) {
        const box = h('div', { class: 'conversation', attrs: { id: 'conversation' } });
        for (const s of calls.slice(0, 200)) {
          if (s.input) box.appendChild(message({ role: 'user', name: s.name, parts: [{ type: 'text', content: s.input }] }, s.span_id));
          if (s.output) box.appendChild(message({ role: 'assistant', name: s.model, parts: [{ type: 'text', content: s.output }] }, s.span_id));
        }
        append(panel, h('p', { class: 'muted', text: 'These LLM calls recorded text but no message lists (gen_ai.input.messages / gen_ai.output.messages), so each call is shown as its input and output.' }), box);
        return;
      }
      panel.appendChild(emptyState('No conversation', h('p', {}, 'None of this trace\'s LLM spans carries its messages. Conversations show up when LLM spans record ',
        h('code', { text: 'gen_ai.input.messages' }), ' / ', h('code', { text: 'gen_ai.output.messages' }), ' (or another convention tracehound reads, such as OpenLLMetry\'s gen_ai.prompt.* attributes).')));
      return;
    }
    const box = h('div', { class: 'conversation', attrs: { id: 'conversation' } });
    const first = byID.get(conv[0].span_id);
    const sys = first && first.attributes && first.attributes['gen_ai.system_instructions'];
    if (sys && !conv.some((m) => m.role === 'system')) {
      box.appendChild(message({ role: 'system', parts: systemParts(sys) }, null));
    }
    for (const m of conv) box.appendChild(message(m, m.span_id));
    append(panel, h('p', { class: 'muted' }, 'Messages of the LLM call that saw the most history, and its answer. ',
      first ? h('a', { attrs: { href: '#' }, text: 'Show that span', on: { click: (e) => { e.preventDefault(); gotoSpan(first.span_id); } } }) : null), box);
  }
  function systemParts(sys) {
    try {
      const v = JSON.parse(sys);
      if (Array.isArray(v)) return v;
    } catch { /* plain text */ }
    return [{ type: 'text', content: String(sys) }];
  }
  function message(m, spanID) {
    const role = (m.role || 'unknown').toLowerCase();
    return h('div', { class: 'msg msg-' + role.replace(/[^a-z]/g, '') },
      h('div', { class: 'msg-head' }, h('span', { class: 'role', text: role }), m.name ? h('span', { class: 'muted', text: m.name }) : null,
        m.finish_reason ? h('span', { class: 'muted', text: 'finish: ' + m.finish_reason }) : null),
      (m.parts || []).map(part));
  }
  function part(p) {
    switch (p.type) {
      case 'text':
      case 'reasoning':
        return h('pre', { class: 'text' + (p.type === 'reasoning' ? ' reasoning' : '') }, highlight(typeof p.content === 'string' ? p.content : JSON.stringify(p.content, null, 2), evidence));
      case 'tool_call':
        return h('div', { class: 'tool-call' },
          h('div', { class: 'tool-head' }, h('span', { class: 'kind kind-tool', text: 'CALL' }), h('strong', { text: p.name || 'tool' }), p.id ? h('span', { class: 'mono muted', text: p.id }) : null),
          h('pre', { class: 'code' }, pretty(p.arguments)));
      case 'tool_call_response':
        return h('div', { class: 'tool-call tool-result' },
          h('div', { class: 'tool-head' }, h('span', { class: 'kind kind-tool', text: 'RESULT' }), p.id ? h('span', { class: 'mono muted', text: p.id }) : null),
          h('pre', { class: 'code' }, pretty(p.response)));
      default:
        return h('div', { class: 'tool-call' }, h('div', { class: 'tool-head' }, h('span', { class: 'tag', text: p.type || 'part' }), p.mime_type ? h('span', { class: 'muted', text: p.mime_type }) : null),
          h('pre', { class: 'code' }, pretty(p.uri || p.content || p)));
    }
  }

  // --- timeline (waterfall)
  function timelineTab() {
    const rows = rec.timeline || [];
    if (!rows.length) { panel.appendChild(emptyState('No timeline', 'This record has no spans.')); return null; }
    const ticks = h('div', { class: 'wf-axis' });
    for (let i = 0; i <= 4; i++) {
      const t = h('span', { class: 'tick', text: fmtMs((total * i) / 4) });
      t.style.left = i * 25 + '%';
      ticks.appendChild(t);
    }
    const list = vlist({
      rowHeight: ROW_H, className: 'waterfall', label: 'Timeline',
      render: (it) => {
        const e = it.e;
        const name = h('span', { class: 'wf-name', attrs: { title: e.name } }, kindIcon(e.kind), ' ', e.name);
        name.style.paddingLeft = Math.min(e.depth, 40) * 12 + 4 + 'px';
        const bar = h('span', { class: 'bar' + (e.status === 'error' ? ' bar-error' : '') + (e.kind === 'llm' ? ' bar-llm' : '') });
        bar.style.left = (e.offset_ms / total) * 100 + '%';
        bar.style.width = Math.max((e.duration_ms / total) * 100, 0.3) + '%';
        const label = h('span', { class: 'wf-label', text: '+' + fmtMs(e.offset_ms) + ' · ' + fmtMs(e.duration_ms) });
        label.style.left = Math.min((e.offset_ms / total) * 100, 80) + '%';
        return h('div', { class: 'wf-row' + (e.status === 'error' ? ' is-error' : ''), attrs: { role: 'listitem' }, data: { spanId: e.span_id }, on: { click: () => gotoSpan(e.span_id) } },
          name, h('span', { class: 'wf-track' }, bar, label));
      },
    });
    list.el.id = 'timeline';
    append(panel, h('div', { class: 'wf-head' }, h('span', { class: 'wf-name muted', text: rows.length + ' spans' }), ticks), list.el);
    list.set(rows.map((e) => ({ e, key: e.span_id })), true);
    return () => list.destroy();
  }

  // --- scores and flags
  function scoresTab() {
    const box = h('div', { class: 'scores', attrs: { id: 'scores' } });
    const scores = Object.entries(rec.scores || {});
    box.appendChild(h('h2', { text: 'Scores' }));
    if (!scores.length) box.appendChild(h('p', { class: 'muted', text: 'No scores yet. Scores come from AI-judge metrics (Metrics page), from external evaluators, or from a person below.' }));
    else {
      box.appendChild(h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['Metric', 'Value', 'Result', 'Source', 'Reason'].map((t) => h('th', { text: t })))),
        h('tbody', {}, scores.map(([n, s]) => h('tr', {},
          h('td', { text: n }), h('td', { class: 'num' }, scoreChip(n, s, false)),
          h('td', { text: s.passed == null ? '—' : s.passed ? 'pass' : 'fail' }),
          h('td', { text: s.source || '—' }),
          h('td', { class: 'reason' }, h('div', { class: 'pre-wrap' }, highlight(s.reason || '', evidence)))))))));
    }
    box.appendChild(scoreForm());
    box.appendChild(h('h2', { text: 'Flags' }));
    if (!(rec.flags || []).length) box.appendChild(h('p', { class: 'muted', text: 'No flags: error detection found no technical errors or silent failures in this trace.' }));
    else box.appendChild(h('div', { class: 'flags-list' }, rec.flags.map(flagCard)));
    panel.appendChild(box);
  }
  function flagCard(f) {
    return h('div', { class: 'flag flag-' + (f.severity || 'info') },
      h('div', { class: 'flag-head' }, h('span', { class: 'chip chip-' + (f.severity || 'info'), text: f.severity || 'info' }),
        h('strong', { text: f.code }), h('span', { class: 'muted', text: f.category || '' }), f.source ? h('span', { class: 'muted', text: 'by ' + f.source }) : null,
        f.span_id && byID.has(f.span_id) ? h('a', { attrs: { href: '#' }, text: 'span ' + byID.get(f.span_id).name, on: { click: (e) => { e.preventDefault(); gotoSpan(f.span_id); } } }) : null),
      f.message ? h('p', { text: f.message }) : null,
      f.evidence ? h('blockquote', { class: 'evidence' }, h('mark', { text: f.evidence })) : null);
  }
  function scoreForm() {
    const name = h('input', { class: 'input w-m', attrs: { id: 'score-name', placeholder: 'helpfulness', autocomplete: 'off' } });
    const value = h('input', { class: 'input w-s', attrs: { id: 'score-value', placeholder: '0.8', autocomplete: 'off' } });
    const passed = h('select', { class: 'input', attrs: { id: 'score-passed' } }, [['', '—'], ['true', 'pass'], ['false', 'fail']].map(([v, t]) => h('option', { value: v, text: t })));
    const reason = h('input', { class: 'input w-l', attrs: { id: 'score-reason', placeholder: 'why', autocomplete: 'off' } });
    const submit = async () => {
      if (!name.value.trim()) { name.focus(); return; }
      const v = value.value.trim();
      const body = { name: name.value.trim(), source: 'human' };
      if (v === 'true' || v === 'false') body.value = v === 'true';
      else if (v !== '') body.value = Number.isNaN(Number(v)) ? v : Number(v);
      if (passed.value) body.passed = passed.value === 'true';
      if (reason.value.trim()) body.reason = reason.value.trim();
      try {
        await post('/records/' + encodeURIComponent(rec.id) + '/scores', body);
        toast('Score saved');
        const fresh = await get('/records/' + encodeURIComponent(rec.id));
        rec.scores = fresh.scores;
        clear(panel);
        scoresTab();
        drawTabs();
      } catch (e) {
        if (e instanceof ApiError && e.missing) toast('This server does not accept scores yet.', 'error');
        else toast('Could not save the score: ' + e.message, 'error');
      }
    };
    return h('details', { class: 'score-form' }, h('summary', { text: 'Add a score' }),
      h('div', { class: 'filters' },
        h('div', { class: 'field' }, h('label', { attrs: { for: 'score-name' }, text: 'Metric' }), name),
        h('div', { class: 'field' }, h('label', { attrs: { for: 'score-value' }, text: 'Value' }), value),
        h('div', { class: 'field' }, h('label', { attrs: { for: 'score-passed' }, text: 'Result' }), passed),
        h('div', { class: 'field' }, h('label', { attrs: { for: 'score-reason' }, text: 'Reason' }), reason),
        h('div', { class: 'field field-end' }, button('Save score', submit, 'btn-primary', null, 'score-submit'))));
  }

  // --- tokens and cost per LLM call
  function costTab() {
    const calls = all.filter((s) => s.llm_call);
    if (!calls.length) { panel.appendChild(emptyState('No LLM calls', 'No span of this trace is an LLM call, so there are no tokens or costs to break down.')); return; }
    const sum = { input: 0, output: 0, cache_read: 0, cache_write: 0, cost: 0, dur: 0 };
    for (const s of calls) {
      const su = s.usage || {};
      sum.input += su.input || 0; sum.output += su.output || 0; sum.cache_read += su.cache_read || 0; sum.cache_write += su.cache_write || 0;
      sum.cost += s.cost_usd || 0; sum.dur += s.duration_ms || 0;
    }
    const shown = calls.slice(0, 1000);
    const maxCost = Math.max(...calls.map((s) => s.cost_usd || 0), 1e-12);
    panel.appendChild(h('div', { class: 'table-wrap' }, h('table', { class: 'grid', attrs: { id: 'cost-table' } },
      h('thead', {}, h('tr', {}, ['LLM call', 'Model', 'Input', 'Output', 'Cache read', 'Cache write', 'Cost', '', 'Duration'].map((t, i) => h('th', { class: i >= 2 && i !== 7 ? 'num' : '', text: t })))),
      h('tbody', {}, shown.map((s) => {
        const su = s.usage || {};
        const bar = h('span', { class: 'cost-bar' });
        bar.style.width = ((s.cost_usd || 0) / maxCost) * 100 + '%';
        return h('tr', { class: 'row', attrs: { tabindex: '0' }, on: { click: () => gotoSpan(s.span_id), keydown: (e) => { if (e.key === 'Enter') gotoSpan(s.span_id); } } },
          h('td', {}, s.name), h('td', { text: s.model || '—' }),
          h('td', { class: 'num', text: fmtInt(su.input || 0) }), h('td', { class: 'num', text: fmtInt(su.output || 0) }),
          h('td', { class: 'num', text: fmtInt(su.cache_read || 0) }), h('td', { class: 'num', text: fmtInt(su.cache_write || 0) }),
          h('td', { class: 'num', text: fmtCost(s.cost_usd || 0) }), h('td', { class: 'col-bar' }, h('span', { class: 'cost-track' }, bar)),
          h('td', { class: 'num', text: fmtMs(s.duration_ms) }));
      })),
      h('tfoot', {}, h('tr', {}, h('th', { text: 'Total (' + calls.length + ' calls)' }), h('th'),
        h('th', { class: 'num', text: fmtInt(sum.input) }), h('th', { class: 'num', text: fmtInt(sum.output) }),
        h('th', { class: 'num', text: fmtInt(sum.cache_read) }), h('th', { class: 'num', text: fmtInt(sum.cache_write) }),
        h('th', { class: 'num', text: fmtCost(sum.cost) }), h('th'), h('th', { class: 'num', text: fmtMs(sum.dur) }))))),
    shown.length < calls.length ? h('p', { class: 'muted', text: 'Showing the first ' + shown.length + ' of ' + calls.length + ' calls; the totals count all of them.' }) : null,
    h('div', { class: 'raw-actions' }, button('Download raw OTLP JSON', async () => {
      try {
        const res = await get('/traces/' + encodeURIComponent(rec.trace_id), { raw: true });
        download('trace-' + rec.trace_id + '.json', await res.text(), 'application/json');
      } catch (e) { toast('Download failed: ' + e.message, 'error'); }
    }, 'btn-small btn-ghost')));
  }

  drawTabs();
  drawPanel();
}

// recordsHash is the records list as the user left it (search, filters), so "back" keeps them.
function recordsHash() {
  try {
    const v = sessionStorage.getItem('tracehound.recordsHash');
    if (v && v.startsWith('#/records')) return v;
  } catch { /* ignore */ }
  return '#/records';
}

function pretty(v) {
  if (v == null) return '';
  if (typeof v === 'string') {
    try { return JSON.stringify(JSON.parse(v), null, 2); } catch { return v; }
  }
  return JSON.stringify(v, null, 2);
}

function attrValue(v) {
  if (typeof v === 'string') {
    if (/^[[{]/.test(v.trim())) return pretty(v);
    return v;
  }
  return JSON.stringify(v, null, typeof v === 'object' ? 2 : 0);
}

function attrTable(entries) {
  if (!entries.length) return h('p', { class: 'muted', text: 'none' });
  return h('table', { class: 'attrs' }, h('tbody', {}, entries.map(([k, v]) => {
    const s = attrValue(v);
    return h('tr', {}, h('th', { class: 'mono', text: k }), h('td', {}, s.length > 200 || s.includes('\n') ? h('pre', { class: 'code' }, s) : h('span', { class: 'mono', text: s })));
  })));
}
