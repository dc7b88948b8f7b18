/**
 * In-page checks for the status page, as source text for `page.evaluate` (this project's TypeScript has no
 * DOM lib, and the checks walk the whole DOM). Each evaluates to plain JSON.
 */

/**
 * WCAG 2 contrast of every visible text against the background it is drawn on (its own and its ancestors'
 * backgrounds blended, translucent ones included): the texts under AA, 4.5:1 or 3:1 for large text. SVG text
 * (zone labels, the chart) is left out; text over the camera picture is measured against the frame's dark
 * backdrop, not the picture.
 */
export const contrastFailures = `(() => {
  const parse = (c) => {
    const p = c.match(/rgba?\\(([^)]+)\\)/)[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const lum = ({ r, g, b }) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) layers.push(c);
      if (c.a >= 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), { r: 255, g: 255, b: 255, a: 1 });
  };
  const failures = [];
  const done = new Set();
  let checked = 0;
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || done.has(el) || el.closest('svg')) continue;
    done.add(el);
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || !el.checkVisibility({ opacityProperty: true, visibilityProperty: true }))
      continue;
    const cs = getComputedStyle(el);
    const bg = background(el);
    const [a, b] = [lum(over(parse(cs.color), bg)), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const px = parseFloat(cs.fontSize);
    const large = px >= 24 || (Number(cs.fontWeight) >= 700 && px >= 18.66);
    checked++;
    if (ratio < (large ? 3 : 4.5))
      failures.push(\`"\${n.textContent.trim().slice(0, 30)}" \${ratio.toFixed(2)}:1 (\${cs.color} on rgb(\${Math.round(bg.r)}, \${Math.round(bg.g)}, \${Math.round(bg.b)}))\`);
  }
  return { checked, failures };
})()`;

/** Elements that stick out of the card or tile they sit in, or of the page (a phone's 360 px). */
export const overflowing = `(() => {
  const out = [];
  if (document.scrollingElement.scrollWidth > innerWidth)
    out.push(\`page \${document.scrollingElement.scrollWidth} px wide in \${innerWidth}\`);
  for (const el of document.querySelectorAll('.card *, .tile *, .kpi *, dialog *')) {
    if (!el.checkVisibility() || el.closest('svg')) continue;
    const box = el.closest('.card, .tile, .kpi, dialog').getBoundingClientRect();
    const r = el.getBoundingClientRect();
    if (r.width && (r.right > box.right + 0.5 || r.left < box.left - 0.5))
      out.push(\`\${el.tagName.toLowerCase()}.\${el.className} \${Math.round(r.left)}–\${Math.round(r.right)} outside \${Math.round(box.left)}–\${Math.round(box.right)}\`);
  }
  return out;
})()`;

/** Every visible control and picture with the name a screen reader gives it (aria-label, label, text, alt). */
export const accessibleNames = `(() => {
  const nameOf = (e) => {
    if (e.hasAttribute('aria-label')) return e.getAttribute('aria-label');
    if (e.tagName === 'IMG') return e.getAttribute('alt');
    if (e.labels?.length) return e.labels[0].textContent.trim();
    return [...e.childNodes]
      .filter((c) => c.nodeType === 3 || !c.getAttribute('aria-hidden'))
      .map((c) => c.textContent)
      .join('')
      .trim();
  };
  return [...document.querySelectorAll('button, input, select, a[href], img, [role="img"]')]
    .filter((e) => e.checkVisibility())
    .map((e) => ({ tag: e.tagName.toLowerCase(), id: e.id, name: nameOf(e) ?? '' }));
})()`;

/** Heading levels in document order, and text outside any landmark (header, main, footer, dialog). */
export const structure = `(() => ({
  headings: [...document.querySelectorAll('h1, h2, h3, h4')].filter((e) => e.checkVisibility()).map((e) => Number(e.tagName[1])),
  outside: [...document.body.children]
    .filter((e) => !['HEADER', 'MAIN', 'FOOTER', 'DIALOG', 'SCRIPT'].includes(e.tagName) && e.checkVisibility() && e.textContent.trim())
    .map((e) => e.id || e.tagName),
}))()`;
