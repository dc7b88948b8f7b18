/* global document, Node */
// Small DOM and formatting helpers. Text always goes in as text nodes: nothing from the agent is parsed as HTML.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

const focusable = 'a[href], button, input, select, textarea, [tabindex]';

/**
 * Replaces an element's children; null, undefined and false are skipped (replaceChildren would print them).
 * Panels are rebuilt every second: the control that had focus (a snapshot link, a footer link) gets it back
 * by its place in the panel, and a scrolled list keeps its scroll, or a keyboard user would be thrown back to
 * the top of the page and a reader of the error list to its first line every second.
 */
export function fill(el, ...children) {
  const active = document.activeElement;
  const focusAt = active && el.contains(active) ? [...el.querySelectorAll(focusable)].indexOf(active) : -1;
  const scrolls = [...el.querySelectorAll('.errors-list')].map((list) => list.scrollTop);
  el.replaceChildren();
  append(el, children);
  el.querySelectorAll('.errors-list').forEach((list, i) => (list.scrollTop = scrolls[i] ?? 0));
  if (focusAt >= 0) el.querySelectorAll(focusable)[focusAt]?.focus({ preventScroll: true });
}

/** Sets an element's text only when it changed: a live region re-set every second is read out every second. */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/** A definition list of [term, value] rows; rows with an undefined value are left out. */
export function rows(pairs) {
  return h(
    'dl',
    { class: 'rows' },
    pairs.filter((p) => p && p[1] !== undefined).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}

export function pill(text, level) {
  return h('span', { class: 'pill', dataset: { level: level ?? 'idle' } }, text);
}

/** A labelled bar: value 0..100, coloured from `warnAt` and `badAt`. */
export function meter(label, text, percent, warnAt = 75, badAt = 90) {
  const level = percent === null ? 'idle' : percent >= badAt ? 'bad' : percent >= warnAt ? 'warn' : 'ok';
  const bar = h('div', { class: 'bar', dataset: { level } }, h('span'));
  bar.firstChild.style.width = `${Math.max(0, Math.min(100, percent ?? 0))}%`;
  return h(
    'div',
    { class: 'meter' },
    h('div', { class: 'meter-head' }, h('span', {}, label), h('span', { class: 'num' }, text)),
    bar,
  );
}

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function ago(ts, now) {
  if (!ts) return '—';
  const ms = Math.max(0, now - ts);
  return ms < 1500 ? 'just now' : `${duration(ms)} ago`;
}

export function clock(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export const fixed = (v, digits = 1) => (v === null || v === undefined ? '—' : Number(v).toFixed(digits));

/** Same hash and palette as agent/web/annotation-svg.ts, so a chip matches its boxes. */
const palette = [
  '#22c55e',
  '#f59e0b',
  '#3b82f6',
  '#ef4444',
  '#a855f7',
  '#06b6d4',
  '#ec4899',
  '#84cc16',
  '#f97316',
  '#14b8a6',
];
export function labelColour(label) {
  let hash = 0;
  for (let i = 0; i < label.length; i++) hash = (hash * 31 + label.charCodeAt(i)) >>> 0;
  return palette[hash % palette.length];
}

export const stateWords = {
  streaming: 'Streaming',
  connecting: 'Connecting',
  stalled: 'Stalled',
  failed: 'Failed',
  stopped: 'Stopped',
};
