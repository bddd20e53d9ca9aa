// The only way the UI talks to the server: the public /api/v1 with the user's API key.
import { h, modal, button } from './dom.js';

const KEY_STORAGE = 'tracehound.apiKey';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || 'HTTP ' + status);
    this.status = status;
    this.code = code;
  }
  // missing is true when the server does not have this endpoint (an older server, or a
  // feature that is not built in): the page shows an explanation instead of an error.
  get missing() {
    return (this.status === 404 && /no API endpoint/.test(this.message)) || this.status === 405 || this.status === 501;
  }
  // unsupportedParam names a query parameter the server rejected as unknown.
  get unsupportedParam() {
    if (this.status !== 400) return '';
    const m = /^([\w.<>-]+): unknown query parameter/.exec(this.message) || /unknown query parameter "([^"]+)"/.exec(this.message);
    return m ? m[1] : '';
  }
}

export function getKey() {
  try { return localStorage.getItem(KEY_STORAGE) || ''; } catch { return ''; }
}

export function setKey(k) {
  try {
    if (k) localStorage.setItem(KEY_STORAGE, k); else localStorage.removeItem(KEY_STORAGE);
  } catch { /* storage disabled: the key lives for this page only */ }
}

let promptOpen = false;

// promptKey asks for the API key; saving it re-runs the current page.
export function promptKey(reason) {
  if (promptOpen) return;
  promptOpen = true;
  const input = h('input', { attrs: { type: 'password', id: 'api-key-input', autocomplete: 'off', spellcheck: 'false', placeholder: 'th_…' }, class: 'input input-wide', value: getKey() });
  const save = () => {
    setKey(input.value.trim());
    close();
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  };
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') save(); });
  const body = h('div', { class: 'key-prompt' },
    reason ? h('p', { class: 'notice notice-warn', text: reason }) : null,
    h('p', { text: 'The key that tracehound printed on its first start works, or a new one from "tracehound keys create --project <name>" on the server. The UI shows that key\'s project. The key stays in this browser (localStorage) and is sent as "Authorization: Bearer <key>".' }),
    h('label', { attrs: { for: 'api-key-input' }, text: 'API key' }),
    input);
  const close = modal('API key', body, [
    button('Forget key', () => { setKey(''); input.value = ''; }, 'btn-ghost'),
    button('Save key', save, 'btn-primary', 'Save the key in this browser', 'save-key'),
  ], () => { promptOpen = false; });
  input.focus();
}

// request calls /api/v1<path>. A 401 opens the key prompt and throws.
export async function request(method, path, body, opts) {
  const headers = { Accept: (opts && opts.accept) || 'application/json' };
  const key = getKey();
  if (key) headers.Authorization = 'Bearer ' + key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch('/api/v1' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: opts && opts.signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Cannot reach the tracehound server (' + e.message + ').');
  }
  if (res.status === 401) {
    const err = await errorOf(res);
    promptKey(key ? 'The server rejected this API key (' + err.message + ').' : 'This server needs an API key.');
    throw err;
  }
  if (!res.ok) throw await errorOf(res);
  if (opts && opts.raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

async function errorOf(res) {
  let code = '', message = '';
  try {
    const b = await res.json();
    if (b && b.error) { code = b.error.code; message = b.error.message; }
  } catch { /* not JSON */ }
  return new ApiError(res.status, code || 'http_' + res.status, message || res.status + ' ' + res.statusText);
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body) => request('POST', path, body);
export const del = (path) => request('DELETE', path);

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
  const s = u.toString();
  return s ? '?' + s : '';
}
