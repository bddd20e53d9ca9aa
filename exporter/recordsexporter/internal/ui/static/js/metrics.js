// Metrics: AI-judge metric definitions the server evaluates in the background, with their
// status, and a form to add, change, pause or remove the project's own ones.
import { ApiError, del, get, post, request } from './api.js';
import { append, badge, button, clear, emptyState, fmtAgo, fmtInt, h, link, modal, toast } from './dom.js';

const BUILTINS = ['off_topic', 'hallucination', 'safety', 'context_loss', 'task_completion'];
const OUTPUTS = [['boolean', 'boolean (pass / fail)'], ['scale_1_5', 'scale 1–5'], ['float_0_1', 'float 0–1']];

function explain() {
  return h('div', { class: 'section' },
    h('h2', { text: 'How metrics work' }),
    h('p', {}, 'A metric is a judge prompt, a model and a pass rule, applied to the records you choose (a filter such as ', h('code', { text: 'source=otlp meta.env=prod' }), ' and a sample rate). A background worker sends each new or changed record to an OpenAI-compatible endpoint and stores the verdict in the record\'s ', h('code', { text: 'scores' }), '.'),
    h('p', {}, 'Scores appear as columns on the Records page (Edit table → metric columns), filter with ', h('code', { text: 'metric=hallucination=fail' }), ' or ', h('code', { text: 'metric=task_completion<4' }), ', and roll up per run on the Runs page. External evaluators can post scores to ', h('code', { text: 'POST /api/v1/records/{id}/scores' }), '.'),
    h('p', {}, 'The judge endpoint, model and key come from the collector configuration (', h('code', { text: 'exporters.records.metrics.judge' }), '); see docs/metrics.md.'));
}

function missing(body) {
  append(body, emptyState('Metrics are not enabled on this server yet',
    h('p', {}, 'This tracehound does not serve /api/v1/metrics, so no AI-judge metrics run here. Records, runs and stats work without them; scores posted by external evaluators still show up.'),
    link('#/records', 'Go to records', 'btn btn-primary')), explain());
}

function row(label, value) {
  if (value === undefined || value === null || value === '') return null;
  return h('tr', {}, h('th', { text: label }), h('td', {}, value));
}

export function metricsPage(root) {
  const page = h('section', { class: 'page metrics-page' });
  const body = h('div', {}, h('p', { class: 'loading', text: 'Loading metrics…' }));
  const newBtn = button('New metric', () => editMetric(null), 'btn-primary', 'Define a metric for this project', 'new-metric');
  append(page, h('div', { class: 'page-head' }, h('h1', { text: 'Metrics' }), h('div', { class: 'head-actions' }, newBtn)), body);
  root.appendChild(page);
  let alive = true;

  async function load() {
    let res;
    try {
      res = await get('/metrics');
    } catch (e) {
      if (!alive) return;
      clear(body);
      newBtn.classList.add('hidden');
      if (e instanceof ApiError && e.missing) missing(body);
      else if (e.status === 401) body.appendChild(emptyState('API key needed', 'Enter the API key to see metrics.'));
      else body.appendChild(emptyState('Could not load metrics', e.message));
      return;
    }
    if (!alive) return;
    clear(body);
    const list = res.metrics || [];
    if (!list.length) {
      append(body, emptyState('No metrics yet', 'Start from a built-in judge (off_topic, hallucination, safety, context_loss, task_completion) or write your own prompt. Verdicts land on records as scores.',
        button('New metric', () => editMetric(null), 'btn-primary')), explain());
      return;
    }
    append(body, h('div', { class: 'metric-list', attrs: { id: 'metrics-list' } }, list.map(card)), explain());
  }

  function card(m) {
    const st = m.status || {};
    const judged = (st.passed || 0) + (st.failed || 0);
    const rate = judged ? st.passed / judged : null;
    const bar = h('span', { class: 'status-bar' });
    if (judged) {
      const ok = h('span', { class: 'sb-ok' });
      ok.style.width = rate * 100 + '%';
      const bad = h('span', { class: 'sb-error' });
      bad.style.width = (1 - rate) * 100 + '%';
      bar.append(ok, bad);
    }
    const enabled = m.enabled !== false;
    const actions = m.read_only
      ? h('span', { class: 'muted', text: 'defined in the collector configuration' })
      : [
        button(enabled ? 'Pause' : 'Resume', () => setEnabled(m, !enabled), 'btn-small', enabled ? 'Stop judging new records' : 'Judge records again', 'toggle-' + m.name),
        button('Edit', () => editMetric(m), 'btn-small btn-ghost', null, 'edit-' + m.name),
        button('Delete', () => remove(m), 'btn-small btn-ghost', null, 'delete-' + m.name),
      ];
    return h('div', { class: 'metric-card', data: { name: m.name } },
      h('div', { class: 'metric-head' },
        h('h2', { text: m.name }),
        enabled ? badge('ok') : h('span', { class: 'badge badge-paused', text: 'paused' }),
        h('span', { class: 'tag', text: m.origin === 'config' ? 'config' : 'this project' }),
        m.builtin ? h('span', { class: 'tag', text: 'built-in ' + m.builtin }) : null,
        h('span', { class: 'spacer' }), actions),
      m.description ? h('p', { class: 'muted', text: m.description }) : null,
      h('div', { class: 'metric-body' },
        h('table', { class: 'attrs' }, h('tbody', {},
          row('Output', m.output_type + (m.threshold != null ? ' · passes at ≥ ' + m.threshold : '')),
          row('Records', m.filter || 'all'),
          row('Sample rate', m.sample_rate != null ? Math.round(m.sample_rate * 100) + '%' : '100%'),
          row('Model', m.model || 'judge default'),
          row('Flag on failure', m.flag ? m.flag.code + ' (' + (m.flag.severity || 'warning') + ')' : null))),
        h('div', { class: 'metric-status' },
          h('div', { class: 'metric-counts' },
            h('span', {}, h('strong', { text: fmtInt(st.evaluated || 0) }), ' judged'),
            h('span', {}, h('strong', { text: fmtInt(st.passed || 0) }), ' passed'),
            h('span', {}, h('strong', { text: fmtInt(st.failed || 0) }), ' failed'),
            h('span', {}, h('strong', { text: fmtInt(st.errors || 0) }), ' errors')),
          bar,
          h('div', { class: 'muted', text: st.last_run ? 'last pass ' + fmtAgo(st.last_run) : 'not run yet' }),
          st.last_error ? h('div', { class: 'notice notice-error metric-error' }, h('strong', { text: 'Last error' }), st.last_error_at ? ' (' + fmtAgo(st.last_error_at) + ')' : '', ': ', h('span', { text: st.last_error })) : null,
          h('div', { class: 'metric-links' },
            link('#/records?metric=' + encodeURIComponent(m.name + '=fail'), 'Failing records'), ' · ',
            link('#/records?metric=' + encodeURIComponent(m.name + '=pass'), 'Passing records')))),
      m.prompt ? h('details', { class: 'metric-prompt' }, h('summary', { text: 'Judge prompt' }), h('pre', { class: 'code', text: m.prompt })) : null);
  }

  async function setEnabled(m, on) {
    const body = { ...m, enabled: on };
    try {
      await request('PUT', '/metrics/' + encodeURIComponent(m.name), body);
      toast((on ? 'Resumed ' : 'Paused ') + m.name);
      load();
    } catch (e) { toast('Could not change ' + m.name + ': ' + e.message, 'error'); }
  }

  async function remove(m) {
    if (!window.confirm('Delete the metric "' + m.name + '"? Scores it already wrote stay on the records.')) return;
    try {
      await del('/metrics/' + encodeURIComponent(m.name));
      toast('Deleted ' + m.name);
      load();
    } catch (e) { toast('Could not delete ' + m.name + ': ' + e.message, 'error'); }
  }

  // editMetric opens the form for a new metric (m null) or an existing one.
  function editMetric(m) {
    const f = (id, label, input, hint) => h('div', { class: 'form-row' }, h('label', { attrs: { for: id }, text: label }), input, hint ? h('div', { class: 'muted hint', text: hint }) : null);
    const name = h('input', { class: 'input input-wide', value: m ? m.name : '', disabled: !!m, attrs: { id: 'metric-name', placeholder: 'helpfulness', autocomplete: 'off' } });
    const builtin = h('select', { class: 'input input-wide', attrs: { id: 'metric-builtin' } },
      [['', 'none: my own prompt']].concat(BUILTINS.map((b) => [b, b])).map(([v, t]) => h('option', { value: v, text: t, selected: (m && m.builtin || '') === v })));
    const desc = h('input', { class: 'input input-wide', value: m && m.description || '', attrs: { id: 'metric-description', autocomplete: 'off' } });
    const prompt = h('textarea', { class: 'input input-wide', value: m && !m.builtin ? m.prompt || '' : '', attrs: { id: 'metric-prompt', rows: '7', placeholder: 'Does the answer help the user?\nQuestion: {{input}}\nAnswer: {{output}}\nReply PASS or FAIL and one sentence why.' } });
    const output = h('select', { class: 'input', attrs: { id: 'metric-output' } },
      [['', 'default']].concat(OUTPUTS).map(([v, t]) => h('option', { value: v, text: t, selected: (m && !m.builtin ? m.output_type || '' : '') === v })));
    const threshold = h('input', { class: 'input w-s', value: m && m.pass_threshold != null ? String(m.pass_threshold) : '', attrs: { id: 'metric-threshold', inputmode: 'decimal', placeholder: 'default' } });
    const filter = h('input', { class: 'input input-wide', value: m && m.filter || '', attrs: { id: 'metric-filter', placeholder: 'source=otlp meta.env=prod', autocomplete: 'off' } });
    const sample = h('input', { class: 'input w-s', value: m && m.sample_rate != null ? String(m.sample_rate) : '', attrs: { id: 'metric-sample', inputmode: 'decimal', placeholder: '1' } });
    const model = h('input', { class: 'input w-m', value: m && m.model || '', attrs: { id: 'metric-model', placeholder: 'judge default', autocomplete: 'off' } });
    const err = h('p', { class: 'notice notice-error hidden', attrs: { id: 'metric-error' } });
    const submit = async () => {
      const body = m ? { ...m } : {};
      delete body.status; delete body.origin; delete body.read_only; delete body.threshold;
      const set = (k, v) => { if (v === '' || v === undefined) delete body[k]; else body[k] = v; };
      set('name', name.value.trim());
      set('builtin', builtin.value);
      set('description', desc.value.trim());
      set('prompt', builtin.value ? '' : prompt.value.trim());
      set('output_type', output.value);
      set('pass_threshold', threshold.value.trim() === '' ? '' : Number(threshold.value));
      set('filter', filter.value.trim());
      set('sample_rate', sample.value.trim() === '' ? '' : Number(sample.value));
      set('model', model.value.trim());
      try {
        if (m) await request('PUT', '/metrics/' + encodeURIComponent(m.name), body);
        else await post('/metrics', body);
        close();
        toast((m ? 'Saved ' : 'Created ') + (body.name || body.builtin));
        load();
      } catch (e) {
        err.textContent = e.message;
        err.classList.remove('hidden');
      }
    };
    const syncPrompt = () => { prompt.disabled = !!builtin.value; };
    builtin.addEventListener('change', syncPrompt);
    syncPrompt();
    const close = modal(m ? 'Edit ' + m.name : 'New metric', h('div', { class: 'metric-form' },
      err,
      f('metric-name', 'Name', name, 'The score name on records; empty takes the built-in\'s name.'),
      f('metric-builtin', 'Built-in judge', builtin),
      f('metric-prompt', 'Prompt', prompt, 'Placeholders: {{input}}, {{output}}, {{expected}}, {{conversation}}, {{documents}}, {{tool_calls}}, {{metadata}}.'),
      f('metric-description', 'Description', desc),
      h('div', { class: 'filters' },
        h('div', { class: 'field' }, h('label', { attrs: { for: 'metric-output' }, text: 'Output' }), output),
        h('div', { class: 'field' }, h('label', { attrs: { for: 'metric-threshold' }, text: 'Pass threshold' }), threshold),
        h('div', { class: 'field' }, h('label', { attrs: { for: 'metric-sample' }, text: 'Sample rate' }), sample),
        h('div', { class: 'field' }, h('label', { attrs: { for: 'metric-model' }, text: 'Model' }), model)),
      f('metric-filter', 'Records to judge', filter, 'Any records filter except sort, limit and cursor; empty judges every record.')),
    [button('Cancel', () => close(), 'btn-ghost'), button(m ? 'Save' : 'Create metric', submit, 'btn-primary', null, 'metric-submit')]);
  }

  load();
  return () => { alive = false; };
}
