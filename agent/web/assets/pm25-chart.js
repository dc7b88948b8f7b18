/* global document */
// A hand-drawn 24-hour PM2.5 chart: the estimate as a line, its 80 % interval as a band, gaps where no
// window was estimable. Plain SVG, sized by its viewBox so it scales to the card.

const ns = 'http://www.w3.org/2000/svg';
// The chart is drawn at about the size it is shown (a card is ~330 px wide on a phone, ~420 px on a
// laptop), so its 16-unit labels read at 11–14 px; at 600 units wide they shrank to 6 px.
const W = 480;
const H = 180;
const pad = { left: 40, right: 12, top: 10, bottom: 28 };

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(ns, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A step that gives 3–5 grid lines up to `max`. */
function niceStep(max) {
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((v) => v >= raw) ?? raw;
}

/** Runs of consecutive points where `ok(p)` holds (a null breaks the line and the band). */
function runs(points, ok) {
  const out = [];
  let cur = [];
  for (const p of points) {
    if (ok(p)) cur.push(p);
    else if (cur.length) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length) out.push(cur);
  return out;
}

export function pm25Chart(history, now, label) {
  const t0 = now - 24 * 3600_000;
  const pts = history.filter((p) => p.ts >= t0 && p.ts <= now + 60_000);
  const top = Math.max(10, ...pts.map((p) => (p.interval80 ? p.interval80[1] : (p.pm25 ?? 0))));
  const step = niceStep(top * 1.1);
  const yMax = Math.ceil((top * 1.1) / step) * step;
  const x = (ts) => pad.left + ((ts - t0) / (now - t0)) * (W - pad.left - pad.right);
  const y = (v) => H - pad.bottom - (v / yMax) * (H - pad.top - pad.bottom);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'pm-chart', role: 'img', 'aria-label': label });
  svg.append(s('title', {}, label));
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    svg.append(s('line', { class: 'grid', x1: pad.left, x2: W - pad.right, y1: y(v), y2: y(v) }));
    svg.append(
      s('text', { x: pad.left - 6, y: y(v) + 5, 'text-anchor': 'end' }, String(Math.round(v * 10) / 10)),
    );
  }
  for (let hAgo = 24; hAgo >= 0; hAgo -= 6) {
    const ts = now - hAgo * 3600_000;
    svg.append(
      s(
        'text',
        { x: x(ts), y: H - 8, 'text-anchor': hAgo === 24 ? 'start' : hAgo === 0 ? 'end' : 'middle' },
        hAgo ? `-${hAgo} h` : 'now',
      ),
    );
  }
  for (const run of runs(pts, (p) => p.interval80 !== null)) {
    const upper = run.map((p) => `${x(p.ts).toFixed(1)},${y(p.interval80[1]).toFixed(1)}`);
    const lower = run.reverse().map((p) => `${x(p.ts).toFixed(1)},${y(p.interval80[0]).toFixed(1)}`);
    svg.append(s('polygon', { class: 'band', points: [...upper, ...lower].join(' ') }));
  }
  for (const run of runs(pts, (p) => p.pm25 !== null)) {
    const d = run.map((p, i) => `${i ? 'L' : 'M'}${x(p.ts).toFixed(1)},${y(p.pm25).toFixed(1)}`).join('');
    if (run.length === 1)
      svg.append(s('circle', { cx: x(run[0].ts), cy: y(run[0].pm25), r: 2.5, fill: 'currentColor' }));
    else svg.append(s('path', { class: 'line', d }));
  }
  if (!pts.length)
    svg.append(
      s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'No windows in the last 24 hours yet'),
    );
  return svg;
}
