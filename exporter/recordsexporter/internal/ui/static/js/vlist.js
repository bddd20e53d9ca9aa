// A windowed list: only the rows in view (plus a margin) exist in the DOM, so a trace with
// thousands of spans scrolls as smoothly as one with ten. Rows have a fixed height.
import { h } from './dom.js';

export function vlist({ rowHeight, render, className, label, role }) {
  const inner = h('div', { class: 'vlist-inner' });
  const el = h('div', { class: 'vlist ' + (className || ''), attrs: { tabindex: '0', role: role || 'list', 'aria-label': label || null } }, inner);
  let items = [];
  let drawn = new Map();
  let frame = 0;

  function draw() {
    frame = 0;
    const top = el.scrollTop;
    const height = el.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / rowHeight) - 20);
    const last = Math.min(items.length - 1, Math.ceil((top + height) / rowHeight) + 20);
    const next = new Map();
    for (let i = first; i <= last; i++) {
      const key = i + ':' + itemKey(items[i]);
      let row = drawn.get(key);
      if (row) drawn.delete(key);
      else {
        row = render(items[i], i);
        row.classList.add('vrow');
        row.style.transform = 'translateY(' + i * rowHeight + 'px)';
        inner.appendChild(row);
      }
      next.set(key, row);
    }
    for (const row of drawn.values()) row.remove();
    drawn = next;
  }
  function itemKey(it) { return it && it.key !== undefined ? it.key : ''; }
  function schedule() { if (!frame) frame = requestAnimationFrame(draw); }
  el.addEventListener('scroll', schedule, { passive: true });
  const ro = new ResizeObserver(schedule);
  ro.observe(el);

  return {
    el,
    // set replaces the items; redraw forces every visible row to render again.
    set(next, redraw) {
      items = next;
      inner.style.height = items.length * rowHeight + 'px';
      // Short lists shrink to fit; CSS max-height caps long ones.
      el.style.height = items.length * rowHeight + 2 + 'px';
      if (redraw) { for (const row of drawn.values()) row.remove(); drawn = new Map(); }
      draw();
    },
    scrollTo(i) {
      const y = i * rowHeight;
      if (y < el.scrollTop) el.scrollTop = y;
      else if (y + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = y + rowHeight - el.clientHeight;
      draw();
    },
    destroy() { ro.disconnect(); cancelAnimationFrame(frame); },
  };
}
