// tracehound web UI: a hash router over a few pages. Each page renders into #app and may
// return a cleanup function that runs when the user navigates away. Pages keep their
// filters in the hash with history.replaceState, which does not re-route.
import { clear, emptyState, h, link, modal } from './dom.js';
import { promptKey, getKey } from './api.js';
import { recordsPage } from './records.js';
import { detailPage } from './detail.js';
import { runsPage, runPage } from './runs.js';
import { statsPage } from './stats.js';
import { metricsPage } from './metrics.js';
import { setupPage } from './setup.js';

const routes = [
  [/^\/records\/([^/?]+)$/, (root, m, params) => detailPage(root, decodeURIComponent(m[1]), params), 'records'],
  [/^\/records$/, (root, m, params) => recordsPage(root, params), 'records'],
  [/^\/runs\/([^/?]+)$/, (root, m, params) => runPage(root, decodeURIComponent(m[1]), params), 'runs'],
  [/^\/runs$/, (root, m, params) => runsPage(root, params), 'runs'],
  [/^\/stats$/, (root, m, params) => statsPage(root, params), 'stats'],
  [/^\/metrics$/, (root, m, params) => metricsPage(root, params), 'metrics'],
  [/^\/setup$/, (root, m, params) => setupPage(root, params), 'setup'],
];

let cleanup = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/records';
  const i = raw.indexOf('?');
  const path = i < 0 ? raw : raw.slice(0, i);
  const params = new URLSearchParams(i < 0 ? '' : raw.slice(i + 1));
  return { path, params };
}

function route() {
  const { path, params } = parseHash();
  const root = document.getElementById('app');
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  clear(root);
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.remove('active');
  for (const [re, page, nav] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    const navEl = document.querySelector('[data-nav="' + nav + '"]');
    if (navEl) navEl.classList.add('active');
    try {
      const c = page(root, m, params);
      if (typeof c === 'function') cleanup = c;
    } catch (e) {
      console.error(e);
      root.appendChild(emptyState('Something went wrong', String(e && e.message)));
    }
    return;
  }
  root.appendChild(emptyState('Page not found', h('p', {}, 'There is no page at ', h('code', { text: path }), '.'), link('#/records', 'Go to records', 'btn btn-primary')));
}

window.addEventListener('hashchange', route);

const SHORTCUTS = [
  ['j / ↓', 'next record (Records) or span (span tree)'],
  ['k / ↑', 'previous record or span'],
  ['Enter', 'open the focused record'],
  ['x', 'select the focused record'],
  ['/', 'search records'],
  ['← / →', 'fold / unfold the selected span'],
  ['?', 'this help'],
  ['Esc', 'close a dialog'],
];

document.addEventListener('keydown', (e) => {
  const t = e.target;
  if (e.key !== '?' || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('.overlay')) return;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) return;
  e.preventDefault();
  modal('Keyboard shortcuts', h('table', { class: 'attrs shortcuts' }, h('tbody', {},
    SHORTCUTS.map(([k, what]) => h('tr', {}, h('th', {}, h('kbd', { text: k })), h('td', { text: what }))))));
});
document.getElementById('key-btn').addEventListener('click', () => promptKey(''));
function keyLabel() {
  const btn = clear(document.getElementById('key-btn'));
  btn.append(h('span', { class: 'wide-only', text: 'API key' }), h('span', { class: 'narrow-only', text: 'Key' }), getKey() ? ' ✓' : '');
}
window.addEventListener('storage', keyLabel);
window.addEventListener('hashchange', keyLabel);
keyLabel();
route();
