// DOM helpers. Everything that comes from the API is untrusted (prompts, completions,
// attribute values): it only ever reaches the page as text nodes or textContent, never as
// markup, so a stored <script> or onerror= payload stays inert.

// h builds an element. props: class, text, title, attrs (plain attributes; never event
// handlers), data (dataset), on (event listeners). Children: nodes, strings (as text),
// arrays, null/false (skipped).
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      switch (k) {
        case 'class': el.className = v; break;
        case 'text': el.textContent = String(v); break;
        case 'on': for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn); break;
        case 'data': for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = dv; break;
        case 'attrs':
          for (const [ak, av] of Object.entries(v)) {
            if (/^on/i.test(ak)) throw new Error('h: event handler attributes are not allowed');
            if (av !== undefined && av !== null && av !== false) el.setAttribute(ak, av === true ? '' : String(av));
          }
          break;
        default:
          if (/^on/i.test(k)) throw new Error('h: event handler attributes are not allowed');
          el[k] = v;
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el, ...children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, ...c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// highlight returns a fragment with the text and every case-insensitive occurrence of the
// terms wrapped in <mark>. Terms are matched literally.
export function highlight(text, terms) {
  const frag = document.createDocumentFragment();
  const s = text == null ? '' : String(text);
  const ts = (terms || []).filter(Boolean).map((t) => t.toLowerCase());
  if (!ts.length || !s) { frag.appendChild(document.createTextNode(s)); return frag; }
  const lower = s.toLowerCase();
  let i = 0;
  while (i < s.length) {
    let best = -1, len = 0;
    for (const t of ts) {
      const j = lower.indexOf(t, i);
      if (j >= 0 && (best < 0 || j < best || (j === best && t.length > len))) { best = j; len = t.length; }
    }
    if (best < 0) break;
    if (best > i) frag.appendChild(document.createTextNode(s.slice(i, best)));
    frag.appendChild(h('mark', { text: s.slice(best, best + len) }));
    i = best + len;
  }
  if (i < s.length) frag.appendChild(document.createTextNode(s.slice(i)));
  return frag;
}

// searchTerms splits a search query into terms; "quoted phrases" stay together.
export function searchTerms(q) {
  const out = [];
  const re = /"([^"]+)"|(\S+)/g;
  let m;
  while ((m = re.exec(q || ''))) out.push(m[1] || m[2]);
  return out;
}

export function fmtCost(v) {
  if (v == null || Number.isNaN(v)) return '—';
  if (v === 0) return '$0';
  if (v < 0.0001) return '$' + v.toFixed(6);
  if (v < 1) return '$' + v.toFixed(4);
  return '$' + v.toFixed(2);
}

export function fmtMs(ms) {
  if (ms == null || Number.isNaN(ms)) return '—';
  if (ms === 0) return '0';
  if (ms < 1) return ms.toFixed(2) + ' ms';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  const m = Math.floor(ms / 60000);
  return m + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
}

export function fmtInt(n) {
  if (n == null) return '—';
  return Number(n).toLocaleString('en-US');
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString('en-GB', { hour12: false });
  const hm = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false });
  const date = d.toLocaleDateString('en-CA');
  return (d.getFullYear() === now.getFullYear() ? date.slice(5) : date) + ' ' + hm;
}

export function fmtAgo(iso) {
  const d = new Date(iso).getTime();
  if (!d) return '';
  const s = Math.round((Date.now() - d) / 1000);
  if (s < 60) return s + 's ago';
  if (s < 3600) return Math.round(s / 60) + 'm ago';
  if (s < 86400) return Math.round(s / 3600) + 'h ago';
  return Math.round(s / 86400) + 'd ago';
}

export function badge(status) {
  const s = status || 'ok';
  return h('span', { class: 'badge badge-' + s.replace(/[^a-z]/g, ''), text: s });
}

export function emptyState(title, body, ...actions) {
  return h('div', { class: 'empty' },
    h('h2', { text: title }),
    body ? (typeof body === 'string' ? h('p', { text: body }) : body) : null,
    actions.length ? h('div', { class: 'empty-actions' }, actions) : null);
}

export function link(href, text, cls) {
  return h('a', { attrs: { href }, class: cls, text });
}

export function button(text, onClick, cls, title, id) {
  return h('button', { attrs: { type: 'button', title, id }, class: 'btn ' + (cls || ''), text, on: { click: onClick } });
}

export function copyButton(value, label) {
  const b = button(label || 'Copy', async () => {
    try {
      await navigator.clipboard.writeText(value);
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Select & copy';
    }
    setTimeout(() => { b.textContent = label || 'Copy'; }, 1200);
  }, 'btn-small btn-ghost');
  return b;
}

export function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

// download saves text as a file through a temporary object URL.
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type: type || 'application/octet-stream' }));
  const a = h('a', { attrs: { href: url, download: name }, class: 'hidden' });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// modal opens a dialog with the content and returns a close function. Escape and the
// backdrop close it; onClose runs however it closes.
export function modal(title, content, footer, onClose) {
  const prev = document.activeElement;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    overlay.remove();
    document.removeEventListener('keydown', onKey, true);
    if (onClose) onClose();
    if (prev && prev.focus && prev.isConnected) prev.focus();
  };
  const onKey = (e) => { if (e.key === 'Escape') { e.stopPropagation(); close(); } };
  const dlg = h('div', { class: 'modal', attrs: { role: 'dialog', 'aria-modal': 'true', 'aria-label': title } },
    h('div', { class: 'modal-head' }, h('h2', { text: title }), button('×', () => close(), 'btn-ghost btn-icon', 'Close')),
    h('div', { class: 'modal-body' }, content),
    footer ? h('div', { class: 'modal-foot' }, footer) : null);
  const overlay = h('div', { class: 'overlay', on: { mousedown: (e) => { if (e.target === overlay) close(); } } }, dlg);
  document.body.appendChild(overlay);
  document.addEventListener('keydown', onKey, true);
  const first = dlg.querySelector('input, select, textarea, button:not(.btn-icon)');
  if (first) first.focus();
  return close;
}

export function toast(text, kind) {
  let box = document.getElementById('toasts');
  if (!box) { box = h('div', { attrs: { id: 'toasts', 'aria-live': 'polite' }, class: 'toasts' }); document.body.appendChild(box); }
  const t = h('div', { class: 'toast ' + (kind ? 'toast-' + kind : ''), text });
  box.appendChild(t);
  setTimeout(() => t.remove(), 4000);
}
