// Metrics: AI-judge metric definitions the server evaluates in the background.
import { ApiError, get } from './api.js';
import { append, clear, emptyState, h, link } from './dom.js';

function explain() {
  return h('div', { class: 'section' },
    h('h2', { text: 'How metrics work' }),
    h('p', {}, 'A metric is a judge prompt, a model and a threshold, applied to the records you choose (for example every record of a run, or every record from one service). A background worker sends each record\'s input, output and expected answer to any OpenAI-compatible endpoint, and the verdict lands in the record\'s ', h('code', { text: 'scores' }), '.'),
    h('p', {}, 'Scores appear as columns on the Records page (Edit table → metric columns), filter with ', h('code', { text: 'metric=helpfulness>0.5' }), ' or ', h('code', { text: 'metric=groundedness=fail' }), ', and roll up per run on the Runs page. External evaluators can post scores to ', h('code', { text: 'POST /api/v1/records/{id}/scores' }), ' today.'));
}

function value(v) {
  if (v == null || v === '') return h('span', { class: 'muted', text: '—' });
  if (typeof v === 'object') return h('pre', { class: 'code', text: JSON.stringify(v, null, 2) });
  const s = String(v);
  return s.length > 120 || s.includes('\n') ? h('pre', { class: 'text', text: s }) : h('span', { text: s });
}

export function metricsPage(root) {
  const page = h('section', { class: 'page metrics-page' }, h('div', { class: 'page-head' }, h('h1', { text: 'Metrics' })));
  const body = h('div', {}, h('p', { class: 'loading', text: 'Loading metrics…' }));
  page.appendChild(body);
  root.appendChild(page);
  let alive = true;
  get('/metrics').then((res) => {
    if (!alive) return;
    clear(body);
    const list = Array.isArray(res) ? res : (res && (res.metrics || res.items)) || [];
    if (!list.length) {
      append(body, emptyState('No metrics defined', 'This server evaluates AI-judge metrics, but none is defined yet. Create one with POST /api/v1/metrics; its results appear as scores on records.'), explain());
      return;
    }
    body.appendChild(h('div', { class: 'flags-list', attrs: { id: 'metrics-list' } }, list.map((m) => {
      const name = m.name || m.id || '(unnamed)';
      const rest = Object.entries(m).filter(([k]) => k !== 'name');
      return h('div', { class: 'flag' },
        h('div', { class: 'flag-head' }, h('strong', { text: name }), m.model ? h('span', { class: 'tag', text: m.model }) : null,
          m.threshold != null ? h('span', { class: 'muted', text: 'threshold ' + m.threshold }) : null,
          link('#/records?metric=' + encodeURIComponent(name + '=fail'), 'failing records')),
        h('table', { class: 'attrs' }, h('tbody', {}, rest.map(([k, v]) => h('tr', {}, h('th', { text: k }), h('td', {}, value(v)))))));
    })), explain());
  }, (e) => {
    if (!alive) return;
    clear(body);
    if (e instanceof ApiError && e.missing) {
      append(body, emptyState('Metrics are not enabled on this server yet',
        h('p', {}, 'This tracehound does not serve /api/v1/metrics, so no AI-judge metrics run here. Records, runs and stats work without them; scores posted by external evaluators still show up.'),
        link('#/records', 'Go to records', 'btn btn-primary')), explain());
    } else if (e.status === 401) {
      body.appendChild(emptyState('API key needed', 'Enter the API key to see metrics.'));
    } else {
      body.appendChild(emptyState('Could not load metrics', e.message));
    }
  });
  return () => { alive = false; };
}
