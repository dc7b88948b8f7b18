/* global fetch, URL */
import { h } from './dom.js';

/** "Test a picture": runs an image through a model on the box (POST /api/detect), without touching the cameras' config. */
export function tryImagePanel(container, models) {
  const select = h(
    'select',
    { name: 'model', 'aria-label': 'Model' },
    models.map((m) => h('option', { value: m.id }, `${m.id} (${m.provider})`)),
  );
  const input = h('input', { type: 'file', accept: 'image/*', 'aria-label': 'Picture to test' });
  const result = h('div', { class: 'try-result', 'aria-live': 'polite' });
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    if (!file) return;
    result.replaceChildren(h('p', { class: 'muted' }, `Running ${file.name} through ${select.value}…`));
    const url = `/api/detect?format=jpeg&model=${encodeURIComponent(select.value)}`;
    const r = await fetch(url, { method: 'POST', body: file, credentials: 'same-origin' }).catch(() => null);
    if (!r || !r.ok) {
      const reason = r
        ? ((await r.json().catch(() => ({}))).reason ?? r.statusText)
        : 'the box did not answer';
      result.replaceChildren(h('p', { class: 'error' }, `Could not run it: ${reason}`));
      return;
    }
    const img = h('img', { alt: `Detections in ${file.name}` });
    img.src = URL.createObjectURL(await r.blob());
    result.replaceChildren(img);
  });
  container.replaceChildren(
    h('h2', { id: 'try-title' }, 'Test a picture'),
    h(
      'p',
      { class: 'muted' },
      'Check what a model sees in any image. It runs beside the cameras, one picture at a time, and changes nothing on the box.',
    ),
    h('div', { class: 'try-row' }, select, input),
    result,
  );
}
